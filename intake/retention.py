"""Retention of incoming requests that did not become (or outlived) a case.

A request accepted onto a case, or marked as its duplicate, is purged with that case
(casework.services.retention). One that was rejected, or whose case has already lost its personal
data, loses its contact and message RETENTION_DAYS after it was triaged, like a closed case.
Untriaged requests wait for triage: nobody has decided yet that they are not needed.
"""

from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from audit.models import Action
from casework.services.retention import PURGE_BATCH, purge_each, retention_cutoff
from intake.models import ForgedWebhookCalls, IntakeRequest, TelegramUpdate
from intake.services import audit_request


def expired_requests(now: datetime | None = None) -> QuerySet[IntakeRequest]:
    """Triaged longer than RETENTION_DAYS ago, with no case to keep them for, not yet purged."""
    return IntakeRequest.objects.filter(
        Q(case__isnull=True) | Q(case__purged_at__isnull=False),
        triaged_at__lt=retention_cutoff(now),
        purged_at__isnull=True,
    )


def request_purge(*, request_id: int, now: datetime | None = None) -> bool:
    """Purges one expired request in its own transaction; False if it no longer qualifies."""
    now = now or timezone.now()
    with transaction.atomic():
        # The case is outer-joined: lock the request's row only.
        found = expired_requests(now).select_for_update(of=("self",)).filter(pk=request_id)
        request = found.only("reference", "team_id").first()
        if request is None:
            return False
        IntakeRequest.objects.filter(pk=request.pk).purge(now)
        audit_request(request, None, Action.CASE_PURGED)
    return True


def purge_expired_requests(now: datetime | None = None, batch: int = PURGE_BATCH) -> int:
    """Purges every expired request; see casework.services.retention.purge_each."""
    now = now or timezone.now()
    return purge_each(
        lambda: expired_requests(now),
        lambda pk: request_purge(request_id=pk, now=now),
        order=("triaged_at", "pk"),
        what="requests",
        batch=batch,
    )


# Telegram keeps an undelivered update for 24 hours; the ids the bot took are kept a little
# longer, to know a replay (intake.channels.telegram), then forgotten.
KEEP_TELEGRAM_UPDATES = timedelta(days=3)


def telegram_updates_prune(now: datetime | None = None) -> int:
    """Forgets the ids of updates older than Telegram would deliver again; returns how many."""
    cutoff = (now or timezone.now()) - KEEP_TELEGRAM_UPDATES
    deleted, _kinds = TelegramUpdate.objects.filter(created_at__lt=cutoff).delete()
    # The forged webhook calls counted a minute go with them (intake.channels.forged).
    ForgedWebhookCalls.objects.filter(minute__lt=cutoff).delete()
    return deleted
