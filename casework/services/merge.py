"""Merging two cases of one person, and undoing it until the next nightly purge.

What moves from the folded case to the kept one: its timeline, route legs (after the kept
case's own), reminders, requests, documents (numbered after the kept case's own), and its
person's contacts and blind indexes. The folded
person's details fill the kept person's blank fields only. The folded case is closed as a
duplicate and marked merged: out of every list, its reference leading to the kept case.

Encrypted values are bound to their row (privacy.seal), not to the case they belong to:
events, legs, reminders and requests move by changing their foreign key, their values stay
sealed to their own rows. A value copied to another row (the kept person's blank fields) is
read, decrypted, through the ORM and saved again, so it is sealed to its new row. Blind
indexes are keyed digests with nothing to seal: their rows move as they are.

A CaseMerge row keeps the ids of what moved and the names of the fields filled, never a
value, so that case_merge_undo can put everything back. The nightly purge settles every
merge it finds (casework.services.retention): past it, the merge stays.
"""

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import F, Max
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from audit.models import Action
from casework import event_details, permissions
from casework.models import (
    Case,
    CaseEvent,
    CaseMerge,
    CaseTransfer,
    EventKind,
    NotificationKind,
    Outcome,
    Person,
    PersonIndex,
    Reminder,
    ReminderKind,
    ReminderState,
    RouteLeg,
    Stage,
    TransferState,
)
from casework.notifications import notify
from casework.services.cases import PERSON_FIELDS, _claim_version, audit_case, timeline_add

# The kept case takes what the folded case knew where it knew nothing itself: the route
# summary and destination if blank, and any risk flag set on either (a fact about the one
# person, whichever case it was noted on).
CASE_FIELDS = (
    "route_summary",
    "destination_country",
    "flag_wanted",
    "flag_criminal_case",
    "flag_internal_passport_only",
    "flag_dependants",
    "flag_health",
)
# The folded case's pending reminders that belong to its own stage: on the kept case they
# would fire for a stage it is not in. Cancelled by the merge, pending again on its undo.
STAGE_REMINDERS = (
    ReminderKind.STAGE_OVERDUE,
    ReminderKind.CROSSING_CHECK_IN,
    ReminderKind.TRANSIT_CHECK_IN,
)


def _blank(value) -> bool:
    return value in ("", None, False)


def _blank_value(instance, name: str):
    field = instance._meta.get_field(name)
    if field.get_internal_type() == "BooleanField":
        return False
    return None if field.null else ""


def _fill_blanks(target, source, names) -> list[str]:
    """Copies `source`'s values into `target`'s blank fields through the ORM (decrypted
    on reading, sealed to `target`'s row on saving); returns the names filled."""
    filled = []
    for name in names:
        value = getattr(source, name)
        if _blank(getattr(target, name)) and not _blank(value):
            setattr(target, name, value)
            filled.append(name)
    if filled:
        target.save(update_fields=filled)
    return filled


def _unfill(target, source, names) -> None:
    """Blanks again the fields a merge filled, where they still hold what was copied."""
    changed = []
    for name in names:
        if getattr(target, name) == getattr(source, name):
            setattr(target, name, _blank_value(target, name))
            changed.append(name)
    if changed:
        target.save(update_fields=changed)


