"""Retention: removing a case's personal data, by schedule or at the person's request, and
the legal hold that stops both.

What goes: every encrypted field of the person and the case, the blind indexes, the notes,
check-ins, contacts and reminders, the attached documents (rows and encrypted files), the
texts of the events that stay, and the contact and message of the requests that led to the
case. What stays, as anonymous statistics: the reference, codename and category, the team,
the stages with their dates, the outcome, who worked the case, and the requests' channel,
dates and triage state.

Route legs go whole (places, contacts, safe houses, and their dates, which with the stage
dates could point to one crossing); so does the reason a provocation was suspected.

One exception, for cases closed as a suspected provocation and purged by the schedule: the
person's contact blind indexes (phone, handle, e-mail; not name and birth date) stay, so a
repeat request from the same contact is still flagged at triage (intake.selectors). They
are keyed hashes: without BLIND_INDEX_KEY they cannot be matched against a guessed contact,
and they name the contact a fake request came from, not a person we protect. An erasure on
request removes them too: a coordinator erasing has satisfied themselves that the person
asking is real. A blind-index key rotation drops them as well (nothing is left to
recompute them from), which ends the warning for those contacts.

The clock runs from the case's last activity, not from its closing: a note, a contact, a
check-in, an edit, a reminder set or pending, a request attached or marked as its duplicate,
all restart it (a legal hold set or lifted does not: lifting one means "purge when due").
A case worked after its closing keeps everything for RETENTION_DAYS after that work.

A person can have more than one case. Their details serve every case, so they are blanked
only with the last of them: purging one closed case never blanks the details a colleague
is still using on an open one, or that a legal hold on another case must keep.
"""

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.apps import apps
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Exists, F, Max, OuterRef, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from audit.models import Action
from casework import event_details, permissions
from casework.models import (
    Case,
    CaseEvent,
    EventKind,
    Notification,
    Outcome,
    Person,
    PersonIndex,
    PurgeKind,
    Reminder,
    ReminderState,
    Stage,
)
from casework.services.cases import audit_case, case_transition, timeline_add, transfer_lapse
from casework.services.merge import merges_settle
from privacy import blind_index

logger = logging.getLogger(__name__)

PURGE_BATCH = 200

# Timeline events that stay as statistics (without their text); every other kind is a
# note, check-in, contact, reminder or edit, and goes.
KEPT_EVENT_KINDS = (
    EventKind.CREATED,
    EventKind.STAGE,
    EventKind.ASSIGNMENT,
    EventKind.INTAKE,
    EventKind.LEGAL_HOLD,
    EventKind.ANONYMISED,
    EventKind.PROVOCATION,
    # Who worked the case and which team held it (their notes go with the texts below).
    EventKind.HANDOVER,
    EventKind.TRANSFER,
)

# What the purge writes over the person: every encrypted field, and the preferred language
# (harmless alone, but nothing needs it any more).
BLANK_PERSON = {
    "legal_name": "",
    "birth_date": None,
    "phone": "",
    "messenger_handles": "",
    "email": "",
    "current_location": "",
    "military_unit": "",
    "notes": "",
    "preferred_language": "",
}

# What the purge writes over the case. Flags (health, wanted list, criminal case) are facts
# about the person; destination and crossing window, matched against border records with the
# stage dates that stay, could point to one crossing. Stage, dates, outcome, team and who
# worked the case stay.
BLANK_CASE = {
    "route_summary": "",
    "legal_hold_reason": "",
    "provocation_reason": "",
    "flag_wanted": False,
    "flag_criminal_case": False,
    "flag_internal_passport_only": False,
    "flag_dependants": False,
    "flag_health": False,
    "risk_reviewed_at": None,
    "destination_country": "",
    "readiness_confirmed": False,
    "crossing_window_start": None,
    "crossing_window_end": None,
    "next_action_due": None,
    # When someone last heard from the person: with the stage dates, a time on their journey.
    "last_contact_at": None,
    "lost_contact_at": None,
}

# Read under the lock without decrypting anything: a purge must work even on a row that
# no longer decrypts.
LOCK_FIELDS = (
    "reference",
    "person_id",
    "team_id",
    "stage",
    "stage_entered_at",
    "legal_hold_at",
    "purged_at",
    "version",
)

