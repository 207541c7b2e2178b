"""The admins' review of break-glass opens: a queue, newest unreviewed first.

Reasons are decrypted here and nowhere else for admins, and only one at a time on request,
each reading audited: they describe the coordinator's need, but may brush against the
person, so no list shows them and no admin reads them all unnoticed.
"""

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from audit.log import record
from audit.models import Action
from casework import permissions
from casework.models import BreakGlass
from privacy.fields import bound_to

QUEUE_LIMIT = 100
REVIEWED_LIMIT = 50
# Loaded for the lists: the grant, who opened it, the reference; nothing of the case else,
# and not the reason (break_glass_reason_reveal).
FIELDS = (
    "seal",
    "case__reference",
    "case__team",
    "user__username",
    "reviewed_by__username",
    "created_at",
    "expires_at",
    "reviewed_at",
    "review_comment",
)


def _grants(user: User) -> QuerySet[BreakGlass]:
    if not permissions.can_review_break_glass(user):
        raise PermissionDenied
    return BreakGlass.objects.select_related("case", "user", "reviewed_by").only(*FIELDS)


def break_glass_queue(user: User) -> QuerySet[BreakGlass]:
    """Grants nobody has reviewed yet, newest first."""
    return _grants(user).filter(reviewed_at__isnull=True).order_by("-created_at", "-pk")


def break_glass_reviewed(user: User) -> QuerySet[BreakGlass]:
    """Grants already reviewed, the latest review first."""
    return _grants(user).filter(reviewed_at__isnull=False).order_by("-reviewed_at", "-pk")


def break_glass_for_review(user: User, pk: int) -> BreakGlass:
    return get_object_or_404(_grants(user), pk=pk)


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