def merge_problems(keep: Case, fold: Case) -> list[str]:
    """Why these two cases cannot be merged, in words for the coordinator; empty if they
    can. Asked of the page and, under the row locks, of the service.

    A case whose transfer to another team waits for an answer is refused, on either side,
    rather than its transfer withdrawn by the merge: the other team may be deciding it as
    the coordinator merges, who may not know it was asked, and undoing the merge could not
    ask it again. So the coordinator withdraws the transfer, or has its answer, first and
    knowingly; a transfer cannot be asked of the folded case afterwards (it is closed).
    """
    if keep.pk == fold.pk:
        return [_("A case cannot be merged with itself: choose the other case of the person.")]
    problems = []
    waiting = dict(
        CaseTransfer.objects.filter(
            case__in=[keep.pk, fold.pk], state=TransferState.PENDING
        ).values_list("case_id", "to_team__name")
    )
    if keep.team_id != fold.team_id:
        problems.append(
            _(
                "%(kept)s and %(folded)s are in different teams: only cases of one team can "
                "be merged. Transfer one of them to the other's team first."
            )
            % {"kept": keep.reference, "folded": fold.reference}
        )
    for case in (keep, fold):
        reference = case.reference
        if case.is_purged:
            problems.append(
                _("%(reference)s has had its personal data removed: it cannot be merged.")
                % {"reference": reference}
            )
        elif case.is_merged:
            problems.append(
                _("%(reference)s was already merged into another case.") % {"reference": reference}
            )
        elif case.is_frozen or case.outcome == Outcome.PROVOCATION:
            problems.append(
                _(
                    "%(reference)s is a suspected provocation: its route and contacts stay "
                    "apart from other cases, so it cannot be merged."
                )
                % {"reference": reference}
            )
        elif case.on_legal_hold:
            problems.append(
                _(
                    "%(reference)s is on legal hold: its record must stay as it is, so it "
                    "cannot be merged. A coordinator can lift the hold first."
                )
                % {"reference": reference}
            )
        elif case.pk in waiting:
            problems.append(
                _(
                    "A transfer of %(reference)s to %(team)s waits for an answer: withdraw it, "
                    "or wait for the answer, before merging."
                )
                % {"reference": reference, "team": waiting[case.pk]}
            )
    return problems


def _locked(*cases: Case) -> dict[int, Case]:
    """The cases read again under row locks, always in the same order (no deadlock)."""
    rows = Case.objects.select_for_update().filter(pk__in=[case.pk for case in cases])
    return {case.pk: case for case in rows.order_by("pk")}


def _other_cases_of(person_id: int, fold: Case) -> bool:
    return (
        Case.objects.filter(person_id=person_id, merged_into__isnull=True)
        .exclude(pk=fold.pk)
        .exists()
    )


def _move_person(keep: Case, fold: Case, moved: dict) -> None:
    """Fills the kept person's blanks from the folded person and brings its blind indexes
    over (as contacts, which a later edit of the details does not drop)."""
    if keep.person_id == fold.person_id:
        return
    kept_person = Person.objects.get(pk=keep.person_id)
    folded_person = Person.objects.get(pk=fold.person_id)
    moved["person_fields"] = _fill_blanks(kept_person, folded_person, PERSON_FIELDS)
    has = set(
        PersonIndex.objects.filter(person=kept_person, source=PersonIndex.INTAKE).values_list(
            "kind", "digest"
        )
    )
    rows = list(PersonIndex.objects.filter(person=folded_person).order_by("pk"))
    if _other_cases_of(folded_person.pk, fold):
        # The folded person still has a case of its own: its indexes stay for it, and the
        # kept person gets copies (the digests as they are: nothing recomputed).
        copies = []
        for row in rows:
            if (row.kind, row.digest) not in has:
                has.add((row.kind, row.digest))
                copies.append(
                    PersonIndex.objects.create(
                        person=kept_person,
                        kind=row.kind,
                        digest=row.digest,
                        source=PersonIndex.INTAKE,
                    ).pk
                )
        moved["copied"] = copies
        return
    sources = {}
    for row in rows:
        if (row.kind, row.digest) in has:
            continue  # the kept person has it already; it stays with the folded one
        has.add((row.kind, row.digest))
        sources[str(row.pk)] = row.source
    PersonIndex.objects.filter(pk__in=[int(pk) for pk in sources]).update(
        person=kept_person, source=PersonIndex.INTAKE
    )
    moved["indexes"] = sources


