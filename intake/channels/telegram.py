"""The Telegram bot: what an update from Telegram becomes.

Updates come by webhook (intake.channels.views) or by long polling (`manage.py
telegram_poll`); both hand each one to `update_receive`. A text message in a private chat is
stored through `conversation_receive`, like anything any channel brings: the first one from a
chat opens a request in the channel team's triage queue and is answered, in the person's
language, with the request's reference and short safety advice; later ones join it (and its
case). The answer is a reply row, sent by intake.replies: Telegram being down delays it and
loses nothing.

Everything else is counted and left: edits, channel posts, buttons, groups and channels
(the bot is not for them); a photo, a document or a location in a private chat is not stored
and the person is asked to write in words instead; /start and /help are answered with how
to write to us. Each update's id is kept for a few days (TelegramUpdate, intake.retention),
so one delivered twice, by a retrying webhook or a restarted poller, is stored once.
"""

import logging
import re
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Count
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from audit.models import Action
from intake import replies
from intake.channels import bot_api, forged
from intake.conversations import conversation_receive
from intake.models import (
    Channel,
    Delivery,
    Direction,
    IntakeRequest,
    Message,
    TelegramUpdate,
    UpdateOutcome,
)
from intake.services import audit_request

log = logging.getLogger(__name__)

# What the webhook and the poller ask Telegram for; other kinds still arrive if a webhook was
# set by hand, and are counted and left.
ALLOWED_UPDATES = ["message"]
COMMANDS = {"/start", "/help"}
# Telegram keeps an undelivered update for a day: a message dated earlier is misdated.
OLDEST_UPDATE = timedelta(days=2)
CYRILLIC = re.compile("[\u0400-\u04ff]")
LANGUAGES = {"ru", "en"}


class NotAnUpdate(ValueError):
    """A JSON value that is no Telegram update at all (no numeric update_id)."""


def language_guess(text: str, language_code: Any) -> str:
    """Russian for a message in Cyrillic; else the language of the person's Telegram when
    it is one we answer in; else English."""
    if CYRILLIC.search(text):
        return "ru"
    code = language_code.split("-")[0].lower() if isinstance(language_code, str) else ""
    return code if code in LANGUAGES else "en"


def update_receive(update: Any) -> str | None:
    """Takes one update (a parsed JSON value) and returns what became of it (an
    UpdateOutcome), or None when it was taken before. Raises NotAnUpdate for a value that is
    not an update."""
    update_id = update.get("update_id") if isinstance(update, dict) else None
    if not isinstance(update_id, int) or isinstance(update_id, bool):
        raise NotAnUpdate
    if not 0 <= update_id < 2**63:  # a bigint holds every id Telegram gives
        raise NotAnUpdate
    message = update.get("message")
    outcome = _outcome(message)
    with transaction.atomic():
        try:
            with transaction.atomic():
                TelegramUpdate.objects.create(update_id=update_id, outcome=outcome)
        except IntegrityError:
            return None  # a replay: stored (or ignored) the first time
        if outcome == UpdateOutcome.STORED:
            _store(message)
        elif outcome in (UpdateOutcome.COMMAND, UpdateOutcome.IGNORED_CONTENT):
            chat_id = str(message["chat"]["id"])
            text = _welcome if outcome == UpdateOutcome.COMMAND else _text_only
            language = language_guess("", _sender(message).get("language_code"))
            transaction.on_commit(partial(_send_quietly, chat_id, text(language)))
    if outcome != UpdateOutcome.STORED:
        log.debug("Telegram update not stored (%s)", outcome)
    return outcome


def _outcome(message: Any) -> str:
    """What to do with an update's message, from its shape alone."""
    if not isinstance(message, dict):
        return UpdateOutcome.IGNORED_KIND  # an edit, a channel post, a button, …
    chat = message.get("chat")
    if not isinstance(chat, dict) or chat.get("type") != "private":
        return UpdateOutcome.IGNORED_CHAT
    chat_id, message_id = chat.get("id"), message.get("message_id")
    if not (_is_int(chat_id) and _is_int(message_id)):
        return UpdateOutcome.IGNORED_CHAT
    text = message.get("text")
    if not isinstance(text, str) or not text.strip():
        return UpdateOutcome.IGNORED_CONTENT
    command = text.split(maxsplit=1)[0].split("@", 1)[0].lower()
    if command in COMMANDS:
        return UpdateOutcome.COMMAND
    return UpdateOutcome.STORED


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _text(value: str) -> str:
    """JSON may carry what no UTF-8 holds (a lone surrogate): replaced, not a failure."""
    return value.encode("utf-8", "replace").decode("utf-8")


