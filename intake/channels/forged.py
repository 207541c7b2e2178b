"""Webhook calls without the right secret: refused, counted, and audited up to a limit.

Anyone may call the webhook, and whoever wants to can forge a thousand calls a second. Each
one audited would grow the append-only log without bound and keep the sealer busy chaining
it. So every forged call is counted, one row a minute (ForgedWebhookCalls, a single
upsert: no lock beyond that row's, no read before it), and only the first
TELEGRAM_FORGED_AUDIT_PER_MINUTE of a minute are written to the audit log. The call that
goes over the limit raises an alert for the admins, at most one an hour however long the
flood lasts; the health page shows the real count (`refused_since`).

No Redis, no cache: several web processes share the count, and the embedded mode has
neither.
"""

from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection
from django.db.models import Sum
from django.utils import timezone

from audit.log import record
from audit.models import Action, InsiderAlert
from intake.models import ForgedWebhookCalls

# One alert for a flood, not one a minute: the admins are told once it started, and again
# an hour later if it goes on (each alert is an urgent notification for every admin).
ALERT_REPEAT = timedelta(hours=1)


def _counted(minute: datetime) -> int:
    """Adds one call to the minute's row (made on the minute's first call) and returns the
    minute's calls so far, this one included: one statement, atomic on PostgreSQL and
    SQLite alike, so no two calls get the same number."""
    table = connection.ops.quote_name(ForgedWebhookCalls._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (minute, calls) VALUES (%s, 1) "  # noqa: S608
            f"ON CONFLICT (minute) DO UPDATE SET calls = {table}.calls + 1 RETURNING calls",
            [connection.ops.adapt_datetimefield_value(minute)],
        )
        return cursor.fetchone()[0]


def forged_call(now: datetime | None = None) -> None:
    """Records one forged call: counted always, audited within the minute's limit, an
    alert when the minute goes over it. Over the limit, nothing is written but the count."""
    now = now or timezone.now()
    calls = _counted(now.replace(second=0, microsecond=0))
    limit = settings.TELEGRAM_FORGED_AUDIT_PER_MINUTE
    if calls <= limit:
        record(Action.REFUSED, actor=None, target_type="telegram", target_ref="webhook")
    elif calls == limit + 1:
        _flood_alert(now, limit)


def _flood_alert(now: datetime, limit: int) -> None:
    kind = InsiderAlert.Kind.FORGED_WEBHOOK
    if InsiderAlert.objects.filter(kind=kind, created_at__gt=now - ALERT_REPEAT).exists():
        return
    InsiderAlert.objects.create(
        kind=kind,
        created_at=now,
        detail=(
            f"more than {limit} webhook calls with a wrong secret within a minute; those "
            "over the limit are counted on the health page, not audited"
        ),
    )


def refused_since(since: datetime) -> int:
    """Forged calls refused since then (from the start of that minute), audited or not."""
    minute = since.replace(second=0, microsecond=0)
    counted = ForgedWebhookCalls.objects.filter(minute__gte=minute).aggregate(Sum("calls"))
    return counted["calls__sum"] or 0
