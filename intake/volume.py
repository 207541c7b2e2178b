"""Volume: rate limits on what the channels bring, and floods marked for triage.

Nothing that arrives is refused or lost. Over a limit a new request is stored *held*
(TriageState.HELD: out of the triage queue) and a message from the person is stored held
(Delivery.HELD: not yet on its case); `intake.conversations.held_release`, run by beat,
lets them in as the limits allow, oldest first. The limits (settings VOLUME_*):

- per address: messages one chat (or one form conversation) adds per window;
- per source: new requests one network opens per window (the public form passes its
  client's address; only a keyed digest is stored, blanked once the window has passed);
- overall: new requests all channels bring per window.

Every count is a query on rows, never a cache: several web processes and workers share
them. Decisions and releases run one at a time (`serialise`), so two arrivals at once
cannot both take the last place.

A flood is the same first message from many addresses: those requests are marked
(`flood_at`) at triage, where they can be rejected together (`flood_reject`).
"""

import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime, timedelta
from ipaddress import IPv6Network

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, transaction
from django.db.models import Count, QuerySet
from django.utils.translation import gettext as _

from accounts.models import User
from audit import addresses
from intake import permissions
from intake.models import Delivery, Direction, IntakeRequest, Message, TriageState
from intake.services import intake_reject
from privacy import blind_index

# Any number: only this module takes PostgreSQL's advisory lock under it.
LOCK_KEY = 22_0001
# Held rows looked at per release, oldest first: a flood of any size is let in piece by
# piece, and one run stays short.
RELEASE_SCAN = 5000


def serialise() -> None:
    """Makes the rate-limit decisions of concurrent transactions one after another, until
    this transaction ends. SQLite has one writer at a time anyway."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [LOCK_KEY])


def _window(minutes: int, now: datetime) -> datetime:
    return now - timedelta(minutes=minutes)


# Digests ----------------------------------------------------------------------------------


def source_digest(source: str) -> str:
    """A keyed digest of the network a request was sent from: an IPv4 address as it is, an
    IPv6 address by its /64 (what one subscriber holds); blank without a source."""
    source = (source or "").strip()
    if not source:
        return ""
    address = addresses.parse(source)
    if address is None:
        network = source[:100]
    elif address.version == 6:
        network = str(IPv6Network(f"{address}/64", strict=False))
    else:
        network = str(address)
    return blind_index.keyed_digest(b"request-source", network)


_NOT_WORDS = re.compile(r"[^\w\s]|_")
_SPACES = re.compile(r"\s+")


def normalised_text(text: str) -> str:
    """The text as a flood repeats it: compatibility forms folded, lower case, punctuation
    and symbols dropped, runs of spaces made one. Digits are kept: "call 8 900 …" with
    another number is another text."""
    text = unicodedata.normalize("NFKC", text).casefold()
    return _SPACES.sub(" ", _NOT_WORDS.sub(" ", text)).strip()


def text_digest(text: str) -> str:
    """A keyed digest of the normalised text; blank when it is too short to tell a flood
    from many people writing "help"."""
    normalised = normalised_text(text)
    if not normalised or len(normalised) < settings.VOLUME_FLOOD_MIN_CHARS:
        return ""
    return blind_index.keyed_digest(b"message-text", normalised)


# Decisions --------------------------------------------------------------------------------


def channel_requests() -> QuerySet[IntakeRequest]:
    """Requests a channel brought (nobody logged them): what the limits count."""
    return IntakeRequest.objects.filter(logged_by__isnull=True)


def admitted_overall(now: datetime) -> int:
    since = _window(settings.VOLUME_ALL_MINUTES, now)
    return channel_requests().filter(admitted_at__gte=since).count()


def request_admitted(*, source: str, now: datetime) -> bool:
    """Whether a new request goes into the triage queue now. While anything is held, a newer
    one waits behind it: the release lets them in oldest first, within a minute."""
    if IntakeRequest.objects.filter(state=TriageState.HELD).exists():
        return False
    if settings.VOLUME_ALL_REQUESTS and admitted_overall(now) >= settings.VOLUME_ALL_REQUESTS:
        return False
    if source and settings.VOLUME_SOURCE_REQUESTS:
        since = _window(settings.VOLUME_SOURCE_MINUTES, now)
        from_there = channel_requests().filter(source_digest=source, admitted_at__gte=since)
        if from_there.count() >= settings.VOLUME_SOURCE_REQUESTS:
            return False
    return True


def message_admitted(*, request: IntakeRequest, now: datetime) -> bool:
    """Whether a later message from the request's address goes on at once, or waits behind
    the messages the address's limit already holds."""
    if Message.objects.filter(request=request, state=Delivery.HELD).exists():
        return False
    if not settings.VOLUME_ADDRESS_MESSAGES:
        return True
    since = _window(settings.VOLUME_ADDRESS_MINUTES, now)
    admitted = Message.objects.filter(
        request=request, direction=Direction.IN, admitted_at__gte=since
    ).count()
    return admitted < settings.VOLUME_ADDRESS_MESSAGES


