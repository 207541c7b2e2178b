"""Logging and triaging incoming requests. Each function takes the acting user, checks its
own permission and runs in one transaction."""

from datetime import datetime
from functools import partial
from typing import NamedTuple

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Team, User
from audit.log import record
from audit.models import Action
from casework import event_details, lost_contact, scheduling
from casework import permissions as case_permissions
from casework.models import Case, EventKind
from casework.references import REQUEST_PREFIX, next_reference
from casework.services.cases import (
    audit_case,
    case_open,
    case_reopen,
    person_contacts_add,
    timeline_add,
)
from documents.models import Document
from documents.services import document_content, document_store
from intake import permissions, selectors
from intake.models import IntakeIndex, IntakeRequest, TriageState
from privacy import blind_index
from privacy.fields import bound_to


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
    return request_create(
        by=by,
        team=team,
        channel=channel,
        received_at=received_at,
        contact=contact,
        message=message,
        category_guess=category_guess,
    )


def request_create(*, by: User | None, team: Team, contact: str, **fields) -> IntakeRequest:
    """Writes a request into the team's triage queue, with its blind indexes, its triage
    reminder and its audit event. `by` None: it arrived by itself through a channel
    (intake.conversations). Callers checked permission and hold the transaction."""
    request = IntakeRequest(
        reference=next_reference(REQUEST_PREFIX),
        team=team,
        contact=contact.strip(),
        logged_by=by,
        **fields,
    )
    request.message = request.message.strip()
    # The team and the logger are rows this function was handed (the team checked above):
    # validating them would ask the database whether they exist. The form page's digest is
    # set afterwards by the public form, whose unique constraint the database enforces
    # (intake.public.services): asking it here would cost every request a look-up.
    request.full_clean(exclude=["reference", "team", "logged_by", "submit_digest"])
    request.save()
    IntakeIndex.objects.bulk_create(
        IntakeIndex(request=request, kind=kind, digest=digest)
        for kind, digest in blind_index.contact_digests(request.contact)
    )
    if request.state == TriageState.NEW:
        # A request the rate limits hold gets its triage clock when it is let in
        # (intake.conversations.held_release).
        scheduling.on_intake_logged(team, request.reference, request.received_at, by)
    audit_request(request, by, Action.REQUEST_LOGGED)
    return request


def audit_request(request: IntakeRequest, by: User | None, action: str) -> None:
    """`by` None: the system (a purge), as in the audit log."""
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
    scheduling.on_intake_triaged(request.reference)
    request.refresh_from_db()
    audit_request(request, by, Action.REQUEST_TRIAGED)


def _request_contacts(request: IntakeRequest) -> set[tuple[str, str]]:
    return set(request.indexes.values_list("kind", "digest"))


# The field of intake.forms.TriageForm the confirmation is asked with: the error lands there.
CONFIRM_NEW = "confirm_new"


@transaction.atomic
def intake_accept(*, request: IntakeRequest, by: User, confirmed_new: bool = False) -> Case:
    """Opens a new case (person and case, one transaction) for this request.

    When the request has possible duplicates, a second case for the same person is what
    a tired triager makes by one tap: refused unless `confirmed_new` (the triager said none
    of them is the same person), however the request was made."""
    if not permissions.can_triage(by, request):
        raise PermissionDenied
    if not confirmed_new and selectors.duplicates_for(by, request).any:
        raise ValidationError(
            {
                CONFIRM_NEW: _(
                    "This contact matches the possible duplicates listed. Attach the request "
                    'to one of them, or tick "None of these is the same person" to open a '
                    "new case."
                )
            }
        )
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
    _request_on_timeline(case, request, by)
    _documents_to_case(request, case, by)
    return case


def _request_on_timeline(case: Case, request: IntakeRequest, by: User) -> None:
    """The request's reference and message on the case's timeline, encrypted there as here:
    read by those who may see the case; the reference links to the request only for those
    who may open it (casework.selectors.cases.requests_openable)."""
    timeline_add(case, by, EventKind.INTAKE, detail=request.reference, text=request.message)


def _documents_to_case(request: IntakeRequest, case: Case, by: User) -> None:
    """The files attached at triage go to the case the request became part of (renumbered
    after the case's own), and its timeline says how many came: never their names. A case
    already anonymised takes none: they stay with the request and are purged with it."""
    if case.is_purged:
        return
    moved = selectors.documents_waiting(request).move_to(case)
    if moved:
        came = event_details.facts("files_came", count=moved, request=request.reference)
        timeline_add(case, by, EventKind.DOCUMENT, facts=came)
        audit_case(case, by, Action.DOCUMENT_ATTACHED)


def _listed_duplicate(request: IntakeRequest, by: User, reference: str) -> Case:
    """The case a triage decision names, if it is one of the request's possible duplicates
    listed to the user: a typed reference must not become a way to reach an arbitrary
    case, nor to ask whether another team's case matches (it is refused as one that does
    not: another team's match is its coordinators' call, intake_matches_report tells them)."""
    listed = selectors.duplicates_for(by, request).listed(reference.strip().upper())
    if listed is None:
        raise ValidationError(_("Choose one of the possible duplicates listed."))
    # The list reads a few columns of each case; the decision works on the whole case.
    return Case.objects.select_related("team").get(pk=listed.pk)


class Attached(NamedTuple):
    case: Case
    reopened: bool


