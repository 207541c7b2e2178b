"""Deciding a waiting row once: a role or team change, an approval request, a transfer."""

from typing import TYPE_CHECKING

from django.core.exceptions import ValidationError
from django.db.models import Model
from django.utils import timezone

from accounts.models import User

if TYPE_CHECKING:  # django-stubs, a test extra
    from django_stubs_ext import StrOrPromise

PENDING = "pending"  # the waiting state of every such row


def decide_once(row: Model, *, by: User, state: str, refused: "StrOrPromise", **fields) -> None:
    """Moves `row` from pending to `state`, decided by `by`, in one conditional UPDATE: a
    second decision (another tab, another person, a race) finds it decided and raises
    ValidationError(refused), changing nothing. `fields` (a reason) are saved through the
    instance, since encrypted values are bound to their row."""
    now = timezone.now()
    claimed = (
        type(row)
        ._default_manager.filter(pk=row.pk, state=PENDING)
        .update(state=state, decided_by=by, decided_at=now)
    )
    if not claimed:
        raise ValidationError(refused)
    for name, value in {"state": state, "decided_by": by, "decided_at": now, **fields}.items():
        setattr(row, name, value)
    if fields:
        row.save(update_fields=list(fields))
