"""Which site a request is for: the staff app, or the public request form.

A request for a host name in PUBLIC_HOSTS gets the public form's URLconf
(intake/public/urls.py) instead of the staff one: every staff page is a 404 there, and the
form is a 404 on every other host (the staff URLconf does not include it). Such a request
also, before any other middleware sees it:

- carries no cookie in and sends none out. The session, CSRF, language and flash-message
  cookies are the staff app's; the public pages read none and set none, so whatever set
  one on the way (a stale cookie from elsewhere, a context processor touching the session)
  is dropped here;
- loses its client address. It is kept only on the request, for the rate limits and the
  passphrase throttle (`public_source`, which stores digests at most); the audit context
  and every log line after this one see none, so no audit event keeps the person's network;
- gets the public pages' headers: a CSP that allows the form's own stylesheet and form posts
  to itself and nothing else (no script at all), no referrer, no stored copy of a page.

Static files: only the public folder (static/public/) is served on a public host, so the
staff app's files do not tell which staff site is behind it.
"""

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseNotFound
from django.http.request import split_domain_port
from django.utils.cache import add_never_cache_headers
from django.utils.module_loading import import_string

PUBLIC_POLICY = "; ".join(
    (
        "default-src 'none'",
        "style-src 'self'",
        "img-src 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
        "base-uri 'none'",
    )
)
SOURCE = "safe_passage.public_source"
# What proxies and the server say about where the client is: blanked or dropped.
ADDRESS_HEADERS = ("HTTP_X_FORWARDED_FOR", "HTTP_X_REAL_IP", "HTTP_FORWARDED")


def is_public_host(request: HttpRequest) -> bool:
    if not settings.PUBLIC_HOSTS:
        return False
    domain, _port = split_domain_port(request.get_host())
    return domain in settings.PUBLIC_HOSTS


def public_source(request: HttpRequest) -> str:
    """The client's network address on a public host, as the lock-out resolves it; never
    to be stored (digests of it at most)."""
    return request.META.get(SOURCE, "")


class PublicHostMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response
        self.client_address = import_string(settings.AXES_CLIENT_IP_CALLABLE)

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not is_public_host(request):
            return self.get_response(request)
        request.META[SOURCE] = self.client_address(request) or ""
        request.META["REMOTE_ADDR"] = ""
        for name in (*ADDRESS_HEADERS, "HTTP_COOKIE"):
            request.META.pop(name, None)
        request.COOKIES = {}
        # Django's per-request URLconf; the stubs do not declare it.
        request.urlconf = settings.PUBLIC_URLCONF  # type: ignore[attr-defined]
        static = request.path_info.startswith(settings.STATIC_URL)
        if static and not request.path_info.startswith(f"{settings.STATIC_URL}public/"):
            response = _not_found(request)
        else:
            response = self.get_response(request)
        return _public_headers(response, stored=static)


def _not_found(request: HttpRequest) -> HttpResponse:
    """A staff static file asked for on a public host, before the static files' server
    answers it: a bare 404 (nobody reads a stylesheet's address by hand)."""
    return HttpResponseNotFound("Not found", content_type="text/plain; charset=utf-8")


def _public_headers(response: HttpResponse, *, stored: bool) -> HttpResponse:
    response["Content-Security-Policy"] = PUBLIC_POLICY
    if response.has_header("Content-Security-Policy-Report-Only"):
        del response["Content-Security-Policy-Report-Only"]
    response["Referrer-Policy"] = "no-referrer"
    response.cookies.clear()
    if not stored:
        # A reference and a passphrase on a shared computer: no copy in any cache.
        add_never_cache_headers(response)
        response["Cache-Control"] = "no-store, no-cache, must-revalidate, private, max-age=0"
    return response
