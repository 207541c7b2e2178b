"""Django's CSRF check, taught one thing about ``Referrer-Policy: no-referrer``.

Under that policy the Fetch standard has browsers send ``Origin: null`` on every form post,
same-origin ones included, and Django (rightly) refuses a null origin. The browser says
where the request came from in another header, ``Sec-Fetch-Site``, which no page script
can set or change: "same-origin" there is as good as a matching ``Origin``. Everything
else is Django's own check, the token included; a null origin from anywhere else (another
site, a sandboxed frame, a ``data:`` page) is refused as before.
"""

from django.conf import settings
from django.core.checks import CheckMessage, Tags, Warning, register
from django.middleware.csrf import CsrfViewMiddleware


class NoReferrerCsrfViewMiddleware(CsrfViewMiddleware):
    def _origin_verified(self, request) -> bool:
        if (
            request.META.get("HTTP_ORIGIN") == "null"
            and request.META.get("HTTP_SEC_FETCH_SITE") == "same-origin"
        ):
            return True
        # The ignore: the method is private to Django, so django-stubs leaves it out.
        return super()._origin_verified(request)  # type: ignore[misc]


@register(Tags.security, deploy=True)
def check_csrf_middleware(app_configs, **kwargs) -> list[CheckMessage]:
    """Stands in for Django's security.W003, which knows only its own class by name."""
    if f"{__name__}.{NoReferrerCsrfViewMiddleware.__name__}" in settings.MIDDLEWARE:
        return []
    return [
        Warning(
            "privacy.csrf.NoReferrerCsrfViewMiddleware is not in MIDDLEWARE: "
            "forms are not protected against cross-site request forgery.",
            id="privacy.W001",
        )
    ]
