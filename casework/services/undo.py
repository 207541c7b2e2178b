"""Taking back a contact or check-in logged at one tap, within minutes, by the one who
logged it (what the tap changed is in casework.undo)."""

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from accounts.models import User
from audit.models import Action
from casework import permissions
from casework.models import (
    Case,
    CaseEvent,
    EventKind,
    Reminder,
    ReminderKind,
    ReminderState,
    TimelineUndo,
)
from casework.services.cases import _claim_version, audit_case, timeline_add
from casework.undo import window

# Codes in the undo entry's `detail` (clear text, no personal data); pages translate them.
UNDONE = {
    EventKind.CONTACT: gettext_noop("a logged contact"),
    EventKind.CHECK_IN: gettext_noop("a check-in"),
}


def undo_offered(case: Case, by: User) -> TimelineUndo | None:
    """The user's latest contact or check-in on the case they may still take back."""
    # Every tap sets the case's last contact to its moment: a case without one in the
    # window has nothing to undo, and its page asks nothing more.
    if case.last_contact_at is None or case.last_contact_at < timezone.now() - window():
        return None
    return (
        TimelineUndo.objects.filter(
            case=case,
            by=by,
            undone_at__isnull=True,
            event__isnull=False,
            expires_at__gt=timezone.now(),
        )
        .order_by("-pk")
        .first()
    )


@transaction.atomic
def case_note_undo(*, case: Case, by: User, undo_id: int, expected_version: int) -> CaseEvent:
    """Takes back a contact or check-in: its entry goes, the case's last contact, its
    lost-contact flag and the reminders the tap closed or scheduled are as they were, and
    an "undone" entry and an audit event say so.

    Only the one who logged it, only within casework.undo.window(), once; a case changed
    since the page was loaded is refused (CaseConflict), as any stale form is."""
    found = (
        # The undo's row only: its entry may be gone already (an outer join).
        TimelineUndo.objects.select_for_update(of=("self",))
        .select_related("event")
        .filter(pk=undo_id, case=case)
        .first()
    )
    if found is None or found.by_id != by.pk or not permissions.can_work_case(by, case):
        raise PermissionDenied
    if found.undone_at is not None or found.event is None:
        raise ValidationError(_("This was already taken back."))
    if timezone.now() >= found.expires_at:
        raise ValidationError(
            _(
                "Too late to undo: a contact or check-in can be taken back for %(minutes)s "
                "minutes. Add a note on the timeline to correct it instead."
            )
            % {"minutes": int(window().total_seconds() // 60)}
        )
    fields = {}
    current = (
        Case.objects.filter(pk=case.pk).values_list("last_contact_at", "lost_contact_at").get()
    )
    # Put back only what no later contact changed again.
    if current[0] == found.last_contact_at_set:
        fields["last_contact_at"] = found.last_contact_at_before
        if found.lost_contact_at_before is not None and current[1] is None:
            fields["lost_contact_at"] = found.lost_contact_at_before
    _claim_version(case, expected_version, **fields)
    for pk, state in found.reminders_closed.items():
        Reminder.objects.filter(
            pk=int(pk), case=case, state=ReminderState.DONE, kind__in=_reopened(fields)
        ).update(state=state, closed_at=None, acknowledged_by=None)
    if found.reminder_scheduled_id:
        Reminder.objects.filter(pk=found.reminder_scheduled_id, state=ReminderState.PENDING).update(
            state=ReminderState.CANCELLED, closed_at=timezone.now()
        )
    kind = found.event.kind
    found.event.delete()
    found.event = None
    found.undone_at = timezone.now()
    found.save(update_fields=["event", "undone_at"])
    audit_case(case, by, Action.CASE_NOTE_UNDONE, reason=kind)
    return timeline_add(case, by, EventKind.UNDONE, detail=UNDONE[EventKind(kind)])


def _reopened(fields: dict) -> list[str]:
    """The kinds of reminder to open again: the check-ins always; the lost-contact alarm
    only with its flag."""
    kinds: list[str] = [ReminderKind.CROSSING_CHECK_IN, ReminderKind.TRANSIT_CHECK_IN]
    if "lost_contact_at" in fields:
        kinds.append(ReminderKind.LOST_CONTACT)
    return kinds
