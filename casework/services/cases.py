"""Every change to a case: plain functions taking the acting user, one transaction each.

Each checks its own permission (never trusting the view), bumps the case version so a
stale form is refused, and writes the timeline event in the same transaction.
"""

from collections.abc import Collection

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Team, User
from accounts.roles import Role
from audit.log import record
from audit.models import Action
from casework import event_details, lost_contact, mentions, permissions, scheduling, undo, workflow
from casework.models import (
    Case,
    CaseEvent,
    CaseTransfer,
    EventKind,
    NotificationKind,
    Outcome,
    Person,
    PersonIndex,
    Reminder,
    Stage,
    TransferState,
)
from casework.notifications import notify, retire
from casework.references import CASE_PREFIX, new_codename, next_reference
from casework.selectors.cases import case_viewers
from casework.services.decisions import decide_once
from privacy import blind_index

PERSON_FIELDS = (
    "legal_name",
    "birth_date",
    "phone",
    "messenger_handles",
    "email",
    "current_location",
    "military_unit",
    "notes",
    "category",
    "preferred_language",
)
CASE_FIELDS = (
    "flag_wanted",
    "flag_criminal_case",
    "flag_internal_passport_only",
    "flag_dependants",
    "flag_health",
    "destination_country",
    "route_summary",
    "readiness_confirmed",
    "crossing_window_start",
    "crossing_window_end",
    "next_action_due",
)
FLAG_FIELDS = tuple(name for name in CASE_FIELDS if name.startswith("flag_"))


class CaseConflict(Exception):
    """The case changed since the form was opened; `events` says what happened since."""

    def __init__(self, case: Case, events: list[CaseEvent]):
        super().__init__(f"{case.reference} changed since it was opened")
        self.case = case
        self.events = events


class MoveRefused(ValidationError):
    pass


def person_digests(person: Person) -> set[tuple[str, str]]:
    """Every blind index the person's current details give."""
    digests: set[tuple[str, str]] = set()
    if value := blind_index.phone_digest(person.phone or ""):
        digests.add((blind_index.Kind.PHONE, value))
    for line in (person.messenger_handles or "").splitlines():
        digests.update(blind_index.contact_digests(line))
    if value := blind_index.email_digest(person.email or ""):
        digests.add((blind_index.Kind.EMAIL, value))
    if value := blind_index.name_birth_digest(person.legal_name or "", person.birth_date):
        digests.add((blind_index.Kind.NAME_BIRTH, value))
    return digests


def person_indexes_refresh(person: Person) -> None:
    """Rewrites the blind indexes computed from the person's details."""
    PersonIndex.objects.filter(person=person, source=PersonIndex.DETAILS).delete()
    PersonIndex.objects.bulk_create(
        PersonIndex(person=person, kind=kind, digest=digest, source=PersonIndex.DETAILS)
        for kind, digest in sorted(person_digests(person))
    )


def person_contacts_add(person: Person, contacts: set[tuple[str, str]]) -> None:
    """Keeps the contacts a request came from searchable, whatever the details say later."""
    PersonIndex.objects.bulk_create(
        (
            PersonIndex(person=person, kind=kind, digest=digest, source=PersonIndex.INTAKE)
            for kind, digest in sorted(contacts)
        ),
        ignore_conflicts=True,
    )


def audit_case(case: Case, by: User | None, action: str, reason: str = "") -> None:
    record(
        action,
        actor=by,
        target_type="case",
        target_ref=case.reference,
        team_id=case.team_id,
        reason=reason,
    )


def timeline_add(case: Case, by: User | None, kind: str, **fields) -> CaseEvent:
    """Writes one timeline event; callers hold the transaction and checked permission."""
    return CaseEvent.objects.create(case=case, actor=by, kind=kind, version=case.version, **fields)


