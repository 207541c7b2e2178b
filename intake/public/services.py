"""What the public form does: a request sent, a conversation opened with its reference and
passphrase, read, and written to again. Nobody is signed in: the person proves the
passphrase, and the audit log names no actor (None: the person, through the form)."""

import enum
import secrets
from dataclasses import dataclass
from datetime import datetime

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from audit.models import Action
from intake.conversations import Received, conversation_receive
from intake.models import Channel, Delivery, Direction, IntakeRequest, Message
from intake.public import once, passphrases, throttle
from intake.services import audit_request


@dataclass(frozen=True)
class Submitted:
    request: IntakeRequest
    # Shown once, on the page that answers the form; only its hash is kept.
    passphrase: str


def public_request_submit(
    *, text: str, contact: str, language: str, source: str, token: str = ""
) -> Submitted | None:
    """Opens a request in the channel team's triage queue, reachable through the form with
    its reference and a new passphrase. `source` (the sender's network address) only counts
    toward the conversations' rate limits; it is never stored.

    `token` is the one-time token of the form page that was sent (intake.public.once). A
    page already sent opens nothing and gives None: sent again later (a reload) or at the
    same moment (two posts racing), since its digest is unique on the requests and the
    second request written with it is undone whole. Without a token a request is opened."""
    digest = once.token_digest(token)
    if digest and _page_sent(digest):
        # Before the hash: a reload costs no Argon2.
        return None
    passphrase = passphrases.passphrase_new()
    # Hashed before the transaction: Argon2's time is not spent holding the reference
    # counter's row lock, which every new request waits for.
    encoded = passphrases.passphrase_hash(passphrase)
    try:
        with transaction.atomic():
            received = conversation_receive(
                channel=Channel.WEB_FORM,
                # Where replies "go": a random token, the request's own, found again by its
                # digest when the person writes again (intake.conversations).
                address=secrets.token_urlsafe(24),
                text=text,
                contact=contact,
                language=language,
                source=source,
            )
            request = received.request
            request.passphrase_hash = encoded
            request.submit_digest = digest
            request.save(update_fields=["passphrase_hash", "submit_digest"])
    except IntegrityError:
        # The same page, sent at the same moment, opened its request first.
        if digest and _page_sent(digest):
            return None
        raise
    return Submitted(request=request, passphrase=passphrase)


def _page_sent(digest: str) -> bool:
    return IntakeRequest.objects.filter(submit_digest=digest).exists()


class Outcome(enum.Enum):
    OPEN = "open"
    WRONG = "wrong"
    LOCKED = "locked"
    DELETED = "deleted"


@dataclass(frozen=True)
class Opened:
    outcome: Outcome
    request: IntakeRequest | None = None


def conversation_open(*, reference: str, passphrase: str, source: str) -> Opened:
    """The web-form request this reference and passphrase open. A wrong pair counts toward
    the throttle (intake.public.throttle); while locked nothing is checked, and a right pair
    is refused as a wrong one would be. A request whose personal data was purged has no
    conversation left to open."""
    now = timezone.now()
    if throttle.is_locked(reference=reference, source=source, now=now):
        return Opened(Outcome.LOCKED)
    request = (
        IntakeRequest.objects.filter(reference=reference, channel=Channel.WEB_FORM)
        .select_related("case")
        .first()
    )
    if request is not None and request.purged_at is not None:
        # Counted too: probing references for deleted ones is throttled like guessing.
        throttle.failure_record(reference=reference, source=source, now=now)
        return Opened(Outcome.DELETED)
    # An unknown reference costs a hash as a known one does: the time tells nothing.
    encoded = request.passphrase_hash if request is not None else ""
    matches = passphrases.passphrase_matches(passphrase, encoded)
    if request is None or not matches:
        throttle.failure_record(reference=reference, source=source, now=now)
        return Opened(Outcome.WRONG)
    return Opened(Outcome.OPEN, request)


def conversation_shown(request: IntakeRequest) -> list[Message]:
    """What the person sees of their conversation: what they wrote, and the replies that
    went out. Never who wrote a reply, nothing queued or failed, nothing of the case."""
    return list(
        request.messages.filter(
            Q(direction=Direction.IN) | Q(direction=Direction.OUT, state=Delivery.SENT)
        )
        .only("seal", "request_id", "direction", "text", "created_at", "read_at")
        .order_by("created_at", "pk")
    )


@transaction.atomic
def conversation_read(*, request: IntakeRequest, shown: list[Message]) -> datetime:
    """Marks the replies shown as read and audits the read (no actor: the person)."""
    now = timezone.now()
    replies = [message.pk for message in shown if message.direction == Direction.OUT]
    Message.objects.filter(pk__in=replies, read_at__isnull=True).update(read_at=now)
    audit_request(request, None, Action.REQUEST_VIEWED)
    return now


def conversation_write(*, request: IntakeRequest, text: str, source: str) -> Received:
    """What the person writes again joins their request (and its case's timeline)."""
    return conversation_receive(
        channel=Channel.WEB_FORM,
        address=request.reply_address,
        text=text,
        language=request.language,
        source=source,
    )
