"""Reads of incoming requests, scoped to what the asking user may see (intake.permissions:
the team's coordinators every request of the team; a volunteer the team's untriaged ones,
and those behind a case they may see)."""

from collections.abc import Collection
from dataclasses import dataclass, field

from django.db.models import Exists, OuterRef, Q, QuerySet
from django.http import Http404
from django.shortcuts import get_object_or_404

from accounts.models import User
from accounts.roles import Role
from casework.models import Case, Outcome, PersonIndex
from casework.permissions import can_view_case
from casework.selectors.cases import by_team, cases_visible_to, in_order
from documents import selectors as document_selectors
from documents.models import Document, DocumentQuerySet
from intake.models import IntakeIndex, IntakeRequest, TriageState
from privacy import blind_index
from privacy.fields import secret_fields

# A request's page names its case by reference only: none of the case's encrypted fields
# (route summary, hold and provocation reasons) is read, so none is decrypted.
CASE_SECRETS = secret_fields(Case, "case__")


def _teams_requests(user: User) -> QuerySet[IntakeRequest]:
    """Every request of the teams the user works intake for: not yet what they may read."""
    if not (user.is_active and user.has_perm("accounts.log_intake")):
        return IntakeRequest.objects.none()
    return IntakeRequest.objects.filter(team_id__in=user.team_ids)


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


def possibly_duplicates(user: User, requests: Collection[IntakeRequest]) -> set[int]:
    """The ids of those `requests` whose contact matches a case of the user's teams or
    another request of its team: the queue's marker. A match in another team is left out:
    the request's page tells of it, audited as a probe (intake.services.intake_matches_report).

    Asked for the shown rows by id: as an annotation of the queue, PostgreSQL hashed the
    matches of every request ever received to mark a page of them.
    """
    in_my_case = PersonIndex.objects.filter(
        digest=OuterRef("digest"),
        person__cases__team_id__in=user.team_ids,
        person__cases__merged_into__isnull=True,
    )
    in_other_request = IntakeIndex.objects.filter(
        digest=OuterRef("digest"), request__team_id=OuterRef("request__team_id")
    ).exclude(request_id=OuterRef("request_id"))
    matched = IntakeIndex.objects.filter(request_id__in=[request.pk for request in requests])
    return set(
        matched.filter(Exists(in_my_case) | Exists(in_other_request)).values_list(
            "request_id", flat=True
        )
    )


def intake_queue_for(user: User) -> QuerySet[IntakeRequest]:
    """Untriaged requests of the user's teams, oldest first."""
    # Every member of the team may read an untriaged request (can_view_request), so the
    # queue is asked without the volunteers' case condition: one index range per team.
    return (
        _teams_requests(user)
        .filter(state=TriageState.NEW)
        .select_related("team")
        .only(
            "reference",
            "channel",
            "received_at",
            "category_guess",
            "state",
            "flood_at",
            "team__name",
        )
        .order_by("received_at", "id")
    )


def oldest_waiting(user: User, limit: int) -> list[IntakeRequest]:
    """The untriaged requests of the user's teams waiting longest, read team by team."""
    waiting = by_team(intake_queue_for(user), user.team_ids)
    return in_order(waiting, ("received_at", "id"), 0, limit)


def intake_for(user: User, reference: str) -> IntakeRequest:
    """One request; the same 404 for missing and for another team's."""
    return get_object_or_404(
        intake_visible_to(user).select_related("team", "case").defer(*CASE_SECRETS),
        reference=reference,
    )


def request_documents(request: IntakeRequest) -> list[Document]:
    """The files a request holds until triage moves them to its case, for a request the
    caller found through intake_for (whoever may read the request may read them): one
    query, whatever the count."""
    return list(document_selectors.listed(documents_waiting(request)))


def request_document_for(user: User, reference: str, pk: int) -> tuple[IntakeRequest, Document]:
    """One of a request's files with its request; the same 404 for a missing file, one of a
    request the user may not read, and one that has moved to a case (it is the case's now,
    served from there)."""
    request = intake_for(user, reference)
    document = documents_waiting(request).filter(pk=pk).first()
    if document is None:
        raise Http404
    return request, document


def documents_waiting(request: IntakeRequest) -> DocumentQuerySet:
    """The request's files not yet moved to a case: unscoped, for callers that checked."""
    return Document.objects.filter(intake_request=request, case__isnull=True)