def flood_mark(*, request: IntakeRequest, now: datetime) -> bool:
    """Marks the request, and the others with the same first text within the window, as a
    possible flood once that text came from VOLUME_FLOOD_ADDRESSES different addresses.
    True when they are marked."""
    if not (request.text_digest and settings.VOLUME_FLOOD_ADDRESSES):
        return False
    same = IntakeRequest.objects.filter(
        text_digest=request.text_digest,
        logged_at__gte=_window(settings.VOLUME_FLOOD_MINUTES, now),
    ).exclude(address_digest="")
    senders = same.values("address_digest").distinct().count()
    if senders < settings.VOLUME_FLOOD_ADDRESSES:
        return False
    same.filter(flood_at__isnull=True).update(flood_at=now)
    request.flood_at = request.flood_at or now
    return True


# Releases ---------------------------------------------------------------------------------


def releasable_requests(now: datetime) -> list[int]:
    """The held requests the limits let in now, oldest first: within the overall room, and
    no more from one network than its own limit leaves. A network at its limit is left out
    of the scan, so a flood from one never hides the requests held behind it."""
    room = (
        settings.VOLUME_ALL_REQUESTS - admitted_overall(now)
        if settings.VOLUME_ALL_REQUESTS
        else RELEASE_SCAN
    )
    if room <= 0:
        return []
    held = IntakeRequest.objects.filter(state=TriageState.HELD)
    per_source: dict[str, int] = {}
    limit = settings.VOLUME_SOURCE_REQUESTS
    if limit:
        # At most as many networks as requests let in within the window.
        since = _window(settings.VOLUME_SOURCE_MINUTES, now)
        per_source = dict(
            channel_requests()
            .filter(admitted_at__gte=since)
            .exclude(source_digest="")
            .values("source_digest")
            .annotate(admitted=Count("pk"))
            .values_list("source_digest", "admitted")
        )
        held = held.exclude(
            source_digest__in=[source for source, count in per_source.items() if count >= limit]
        )
    released: list[int] = []
    scanned = held.order_by("received_at", "id").values_list("pk", "source_digest")
    for pk, source in scanned[:RELEASE_SCAN]:
        if len(released) >= room:
            break
        if source and limit:
            if per_source.get(source, 0) >= limit:
                continue
            per_source[source] = per_source.get(source, 0) + 1
        released.append(pk)
    return released


def releasable_messages(now: datetime) -> list[int]:
    """The held messages their addresses' limit lets in now, oldest first. An address at
    its limit is left out of the scan, so one chat's flood never hides another's messages."""
    held = Message.objects.filter(state=Delivery.HELD, request__purged_at__isnull=True)
    limit = settings.VOLUME_ADDRESS_MESSAGES
    if not limit:
        return list(held.order_by("created_at", "id").values_list("pk", flat=True)[:RELEASE_SCAN])
    since = _window(settings.VOLUME_ADDRESS_MINUTES, now)
    admitted_in_window = Message.objects.filter(direction=Direction.IN, admitted_at__gte=since)
    full = (
        admitted_in_window.values("request_id")
        .annotate(admitted=Count("pk"))
        .filter(admitted__gte=limit)
        .values("request_id")
    )
    scanned = list(
        held.exclude(request_id__in=full)
        .order_by("created_at", "id")
        .values_list("pk", "request_id")[:RELEASE_SCAN]
    )
    admitted = dict(
        admitted_in_window.filter(request_id__in={request for _pk, request in scanned})
        .values("request_id")
        .annotate(admitted=Count("pk"))
        .values_list("request_id", "admitted")
    )
    released: list[int] = []
    for pk, request in scanned:
        if admitted.get(request, 0) >= limit:
            continue
        admitted[request] = admitted.get(request, 0) + 1
        released.append(pk)
    return released


def sources_forget(now: datetime) -> int:
    """Blanks the network digests the per-source limit no longer counts: a request let in
    longer ago than the window."""
    since = _window(settings.VOLUME_SOURCE_MINUTES, now)
    return (
        IntakeRequest.objects.exclude(source_digest="")
        .exclude(state=TriageState.HELD)
        .filter(admitted_at__lt=since)
        .update(source_digest="")
    )


# Triage -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Rejected:
    rejected: list[str]
    # Decided by someone else meanwhile, or no longer theirs to triage.
    skipped: list[str]


@transaction.atomic
def flood_reject(*, requests: list[IntakeRequest], by: User, reason: str) -> Rejected:
    """Rejects these requests together with one reason: a flood at triage. Each is rejected
    as one would be (its permission checked, its audit event written); one decided by
    someone else meanwhile is skipped and named."""
    if not reason.strip():
        raise ValidationError(_("Give a reason for rejecting the request."))
    if not requests:
        raise ValidationError(_("Choose the requests to reject."))
    rejected, skipped = [], []
    for request in requests:
        if not permissions.can_triage(by, request):
            skipped.append(request.reference)
            continue
        try:
            intake_reject(request=request, by=by, reason=reason)
        except (ValidationError, PermissionDenied):
            skipped.append(request.reference)
        else:
            rejected.append(request.reference)
    return Rejected(rejected=rejected, skipped=skipped)
