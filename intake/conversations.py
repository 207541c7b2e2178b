"""Conversations with the person through a channel (the Telegram bot, the public form).

Every channel hands what arrives to `conversation_receive`: the first message from an
address opens an intake request in the channel team's triage queue; later ones join that
request, and its case's timeline once it has one. A reply from the app is a row
(`reply_send`), queued for the channel's sender: a broker outage delays it, never loses it.

An address (a Telegram chat id, the public form's request) is kept encrypted on the request
to answer it, and found again through a keyed digest (`address_digest`), never in clear.

Volume (intake.volume): over a rate limit what arrives is stored *held*, never refused;
`held_release` (beat) lets it in as the limits allow, oldest first.
"""

from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured, PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from accounts.models import Team, User
from audit.models import Action
from casework import lost_contact, scheduling
from casework.models import Case, EventKind
from casework.services.cases import audit_case, timeline_add
from intake import permissions, replies, volume
from intake.models import Channel, Delivery, Direction, IntakeRequest, Message, TriageState
from intake.services import audit_request, request_create
from privacy import blind_index

# The longest message kept from the person, and the longest reply: a Telegram message is at
# most 4,096 characters; the form's box is held to the same.
MAX_TEXT = 4096

# Timeline wording (casework.event_details words `detail` in the reader's language).
RECEIVED = gettext_noop("message from the person")
REPLIED = gettext_noop("reply to the person")


def address_digest(channel: str, address: str) -> str:
    """A keyed digest of a channel address, under a key of its own (never comparable with a
    blind index of a contact)."""
    return blind_index.keyed_digest(b"channel-address", f"{channel}\x00{address}")


def channel_team() -> Team:
    """The team whose triage queue receives what the channels bring (CHANNEL_TEAM, by name;
    the first team when unset)."""
    teams = Team.objects.order_by("pk")
    if settings.CHANNEL_TEAM:
        teams = teams.filter(name=settings.CHANNEL_TEAM)
    team = teams.first()
    if team is None:
        raise ImproperlyConfigured("CHANNEL_TEAM names no team: requests have nowhere to go.")
    return team


@dataclass(frozen=True)
class Received:
    request: IntakeRequest
    message: Message
    # True when this message opened the request (the channel answers with its reference).
    opened: bool
    # True when a rate limit holds the request out of the triage queue, or the message off
    # its case, for now: stored all the same (the channel may say "received, we will answer").
    held: bool = False


def open_conversation(channel: str, address: str) -> IntakeRequest | None:
    """The latest request this address wrote, whose personal data is still kept (a rejected
    one is reopened for triage by what the person writes next: `_reopen`)."""
    return (
        IntakeRequest.objects.filter(
            channel=channel,
            address_digest=address_digest(channel, address),
            purged_at__isnull=True,
        )
        .select_related("case")
        .order_by("-received_at", "-pk")
        .first()
    )


@transaction.atomic
def conversation_receive(
    *,
    channel: str,
    address: str,
    text: str,
    contact: str = "",
    language: str = "",
    received_at: datetime | None = None,
    external_id: str = "",
    source: str = "",
) -> Received:
    """Stores what the person wrote: on the request their address opened before, or on a new
    request in the channel team's triage queue. `contact` is how triage will know them
    (an @handle, a phone, an e-mail: blind-indexed for duplicates); `address` is where
    replies go; `source` the network address a public form was sent from (only a keyed
    digest is kept, for the per-source rate limit). Over a rate limit the request or message
    is stored held (intake.volume). The system acts: nobody is signed in."""
    received_at = received_at or timezone.now()
    now = timezone.now()
    text = text.strip()[:MAX_TEXT]
    volume.serialise()
    request = open_conversation(channel, address)
    opened = request is None
    if request is None:
        source = volume.source_digest(source) if settings.VOLUME_SOURCE_REQUESTS else ""
        admitted = volume.request_admitted(source=source, now=now)
        request = request_create(
            by=None,
            team=channel_team(),
            channel=channel,
            received_at=received_at,
            contact=contact or _address_contact(channel, address),
            message=text,
            reply_address=address,
            address_digest=address_digest(channel, address),
            language=language,
            state=TriageState.NEW if admitted else TriageState.HELD,
            admitted_at=now if admitted else None,
            source_digest=source,
            text_digest=volume.text_digest(text),
        )
        volume.flood_mark(request=request, now=now)
        message_admitted = True
    else:
        message_admitted = volume.message_admitted(request=request, now=now)
        # One marked as a possible flood stays rejected: a flood writing on must not bring
        # back into the queue what triage rejected together.
        if request.state == TriageState.REJECTED and request.flood_at is None:
            _reopen(request, now)
    message = Message.objects.create(
        request=request,
        direction=Direction.IN,
        text=text,
        created_at=received_at,
        external_id=external_id[:32],
        state=Delivery.RECEIVED if message_admitted else Delivery.HELD,
        admitted_at=now if message_admitted else None,
    )
    if not opened:
        audit_request(request, None, Action.MESSAGE_RECEIVED)
        if message_admitted:
            _on_case(request, text)
    held = request.state == TriageState.HELD or not message_admitted
    return Received(request=request, message=message, opened=opened, held=held)


