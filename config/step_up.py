"""Step-up: what a stolen session could make durable needs the password and a code again.

healthchecks guards its dangerous settings with `require_sudo_mode`; here one decorator,
`require_step_up`, guards replacing the authenticator, new backup codes, password and
e-mail changes, break-glass, the audit export, containing an account, every grant and
every reset. The confirmation page itself is `accounts.views.step_up`; it marks the
session with the time of the last confirmation (signing in with password and code counts
too), and a guarded page accepts it for `STEP_UP_SECONDS` (five minutes).

It lives in config because views of every layer use it, the audit log's included, which
may not import accounts.
"""

import time
from collections.abc import Callable
from functools import wraps
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _

STEP_UP_AT = "sp_step_up_at"


def mark_step_up(session) -> None:
    session[STEP_UP_AT] = int(time.time())


def step_up_is_fresh(request: HttpRequest) -> bool:
    confirmed = request.session.get(STEP_UP_AT)
    return isinstance(confirmed, int) and 0 <= time.time() - confirmed <= settings.STEP_UP_SECONDS


def step_up_url(next_url: str) -> str:
    return f"{reverse('accounts:step_up')}?{urlencode({'next': next_url})}"


def require_step_up(view: Callable | None = None, *, back: str | None = None):
    """The page opens, and its form is taken, only within minutes of a fresh password and
    code. A form sent after that goes to the confirmation and back to the page: the page
    was opened after a confirmation, so little can have been typed into it since.

    `back` names the page to return to for a view that only takes a form (POST).
    """

    def decorate(view: Callable) -> Callable:
        @wraps(view)
        def guarded(request: HttpRequest, *args, **kwargs) -> HttpResponse:
            if step_up_is_fresh(request):
                return view(request, *args, **kwargs)
            if request.method == "POST":
                messages.warning(
                    request, _("Confirm your password and code again: nothing was changed.")
                )
            return redirect(step_up_url(reverse(back) if back else request.get_full_path()))

        return guarded

    return decorate(view) if view is not None else decorate
