"""Reads of incoming requests, scoped to the asking user's teams."""

from django.db.models import QuerySet
from django.shortcuts import get_object_or_404

from accounts.models import User
from casework.models import Case, PersonIndex
from intake.models import IntakeIndex, IntakeRequest, TriageState


def intake_visible_to(user: User) -> QuerySet[IntakeRequest]:
    """Volunteers and coordinators see their own teams' requests; admins none."""
    if not (user.is_active and user.has_perm("accounts.log_intake")):
        return IntakeRequest.objects.none()
    return IntakeRequest.objects.filter(team__in=user.teams.all())


def intake_queue_for(user: User) -> QuerySet[IntakeRequest]:
    """Untriaged requests of the user's teams, oldest first."""
    return (
        intake_visible_to(user)
        .filter(state=TriageState.NEW)
        .select_related("team")
        .only("reference", "channel", "received_at", "category_guess", "state", "team__name")
        .order_by("received_at", "id")
    )


def intake_for(user: User, reference: str) -> IntakeRequest:
    """One request; the same 404 for missing and for another team's."""
    return get_object_or_404(
        intake_visible_to(user).select_related("team", "case"), reference=reference
    )


def possible_duplicates(request: IntakeRequest) -> dict:
    """Cases and open requests sharing a blind index with this request's contact.

    Searches every team: a repeat request is worth knowing about wherever the first one
    landed. What the triager may see of each case is decided by the caller.
    """
    digests = list(request.indexes.values_list("digest", flat=True))
    if not digests:
        return {"cases": [], "requests": []}
    person_ids = PersonIndex.objects.filter(digest__in=digests).values("person_id")
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
    return {"cases": cases, "requests": requests}