def _sender(message: dict) -> dict:
    sender = message.get("from")
    return sender if isinstance(sender, dict) else {}


def _sent_at(message: dict) -> datetime:
    """When the person wrote it (a poller catching up after an outage keeps the real time),
    never later than now nor earlier than Telegram keeps an update."""
    now = timezone.now()
    stamp = message.get("date")
    if not isinstance(stamp, int):
        return now
    try:
        sent = datetime.fromtimestamp(stamp, tz=UTC)
    except (OverflowError, OSError, ValueError):
        return now
    return min(max(sent, now - OLDEST_UPDATE), now)


def _store(message: dict) -> None:
    chat_id, message_id = str(message["chat"]["id"]), str(message["message_id"])
    sender = _sender(message)
    username = sender.get("username")
    text = _text(message["text"])
    received = conversation_receive(
        channel=Channel.TELEGRAM,
        address=chat_id,
        text=text,
        contact=_text(f"@{username}"[:64]) if isinstance(username, str) and username else "",
        language=language_guess(text, sender.get("language_code")),
        received_at=_sent_at(message),
        external_id=message_id,
    )
    if received.opened:
        _acknowledge(received.request)
    if settings.TELEGRAM_DELETE_AFTER_STORE:
        transaction.on_commit(partial(_delete_quietly, chat_id, message_id))


def _acknowledge(request: IntakeRequest) -> None:
    """Queues the answer to a first message as a reply row, sent by intake.replies (retried
    while Telegram is down); written by the system, so no one is its sender."""
    Message.objects.create(
        request=request,
        direction=Direction.OUT,
        text=acknowledgement(request.reference, request.language),
        state=Delivery.QUEUED,
        next_attempt_at=timezone.now(),
    )
    audit_request(request, None, Action.REPLY_SENT)
    transaction.on_commit(replies.send_soon)


def _advice() -> list[str]:
    lines = [
        _("Do not send documents, photos or your location in this chat."),
        _("Delete this chat after reading our answers."),
        _("We will never ask for your passwords or codes."),
    ]
    if settings.TELEGRAM_DELETE_AFTER_STORE:
        lines.append(_("We remove your messages from this chat once we have stored them."))
    return [f"• {line}" for line in lines]


def acknowledgement(reference: str, language: str) -> str:
    """The answer to a first message: its reference and the safety advice."""
    with translation.override(language or settings.LANGUAGE_CODE):
        return "\n".join(
            [
                _(
                    "We have your message. Its reference is %(reference)s. A volunteer will "
                    "answer in this chat."
                )
                % {"reference": reference},
                "",
                _("To stay safe:"),
                *_advice(),
            ]
        )


def _welcome(language: str) -> str:
    with translation.override(language):
        return "\n".join(
            [
                _(
                    "Hello. Write here, in words, what has happened and how we can help. "
                    "A volunteer will answer in this chat."
                ),
                "",
                _("To stay safe:"),
                *_advice(),
            ]
        )


def _text_only(language: str) -> str:
    with translation.override(language):
        return _(
            "We can only read text here. Please write in words what has happened. Do not "
            "send documents, photos or your location in this chat."
        )


def _send_quietly(chat_id: str, text: str) -> None:
    """A courtesy answer with nothing of the person's in it (not a row: it may go unsent)."""
    try:
        bot_api.send_message(chat_id, text)
    except (bot_api.BotOff, bot_api.BotFailure) as error:
        log.info("Telegram answer not sent (%s)", getattr(error, "code", "bot off"))


def _delete_quietly(chat_id: str, message_id: str) -> None:
    """Deletes the person's message from the chat once it is stored; a failure leaves it
    there (deleted by the person, too old, Telegram down) and is no reason to refuse it."""
    try:
        bot_api.delete_message(chat_id, message_id)
    except (bot_api.BotOff, bot_api.BotFailure) as error:
        log.info("Telegram message not deleted (%s)", getattr(error, "code", "bot off"))


def bot_counts(since: datetime) -> dict[str, int]:
    """For the admins' health page: the updates taken since then by what became of them,
    and the webhook calls refused for a wrong or missing secret (counts only)."""
    counts = dict(
        TelegramUpdate.objects.filter(created_at__gte=since)
        .values("outcome")
        .annotate(count=Count("pk"))
        .values_list("outcome", "count")
    )
    stored = counts.pop(UpdateOutcome.STORED, 0)
    # Counted, not read off the audit log: over the limit a minute they are not audited.
    refused = forged.refused_since(since)
    return {"stored": stored, "not_stored": sum(counts.values()), "refused": refused}