@transaction.atomic
def intake_attach(*, request: IntakeRequest, reference: str, by: User) -> Attached:
    """Adds this request to the listed duplicate case the user works (`reference`): the
    same person wrote again. A closed case is reopened (casework.services.cases.case_reopen):
    the person needs us again, and its retention clock starts over."""
    if not permissions.can_triage(by, request):
        raise PermissionDenied
    case = _listed_duplicate(request, by, reference)
    if not case_permissions.can_work_case(by, case):
        raise ValidationError(
            _("You do not work on that case: mark the request as a duplicate instead.")
        )
    reopened = case.is_closed
    if reopened:
        case_reopen(case=case, by=by, because=request.reference)
    _close_request(request, by, TriageState.ACCEPTED, case=case)
    person_contacts_add(case.person, _request_contacts(request))
    _wrote_again(request, case, by)
    return Attached(case, reopened)


def _wrote_again(request: IntakeRequest, case: Case, by: User) -> None:
    """What a request from the person brings to the case it joins: its words and files on
    the timeline, and, as it is contact, a lost-contact flag cleared."""
    _request_on_timeline(case, request, by)
    _documents_to_case(request, case, by)
    if lost_contact.on_contact(case, by):
        timeline_add(case, by, EventKind.LOST_CONTACT, detail=lost_contact.WROTE_AGAIN)
        audit_case(case, by, Action.LOST_CONTACT, reason=lost_contact.WROTE_AGAIN)


@transaction.atomic
def intake_mark_duplicate(*, request: IntakeRequest, reference: str, by: User) -> Case:
    """Closes the request as a repeat of the listed duplicate case `reference`, a case of
    the user's teams that the user need not work on. Its words still reach the case (as
    attaching's do): those who work it learn that the person wrote again, and what."""
    if not permissions.can_triage(by, request):
        raise PermissionDenied
    case = _listed_duplicate(request, by, reference)
    _close_request(request, by, TriageState.DUPLICATE, case=case)
    _wrote_again(request, case, by)
    return case


@transaction.atomic
def intake_matches_report(*, request: IntakeRequest, by: User) -> selectors.Duplicates:
    """The request's possible duplicates as the user may see them.

    A match in a team the user is not in is never named to them. Each page that shows one
    is audited as a probe, for that team (the insider rules count them), and the team's
    coordinators are told, once per request and case, naming their own case.
    """
    if not permissions.can_view_request(by, request):
        raise PermissionDenied
    duplicates = selectors.duplicates_for(by, request)
    if not duplicates.elsewhere:
        return duplicates
    # Held to the end of the transaction, so two page loads at once tell the coordinators
    # once (PostgreSQL; SQLite runs one writer at a time anyway).
    list(IntakeRequest.objects.select_for_update().filter(pk=request.pk).values_list("pk"))
    for team_id in sorted({case.team_id for case in duplicates.elsewhere}):
        record(
            Action.DUPLICATE_PROBE,
            actor=by,
            target_type="request",
            target_ref=request.reference,
            team_id=team_id,
        )
    told = scheduling.duplicate_matches_told(request.reference, duplicates.elsewhere)
    untold = [case for case in duplicates.elsewhere if case.pk not in told]
    if untold:
        scheduling.on_duplicate_match(untold, request.reference, by)
    return duplicates


@transaction.atomic
def intake_reject(*, request: IntakeRequest, by: User, reason: str) -> None:
    if not reason.strip():
        raise ValidationError(_("Give a reason for rejecting the request."))
    _close_request(
        request, by, TriageState.REJECTED, rejection_reason=bound_to(request, reason.strip())
    )


def intake_document_attach(
    *, request: IntakeRequest, by: User, upload: UploadedFile, kind: str, description: str
) -> Document:
    """Attaches a file (a summons photographed, a PDF) to a request still waiting for triage,
    for whoever may triage it. Checked, cleaned and stored as a case's are, nothing
    half-stored (documents.services.document_store); it goes to the request's case when
    the request is accepted, attached or marked as a duplicate."""
    if not permissions.can_triage(by, request):
        raise PermissionDenied

    def record(document: Document) -> None:
        # Locked and read again: a request decided a moment ago has moved its files on, and
        # one that arrived now would stay behind with nobody to see it.
        request.state = (
            IntakeRequest.objects.select_for_update()
            .values_list("state", flat=True)
            .get(pk=request.pk)
        )
        if request.state != TriageState.NEW:
            raise ValidationError(
                _(
                    "Someone has triaged this request meanwhile, so it takes no more files: "
                    "if it became a case, attach the file there."
                )
            )
        if not permissions.can_triage(by, request):
            raise PermissionDenied
        document.intake_request = request
        document.number = selectors.documents_waiting(request).next_number()
        document.save()
        audit_request(request, by, Action.DOCUMENT_ATTACHED)

    return document_store(by=by, upload=upload, kind=kind, description=description, record=record)


def intake_document_read(
    *, request: IntakeRequest, document: Document, by: User, preview: bool = False
) -> bytes:
    """A request's file, or with `preview` its small JPEG, for a read the caller authorised
    through intake.selectors.request_document_for; audited as a read of the request."""
    action = Action.REQUEST_DOCUMENT_PREVIEWED if preview else Action.REQUEST_DOCUMENT_DOWNLOADED
    audit = partial(audit_request, request, by, action)
    return document_content(document, preview=preview, audit=audit)