def _reopen(request: IntakeRequest, now: datetime) -> None:
    """The person wrote again after their request was rejected: it goes back into the triage
    queue with its whole conversation (the web form's passphrase still opens it), rather
    than collecting words only its coordinators would ever read. The reason stays."""
    IntakeRequest.objects.filter(pk=request.pk, state=TriageState.REJECTED).update(
        state=TriageState.NEW, triaged_by=None, triaged_at=None
    )
    request.state, request.triaged_by, request.triaged_at = TriageState.NEW, None, None
    scheduling.on_intake_logged(request.team, request.reference, now, None)


def _on_case(request: IntakeRequest, text: str) -> None:
    """A message let in from the person goes on the timeline of the request's case, and
    ends a lost contact."""
    case = _working_case(request)
    if case is None:
        return
    timeline_add(case, None, EventKind.MESSAGE, detail=RECEIVED, text=text)
    if lost_contact.on_contact(case, None):
        timeline_add(case, None, EventKind.LOST_CONTACT, detail=lost_contact.WROTE_AGAIN)
        audit_case(case, None, Action.LOST_CONTACT, reason=lost_contact.WROTE_AGAIN)


@dataclass(frozen=True)
class Released:
    requests: int
    messages: int


def held_release(now: datetime | None = None) -> Released:
    """Lets in what the rate limits held, oldest first, as far as they allow now: held
    requests into the triage queue (their triage clock starts then), held messages onto
    their case. Run by beat every VOLUME_RELEASE_SECONDS; running it twice lets nothing in
    twice, and one run never lets in more than the limits allow."""
    now = now or timezone.now()
    with transaction.atomic():
        volume.serialise()
        requests = list(
            IntakeRequest.objects.filter(
                pk__in=volume.releasable_requests(now), state=TriageState.HELD
            )
            .select_related("team")
            .only("reference", "team")
        )
        IntakeRequest.objects.filter(
            pk__in=[request.pk for request in requests], state=TriageState.HELD
        ).update(state=TriageState.NEW, admitted_at=now)
        for request in requests:
            scheduling.on_intake_logged(request.team, request.reference, now, None)
        messages = list(
            Message.objects.filter(pk__in=volume.releasable_messages(now), state=Delivery.HELD)
            .select_related("request__case")
            .order_by("created_at", "id")
        )
        Message.objects.filter(
            pk__in=[message.pk for message in messages], state=Delivery.HELD
        ).update(state=Delivery.RECEIVED, admitted_at=now)
        for message in messages:
            _on_case(message.request, message.text)
        volume.sources_forget(now)
    return Released(requests=len(requests), messages=len(messages))


def _address_contact(channel: str, address: str) -> str:
    """A contact for triage when the channel gave none: a Telegram chat with no @username is
    named by its chat; the public form's address is a random token that opens nothing and
    tells triage nothing, so it is not shown."""
    if channel == Channel.WEB_FORM:
        return "—"
    return f"{Channel(channel).label}: {address}"[:200]


def _working_case(request: IntakeRequest) -> Case | None:
    """The case the request's conversation now belongs to, if it still has personal data."""
    case = request.case
    if request.state == TriageState.REJECTED or case is None or case.is_purged:
        return None
    return case


@transaction.atomic
def reply_send(*, request: IntakeRequest, by: User, text: str) -> Message:
    """Queues a reply to the person through the request's channel; the sender
    (intake.replies) delivers it. On the case's timeline too, with who wrote it."""
    if not permissions.can_reply(by, request):
        raise PermissionDenied
    text = text.strip()
    if not text:
        raise ValidationError({"text": _("Write the reply first.")})
    if len(text) > MAX_TEXT:
        raise ValidationError(
            {"text": _("A reply can be at most %(limit)s characters long.") % {"limit": MAX_TEXT}}
        )
    now = timezone.now()
    message = Message.objects.create(
        request=request,
        direction=Direction.OUT,
        text=text,
        sent_by=by,
        created_at=now,
        state=Delivery.QUEUED,
        next_attempt_at=now,
    )
    audit_request(request, by, Action.REPLY_SENT)
    case = _working_case(request)
    if case is not None:
        timeline_add(case, by, EventKind.MESSAGE, detail=REPLIED, text=text)
        audit_case(case, by, Action.REPLY_SENT)
    # Beat would send it within REPLY_SEND_SECONDS; a free worker sends it now.
    transaction.on_commit(replies.send_soon)
    return message
