"""Who is asking, from where: set once per request, read by every audit write."""

import contextvars
import uuid
from dataclasses import dataclass

from django.conf import settings
from django.utils.module_loading import import_string


@dataclass(frozen=True)
class RequestContext:
    address: str | None
    request_id: str


_current: contextvars.ContextVar[RequestContext | None] = contextvars.ContextVar(
    "audit_request_context", default=None
)


def current() -> RequestContext | None:
    return _current.get()


class AuditContextMiddleware:
    """Gives each request an id and resolves its client address by the lock-out's rule."""

    def __init__(self, get_response):
        self.get_response = get_response
        self.client_address = import_string(settings.AXES_CLIENT_IP_CALLABLE)

    def __call__(self, request):
        context = RequestContext(
            address=self.client_address(request) or None, request_id=uuid.uuid4().hex
        )
        token = _current.set(context)
        try:
            response = self.get_response(request)
        finally:
            _current.reset(token)
        response["X-Request-ID"] = context.request_id
        return response
