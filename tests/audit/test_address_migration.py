"""Migration 0011 takes the clear addresses out of events written before it and re-hashes
the chain: verify_audit says intact afterwards, an event edited afterwards is still caught,
and a chain that was already broken stays on record as broken."""

import hashlib
import json
from datetime import timedelta
from ipaddress import ip_address

import pytest
from django.core.management import call_command
from django.db import DatabaseError, connection, transaction
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from audit import addresses, log
from audit.models import AccessEvent, Action, ChainHead, InsiderAlert
from privacy.database_roles import apply_grants
from tests.audit.test_audit_log import tamper
from tests.concurrency import needs_postgres
from tests.conftest import APP_LOGIN, OWNER, as_database_owner
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db(transaction=True)

BEFORE = [("audit", "0010_accessevent_source_network_and_digest")]
HOME = "203.0.113.77"
PHONE = "2001:db8:1234:5678::9"
DAYS = 30


def migrate_to_latest() -> None:
    """As `manage.py migrate` does: migrations, then the app role's grants again (a column
    migrated away and back has lost its column grants)."""
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())
    if OWNER is not None and connection.vendor == "postgresql":
        with as_database_owner():
            apply_grants(connection=connection, role=APP_LOGIN["USER"])


@pytest.fixture
def before_0011(settings):
    """The audit tables as 0010 left them; back to the latest afterwards, whatever happens.
    As the tables' owner, who runs migrations (`manage.py migrate`); the test too, which
    writes and edits the log as it stood before the migration."""
    settings.ADDRESS_RETENTION_DAYS = DAYS
    with as_database_owner():
        executor = MigrationExecutor(connection)
        executor.migrate(BEFORE)
        yield executor.loader.project_state(BEFORE).apps
        migrate_to_latest()


def old_hash(fields: list) -> str:
    """The chain's encoding up to 0010: the address hashed in clear."""
    return hashlib.sha256(
        json.dumps(fields, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    ).hexdigest()


def write_old_chain(apps, rows: list[dict]) -> None:
    Event = apps.get_model("audit", "AccessEvent")
    previous = "0" * 64
    for seq, row in enumerate(rows, 1):
        event = Event(seq=seq, target_type="user", request_id=f"{seq:032x}", **row)
        event.prev_hash = previous
        event.hash = previous = old_hash(
            [
                event.seq,
                event.created_at.isoformat(),
                event.actor_id,
                event.action,
                event.target_type,
                event.target_ref,
                event.team_id,
                event.source_address,
                event.request_id,
                event.reason or "",
                event.prev_hash,
            ]
        )
        event.save()
    apps.get_model("audit", "ChainHead").objects.update_or_create(
        id=1, defaults={"seq": len(rows), "last_hash": previous}
    )


def old_rows(user) -> list[dict]:
    now = timezone.now()
    return [
        # Signed in from home long ago, and again last week; a case opened from a phone.
        {"created_at": now - timedelta(days=DAYS + 10), "source_address": HOME},
        {"created_at": now - timedelta(days=7), "source_address": HOME},
        {
            "created_at": now - timedelta(days=1),
            "source_address": PHONE,
            "action": Action.CASE_VIEWED,
            "target_ref": "C-2026-00042",
        },
        {
            "created_at": now - timedelta(hours=1),
            "source_address": HOME,
            "action": Action.BREAK_GLASS,
            "reason": "Assignee unreachable",
        },
    ]


def with_actor(rows: list[dict], user) -> list[dict]:
    return [{"action": Action.SECOND_FACTOR, "actor_id": user.pk, **row} for row in rows]


def stored_text() -> str:
    """Every value of every row of every table, as a dump of the database shows them."""
    found = []
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names():
            cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")  # noqa: S608
            found += [repr(row) for row in cursor.fetchall()]
    return "\n".join(found)


def test_the_migration_removes_every_clear_address_and_the_chain_verifies(before_0011, capsys):
    user = UserFactory()
    write_old_chain(before_0011, with_actor(old_rows(user), user))
    assert HOME in stored_text()
    migrate_to_latest()

    columns = {
        column.name
        for column in connection.introspection.get_table_description(
            connection.cursor(), AccessEvent._meta.db_table
        )
    }
    assert "source_address" not in columns
    text = stored_text()
    for address in (HOME, PHONE, ip_address(PHONE).exploded):
        assert address not in text
    events = list(AccessEvent.objects.order_by("seq"))
    assert [event.source_network for event in events] == [
        "",  # older than the retention: nothing kept
        "203.0.113.0/24",
        "2001:db8:1234::/48",
        "203.0.113.0/24",
        "",  # the migration's own event
        "",  # and 0017's, linking the chain again under AUDIT_KEY
    ]
    home = addresses.digest_of(user.pk, ip_address(HOME))
    assert [event.source_digest for event in events] == ["", home, "", "", "", ""]
    keyed = events.pop()
    assert (keyed.seq, keyed.action, keyed.target_ref) == (6, Action.CHAIN_KEYED, "5")
    assert "5 events linked again under AUDIT_KEY" in keyed.reason
    assert "Chain as found: intact." in keyed.reason
    rehashed = events[-1]
    assert (rehashed.seq, rehashed.action, rehashed.target_ref) == (5, Action.CHAIN_REHASHED, "4")
    assert "4 events re-hashed" in rehashed.reason
    assert "Chain as found: intact." in rehashed.reason
    assert events[2].reason is None and events[3].reason == "Assignee unreachable"
    assert ChainHead.objects.get().seq == 6
    call_command("verify_audit")
    assert "Audit chain intact: 6 events" in capsys.readouterr().out
    assert not InsiderAlert.objects.exists()


def test_an_event_edited_after_the_migration_is_still_caught(before_0011):
    user = UserFactory()
    write_old_chain(before_0011, with_actor(old_rows(user), user))
    migrate_to_latest()
    assert log.verify().broken_seq is None
    tamper(3, "target_ref", "C-2026-99999")
    assert log.verify().broken_seq == 3


def test_a_chain_broken_before_the_migration_stays_on_record(before_0011):
    user = UserFactory()
    write_old_chain(before_0011, with_actor(old_rows(user), user))
    tamper(2, "target_ref", "C-2026-99999", where="seq")  # before chain positions existed
    migrate_to_latest()
    rehashed = AccessEvent.objects.get(action=Action.CHAIN_REHASHED)
    assert "Chain as found: broken at #2: contents changed after writing." in rehashed.reason
    alert = InsiderAlert.objects.get()
    assert (alert.kind, alert.event_seq) == (InsiderAlert.Kind.CHAIN_BROKEN, 2)


def test_the_migration_names_the_last_event_before_it(before_0011):
    """Whoever kept the old last hash (a backup, an old verify run) can match it."""
    user = UserFactory()
    write_old_chain(before_0011, with_actor(old_rows(user), user))
    old_last = before_0011.get_model("audit", "AccessEvent").objects.get(seq=4).hash
    migrate_to_latest()
    rehashed = AccessEvent.objects.get(action=Action.CHAIN_REHASHED)
    assert f"Last event before: #4 {old_last}." in rehashed.reason
    assert AccessEvent.objects.get(seq=4).hash != old_last


@needs_postgres
def test_the_append_only_trigger_is_back_on_after_the_migration(before_0011):
    user = UserFactory()
    write_old_chain(before_0011, with_actor(old_rows(user), user))
    migrate_to_latest()
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        AccessEvent.objects.filter(seq=2).update(target_ref="C-2026-00000")