@transaction.atomic
def case_merge(
    *, keep: Case, fold: Case, by: User, keep_version: int, fold_version: int
) -> CaseMerge:
    """Folds `fold` into `keep`: both of one team, which `by` coordinates. Refused (a
    ValidationError in words) for a case with itself, across teams, on legal hold, purged
    or already merged; CaseConflict if either changed since the page was opened."""
    if not (
        by.is_active
        and permissions.is_team_coordinator(by, keep)
        and permissions.is_team_coordinator(by, fold)
    ):
        raise PermissionDenied
    if keep.pk == fold.pk:
        raise ValidationError(merge_problems(keep, fold))
    # Asked again under the locks: a hold set or a merge made a moment ago counts.
    locked = _locked(keep, fold)
    keep_now, fold_now = locked[keep.pk], locked[fold.pk]
    if problems := merge_problems(keep_now, fold_now):
        raise ValidationError(problems)
    now = timezone.now()
    record = CaseMerge(
        kept=keep,
        folded=fold,
        by=by,
        merged_at=now,
        folded_stage=fold_now.stage,
        folded_stage_entered_at=fold_now.stage_entered_at,
        folded_outcome=fold_now.outcome,
        folded_held_from=fold_now.held_from,
    )
    _claim_version(keep, keep_version)
    _claim_version(
        fold,
        fold_version,
        stage=Stage.CLOSED,
        stage_entered_at=now,
        outcome=Outcome.DUPLICATE,
        held_from="",
        merged_into=keep,
        merged_at=now,
    )
    moved: dict = {}
    events = list(fold.events.values_list("pk", flat=True))
    CaseEvent.objects.filter(pk__in=events).update(case=keep)
    moved["events"] = events

    legs = dict(fold.legs.values_list("pk", "position"))
    offset = keep.legs.aggregate(last=Max("position"))["last"] or 0
    RouteLeg.objects.filter(pk__in=list(legs)).update(case=keep, position=F("position") + offset)
    moved["legs"] = {str(pk): position for pk, position in legs.items()}

    pending_stage = fold.reminders.filter(state=ReminderState.PENDING, kind__in=STAGE_REMINDERS)
    cancelled = list(pending_stage.values_list("pk", flat=True))
    Reminder.objects.filter(pk__in=cancelled).update(state=ReminderState.CANCELLED, closed_at=now)
    reminders = list(fold.reminders.values_list("pk", flat=True))
    Reminder.objects.filter(pk__in=reminders).update(case=keep, subject=keep.reference)
    moved["reminders"], moved["cancelled"] = reminders, cancelled

    requests = list(fold.intake_requests.values_list("pk", flat=True))
    fold.intake_requests.model._default_manager.filter(pk__in=requests).update(case=keep)
    moved["requests"] = requests

    # Through the reverse relation: casework does not import the documents app above it.
    # Numbered after the kept case's own (documents.models.DocumentQuerySet.move_to).
    documents = dict(fold.documents.values_list("pk", "number"))
    fold.documents.move_to(keep)
    moved["documents"] = {str(pk): number for pk, number in documents.items()}

    _move_person(keep, fold, moved)
    moved["case_fields"] = _fill_blanks(keep_now, fold_now, CASE_FIELDS)
    record.moved = moved
    record.save()

    timeline_add(
        keep,
        by,
        EventKind.MERGE,
        facts=event_details.facts("merged_in", folded=fold.reference),
    )
    timeline_add(
        fold,
        by,
        EventKind.MERGE,
        from_stage=record.folded_stage,
        to_stage=Stage.CLOSED,
        facts=event_details.facts("merged_into", kept=keep.reference),
    )
    audit_case(fold, by, Action.CASES_MERGED, reason=f"into {keep.reference}")
    notify([fold_now.assignee], kind=NotificationKind.CASE_MERGED, subject=fold.reference)
    # Last: the audit write locks the chain head until this transaction commits.
    audit_case(keep, by, Action.CASES_MERGED, reason=f"{fold.reference} merged in")
    return record


def undo_problems(merge: CaseMerge, keep: Case, fold: Case) -> list[str]:
    """Why this merge cannot be undone any more, in words; empty if it can."""
    if merge.undone_at is not None:
        return [_("This merge was already undone.")]
    if merge.settled_at is not None:
        return [
            _(
                "The nightly purge has run since %(folded)s was merged into %(kept)s: the "
                "merge can no longer be undone."
            )
            % {"folded": fold.reference, "kept": keep.reference}
        ]
    problems = []
    if keep.is_purged or fold.is_purged:
        problems.append(_("The personal data of one of the cases was removed since the merge."))
    if keep.is_merged:
        problems.append(
            _("%(kept)s was itself merged into another case since: undo that merge first.")
            % {"kept": keep.reference}
        )
    if keep.on_legal_hold:
        problems.append(
            _("%(kept)s is on legal hold: its record must stay as it is until the hold is lifted.")
            % {"kept": keep.reference}
        )
    return problems