# What a case closed as a suspected provocation keeps through the retention purge.
PROVOCATION_KEPT_INDEXES = (
    blind_index.Kind.PHONE,
    blind_index.Kind.HANDLE,
    blind_index.Kind.EMAIL,
)


# Timeline entries that are not work on the case: they leave the retention clock alone.
NOT_ACTIVITY = (EventKind.LEGAL_HOLD, EventKind.ANONYMISED)


def retention_cutoff(now: datetime | None = None) -> datetime:
    """Cases last worked (and requests decided) before this have had their retention period."""
    return (now or timezone.now()) - timedelta(days=settings.RETENTION_DAYS)


def _requests_of_cases() -> QuerySet[Any]:
    """The cases' requests, without importing intake (which depends on casework)."""
    return apps.get_model("intake", "IntakeRequest")._default_manager.all()


def _activity(since: datetime) -> tuple[Exists, Exists, Exists]:
    """Work on the outer case at or after `since`: a timeline entry, a reminder set or sent
    (or still pending, whenever set) and a request received or triaged onto it."""
    case = OuterRef("pk")
    events = CaseEvent.objects.filter(case=case, created_at__gte=since)
    reminders = Reminder.objects.filter(
        Q(created_at__gte=since) | Q(sent_at__gte=since) | Q(state=ReminderState.PENDING),
        case=case,
    )
    requests = _requests_of_cases().filter(
        Q(received_at__gte=since) | Q(triaged_at__gte=since), case=case
    )
    return (
        Exists(events.exclude(kind__in=NOT_ACTIVITY)),
        Exists(reminders),
        Exists(requests),
    )


def expired_cases(now: datetime | None = None) -> QuerySet[Case]:
    """Closed, with no activity for RETENTION_DAYS, not on legal hold, not yet purged."""
    cutoff = retention_cutoff(now)
    events, reminders, requests = _activity(cutoff)
    return Case.objects.filter(
        ~events,
        ~reminders,
        ~requests,
        stage=Stage.CLOSED,
        stage_entered_at__lt=cutoff,
        legal_hold_at__isnull=True,
        purged_at__isnull=True,
    )


def last_activity(case: Case) -> datetime:
    """When the case was last worked: what its retention clock runs from."""
    times = [
        case.stage_entered_at,
        case.events.exclude(kind__in=NOT_ACTIVITY).aggregate(at=Max("created_at"))["at"],
        *case.reminders.aggregate(created=Max("created_at"), sent=Max("sent_at")).values(),
        *case.intake_requests.aggregate(
            received=Max("received_at"), triaged=Max("triaged_at")
        ).values(),
    ]
    return max(time for time in times if time is not None)


def purge_due(case: Case) -> datetime | None:
    """From when the nightly purge will take this closed case, if nothing happens on it;
    None while it is open, on hold, has a pending reminder, or is already purged."""
    if not case.is_closed or case.on_legal_hold or case.is_purged:
        return None
    if case.reminders.filter(state=ReminderState.PENDING).exists():
        return None
    return last_activity(case) + timedelta(days=settings.RETENTION_DAYS)


def _anonymise(case: Case, *, by: User | None, kind: str, now: datetime) -> None:
    """Removes the personal data of one locked case; the caller holds the transaction."""
    case.events.exclude(kind__in=KEPT_EVENT_KINDS).delete()
    case.events.update(text="")
    # The reminders' notes were the person's data; their notifications go with them
    # (cascade), and so does every other notification naming the case: what others did to
    # it (assignments, mentions...) says who worked on whom.
    case.reminders.all().delete()
    Notification.objects.filter(subject=case.reference).delete()
    case.break_glass.update(reason="", review_comment="")
    case.approvals.update(note="", decline_reason="")
    case.transfers.update(note="", reason="")
    # The files, rows and blobs (the blobs once this commits), before the legs they may hang on.
    case.documents.purge()
    case.legs.all().delete()
    case.intake_requests.purge(now)
    Case.objects.filter(pk=case.pk).update(
        **BLANK_CASE,
        purged_at=now,
        purge_kind=kind,
        version=F("version") + 1,
        updated_at=now,
    )
    case.version += 1
    case.purged_at, case.purge_kind = now, kind
    others = Case.objects.filter(person_id=case.person_id, purged_at__isnull=True)
    if not others.exists():
        indexes = PersonIndex.objects.filter(person_id=case.person_id)
        provocation = Case.objects.filter(person_id=case.person_id, outcome=Outcome.PROVOCATION)
        if kind == PurgeKind.RETENTION and provocation.exists():
            indexes = indexes.exclude(kind__in=PROVOCATION_KEPT_INDEXES)
        indexes.delete()
        Person.objects.filter(pk=case.person_id).update(**BLANK_PERSON, purged_at=now)
    timeline_add(case, by, EventKind.ANONYMISED, facts=event_details.facts("purged", purge=kind))


