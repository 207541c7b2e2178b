import time
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.views import redirect_to_login
from django.http import HttpResponse, QueryDict
from django.shortcuts import resolve_url
from django.urls import reverse
from django.utils.translation import gettext as _

from accounts.second_factor import has_authenticator

SESSION_STARTED = "sp_started"
SESSION_SEEN = "sp_seen"
# Writing the session on every request costs a query; a minute's precision is plenty.
SEEN_PRECISION_SECONDS = 60


def mark_session_start(session) -> None:
    now = int(time.time())
    session[SESSION_STARTED] = now
    session[SESSION_SEEN] = now


class SessionTimeoutMiddleware:
    """Ends a session after SESSION_IDLE_TIMEOUT idle or SESSION_ABSOLUTE_TIMEOUT in all."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.user.is_authenticated:
            now = int(time.time())
            started = request.session.get(SESSION_STARTED, now)
            seen = request.session.get(SESSION_SEEN, now)
            idle = settings.SESSION_IDLE_TIMEOUT.total_seconds()
            absolute = settings.SESSION_ABSOLUTE_TIMEOUT.total_seconds()
            if now - seen > idle or now - started > absolute:
                logout(request)
                messages.info(request, _("Your session expired. Please sign in again."))
                return redirect_to_login(request.get_full_path(), resolve_url(settings.LOGIN_URL))
            if SESSION_STARTED not in request.session:
                request.session[SESSION_STARTED] = now
            if now - seen >= SEEN_PRECISION_SECONDS or SESSION_SEEN not in request.session:
                request.session[SESSION_SEEN] = now
        return self.get_response(request)


class SecondFactorRequiredMiddleware:
    """Every page needs a verified second factor, except those explicitly marked.

    Runs after Django's LoginRequiredMiddleware, so anonymous users were already sent to
    the login page; here a signed-in but unverified user goes to verification (or to
    enrolment when they have no authenticator yet).
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        if not getattr(view_func, "login_required", True):
            return None
        if not getattr(view_func, "second_factor_required", True):
            return None
        user = request.user
        if not user.is_authenticated or user.is_verified():
            return None
        target = "accounts:verify" if has_authenticator(user) else "accounts:enrol"
        return redirect_to_login(request.get_full_path(), resolve_url(target))


class HtmxSignInMiddleware:
    """A request htmx sends in the background (opening a folded timeline) that is sent to
    sign in, verify or enrol, after the session expired say, would follow the redirect
    unseen and put that page inside the page. It gets HX-Redirect instead, so htmx loads
    the sign-in page as a whole page; signing in returns to the page the user was on.

    Listed before the middleware that sends people to sign in, so it sees their answers.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if response.status_code != 302 or request.headers.get("HX-Request") != "true":
            return response
        target = urlsplit(response["Location"])
        sign_in = (
            resolve_url(settings.LOGIN_URL),
            reverse("accounts:verify"),
            reverse("accounts:enrol"),
        )
        if target.path not in sign_in:
            return response
        query = QueryDict(target.query, mutable=True)
        # The page itself, not the fragment it asked for; this site's pages only.
        page = urlsplit(request.headers.get("HX-Current-URL", ""))
        if page.netloc == request.get_host() and page.path.startswith("/"):
            query["next"] = f"{page.path}?{page.query}" if page.query else page.path
        redirect = HttpResponse(status=204)
        redirect["HX-Redirect"] = f"{target.path}?{query.urlencode()}" if query else target.path
        return redirect
