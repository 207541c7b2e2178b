"""Reads of conversations with the person, for the staff pages: the request's page, the case
page's panel and the flood review of the triage queue. Scoped like every read of intake:
a request another team holds is a 404, the same as a missing one."""

from dataclasses import dataclass, field

from django.db.models import Count, Q, QuerySet

from accounts.models import User
from casework.models import Case
from casework.permissions import can_view_case
from intake import permissions
from intake.models import Delivery, IntakeRequest, Message, TriageState
from intake.selectors import intake_for, intake_queue_for

# The newest messages a panel shows; older ones are counted, not read (nor decrypted).
PANEL_MESSAGES = 50
# The most requests the flood review lists at once.
FLOOD_LIMIT = 500


@dataclass
class Conversation:
    """What a panel shows: the newest messages of the requests, oldest first."""

    requests: list[IntakeRequest] = field(default_factory=list)
    messages: list[Message] = field(default_factory=list)
    # Earlier messages not shown, and messages the rate limit holds for now.
    older: int = 0
    held: int = 0

    @property
    def any(self) -> bool:
        return bool(self.messages or self.older or self.held)


def _conversation(requests: list[IntakeRequest]) -> Conversation:
    """Two queries whatever the number of messages: the newest page (with who replied),
    and one count of the rest. None for requests from a channel with no conversation (a
    phone call, a visit): nothing to read."""
    requests = [request for request in requests if request.channel in permissions.ANSWERABLE]
    if not requests:
        return Conversation()
    messages = Message.objects.filter(request__in=requests)
    newest = list(
        messages.exclude(state=Delivery.HELD)
        .select_related("sent_by")
        .only(
            "request_id",
            "direction",
            "text",
            "seal",
            "sent_by__username",
            "created_at",
            "state",
            "sent_at",
            "read_at",
        )
        .order_by("-created_at", "-id")[:PANEL_MESSAGES]
    )
    newest.reverse()
    by_pk = {request.pk: request for request in requests}
    for message in newest:
        message.request = by_pk[message.request_id]
    counts = messages.aggregate(
        shown=Count("pk", filter=~Q(state=Delivery.HELD)),
        held=Count("pk", filter=Q(state=Delivery.HELD)),
    )
    return Conversation(
        requests=requests,
        messages=newest,
        older=max(counts["shown"] - len(newest), 0),
        held=counts["held"],
    )


def conversation_of_request(user: User, request: IntakeRequest) -> Conversation:
    """The conversation of one request the caller found through intake_for."""
    if not permissions.can_view_request(user, request):
        return Conversation()
    return _conversation([request])


def conversation_of_case(user: User, case: Case) -> Conversation:
    """The conversation of every request behind the case, for whoever sees the case (its
    timeline shows the same messages): a coordinator reading it by break-glass too, who
    may not answer."""
    if not can_view_case(user, case):
        return Conversation()
    # Through the reverse relation: each request's `case` is this very object.
    requests = list(case.intake_requests.order_by("received_at", "id"))
    return _conversation(requests)


def request_to_reply(user: User, reference: str) -> IntakeRequest:
    """The request a reply is for, as intake_for finds it: another team's is a 404."""
    return intake_for(user, reference)


def flood_waiting(user: User) -> QuerySet[IntakeRequest]:
    """Untriaged requests of the user's teams marked as a possible flood, oldest first."""
    return (
        intake_queue_for(user)
        .filter(flood_at__isnull=False)
        .only("reference", "channel", "received_at", "text_digest", "state", "team__name")
    )


@dataclass
class FloodGroup:
    """Requests with one same first text, and one of them whose text is shown."""

    sample: IntakeRequest
    requests: list[IntakeRequest]


def flood_groups(user: User) -> list[FloodGroup]:
    """The possible floods of the user's teams, one group per text, biggest first. Only
    each group's first request is read in full (its message decrypted): the caller audits
    that read."""
    waiting = list(flood_waiting(user)[:FLOOD_LIMIT])
    grouped: dict[str, list[IntakeRequest]] = {}
    for request in waiting:
        grouped.setdefault(request.text_digest or request.reference, []).append(request)
    samples = {
        sample.pk: sample
        for sample in IntakeRequest.objects.filter(
            pk__in=[requests[0].pk for requests in grouped.values()]
        ).only("reference", "team_id", "message", "seal", "received_at")
    }
    groups = [
        FloodGroup(sample=samples[requests[0].pk], requests=requests)
        for requests in grouped.values()
    ]
    return sorted(groups, key=lambda group: -len(group.requests))


def volume_counts(user: User) -> dict[str, int]:
    """For the triage queue: how many of the user's teams' requests the rate limits hold,
    and how many waiting ones are marked as a possible flood. One query."""
    if not (user.is_active and user.has_perm("accounts.log_intake")):
        return {"held": 0, "flood": 0}
    return IntakeRequest.objects.filter(team_id__in=user.team_ids).aggregate(
        held=Count("pk", filter=Q(state=TriageState.HELD)),
        flood=Count("pk", filter=Q(state=TriageState.NEW, flood_at__isnull=False)),
    )
