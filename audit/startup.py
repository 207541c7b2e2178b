"""The first chain check, asked for when Celery beat starts.

The nightly verifier runs a day after beat starts (an interval schedule counts from the
start), so a fresh install said "no check recorded yet" for its first day, and so did one
whose beat was down for a while. Beat starts with `make run` (the worker's -B) and in
production (its own service), after the migrations: the place to ask for the first check.
"""

from datetime import timedelta

from django.conf import settings
from django.db import DatabaseError
from django.utils import timezone

from audit.models import AccessEvent, Action


def check_is_due() -> bool:
    """No verification recorded within the verifier's own interval."""
    every = settings.CELERY_BEAT_SCHEDULE["verify-audit-chain"]["schedule"]
    assert isinstance(every, timedelta)
    since = timezone.now() - every
    return not AccessEvent.objects.filter(
        action=Action.AUDIT_VERIFIED, created_at__gte=since
    ).exists()


def ask_for_a_check_if_due() -> bool:
    """Queues one chain check unless a recent one is on record; True when it did."""
    from audit.tasks import verify_chain

    try:
        due = check_is_due()
    except DatabaseError:
        return False  # no database yet: the nightly check will come
    if due:
        verify_chain.delay()
    return due