def tell_case_people(
    case: Case, by: User | None, kind: str, already_told: Collection[int] = ()
) -> None:
    """Tells the case's assignee and coordinator what someone else did to it, if they still
    see it and are not `already_told` by the caller; the caller holds the transaction."""
    people = {case.assignee_id, case.coordinator_id} - {None, by.pk if by else None}
    people -= set(already_told)
    if people:
        notify(case_viewers(case).filter(pk__in=people), kind=kind, subject=case.reference, by=by)


def mentioned_people(case: Case, text: str) -> list[User]:
    """The people a note's `@username`s name; ValidationError naming every handle that is
    not someone who may see the case. A missing user and one of another team get the same
    answer, so a note cannot be used to learn who exists."""
    handles = mentions.handles_in(text)
    if not handles:
        return []
    found = {user.username: user for user in case_viewers(case).filter(username__in=handles)}
    refused = [handle for handle in handles if handle not in found]
    if refused:
        raise ValidationError(
            _("%(handles)s cannot be mentioned here: only people who may see this case can.")
            % {"handles": ", ".join(f"@{handle}" for handle in refused)},
            code="mention_refused",
        )
    return list(found.values())


def _conflict(case: Case, expected_version: int) -> CaseConflict:
    """The case as it is now, with what happened to it since `expected_version`."""
    fresh = Case.objects.get(pk=case.pk)
    events = list(
        fresh.events.filter(version__gt=expected_version)
        .select_related("actor")
        .order_by("created_at", "id")
    )
    return CaseConflict(fresh, events)


def _claim_version(case: Case, expected_version: int, **fields) -> None:
    """Moves the case to the next version, or raises CaseConflict if someone was first.

    A conditional UPDATE, so two saves from the same old version cannot both win, on any
    database. `fields` are written by the same UPDATE, and set on `case` once it is won.

    A request for approval asked of the old version has lapsed with it (services.approvals
    records that when someone next acts on it): the coordinators' urgent inbox item about
    it is retired now, as the dashboard and the board already leave it out.
    """
    claimed = Case.objects.filter(pk=case.pk, version=expected_version).update(
        version=F("version") + 1, updated_at=timezone.now(), **fields
    )
    if not claimed:
        raise _conflict(case, expected_version)
    retire(kind=NotificationKind.APPROVAL_ASKED, subject=case.reference)
    case.version = expected_version + 1
    for name, value in fields.items():
        setattr(case, name, value)


@transaction.atomic
def case_open(
    *,
    by: User,
    team: Team,
    person_details: dict,
    known_contacts: Collection[tuple[str, str]] = frozenset(),
) -> Case:
    """Creates the person and their case in `team`, at stage `new`.

    Opened by a volunteer, the case is assigned to them; by a coordinator, it waits for
    an assignee.
    """
    if not (by.has_perm("accounts.log_intake") and team.pk in by.team_ids):
        raise PermissionDenied
    person = Person(codename=new_codename())
    for name, value in person_details.items():
        if name not in PERSON_FIELDS:
            raise ValueError(f"not a person field: {name}")
        setattr(person, name, value)
    person.full_clean(exclude=["codename"])
    person.save()
    person_indexes_refresh(person)
    person_contacts_add(person, set(known_contacts))
    now = timezone.now()
    case = Case.objects.create(
        reference=next_reference(CASE_PREFIX),
        person=person,
        team=team,
        stage=Stage.NEW,
        stage_entered_at=now,
        coordinator=by if by.has_role(Role.COORDINATOR) else None,
        # A volunteer who opens a case is the one in touch: it is theirs until reassigned.
        assignee=by if by.has_role(Role.VOLUNTEER) else None,
    )
    timeline_add(case, by, EventKind.CREATED, to_stage=Stage.NEW)
    scheduling.on_stage_entered(case, by)
    audit_case(case, by, Action.CASE_OPENED)
    return case


