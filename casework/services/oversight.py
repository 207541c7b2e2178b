"""Oversight: the powers that reach past a team's own cases, and the checks on them.

Break-glass opens another team's case to a coordinator for an hour, with a reason; the one
unscoped lookup of a case by reference is private to it here.

The admins review break-glass opens in a queue (selectors.oversight). Reasons are
decrypted here and nowhere else for admins, and only one at a time on request, each
reading audited: they describe the coordinator's need, but may brush against the person,
so no list shows them and no admin reads them all unnoticed.

Containing a compromised account lives in casework, not accounts, because it hands every
case and request the account touched to their coordinators as a task (a reminder), and
dependencies point this way.

Suspected provocation: fake requests are a known way to learn routes and volunteers.
Flagging freezes the case (workflow.move_problems refuses every stage move but closing it
as a suspected provocation) and hides the route from everyone but the team's coordinators
(permissions.can_see_route). The assignee, who screens the case, or a coordinator flags it;
only a coordinator clears it. Both need a reason, stored encrypted and in the audit log.
Flagging locks the case row and takes whatever version it has: a warning must never be
refused because someone saved a moment earlier. It still bumps the version, so any page
opened before it is refused and reloaded with the case frozen.
"""

from datetime import datetime, timedelta

from django.contrib.auth.hashers import make_password
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts import permissions as account_permissions
from accounts.models import Containment, User
from accounts.second_factor import devices_remove
from audit import selectors as audit_selectors
from audit.log import record
from audit.models import Action
from casework import event_details, permissions
from casework.models import BreakGlass, Case, EventKind, Reminder, ReminderKind
from casework.services.cases import _claim_version, audit_case, timeline_add
from privacy.fields import bound_to

BREAK_GLASS_DURATION = timedelta(hours=1)


def _case_by_reference(reference: str) -> Case | None:
    """Any case by reference, unscoped: for break-glass alone, whose permission decides."""
    return Case.objects.select_related("team").filter(reference=reference).first()


@transaction.atomic
def case_break_glass(*, reference: str, by: User, reason: str) -> BreakGlass:
    """Opens another team's case to a coordinator for an hour, with the reason recorded.
    No such case and one of the user's own teams are refused in the same words: probing
    learns nothing."""
    if not by.has_perm("accounts.break_glass"):
        raise PermissionDenied
    case = _case_by_reference(reference.strip().upper())
    if case is None or not permissions.can_break_glass(by, case):
        raise ValidationError({"reference": _("No other team's case has this reference.")})
    if len(reason.strip()) < 10:
        raise ValidationError(
            {"reason": _("Explain in a sentence why you need to open this case.")}
        )
    now = timezone.now()
    # Through the user's manager: that empties the grants read for this request.
    grant = by.break_glass.create(
        case=case,
        reason=reason.strip(),
        created_at=now,
        expires_at=now + BREAK_GLASS_DURATION,
    )
    audit_case(case, by, Action.BREAK_GLASS, reason=reason.strip())
    return grant


@transaction.atomic
def break_glass_review(*, grant: BreakGlass, by: User, comment: str) -> None:
    """Marks one grant reviewed with the admin's comment (stored encrypted); audited."""
    if not permissions.can_review_break_glass(by):
        raise PermissionDenied
    if not comment.strip():
        raise ValidationError(_("Write what you concluded, e.g. 'justified: night shift'."))
    now = timezone.now()
    # Conditional: two admins reviewing at once cannot both record a review.
    updated = BreakGlass.objects.filter(pk=grant.pk, reviewed_at__isnull=True).update(
        reviewed_at=now, reviewed_by=by, review_comment=bound_to(grant, comment.strip())
    )
    if not updated:
        raise ValidationError(_("Someone reviewed this break-glass already."))
    record(
        Action.BREAK_GLASS_REVIEWED,
        actor=by,
        # Not "case": reviewing a grant reads nothing of the person, and must not show up
        # as a touched case if the reviewing account is ever contained.
        target_type="break_glass",
        target_ref=grant.case.reference,
        reason=comment.strip(),
    )


@transaction.atomic
def break_glass_reason_reveal(*, grant: BreakGlass, by: User) -> str:
    """The reason given for one grant, for an admin; every reading is audited, so reading
    them all is as visible as opening every case.

    Recorded against the case (with its team): if the reason named the person after all, a
    containment of the reading account lists the case for re-assessment.
    """
    if not permissions.can_review_break_glass(by):
        raise PermissionDenied
    # Through an instance, so the reason is checked against its row (Sealed.from_db).
    reason = BreakGlass.objects.only("seal", "reason").get(pk=grant.pk).reason
    record(
        Action.REASON_VIEWED,
        actor=by,
        target_type="case",
        target_ref=grant.case.reference,
        team_id=grant.case.team_id,
    )
    return reason


@transaction.atomic
def account_contain(*, target: User, by: User, since: datetime, reason: str) -> Containment:
    """Locks the account, ends its sessions, removes its second factor, and gives each case
    and request it touched since `since` a re-assessment task for the team's coordinators.

    The password is made unusable as well as the account inactive: whoever phished it
    must not walk back in the day an admin reactivates the account without a new one.
    """
    if not account_permissions.can_contain_account(by, target):
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


def _reason(reason: str) -> str:
    if not reason.strip():
        raise ValidationError(
            _("Give a reason: say what makes you suspect this request, or why it is genuine.")
        )
    return reason.strip()


def _locked(case: Case) -> Case:
    locked = Case.objects.select_for_update().get(pk=case.pk)
    _claim_version(locked, locked.version)
    return locked


@transaction.atomic
def provocation_flag(*, case: Case, by: User, reason: str) -> Case:
    """Flags the case as a suspected provocation; returns it as now saved."""
    if not permissions.can_flag_provocation(by, case):
        raise PermissionDenied
    reason = _reason(reason)
    case = _locked(case)
    if case.is_frozen:
        raise ValidationError(_("This case is already flagged as a suspected provocation."))
    if not permissions.can_flag_provocation(by, case):  # closed a moment ago
        raise PermissionDenied
    case.provocation_flagged_at, case.provocation_flagged_by = timezone.now(), by
    case.provocation_reason = reason
    case.save(
        update_fields=["provocation_flagged_at", "provocation_flagged_by", "provocation_reason"]
    )
    timeline_add(case, by, EventKind.PROVOCATION, detail=event_details.PROVOCATION_FLAGGED)
    audit_case(case, by, Action.PROVOCATION, reason=f"flagged: {reason}")
    return case


@transaction.atomic
def provocation_clear(*, case: Case, by: User, reason: str) -> Case:
    """A coordinator clears the flag (the request is genuine); the case moves again and its
    route is shown to those it was shown to before. The flag's reason stays in the audit
    log only."""
    if not permissions.can_clear_provocation(by, case):
        raise PermissionDenied
    reason = _reason(reason)
    case = _locked(case)
    if not case.is_frozen:
        raise ValidationError(_("This case is not flagged as a suspected provocation."))
    case.provocation_flagged_at, case.provocation_flagged_by = None, None
    case.provocation_reason = ""
    case.save(
        update_fields=["provocation_flagged_at", "provocation_flagged_by", "provocation_reason"]
    )
    timeline_add(case, by, EventKind.PROVOCATION, detail=event_details.PROVOCATION_CLEARED)
    audit_case(case, by, Action.PROVOCATION, reason=f"cleared: {reason}")
    return case
