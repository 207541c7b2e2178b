"""The seal migrations bind the values stored before them to their rows, each row its own
seal; after them a token from before (a bare value, still in an old dump) is refused; and
migrating back unbinds without laundering a moved value."""

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from audit.log import record, verify
from audit.log import seal as seal_chain
from audit.models import AccessEvent, Action
from casework.models import Person
from privacy import seal
from privacy.database_roles import apply_grants
from privacy.fields import DecryptionError
from privacy.keys import crypter
from privacy.rotation import RotationError
from tests.conftest import APP_LOGIN, OWNER, as_database_owner
from tests.factories import PersonFactory, UserFactory

pytestmark = pytest.mark.django_db(transaction=True)

BEFORE = [("casework", "0012_alter_notification_kind_alter_reminder_kind")]
# Just before the audit table's seal: the migrations before it (the keyed chain's) number
# and chain events for good, and are not taken back with events in the table.
AUDIT_BEFORE = [("audit", "0018_keyed_chain")]


def migrate(targets) -> object:
    """As `manage.py migrate`: as the tables' owner, and the app role's grants again after
    (a table or column migrated away and back has lost them)."""
    with as_database_owner():
        executor = MigrationExecutor(connection)
        executor.migrate(targets)
        if OWNER is not None and connection.vendor == "postgresql":
            apply_grants(connection=connection, role=APP_LOGIN["USER"])
    return executor.loader.project_state(targets).apps


def migrate_to_latest() -> None:
    migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())


@pytest.fixture
def back_to_latest():
    yield
    migrate_to_latest()


def stored(table: str, column: str, pk) -> str:
    key = "seq" if table == "audit_accessevent" else "id"  # an event's number is its key
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {column} FROM {table} WHERE {key} = %s", [pk])  # noqa: S608
        return cursor.fetchone()[0]


def plant(table: str, column: str, pk, value) -> None:
    with connection.cursor() as cursor:
        cursor.execute(f"UPDATE {table} SET {column} = %s WHERE id = %s", [value, pk])  # noqa: S608


def test_values_from_before_are_bound_to_their_rows_and_old_tokens_refused_after(
    back_to_latest,
):
    written_after = PersonFactory(legal_name="Written Sealed", notes="after")
    old = migrate(BEFORE)
    HistoricalPerson = old.get_model("casework", "Person")
    # The reversal unbound what was sealed; the model as it was reads it.
    assert HistoricalPerson.objects.get(pk=written_after.pk).legal_name == "Written Sealed"
    people = [
        HistoricalPerson.objects.create(codename=f"Old-{n}", legal_name=f"Old Name {n}", notes="")
        for n in range(3)
    ]
    bare = stored("casework_person", "legal_name", people[0].pk)
    assert not seal.is_bound(crypter().decrypt(bare.encode()))

    migrate_to_latest()

    found = {person.pk: person for person in Person.objects.all()}
    assert [found[p.pk].legal_name for p in people] == [f"Old Name {n}" for n in range(3)]
    assert found[written_after.pk].legal_name == "Written Sealed"
    assert len({person.seal for person in found.values()}) == len(found)
    place, row, text = seal.unwrap(
        crypter().decrypt(stored("casework_person", "legal_name", people[1].pk).encode())
    )
    assert place == "casework.person.legal_name"
    assert (row, text) == (found[people[1].pk].seal, "Old Name 1")
    assert found[people[0].pk].notes == ""

    # An attacker kept the bare token from a dump of before: pasted back, it is refused.
    plant("casework_person", "notes", people[2].pk, bare)
    with pytest.raises(DecryptionError, match="not bound"):
        Person.objects.get(pk=people[2].pk)


def test_migrating_back_does_not_unbind_a_moved_value(back_to_latest):
    mine = PersonFactory(legal_name="Mine Person")
    theirs = PersonFactory(legal_name="Their Person")
    token = stored("casework_person", "legal_name", theirs.pk)
    plant("casework_person", "legal_name", mine.pk, token)
    where = f"casework_person.legal_name \\(primary key {mine.pk}\\)"
    with pytest.raises(RotationError, match=where):
        migrate(BEFORE)


def test_the_audit_reasons_are_bound_and_the_chain_still_verifies(back_to_latest):
    actor = UserFactory()
    record(Action.BREAK_GLASS, actor=actor, target_ref="C-2026-00001", reason="Night shift.")
    seal_chain()
    migrate(AUDIT_BEFORE)
    migrate_to_latest()

    event = AccessEvent.objects.get(action=Action.BREAK_GLASS)
    assert event.reason == "Night shift."
    place, row, _text = seal.unwrap(
        crypter().decrypt(stored("audit_accessevent", "reason", event.pk).encode())
    )
    assert (place, row) == ("audit.accessevent.reason", event.seal)
    result = verify()
    assert result.intact and result.checked == 1