@transaction.atomic
def case_transition(
    *,
    case: Case,
    to_stage: Stage,
    by: User,
    expected_version: int,
    reason: str = "",
    outcome: str = "",
    warning_seen: bool = False,
    already_told: Collection[int] = (),
) -> CaseEvent:
    """Moves the case to another stage if the workflow table allows it for this user.

    A move that commits a person on a wanted list to a destination the register marks as
    extraditing needs `warning_seen`; that it was seen is recorded with the move.
    """
    if not permissions.can_work_case(by, case):
        raise PermissionDenied
    if case.version != expected_version:
        # Checked before the workflow: a move asked from an outdated page may look wrong
        # only because someone moved the case since ("cannot move from On hold to On
        # hold"). The UPDATE below still settles a race between two current pages.
        raise _conflict(case, expected_version)
    # Read once: move_problems would read the register again for an unconfirmed warning.
    warned = (
        workflow.leaves_warned_stage(case, to_stage)
        and workflow.destination_warning(case) is not None
    )
    problems = workflow.move_problems(
        case,
        to_stage,
        is_coordinator=permissions.is_team_coordinator(by, case),
        reason=reason,
        outcome=outcome,
        warning_seen=warning_seen or not warned,
    )
    if problems:
        raise MoveRefused(problems)
    from_stage = case.stage
    moved = {
        "held_from": from_stage if to_stage == Stage.ON_HOLD else "",
        "stage": to_stage,
        "stage_entered_at": timezone.now(),
        "outcome": outcome if to_stage == Stage.CLOSED else "",
    }
    if to_stage in workflow.COORDINATOR_ENTRY:
        moved["coordinator"] = by
    # The version and the move in one UPDATE.
    _claim_version(case, expected_version, **moved)
    if warned:
        destination_warning_seen(case, by)
    ended = scheduling.on_stage_entered(case, by)
    tell_case_people(case, by, NotificationKind.CASE_MOVED, already_told)
    event = timeline_add(
        case,
        by,
        EventKind.STAGE,
        from_stage=from_stage,
        to_stage=to_stage,
        text=reason.strip(),
        facts=event_details.facts("closed", outcome=outcome) if to_stage == Stage.CLOSED else {},
    )
    if ended:
        _reminders_ended(case, by, ended)
    if to_stage == Stage.CLOSED:
        transfer_lapse(case=case, by=by, because="case closed")
    # Last: the audit write locks the chain head until this transaction commits.
    audit_case(case, by, Action.CASE_MOVED)
    return event


def _reminders_ended(case: Case, by: User, ended: list[Reminder]) -> None:
    """What a closing cancelled, on the timeline and in the audit log, as a reminder
    dismissed by hand is (casework.services.reminders)."""
    kinds = sorted({reminder.kind for reminder in ended})
    timeline_add(
        case,
        by,
        EventKind.REMINDER,
        facts=event_details.facts("closing_cancelled", reminders=kinds),
    )
    audit_case(case, by, Action.REMINDER_CHANGED, reason=f"closed: {', '.join(kinds)} cancelled")


def transfer_lapse(*, case: Case, by: User, because: str) -> None:
    """Withdraws the case's pending transfer, if any, because the case was closed or put on
    legal hold (`because`, for the audit log): another team must not take over a case its
    own team has finished with, or whose record must stay as it is. Recorded as a
    withdrawal by the asking team is (services.handover.case_transfer_withdraw), and the
    receiving coordinators' urgent inbox item retired; the caller holds the transaction
    and the case's row. A transfer decided a moment ago by the other team is left as it is.
    """
    transfer = CaseTransfer.objects.filter(case=case, state=TransferState.PENDING).first()
    if transfer is None:
        return
    try:
        decide_once(transfer, by=by, state=TransferState.WITHDRAWN, refused="")
    except ValidationError:
        return
    retire(kind=NotificationKind.TRANSFER_ASKED, subject=case.reference)
    timeline_add(
        case,
        by,
        EventKind.TRANSFER,
        facts=event_details.facts("transfer_withdrawn", team=case.team.name),
    )
    audit_case(case, by, Action.TRANSFER_DECIDED, reason=f"withdrawn: {because}")


