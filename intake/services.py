"""Logging and triaging incoming requests. Each function takes the acting user, checks its
own permission and runs in one transaction."""

from datetime import datetime

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Team, User
from audit.log import record
from audit.models import Action
from casework import permissions as case_permissions
from casework import reminders
from casework.models import Case, EventKind
from casework.references import REQUEST_PREFIX, next_reference
from casework.services import case_open, person_contacts_add, timeline_add
from intake import permissions
from intake.models import IntakeIndex, IntakeRequest, TriageState
from privacy import blind_index


@transaction.atomic
def intake_log(
    *,
    by: User,
    team: Team,
    channel: str,
    received_at: datetime,
    contact: str,
    message: str = "",
    category_guess: str = "",
) -> IntakeRequest:
    """Logs one incoming request in the team's triage queue."""
    if not permissions.can_log_intake(by, team):
        raise PermissionDenied
    request = IntakeRequest(
        reference=next_reference(REQUEST_PREFIX),
        team=team,
        channel=channel,
        received_at=received_at,
        contact=contact.strip(),
        message=message.strip(),
        category_guess=category_guess,
        logged_by=by,
    )
    # The team and the logger are rows this function was handed (the team checked above):
    # validating them would ask the database whether they exist.
    request.full_clean(exclude=["reference", "team", "logged_by"])
    request.save()
    IntakeIndex.objects.bulk_create(
        IntakeIndex(request=request, kind=kind, digest=digest)
        for kind, digest in blind_index.contact_digests(request.contact)
    )
    reminders.on_intake_logged(team, request.reference, request.received_at, by)
    audit_request(request, by, Action.REQUEST_LOGGED)
    return request


def audit_request(request: IntakeRequest, by: User, action: str) -> None:
    record(
        action,
        actor=by,
        target_type="request",
        target_ref=request.reference,
        team_id=request.team_id,
    )


def _contact_fields(request: IntakeRequest) -> dict:
    """Files the request's contact under the person's phone, e-mail or handles."""
    kinds = {kind for kind, _digest in blind_index.contact_digests(request.contact)}
    if blind_index.Kind.EMAIL in kinds:
        return {"email": request.contact}
    if blind_index.Kind.PHONE in kinds:
        return {"phone": request.contact}
    return {"messenger_handles": request.contact}


def _close_request(request: IntakeRequest, by: User, state: str, **fields) -> None:
    """Claims the request for this decision; a second triager finds it already decided."""
    if not permissions.can_triage(by, request):
        raise PermissionDenied
    now = timezone.now()
    claimed = IntakeRequest.objects.filter(pk=request.pk, state=TriageState.NEW).update(
        state=state, triaged_by=by, triaged_at=now, **fields
    )
    if not claimed:
        raise ValidationError(_("Someone else has already triaged this request."))
    reminders.on_intake_triaged(request.reference)
    request.refresh_from_db()
    audit_request(request, by, Action.REQUEST_TRIAGED)


def _request_contacts(request: IntakeRequest) -> set[tuple[str, str]]:
    return set(request.indexes.values_list("kind", "digest"))


@transaction.atomic
def intake_accept(*, request: IntakeRequest, by: User) -> Case:
    """Opens a new case (person and case, one transaction) for this request."""
    if not permissions.can_triage(by, request):
        raise PermissionDenied
    details = _contact_fields(request)
    if request.category_guess:
        details["category"] = request.category_guess
    case = case_open(
        by=by,
        team=request.team,
        person_details=details,
        known_contacts=_request_contacts(request),
    )
    _close_request(request, by, TriageState.ACCEPTED, case=case)
    timeline_add(case, by, EventKind.INTAKE, detail=request.reference)
    return case


@transaction.atomic
def intake_attach(*, request: IntakeRequest, case: Case, by: User) -> None:
    """Adds this request to a case the user works: the same person wrote again."""
    if not case_permissions.can_work_case(by, case):
        raise PermissionDenied
    _close_request(request, by, TriageState.ACCEPTED, case=case)
    person_contacts_add(case.person, _request_contacts(request))
    timeline_add(case, by, EventKind.INTAKE, detail=request.reference)


@transaction.atomic
def intake_mark_duplicate(*, request: IntakeRequest, case: Case, by: User) -> None:
    """Closes the request as a repeat of an existing case (any team's: only its reference
    is recorded, nothing of it is shown)."""
    _close_request(request, by, TriageState.DUPLICATE, case=case)


@transaction.atomic
def intake_reject(*, request: IntakeRequest, by: User, reason: str) -> None:
    if not reason.strip():
        raise ValidationError(_("Give a reason for rejecting the request."))
    _close_request(request, by, TriageState.REJECTED, rejection_reason=reason.strip())