def case_purge(*, case_id: int, now: datetime | None = None) -> bool:
    """Purges one case whose retention period is over, in its own transaction; the nightly
    job's step. Looks again under the row lock, so a case put on hold a moment ago or
    already purged is left alone (and False returned)."""
    now = now or timezone.now()
    with transaction.atomic():
        case = expired_cases(now).select_for_update().only(*LOCK_FIELDS).filter(pk=case_id).first()
        if case is None:
            return False
        _anonymise(case, by=None, kind=PurgeKind.RETENTION, now=now)
        audit_case(case, None, Action.CASE_PURGED)
    return True


def purge_each(
    expired: Callable[[], QuerySet],
    purge_one: Callable[[int], bool],
    *,
    order: tuple[str, ...],
    what: str,
    batch: int = PURGE_BATCH,
) -> int:
    """The nightly loop, for cases and requests alike: `batch` ids at a time, each purged in
    its own transaction by `purge_one`; returns how many. A row that fails is logged by
    reference and exception class only (a database error's message can quote the row) and
    left for the next night."""
    purged = 0
    failed: set[int] = set()
    while True:
        rows = expired().exclude(pk__in=failed).order_by(*order)
        ids = list(rows.values_list("pk", flat=True)[:batch])
        if not ids:
            break
        for pk in ids:
            try:
                purged += purge_one(pk)
            except Exception as error:
                failed.add(pk)
                found = rows.model.objects.filter(pk=pk).values_list("reference", flat=True)
                logger.error(
                    "retention: purging %s failed (%s)", found.first(), type(error).__name__
                )
    logger.info("retention: %d %s purged, %d failed", purged, what, len(failed))
    return purged


def purge_expired_cases(now: datetime | None = None, batch: int = PURGE_BATCH) -> int:
    """Purges every expired case; see purge_each. Merges made before the run can no
    longer be undone from it on (casework.services.merge)."""
    now = now or timezone.now()
    merges_settle(now)
    return purge_each(
        lambda: expired_cases(now),
        lambda pk: case_purge(case_id=pk, now=now),
        order=("stage_entered_at", "pk"),
        what="cases",
        batch=batch,
    )


def _locked(case: Case) -> Case:
    return Case.objects.select_for_update().get(pk=case.pk)


def _hold_reason(reason: str) -> str:
    if not reason.strip():
        raise ValidationError(_("Give a reason: it is recorded, encrypted, with the hold."))
    return reason.strip()


@transaction.atomic
def legal_hold_set(*, case: Case, by: User, reason: str) -> None:
    """A coordinator of the case's team keeps its personal data past the retention period
    (and out of reach of erasure) until the hold is lifted. A transfer of the case waiting
    for another team is withdrawn: the record stays as it is, with its team."""
    if not permissions.can_set_legal_hold(by, case):
        raise PermissionDenied
    reason = _hold_reason(reason)
    case = _locked(case)
    if case.is_purged:
        raise ValidationError(_("This case's personal data is already removed."))
    if case.on_legal_hold:
        raise ValidationError(_("This case is already on legal hold."))
    case.legal_hold_at, case.legal_hold_by, case.legal_hold_reason = timezone.now(), by, reason
    case.save(update_fields=["legal_hold_at", "legal_hold_by", "legal_hold_reason"])
    timeline_add(case, by, EventKind.LEGAL_HOLD, detail=event_details.LEGAL_HOLD_SET)
    transfer_lapse(case=case, by=by, because="legal hold")
    audit_case(case, by, Action.LEGAL_HOLD, reason=f"set: {reason}")


