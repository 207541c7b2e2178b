from celery import shared_task
from django.conf import settings
from django.utils import timezone


@shared_task(name="accounts.tasks.purge_expired_lockouts")
def purge_expired_lockouts() -> int:
    """Forgets failed-login records (username, address, browser) once the lock-out window ends."""
    from axes.models import AccessAttempt

    cutoff = timezone.now() - settings.AXES_COOLOFF_TIME
    deleted, _ = AccessAttempt.objects.filter(attempt_time__lt=cutoff).delete()
    return deleted
