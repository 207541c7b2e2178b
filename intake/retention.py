"""Retention of incoming requests that did not become (or outlived) a case.

A request accepted onto a case, or marked as its duplicate, is purged with that case
(casework.retention). One that was rejected, or whose case has already lost its personal
data, loses its contact and message RETENTION_DAYS after it was triaged, like a closed case.
Untriaged requests wait for triage: nobody has decided yet that they are not needed.
"""

import logging
from datetime import datetime

from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from audit.models import Action
from casework.retention import PURGE_BATCH, retention_cutoff
from intake.models import IntakeRequest
from intake.services import audit_request

logger = logging.getLogger(__name__)


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
    """Purges every expired request, one transaction each, `batch` ids at a time."""
    now = now or timezone.now()
    purged, failed = 0, set()
    while True:
        ids = list(
            expired_requests(now)
            .exclude(pk__in=failed)
            .order_by("triaged_at", "pk")
            .values_list("pk", flat=True)[:batch]
        )
        if not ids:
            break
        for request_id in ids:
            try:
                purged += request_purge(request_id=request_id, now=now)
            except Exception as error:
                # The class name only: a database error's message can quote the row.
                failed.add(request_id)
                logger.error("retention: purging a request failed (%s)", type(error).__name__)
    logger.info("retention: %d requests purged, %d failed", purged, len(failed))
    return purged