@transaction.atomic
def legal_hold_lift(*, case: Case, by: User, reason: str) -> None:
    """Lifts the hold; the reason it was set stays in the audit log only. A case closed
    longer than the retention period ago is purged the next night."""
    if not permissions.can_set_legal_hold(by, case):
        raise PermissionDenied
    reason = _hold_reason(reason)
    case = _locked(case)
    if not case.on_legal_hold:
        raise ValidationError(_("This case is not on legal hold."))
    case.legal_hold_at, case.legal_hold_by, case.legal_hold_reason = None, None, ""
    case.save(update_fields=["legal_hold_at", "legal_hold_by", "legal_hold_reason"])
    timeline_add(case, by, EventKind.LEGAL_HOLD, detail=event_details.LEGAL_HOLD_LIFTED)
    audit_case(case, by, Action.LEGAL_HOLD, reason=f"lifted: {reason}")


def _cases_of_person(case: Case) -> Q:
    """The person's cases, and the cases merged into them (casework.services.merge): a
    merged case keeps the folded person's details until it is purged too."""
    theirs = Case.objects.filter(person_id=case.person_id).values("pk")
    # A subquery, not a join: row locks cannot be taken through an outer join.
    return Q(person_id=case.person_id) | Q(merged_into__in=theirs)


def erasure_scope(case: Case, by: User) -> tuple[list[Case], list[Case]]:
    """The cases an erasure from this case removes (every not yet anonymised case of the
    person in the teams `by` coordinates) and the ones it cannot (other teams')."""
    cases = list(
        Case.objects.filter(_cases_of_person(case), purged_at__isnull=True)
        .select_related("team")
        .only(*LOCK_FIELDS, "outcome", "created_at", "team__name")
        .order_by("created_at", "pk")
    )
    mine = [other for other in cases if permissions.is_team_coordinator(by, other)]
    theirs = [other for other in cases if not permissions.is_team_coordinator(by, other)]
    return mine, theirs


@dataclass(frozen=True)
class ErasureSummary:
    """What an erasure from one case would remove: counts and references, nothing personal."""

    cases: list[Case]
    other_teams: list[Case]
    held: Case | None
    open_cases: list[Case]
    timeline_entries: int
    reminders: int
    requests: int


def erasure_summary(case: Case, by: User) -> ErasureSummary:
    mine, theirs = erasure_scope(case, by)
    events = CaseEvent.objects.filter(case__in=mine)
    return ErasureSummary(
        cases=mine,
        other_teams=theirs,
        held=next((other for other in mine if other.on_legal_hold), None),
        open_cases=[other for other in mine if not other.is_closed],
        timeline_entries=events.exclude(kind__in=KEPT_EVENT_KINDS).count(),
        reminders=Reminder.objects.filter(case__in=mine).count(),
        requests=sum(other.intake_requests.count() for other in mine),
    )


def held_case_message(held: Case) -> str:
    return _(
        "%(reference)s is on legal hold: its personal data cannot be erased until a "
        "coordinator lifts the hold."
    ) % {"reference": held.reference}


@transaction.atomic
def case_erase(*, case: Case, by: User, reason: str) -> list[str]:
    """Executes the person's own erasure request at once: every case of theirs that `by`
    coordinates is closed (as withdrawn, if open) and anonymised. Refused while any of them
    is on legal hold. The person's details go with their last case; a case in another team
    keeps them until its own coordinator erases it. Returns the references erased."""
    if not permissions.can_erase_case(by, case):
        raise PermissionDenied
    if not reason.strip():
        raise ValidationError(_("Give the reason for the erasure, e.g. how the person asked."))
    locked = list(
        Case.objects.select_for_update()
        .filter(_cases_of_person(case), purged_at__isnull=True)
        .select_related("person")
        .order_by("created_at", "pk")
    )
    if not any(other.pk == case.pk for other in locked):
        raise ValidationError(_("This case's personal data is already removed."))
    targets = [other for other in locked if permissions.is_team_coordinator(by, other)]
    if held := next((other for other in targets if other.on_legal_hold), None):
        raise ValidationError(held_case_message(held))
    now = timezone.now()
    for target in targets:
        if not target.is_closed:
            # The person asked us to forget them: for our statistics they withdrew.
            case_transition(
                case=target,
                to_stage=Stage.CLOSED,
                by=by,
                expected_version=target.version,
                outcome=Outcome.WITHDREW,
            )
        _anonymise(target, by=by, kind=PurgeKind.ERASURE, now=now)
        audit_case(target, by, Action.CASE_ERASED, reason=reason.strip())
    return [target.reference for target in targets]