def possible_duplicates(request: IntakeRequest) -> dict:
    """Cases and the team's requests sharing a blind index with this request's contact,
    and the cases suspected or closed as a provocation (a warning for triage).

    Searches every team: a repeat request is worth knowing about wherever the first one
    landed. Never show this to a user: duplicates_for says what they may learn of it.
    """
    own = list(request.indexes.values_list("kind", "digest"))
    digests = [digest for _kind, digest in own]
    if not digests:
        return {"cases": [], "requests": [], "provocations": [], "matched": {}, "kinds": set()}
    # Which kinds of index each person matched on (a phone, an e-mail...): the digest is
    # domain-separated by its kind, so a shared digest is a match of that kind.
    matched: dict[int, set[str]] = {}
    for person_id, kind in PersonIndex.objects.filter(digest__in=digests).values_list(
        "person_id", "kind"
    ):
        matched.setdefault(person_id, set()).add(kind)
    person_ids = list(matched)
    # Asked apart from the 20 listed, so a warning is never crowded out. Their indexes
    # outlive the retention purge (casework.retention): purged ones are found too.
    provocations = list(
        Case.objects.filter(person_id__in=person_ids)
        .filter(Q(outcome=Outcome.PROVOCATION) | Q(provocation_flagged_at__isnull=False))
        .only("reference", "team_id")
        .order_by("-created_at")[:5]
    )
    cases = list(
        # A merged case is listed as the case it went into (casework.services.merge).
        Case.objects.filter(person_id__in=person_ids, merged_into__isnull=True)
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
    return {
        "cases": cases,
        "requests": requests,
        "provocations": provocations,
        "matched": matched,
        "kinds": {kind for kind, _digest in own},
    }


def matched_on(kinds: Collection[str]) -> list[str]:
    """The words for the kinds of index matched ("Phone number"), in Kind's order: never
    the value that matched."""
    return [str(label) for value, label in blind_index.Kind.choices if value in kinds]


@dataclass
class Duplicates:
    """What one user may learn of a request's possible duplicates."""

    # Cases of the user's teams: {"case", "visible" (whether they may open it), "matched_on"
    # (the kinds of contact that matched, as words)}.
    cases: list[dict] = field(default_factory=list)
    # Matches in teams the user is not in: never named to them; their coordinators decide.
    elsewhere: list[Case] = field(default_factory=list)
    requests: list[IntakeRequest] = field(default_factory=list)
    # The kinds of contact the team's requests matched on, as words.
    requests_matched_on: list[str] = field(default_factory=list)
    # References of suspected provocations in the user's teams; elsewhere only a yes.
    provocations: list[str] = field(default_factory=list)
    provocation_elsewhere: bool = False

    @property
    def any(self) -> bool:
        """Anything at all that may be the same person: opening a new case asks for a
        confirmation then (intake.services.intake_accept)."""
        return bool(self.cases or self.elsewhere or self.requests)

    def listed(self, reference: str) -> Case | None:
        """The case listed to the user under this reference: a triage decision may name
        these and no other."""
        return next(
            (item["case"] for item in self.cases if item["case"].reference == reference), None
        )


def duplicates_for(user: User, request: IntakeRequest) -> Duplicates:
    """The request's possible duplicates as the user may see them: their teams' cases by
    reference, another team's only as "a match exists" (naming it would tell any
    volunteer that a phone belongs to a client, and whose), the team's requests they may
    read."""
    found = possible_duplicates(request)
    own = user.team_ids
    duplicates = Duplicates()
    for case in found["cases"]:
        if case.team_id in own:
            duplicates.cases.append(
                {
                    "case": case,
                    "visible": can_view_case(user, case),
                    "matched_on": matched_on(found["matched"].get(case.person_id, ())),
                }
            )
        else:
            duplicates.elsewhere.append(case)
    if found["requests"]:
        readable = set(
            intake_visible_to(user)
            .filter(pk__in=[other.pk for other in found["requests"]])
            .values_list("pk", flat=True)
        )
        duplicates.requests = [other for other in found["requests"] if other.pk in readable]
        # A request has one contact: its duplicates matched on that contact's kind.
        duplicates.requests_matched_on = matched_on(found["kinds"])
    for case in found["provocations"]:
        if case.team_id in own:
            duplicates.provocations.append(case.reference)
        else:
            duplicates.provocation_elsewhere = True
    return duplicates


def requests_of_teams(teams: Collection[int]) -> QuerySet[IntakeRequest]:
    """Every request of these teams, for counting (the dashboard's weekly chart): the
    caller has already decided the teams are the user's own."""
    return IntakeRequest.objects.filter(team_id__in=teams)
