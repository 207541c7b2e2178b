"""Plain HTTP to the Telegram Bot API (urllib, no client library): a method name and its
parameters in, the result out.

The token is part of every address, so nothing here puts an address, a response body or an
exception's text in a log or an error: a failure (BotFailure) is named by Telegram's error
code or by the exception's class. TELEGRAM_API_BASE points elsewhere for a local Bot API
server, or for the fake one the tests start.
"""

import http.client
import json
import urllib.error
import urllib.request
from typing import Any

from django.conf import settings

# Answers are small (a message, a list of updates); one larger than this is not Telegram's.
MAX_ANSWER_BYTES = 4 * 1024 * 1024
# Ordinary calls: long enough for a slow link, short enough that a request waiting on one
# (a deletion after the webhook stored a message) is not held long.
TIMEOUT_SECONDS = 10


class BotOff(Exception):
    """No TELEGRAM_BOT_TOKEN: the bot is off."""


class BotFailure(Exception):
    """A call that did not succeed; `code` says why in a few characters, never with a text
    from the answer (it could quote the message) or the address (it holds the token)."""

    code = "failure"
    permanent = False
    retry_after: int | None = None


class BotApiError(BotFailure):
    """Telegram answered, with an error: its code (400 a bad chat, 403 the person blocked
    the bot, 429 too many messages, 5xx its trouble), never its description."""

    def __init__(self, status: int, retry_after: int | None = None):
        super().__init__(f"Bot API error {status}")
        self.status = status
        self.code = f"telegram_{status}"
        self.retry_after = retry_after
        # Trying the same message again cannot help: the chat is gone, the bot blocked.
        self.permanent = status in (400, 403)


class BotUnreachable(BotFailure):
    """Telegram could not be reached or answered nothing usable: named by the class of the
    error (ConnectionRefusedError, TimeoutError, …)."""

    def __init__(self, error: BaseException):
        reason = getattr(error, "reason", None)
        cause = reason if isinstance(reason, BaseException) else error
        self.code = type(cause).__name__[:64]
        super().__init__(self.code)


def is_on() -> bool:
    return bool(settings.TELEGRAM_BOT_TOKEN)


def call(method: str, params: dict[str, Any], *, timeout: float = TIMEOUT_SECONDS) -> Any:
    """Calls one Bot API method and returns its `result`. Raises BotOff, or a BotFailure:
    BotApiError when Telegram refused, BotUnreachable when it could not be reached."""
    token = settings.TELEGRAM_BOT_TOKEN
    if not token:
        raise BotOff
    request = urllib.request.Request(  # noqa: S310 - the base is checked to be http(s) in settings
        f"{settings.TELEGRAM_API_BASE}/bot{token}/{method}",
        data=json.dumps(params).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            answer = _parse(response.read(MAX_ANSWER_BYTES + 1))
    except urllib.error.HTTPError as error:
        # Telegram answers errors with a JSON body too; anything else is named by its status.
        with error:
            answer = _parse(error.read(MAX_ANSWER_BYTES + 1)) or {"error_code": error.code}
        raise _api_error(answer, error.code) from None
    except (OSError, http.client.HTTPException) as error:
        # Not chained: the traceback of a failed call is no one's business but its class.
        raise BotUnreachable(error) from None
    if answer is None or not answer.get("ok"):
        raise _api_error(answer or {}, 502)
    return answer.get("result")


def _parse(body: bytes) -> dict | None:
    if len(body) > MAX_ANSWER_BYTES:
        return None
    try:
        answer = json.loads(body)
    except ValueError:
        return None
    return answer if isinstance(answer, dict) else None


def _api_error(answer: dict, status: int) -> BotApiError:
    code = answer.get("error_code")
    parameters = answer.get("parameters")
    retry_after = parameters.get("retry_after") if isinstance(parameters, dict) else None
    return BotApiError(
        code if isinstance(code, int) else status,
        retry_after if isinstance(retry_after, int) else None,
    )


def send_message(chat_id: str, text: str) -> str:
    """Sends a text message; returns Telegram's id of the message sent."""
    result = call("sendMessage", {"chat_id": chat_id, "text": text})
    message_id = result.get("message_id") if isinstance(result, dict) else None
    return str(message_id) if message_id is not None else ""


def delete_message(chat_id: str, message_id: str) -> None:
    call("deleteMessage", {"chat_id": chat_id, "message_id": int(message_id)})


def get_updates(offset: int | None, timeout: int, allowed: list[str]) -> list:
    """Long polling: waits up to `timeout` seconds for updates after `offset`."""
    params: dict[str, Any] = {"timeout": timeout, "allowed_updates": allowed}
    if offset is not None:
        params["offset"] = offset
    result = call("getUpdates", params, timeout=timeout + TIMEOUT_SECONDS)
    return result if isinstance(result, list) else []
