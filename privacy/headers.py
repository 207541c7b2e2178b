"""Headers Django does not set itself: no browser features, no stored copies of pages, and
nothing of ours loaded into another site's page."""

from django.utils.cache import add_never_cache_headers

PERMISSIONS_POLICY = ", ".join(
    f"{feature}=()"
    for feature in (
        "accelerometer", "camera", "display-capture", "geolocation", "gyroscope",
        "microphone", "midi", "payment", "usb", "interest-cohort", "browsing-topics",
    )
)  # fmt: skip


class PrivacyHeadersMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        response.setdefault("Permissions-Policy", PERMISSIONS_POLICY)
        # No other site may load our responses (an image, a script, a CSV) into its page:
        # sent with the user's cookies they could leak through side channels (Spectre,
        # XS-leaks), and timing our static files from the browser's cache would tell a
        # hostile page that its visitor uses this site. Static files included, hence the
        # place of this middleware above WhiteNoise.
        response["Cross-Origin-Resource-Policy"] = "same-origin"
        user = getattr(request, "user", None)
        # A page for a signed-in person may show someone's details: no browser or proxy
        # keeps a copy (a shared or seized laptop's cache is a dump of its own).
        if user is not None and user.is_authenticated and not request.path.startswith("/static/"):
            add_never_cache_headers(response)
            response["Cache-Control"] = "no-store, no-cache, must-revalidate, private, max-age=0"
        return response