def case_reopen(*, case: Case, by: User, because: str) -> CaseEvent:
    """Takes a closed case up again because the person wrote again (`because` is the new
    request's reference): back to New, its outcome cleared, on the timeline and audited; the
    caller holds the transaction. The workflow has no move out of Closed: this is the one
    way back, and only for a request that triage matched to the case.

    A case closed as a suspected provocation stays closed: the request is marked as its
    duplicate instead, so the warning at triage keeps working.
    """
    if not permissions.can_work_case(by, case):
        raise PermissionDenied
    if not case.is_closed:
        raise ValidationError(_("This case is not closed."))
    if case.outcome == Outcome.PROVOCATION:
        raise ValidationError(
            _(
                "%(reference)s was closed as a suspected provocation and stays closed: mark the "
                "request as its duplicate, or open a new case."
            )
            % {"reference": case.reference}
        )
    _claim_version(
        case,
        case.version,
        stage=Stage.NEW,
        stage_entered_at=timezone.now(),
        outcome="",
        held_from="",
    )
    scheduling.on_stage_entered(case, by)
    tell_case_people(case, by, NotificationKind.CASE_MOVED)
    event = timeline_add(
        case, by, EventKind.STAGE, from_stage=Stage.CLOSED, to_stage=Stage.NEW, detail=because
    )
    audit_case(case, by, Action.CASE_MOVED, reason=f"reopened by {because}")
    return event


class WarningNotSeen(ValidationError):
    """A change would send a person on a wanted list to an extraditing country unconfirmed."""


def destination_warning_seen(case: Case, by: User) -> CaseEvent:
    """Records that `by` saw the destination warning; the caller holds the transaction."""
    country = case.destination_country
    audit_case(case, by, Action.DESTINATION_WARNING, reason=country)
    return timeline_add(
        case,
        by,
        EventKind.RISK_WARNING,
        facts=event_details.facts("destination_warning", country=country),
    )


@transaction.atomic
def case_assign(*, case: Case, assignee: User, by: User, expected_version: int) -> CaseEvent:
    """A coordinator gives the case to a volunteer or coordinator of the case's team."""
    if not permissions.can_assign(by, case):
        raise PermissionDenied
    if not assignee.is_active or case.team_id not in assignee.team_ids:
        raise ValidationError(_("The assignee must be an active member of the case's team."))
    _claim_version(case, expected_version)
    case.assignee = assignee
    case.save(update_fields=["assignee"])
    notify([assignee], kind=NotificationKind.ASSIGNED, subject=case.reference, by=by)
    audit_case(case, by, Action.CASE_ASSIGNED)
    return timeline_add(case, by, EventKind.ASSIGNMENT, detail=assignee.username)


@transaction.atomic
def case_take(*, case: Case, by: User, expected_version: int) -> CaseEvent:
    """A volunteer takes an unassigned case of their team."""
    if not permissions.can_take(by, case):
        raise PermissionDenied
    _claim_version(case, expected_version)
    case.assignee = by
    case.save(update_fields=["assignee"])
    audit_case(case, by, Action.CASE_ASSIGNED)
    return timeline_add(case, by, EventKind.ASSIGNMENT, detail=by.username)


