"""Containing a compromised account, and reading back what it touched.

It lives in casework, not accounts, because it hands every case and request the account
touched to their coordinators as a task (a reminder), and dependencies point this way.
"""

from dataclasses import dataclass
from datetime import datetime

from django.contrib.auth.hashers import make_password
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import F, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts import permissions
from accounts.models import Containment, User
from accounts.second_factor import devices_remove
from audit import selectors as audit_selectors
from audit.log import record
from audit.models import Action
from casework.models import Case, Reminder, ReminderKind


@dataclass
class Affected:
    """A line of the containment's list: the reference, what was done, and its task."""

    touched: audit_selectors.Touched
    task: Reminder | None


@transaction.atomic
def account_contain(*, target: User, by: User, since: datetime, reason: str) -> Containment:
    """Locks the account, ends its sessions, removes its second factor, and gives each case
    and request it touched since `since` a re-assessment task for the team's coordinators.

    The password is made unusable as well as the account inactive: whoever phished it
    must not walk back in the day an admin reactivates the account without a new one.
    """
    if not permissions.can_contain_account(by, target):
        raise PermissionDenied
    now = timezone.now()
    if since > now:
        raise ValidationError(_("Choose a moment in the past: nothing has been touched yet."))
    if not reason.strip():
        raise ValidationError(_("Say why the account is believed compromised."))
    User.objects.filter(pk=target.pk).update(
        is_active=False,
        password=make_password(None),
        session_generation=F("session_generation") + 1,
    )
    target.refresh_from_db(fields=["is_active", "password", "session_generation"])
    devices_remove(user=target)
    event = record(
        Action.ACCOUNT_CONTAINED,
        actor=by,
        target_type="user",
        target_ref=str(target.pk),
        reason=reason.strip(),
    )
    touched = audit_selectors.touched_by(target.pk, since=since, before_seq=event.seq)
    tasks = _reassessment_tasks(touched, target=target, by=by, now=now)
    return Containment.objects.create(
        user=target,
        by=by,
        since=since,
        created_at=now,
        reason=reason.strip(),
        audit_seq=event.seq,
        case_count=sum(1 for t in touched if t.target_type == "case"),
        request_count=sum(1 for t in touched if t.target_type == "request"),
        task_count=len(tasks),
    )


def _reassessment_tasks(
    touched: list[audit_selectors.Touched], *, target: User, by: User, now: datetime
) -> list[Reminder]:
    """One reminder per case or request, due now: the dispatcher tells the coordinators.

    A case is filed under its team of today (it may have moved since); a request under
    the team the log recorded (requests do not move).
    """
    references = [t.reference for t in touched if t.target_type == "case"]
    cases = {
        case.reference: case
        for case in Case.objects.filter(reference__in=references).only("pk", "reference", "team")
    }
    reminders = []
    for item in touched:
        case = cases.get(item.reference) if item.target_type == "case" else None
        team_id = case.team_id if case else item.team_id
        if team_id is None:
            continue  # nobody to tell: the list on the containment page still shows it
        reminders.append(
            Reminder(
                kind=ReminderKind.REASSESS,
                due_at=now,
                case=case,
                team_id=team_id,
                subject=item.reference,
                urgent=True,
                note=_task_note(item, target, now),
                created_by=by,
                created_at=now,
            )
        )
    return Reminder.objects.bulk_create(reminders)


def _task_note(item: audit_selectors.Touched, target: User, now: datetime) -> str:
    def when(moment: datetime) -> str:
        return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M")

    return _(
        "Account %(username)s was contained on %(now)s as compromised. Between %(first)s and "
        "%(last)s it did this here: %(actions)s. Re-assess the person's risk."
    ) % {
        "username": target.username,
        "now": when(now),
        "first": when(item.first_at),
        "last": when(item.last_at),
        "actions": ", ".join(item.action_labels),
    }


def containments_for(user: User) -> QuerySet[Containment]:
    """Every containment, newest first, for those who may contain accounts; none otherwise."""
    rows = (
        Containment.objects.select_related("user", "by")
        .defer("reason")
        .order_by("-created_at", "-pk")
    )
    return rows if permissions.can_manage_accounts(user) else rows.none()


def affected(containment: Containment) -> list[Affected]:
    """What the account touched between `since` and its containment, as the log says, with
    the task each got (none when its team was unknown, or after the case was purged)."""
    touched = audit_selectors.touched_by(
        containment.user_id, since=containment.since, before_seq=containment.audit_seq
    )
    # The tasks were written in the same transaction, with the containment's own time.
    tasks = {
        task.subject: task
        for task in Reminder.objects.filter(
            kind=ReminderKind.REASSESS,
            created_at=containment.created_at,
            created_by_id=containment.by_id,
            subject__in=[t.reference for t in touched],
        ).only("subject", "state", "closed_at")
    }
    return [Affected(item, tasks.get(item.reference)) for item in touched]
