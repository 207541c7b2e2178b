"""The Telegram bot's webhook: the one page Telegram calls, with no one signed in.

Every call must carry TELEGRAM_WEBHOOK_SECRET in X-Telegram-Bot-Api-Secret-Token (set with
the webhook, `manage.py telegram_webhook`); one without it is refused, counted, and recorded
in the audit log with nothing of what it sent, up to a limit a minute (intake.channels.forged:
a flood of them is counted, not audited). The page does not exist while the bot is off.
"""

import hmac
import json

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt

from intake.channels import bot_api, forged, telegram

# An update is a few kilobytes (a message is at most 4,096 characters); anything near this
# is not from Telegram, and is refused before it is read.
MAX_UPDATE_BYTES = 256 * 1024
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"  # noqa: S105 - its name, not a secret


def _secret_matches(request: HttpRequest) -> bool:
    expected = settings.TELEGRAM_WEBHOOK_SECRET
    given = request.headers.get(SECRET_HEADER, "")
    # No secret configured: the bot polls, and no call here is Telegram's.
    return bool(expected) and hmac.compare_digest(given.encode(), expected.encode())


def _body(request: HttpRequest) -> bytes | None:
    """The request's body, or None when it is larger than an update can be (whatever its
    Content-Length says: the stream is read one byte past the limit at most)."""
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return None
    if declared > MAX_UPDATE_BYTES:
        return None
    body = request.read(MAX_UPDATE_BYTES + 1)
    return body if len(body) <= MAX_UPDATE_BYTES else None


# Telegram signs in as no one: no session, no second factor, no CSRF token. The secret
# header is its credential.
@login_not_required
@csrf_exempt
@never_cache
def telegram_webhook(request: HttpRequest) -> HttpResponse:
    if not bot_api.is_on():
        raise Http404
    if not _secret_matches(request):
        forged.forged_call()
        return HttpResponse(status=403)
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    body = _body(request)
    if body is None:
        return HttpResponse(status=413)
    try:
        update = json.loads(body)
    except (ValueError, RecursionError):  # not JSON (or UTF-8), or nested to death
        return HttpResponse(status=400)
    try:
        telegram.update_receive(update)
    except telegram.NotAnUpdate:
        return HttpResponse(status=400)
    # The same answer whatever became of it: stored, counted and left, or a replay.
    return HttpResponse(status=200)