@transaction.atomic
def case_merge_undo(*, merge: CaseMerge, by: User) -> Case:
    """Puts back what `merge` moved and opens the folded case again as it was; refused
    once the nightly purge has run since. What was added to the kept case after the merge
    stays there. Returns the folded case."""
    keep_seen = merge.kept
    if not (permissions.is_team_coordinator(by, keep_seen) and by.is_active):
        raise PermissionDenied
    locked = _locked(merge.kept, merge.folded)
    keep, fold = locked[merge.kept_id], locked[merge.folded_id]
    merge = CaseMerge.objects.select_for_update().get(pk=merge.pk)
    if problems := undo_problems(merge, keep, fold):
        raise ValidationError(problems)
    if fold.merged_into_id != keep.pk:
        raise ValidationError(_("This merge was already undone."))
    moved = merge.moved
    now = timezone.now()
    CaseEvent.objects.filter(pk__in=moved.get("events", []), case=keep).update(case=fold)
    for pk, position in moved.get("legs", {}).items():
        RouteLeg.objects.filter(pk=int(pk), case=keep).update(case=fold, position=position)
    Reminder.objects.filter(pk__in=moved.get("reminders", []), case=keep).update(
        case=fold, subject=fold.reference
    )
    Reminder.objects.filter(
        pk__in=moved.get("cancelled", []), state=ReminderState.CANCELLED, closed_at=merge.merged_at
    ).update(state=ReminderState.PENDING, closed_at=None)
    fold.intake_requests.model._default_manager.filter(
        pk__in=moved.get("requests", []), case=keep
    ).update(case=fold)
    for pk, number in moved.get("documents", {}).items():
        fold.documents.model._default_manager.filter(pk=int(pk), case=keep).update(
            case=fold, number=number
        )
    for pk, source in moved.get("indexes", {}).items():
        PersonIndex.objects.filter(pk=int(pk), person_id=keep.person_id).update(
            person_id=fold.person_id, source=source
        )
    PersonIndex.objects.filter(pk__in=moved.get("copied", []), person_id=keep.person_id).delete()
    if moved.get("person_fields"):
        _unfill(
            Person.objects.get(pk=keep.person_id),
            Person.objects.get(pk=fold.person_id),
            moved["person_fields"],
        )
    if moved.get("case_fields"):
        _unfill(keep, fold, moved["case_fields"])
    _claim_version(keep, keep.version)
    _claim_version(
        fold,
        fold.version,
        stage=merge.folded_stage,
        stage_entered_at=merge.folded_stage_entered_at,
        outcome=merge.folded_outcome,
        held_from=merge.folded_held_from,
        merged_into=None,
        merged_at=None,
    )
    merge.undone_at, merge.undone_by = now, by
    merge.save(update_fields=["undone_at", "undone_by"])
    undone = event_details.facts("merge_undone", folded=fold.reference, kept=keep.reference)
    timeline_add(keep, by, EventKind.MERGE, facts=undone)
    timeline_add(
        fold, by, EventKind.MERGE, from_stage=Stage.CLOSED, to_stage=fold.stage, facts=undone
    )
    audit_case(fold, by, Action.MERGE_UNDONE, reason=f"out of {keep.reference}")
    notify([fold.assignee], kind=NotificationKind.CASE_MERGED, subject=fold.reference)
    audit_case(keep, by, Action.MERGE_UNDONE, reason=f"{fold.reference} taken out")
    return fold


def merges_settle(now) -> int:
    """The nightly purge's first step: merges made before it can no longer be undone."""
    return CaseMerge.objects.filter(
        settled_at__isnull=True, undone_at__isnull=True, merged_at__lte=now
    ).update(settled_at=now)
