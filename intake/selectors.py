"""Reads of incoming requests, scoped to what the asking user may see (intake.permissions:
the team's coordinators every request of the team; a volunteer the team's untriaged ones,
and those behind a case they may see)."""

from django.db.models import Q, QuerySet
from django.shortcuts import get_object_or_404

from accounts.models import User
from accounts.roles import Role
from casework.models import Case, Outcome, PersonIndex
from casework.permissions import team_ids
from casework.selectors import by_team, cases_visible_to, in_order
from intake.models import IntakeIndex, IntakeRequest, TriageState
from privacy.fields import secret_fields

# A request's page names its case by reference only: none of the case's encrypted fields
# (route summary, hold and provocation reasons) is read, so none is decrypted.
CASE_SECRETS = secret_fields(Case, "case__")


def _teams_requests(user: User) -> QuerySet[IntakeRequest]:
    """Every request of the teams the user works intake for: not yet what they may read."""
    if not (user.is_active and user.has_perm("accounts.log_intake")):
        return IntakeRequest.objects.none()
    return IntakeRequest.objects.filter(team_id__in=team_ids(user))


def intake_visible_to(user: User) -> QuerySet[IntakeRequest]:
    """The requests whose contact and message the user may read, as
    permissions.can_view_request decides for one: coordinators every request of their
    teams; volunteers their teams' untriaged requests and the accepted or duplicate ones
    whose case they may see; admins none."""
    mine = _teams_requests(user)
    if user.has_role(Role.COORDINATOR):
        return mine
    decided = (TriageState.ACCEPTED, TriageState.DUPLICATE)
    seen = cases_visible_to(user).values("pk")
    return mine.filter(Q(state=TriageState.NEW) | Q(state__in=decided, case__in=seen))


def intake_queue_for(user: User) -> QuerySet[IntakeRequest]:
    """Untriaged requests of the user's teams, oldest first."""
    # Every member of the team may read an untriaged request (can_view_request), so the
    # queue is asked without the volunteers' case condition: one index range per team.
    return (
        _teams_requests(user)
        .filter(state=TriageState.NEW)
        .select_related("team")
        .only("reference", "channel", "received_at", "category_guess", "state", "team__name")
        .order_by("received_at", "id")
    )


def oldest_waiting(user: User, limit: int) -> list[IntakeRequest]:
    """The untriaged requests of the user's teams waiting longest, read team by team."""
    waiting = by_team(intake_queue_for(user), team_ids(user))
    return in_order(waiting, ("received_at", "id"), 0, limit)


def intake_for(user: User, reference: str) -> IntakeRequest:
    """One request; the same 404 for missing and for another team's."""
    return get_object_or_404(
        intake_visible_to(user).select_related("team", "case").defer(*CASE_SECRETS),
        reference=reference,
    )


def possible_duplicates(request: IntakeRequest) -> dict:
    """Cases and open requests sharing a blind index with this request's contact, and the
    references of those cases suspected or closed as a provocation (a warning for triage).

    Searches every team: a repeat request is worth knowing about wherever the first one
    landed. What the triager may see of each case is decided by the caller.
    """
    digests = list(request.indexes.values_list("digest", flat=True))
    if not digests:
        return {"cases": [], "requests": [], "provocations": []}
    person_ids = PersonIndex.objects.filter(digest__in=digests).values("person_id")
    # Asked apart from the 20 listed, so a warning is never crowded out. Their indexes
    # outlive the retention purge (casework.retention): purged ones are found too.
    provocations = list(
        Case.objects.filter(person_id__in=person_ids)
        .filter(Q(outcome=Outcome.PROVOCATION) | Q(provocation_flagged_at__isnull=False))
        .order_by("-created_at")
        .values_list("reference", flat=True)[:5]
    )
    cases = list(
        Case.objects.filter(person_id__in=person_ids)
        .select_related("team", "person")
        .only("reference", "stage", "team__name", "team_id", "assignee_id", "person__codename")
        .order_by("-created_at")[:20]
    )
    request_ids = (
        IntakeIndex.objects.filter(digest__in=digests).exclude(request=request).values("request_id")
    )
    requests = list(
        IntakeRequest.objects.filter(pk__in=request_ids, team=request.team)
        .only("reference", "received_at", "state", "team_id")
        .order_by("-received_at")[:20]
    )
    return {"cases": cases, "requests": requests, "provocations": provocations}


def requests_of_teams(teams: set[int]) -> QuerySet[IntakeRequest]:
    """Every request of these teams, for counting (the dashboard's weekly chart): the
    caller has already decided the teams are the user's own."""
    return IntakeRequest.objects.filter(team_id__in=teams)
