"""Is the background worker alive? Reminders, alarms, e-mail and the audit sealer all run on
it, and a worker that gave up on a lost broker stops them silently.

Beat asks the worker for a heartbeat every minute (casework.tasks.worker_heartbeat). The
web process, not the worker, notices the silence: an admin's page carries a banner, and the
first admin page seen after the heartbeat is WORKER_SILENT_MINUTES old raises one alert for
the outage (the dispatcher tells the admins once the worker is back, so the outage stays
on record).
"""

from datetime import datetime, timedelta

from django.conf import settings
from django.http import HttpRequest
from django.utils import timezone

from accounts import permissions
from audit.models import InsiderAlert
from casework.models import Heartbeat


def silent_limit() -> timedelta:
    return timedelta(minutes=settings.WORKER_SILENT_MINUTES)


def worker_silent_since(now: datetime | None = None) -> datetime | None:
    """When the worker was last heard from, if that is longer ago than the limit. A worker
    that never answered (a fresh install) is for the health page to show, not an alarm."""
    now = now or timezone.now()
    seen = Heartbeat.objects.filter(name="worker").values_list("seen_at", flat=True).first()
    if seen is None or now - seen <= silent_limit():
        return None
    return seen


def worker_silence_alert(seen: datetime) -> None:
    """One alert per outage: none yet since the worker was last heard from."""
    kind = InsiderAlert.Kind.WORKER_SILENT
    if not InsiderAlert.objects.filter(kind=kind, created_at__gt=seen).exists():
        InsiderAlert.objects.create(kind=kind, detail=f"last heartbeat {seen.isoformat()}")


def worker_banner(request: HttpRequest) -> dict:
    """Context processor: on the pages of those who manage the service, the silence."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated or not permissions.can_manage_accounts(user):
        return {}
    if not user.is_verified():
        return {}
    seen = worker_silent_since()
    if seen is None:
        return {}
    worker_silence_alert(seen)
    return {"worker_silent_since": seen}
