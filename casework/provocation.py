"""Suspected provocation: fake requests are a known way to learn routes and volunteers.

Flagging freezes the case (workflow.move_problems refuses every stage move but closing it
as a suspected provocation) and hides the route from everyone but the team's coordinators
(permissions.can_see_route). The assignee, who screens the case, or a coordinator flags it;
only a coordinator clears it. Both need a reason, stored encrypted and in the audit log.

Flagging locks the case row and takes whatever version it has: a warning must never be
refused because someone saved a moment earlier. It still bumps the version, so any page
opened before it is refused and reloaded with the case frozen.
"""

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from audit.models import Action
from casework import permissions
from casework.models import Case, EventKind
from casework.services import _claim_version, audit_case, timeline_add


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
    timeline_add(case, by, EventKind.PROVOCATION, detail=_("flagged: the case is frozen"))
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
    timeline_add(case, by, EventKind.PROVOCATION, detail=_("cleared: the case moves again"))
    audit_case(case, by, Action.PROVOCATION, reason=f"cleared: {reason}")
    return case