@transaction.atomic
def case_note_add(*, case: Case, by: User, kind: str, text: str) -> CaseEvent:
    """A note, a check-in or a logged contact on the timeline. Does not touch the version:
    adding to the timeline never conflicts with someone editing the details."""
    if kind not in {EventKind.NOTE, EventKind.CHECK_IN, EventKind.CONTACT}:
        raise ValueError(kind)
    # Locked and read again: a note must not land on a case anonymised a moment ago (the
    # erasure locks the same row, so one of the two waits for the other).
    case.purged_at = (
        Case.objects.select_for_update().values_list("purged_at", flat=True).get(pk=case.pk)
    )
    if not permissions.can_work_case(by, case):
        raise PermissionDenied
    if kind == EventKind.NOTE and not text.strip():
        raise ValidationError(_("Write something to add a note."))
    mentioned = mentioned_people(case, text)
    contact = kind in {EventKind.CHECK_IN, EventKind.CONTACT}
    before = undo.snapshot(case) if contact else None
    if kind == EventKind.CHECK_IN:
        scheduling.on_check_in(case, by)
    detail = ""
    if contact and lost_contact.on_contact(case, by):
        detail = event_details.LOST_CONTACT_CLEARED
        audit_case(case, by, Action.LOST_CONTACT, reason=detail)
    notify(mentioned, kind=NotificationKind.MENTIONED, subject=case.reference, by=by)
    audit_case(case, by, Action.CASE_NOTE)
    event = timeline_add(case, by, kind, text=text.strip(), to_stage="", detail=detail)
    if before is not None:
        undo.record_undo(case, event, by, before)
    return event


@transaction.atomic
def case_update(
    *,
    case: Case,
    by: User,
    expected_version: int,
    changes: dict,
    warning_seen: bool = False,
) -> CaseEvent | None:
    """Saves edited details of the case and its person. The event names the fields that
    changed, never their values.

    Choosing an extraditing destination for a person on a wanted list (or flagging a person
    headed there as wanted) needs `warning_seen`, and records it; else WarningNotSeen.
    """
    if not permissions.can_work_case(by, case):
        raise PermissionDenied
    if "route_summary" in changes and not permissions.can_see_route(by, case):
        raise PermissionDenied  # hidden while a provocation is suspected: not writable either
    person = case.person
    changed: list[str] = []
    person_changed: list[str] = []
    case_changed: list[str] = []
    target: Person | Case
    for name, value in changes.items():
        if name in PERSON_FIELDS:
            target, bucket = person, person_changed
        elif name in CASE_FIELDS:
            target, bucket = case, case_changed
        else:
            raise ValueError(f"not an editable field: {name}")
        if getattr(target, name) != value:
            setattr(target, name, value)
            bucket.append(name)
            changed.append(name)
    if not changed:
        return None
    warned = {"destination_country", "flag_wanted"} & set(case_changed) and (
        workflow.destination_warning(case) is not None
    )
    if warned and not warning_seen:
        raise WarningNotSeen(workflow.WARNING_NOT_SEEN, code="warning_not_seen")
    _claim_version(case, expected_version)
    if warned:
        destination_warning_seen(case, by)
    if any(name in FLAG_FIELDS for name in changes):
        case.risk_reviewed_at = timezone.now()
        case_changed.append("risk_reviewed_at")
    if case_changed:
        case.save(update_fields=case_changed)
        if "crossing_window_end" in case_changed:
            scheduling.on_crossing_window_changed(case, by)  # the alarm moves with the window
    if person_changed:
        person.save(update_fields=person_changed)
        person_indexes_refresh(person)
    tell_case_people(case, by, NotificationKind.CASE_EDITED)
    audit_case(case, by, Action.CASE_CHANGED)
    return timeline_add(
        case, by, EventKind.EDIT, facts=event_details.facts("edited", fields=changed)
    )


@transaction.atomic
def case_risk_reviewed(*, case: Case, by: User, expected_version: int) -> CaseEvent:
    """Records that the risk flags were looked at, even when none needed to change."""
    if not permissions.can_work_case(by, case):
        raise PermissionDenied
    _claim_version(case, expected_version)
    case.risk_reviewed_at = timezone.now()
    case.save(update_fields=["risk_reviewed_at"])
    audit_case(case, by, Action.CASE_CHANGED)
    return timeline_add(case, by, EventKind.EDIT, detail=event_details.RISK_REVIEWED)
