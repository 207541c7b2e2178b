"""Alerts raised from outside the audit log: an encrypted value refused (privacy.tampering).

A value moved or planted by someone holding the database is an alert for the admins, like
a break of the chain; the dispatcher turns it into urgent notifications with the others
(casework.scheduling). The alert names the place and the row, never the value. The same
place read again within the hour by the same user raises nothing new: a refreshed page is
one finding, not ten.
"""

from datetime import timedelta

from django.utils import timezone

from audit.models import InsiderAlert

REPEAT_WITHIN = timedelta(hours=1)


def on_value_refused(sender, *, found, actor=None, **kwargs) -> None:
    detail = found.text[: InsiderAlert._meta.get_field("detail").max_length]
    actor_id = getattr(actor, "pk", None)
    repeated = InsiderAlert.objects.filter(
        kind=InsiderAlert.Kind.TAMPERED,
        actor_id=actor_id,
        detail=detail,
        created_at__gte=timezone.now() - REPEAT_WITHIN,
    )
    if not repeated.exists():
        InsiderAlert.objects.create(
            kind=InsiderAlert.Kind.TAMPERED, actor_id=actor_id, detail=detail
        )
