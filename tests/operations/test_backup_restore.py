"""`manage.py backup` and `restore`, and the restore drill CI runs on SQLite and PostgreSQL:
a seeded database is backed up, restored into a new database by another process that has
the keys from elsewhere (as a new server would), every encrypted value is read there and
`verify_audit` passes."""

import json
import os
import shutil
import subprocess
import sys
from datetime import timedelta
from io import StringIO
from pathlib import Path
from urllib.parse import quote

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command
from django.db import connection
from django.utils import timezone

from accounts.models import AccessChange, Containment, User
from accounts.roles import Role
from audit.log import record
from audit.models import AccessEvent, Action, ChainHead
from casework.models import ApprovalRequest, BreakGlass, Case, CaseTransfer, Person, RouteLeg
from config.environment import generate_keys
from destinations.models import DestinationRisk, Extradites
from documents import vault
from documents.models import Document
from intake.models import Direction, IntakeRequest, Message
from operations import backup
from privacy import canary
from privacy.fields import DecryptionError
from tests.conftest import APP_LOGIN, OWNER
from tests.factories import AuthenticatorFactory, TeamFactory, role_group
from tests.operations.values import encrypted_digest, models_without_encrypted_rows

ROOT = Path(__file__).resolve().parents[2]
CI = os.environ.get("CI") == "true"
DOCUMENT_BYTES = b"a cleaned photo of a summons, in clear before the vault encrypts it"


def seed_every_encrypted_model() -> None:
    """The demo data, and a row of every model with encrypted fields that it leaves empty."""
    role_group(Role.ADMIN)  # the roles' groups, made again after another test's flush
    call_command("seed_demo", cases=12, teams=2, seed=1, stdout=StringIO(), stderr=StringIO())
    # What the first process to start lays: the key canary, the blind-index key's record.
    canary.problem()
    canary.blind_index_problem()
    case = Case.objects.order_by("pk").first()
    admin = User.objects.get(username="demo-admin")
    volunteer = User.objects.get(username="demo-volunteer")
    now = timezone.now()
    AuthenticatorFactory(user=volunteer)
    RouteLeg.objects.create(
        case=case,
        position=1,
        origin="Orenburg",
        destination="Aktobe",
        means="bus",
        contact="driver, +7 900 111-22-33",
        safe_house="flat by the station",
        notes="leave the phone at home",
        volunteer=volunteer,
    )
    BreakGlass.objects.create(
        case=case,
        user=admin,
        reason="the assignee is unreachable",
        expires_at=now + timedelta(hours=1),
        review_comment="justified",
    )
    ApprovalRequest.objects.create(
        case=case,
        to_stage="closed",
        asked_by=volunteer,
        asked_version=case.version,
        note="please close, he is safe",
        state="declined",
        decline_reason="wait for the check-in",
    )
    DestinationRisk.objects.create(
        country="UZ",  # not one of the demo's own entries
        extradites=Extradites.YES,
        incidents="two detentions in 2025",
        passport_needed="internal passport",
        notes="avoid the capital",
    )
    Containment.objects.create(
        user=volunteer, by=admin, since=now, reason="phone seized at the border", audit_seq=1
    )
    CaseTransfer.objects.create(
        case=case,
        from_team=case.team,
        to_team=TeamFactory(name="Transfer drill"),
        asked_by=admin,
        note="moved to Rostov",
        state="declined",
        reason="no free volunteer",
    )
    AccessChange.objects.create(
        target=volunteer,
        kind=AccessChange.Kind.ADD_TEAM,
        team=TeamFactory(name="Backup drill"),
        proposed_by=admin,
        reason="refused: not vetted yet",
    )
    record(
        Action.BREAK_GLASS,
        actor=admin,
        target_type="case",
        target_ref=case.reference,
        reason="the assignee is unreachable",
    )
    # A case's file (unless the demo attached some), and one attached at triage to a
    # request not decided yet: its request's alone.
    waiting = IntakeRequest.objects.filter(state="new").order_by("pk").first()
    # A conversation with the person through the bot: where replies go, and one message.
    waiting.reply_address = "700100200"
    waiting.save(update_fields=["reply_address"])
    Message.objects.create(request=waiting, direction=Direction.IN, text="Are you there?")
    owners = [{"intake_request": waiting}]
    if not Document.objects.exists():
        owners.append({"case": case})
    for owner in owners:
        Document.objects.create(
            **owner,
            number=1,
            kind="summons",
            description="summons, March",
            original_name="summons.jpg",
            content_type="image/jpeg",
            size=len(DOCUMENT_BYTES),
            storage_name=vault.store(DOCUMENT_BYTES),
            added_by=volunteer,
        )


@pytest.fixture
def seeded(transactional_db, settings, tmp_path):
    """Committed, so that pg_dump, another process, sees it."""
    settings.VAR_DIR = tmp_path / "seed-var"  # the demo password file
    settings.VAR_DIR.mkdir()
    seed_every_encrypted_model()


@pytest.fixture
def made(seeded, tmp_path) -> Path:
    if connection.vendor == "postgresql" and shutil.which("pg_dump") is None:
        if CI:
            pytest.fail("pg_dump is missing; CI must install the PostgreSQL client")
        pytest.skip("pg_dump is not installed")
    directory = tmp_path / "backup"
    call_command("backup", str(directory), stdout=StringIO())
    return directory


def key_env() -> dict[str, str]:
    """The keys, as an operator brings them to a new server from where they are kept."""
    return {
        "SECRET_KEY": settings.SECRET_KEY,
        "FIELD_ENCRYPTION_KEY": ",".join(settings.FIELD_ENCRYPTION_KEY),
        "BLIND_INDEX_KEY": settings.BLIND_INDEX_KEY.hex(),
        "AUDIT_KEY": ",".join(key.hex() for key in settings.AUDIT_KEY),
    }


def postgres_url(login: dict, name: str) -> str:
    user, password = quote(login["USER"] or "", safe=""), login.get("PASSWORD") or ""
    credentials = f"{user}:{quote(password, safe='')}" if password else user
    port = f":{login['PORT']}" if login.get("PORT") else ""
    return f"postgres://{credentials}@{login.get('HOST') or ''}{port}/{name}"


@pytest.fixture
def new_database(tmp_path):
    """A new, empty database and the environment of a process on a new server using it:
    its own var/ (no secrets.json of ours), the keys from the environment."""
    environment = {
        name: value
        for name, value in os.environ.items()
        if name not in {"DATABASE_URL", "DATABASE_OWNER_URL", "CELERY_BROKER_URL"}
    }
    environment.update(
        SAFE_PASSAGE_MODE="embedded",
        SAFE_PASSAGE_VAR_DIR=str(tmp_path / "new-server"),
        **key_env(),
    )
    if connection.vendor == "sqlite":
        environment["DATABASE_URL"] = f"sqlite:///{tmp_path / 'restored.sqlite3'}"
        yield environment
        return
    import psycopg2

    name = f"{connection.settings_dict['NAME']}_restored"
    creator = OWNER or APP_LOGIN
    admin = psycopg2.connect(
        dbname="postgres",
        user=creator["USER"],
        password=creator.get("PASSWORD") or None,
        host=creator.get("HOST") or None,
        port=creator.get("PORT") or None,
    )
    admin.autocommit = True
    with admin.cursor() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        cursor.execute(f'CREATE DATABASE "{name}"')
    environment["DATABASE_URL"] = postgres_url(APP_LOGIN, name)
    if OWNER is not None:
        environment["DATABASE_OWNER_URL"] = postgres_url(OWNER, name)
    try:
        yield environment
    finally:
        with admin.cursor() as cursor:
            cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


def manage(environment: dict[str, str], *arguments: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", *arguments],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_the_restore_drill_reads_every_encrypted_value_and_verifies_the_chain(made, new_database):
    """Backed up, restored into a new database by a new server holding only the keys:
    every encrypted value there is the one backed up, and verify_audit passes."""
    assert models_without_encrypted_rows() == []
    expected = encrypted_digest()

    restored = manage(new_database, "restore", str(made))
    assert restored.returncode == 0, restored.stderr[-3000:]
    assert "every one decrypts in its place" in restored.stdout
    # The documents' files are back in the new server's storage (and decrypted in the proof).
    new_files = Path(new_database["SAFE_PASSAGE_VAR_DIR"]) / "documents"
    names = set(Document.objects.values_list("storage_name", flat=True))
    assert names and {path.name for path in new_files.iterdir()} == names
    head = ChainHead.objects.get(id=1).seq
    assert f"Audit chain intact: {head:,} events, through the backup's head #{head}" in (
        restored.stdout
    )

    read = manage(
        new_database,
        "shell",
        "-c",
        "from tests.operations.values import encrypted_digest, models_without_encrypted_rows;"
        "print('MISSING', models_without_encrypted_rows()); print('DIGEST', encrypted_digest())",
    )
    assert read.returncode == 0, read.stderr[-3000:]
    assert "MISSING []" in read.stdout
    assert f"DIGEST {expected}" in read.stdout

    verified = manage(new_database, "verify_audit")
    assert verified.returncode == 0, verified.stderr[-3000:]
    assert "Audit chain intact" in verified.stdout


def test_a_restore_under_another_field_key_says_the_data_cannot_be_read(made, new_database):
    from cryptography.fernet import Fernet

    new_database["FIELD_ENCRYPTION_KEY"] = Fernet.generate_key().decode()
    restored = manage(new_database, "restore", str(made))
    assert restored.returncode == 1
    assert "the configured keys do not fit it" in restored.stderr
    assert "FIELD_ENCRYPTION_KEY does not decrypt" in restored.stderr
    assert "Traceback" not in restored.stderr


def test_a_lost_blind_index_key_is_rebuilt_after_the_restore(made, new_database):
    """The search indexes are the one thing a new key can make again: the restore goes
    through, says what to run, and rotate_keys --blind-index brings them to the new key."""
    new_database["BLIND_INDEX_KEY"] = generate_keys()["BLIND_INDEX_KEY"]
    restored = manage(new_database, "restore", str(made))
    assert restored.returncode == 0, restored.stderr[-3000:]
    assert "rotate_keys --blind-index" in restored.stderr
    rebuilt = manage(new_database, "rotate_keys", "--blind-index")
    assert rebuilt.returncode == 0, rebuilt.stderr[-3000:]
    checked = manage(
        new_database,
        "shell",
        "-c",
        "from privacy.canary import blind_index_problem; print('PROBLEM', blind_index_problem())",
    )
    assert "PROBLEM None" in checked.stdout, checked.stderr[-3000:]


def test_a_backup_is_a_dump_a_manifest_and_the_files_and_holds_no_key(made):
    assert sorted(path.name for path in made.iterdir()) == sorted(
        [backup.MANIFEST, backup.DUMPS[connection.vendor], backup.DOCUMENTS]
    )
    assert oct(made.stat().st_mode & 0o777) == "0o700"
    files = sorted(path for path in made.rglob("*") if path.is_file())
    contents = b"".join(path.read_bytes() for path in files)
    # The documents' files as storage holds them: encrypted, one per document.
    names = set(Document.objects.values_list("storage_name", flat=True))
    assert {path.name for path in (made / backup.DOCUMENTS).iterdir()} == names
    assert DOCUMENT_BYTES not in contents
    if connection.vendor == "postgresql":
        # pg_dump compresses its data: read it back as SQL.
        dump = made / backup.DUMPS["postgresql"]
        contents += subprocess.run(
            ["pg_restore", "--file=-", str(dump)], capture_output=True, check=True
        ).stdout
        assert b"casework_person" in contents
    for name, value in key_env().items():
        for key in value.split(","):
            assert key.encode() not in contents, name
            assert key.upper().encode() not in contents, name


def test_the_manifest_names_time_vendor_migrations_audit_head_and_rows(made):
    manifest = json.loads((made / backup.MANIFEST).read_text())
    assert manifest["vendor"] == connection.vendor
    assert manifest["created_at"].startswith(str(timezone.now().year))
    assert ["audit", "0019_seal"] in manifest["state"]["migrations"]
    head = ChainHead.objects.get(id=1)
    assert manifest["state"]["audit_position"] == head.seq > 0
    assert manifest["state"]["audit_link"] == head.last_hash
    assert manifest["state"]["rows"]["casework_case"] == Case.objects.count() == 12
    assert manifest["state"]["rows"]["audit_accessevent"] == AccessEvent.objects.count()
    assert len(manifest["sha256"]) == 64 and len(manifest["mac"]) == 64


def test_a_key_found_in_the_database_stops_the_backup_and_deletes_it(seeded, tmp_path):
    TeamFactory(name=settings.BLIND_INDEX_KEY.hex())
    directory = tmp_path / "backup"
    with pytest.raises(CommandError, match="BLIND_INDEX_KEY was found in database"):
        call_command("backup", str(directory), stdout=StringIO())
    assert not directory.exists()


def test_a_backup_beside_the_embedded_keys_is_refused(db, settings, tmp_path):
    settings.EMBEDDED = True
    settings.VAR_DIR = tmp_path / "var"
    with pytest.raises(CommandError, match=r"outside .* that folder holds the keys"):
        call_command("backup", str(tmp_path / "var" / "backups" / "today"), stdout=StringIO())
    assert not (tmp_path / "var" / "backups").exists()


def test_a_backup_into_a_directory_that_holds_files_is_refused(db, tmp_path):
    (tmp_path / "backup").mkdir()
    (tmp_path / "backup" / "notes.txt").write_text("mine")
    with pytest.raises(CommandError, match="not an empty directory"):
        call_command("backup", str(tmp_path / "backup"), stdout=StringIO())
    assert (tmp_path / "backup" / "notes.txt").read_text() == "mine"


def restore(directory: Path, *options: str) -> None:
    call_command("restore", str(directory), *options, stdout=StringIO(), stderr=StringIO())


def test_restore_refuses_a_database_that_already_has_tables(made):
    cases = Case.objects.count()
    with pytest.raises(CommandError, match=r"already holds .* tables.*--force"):
        restore(made)
    assert Case.objects.count() == cases


def test_restore_refuses_a_dump_changed_after_the_backup(made):
    dump = made / backup.DUMPS[connection.vendor]
    data = bytearray(dump.read_bytes())
    data[len(data) // 2] ^= 0xFF
    dump.write_bytes(bytes(data))
    with pytest.raises(CommandError, match=r"does not match the SHA-256.*Nothing was restored"):
        restore(made, "--force")


def test_restore_refuses_a_document_file_changed_after_the_backup(made):
    blob = next((made / backup.DOCUMENTS).iterdir())
    blob.write_bytes(blob.read_bytes()[:-10])
    with pytest.raises(CommandError, match=r"missing or changed.*Nothing was restored"):
        restore(made, "--force")


def test_restore_refuses_a_manifest_changed_after_the_backup(made):
    """Whoever holds a backup but not the audit key cannot make a changed dump pass: the
    new SHA-256 they write into the manifest breaks its MAC."""
    path = made / backup.MANIFEST
    manifest = json.loads(path.read_text())
    manifest["state"]["rows"]["casework_case"] += 1
    path.write_text(json.dumps(manifest))
    with pytest.raises(CommandError, match="MAC does not verify under AUDIT_KEY"):
        restore(made, "--force")


def test_restore_refuses_a_backup_of_the_other_kind_of_database(made):
    other = "postgresql" if connection.vendor == "sqlite" else "sqlite"
    path = made / backup.MANIFEST
    manifest = json.loads(path.read_text())
    (made / manifest["dump"]).rename(made / backup.DUMPS[other])
    manifest.update(vendor=other, dump=backup.DUMPS[other])
    manifest["mac"] = backup._mac(settings.AUDIT_KEY[0], manifest)
    path.write_text(json.dumps(manifest))
    with pytest.raises(CommandError, match=f"backup of a {other} database.*Nothing was restored"):
        restore(made, "--force")


@pytest.mark.parametrize("given", ["missing", "empty", "not json"])
def test_restore_says_what_is_wrong_with_something_that_is_not_a_backup(db, tmp_path, given):
    directory = tmp_path / "backup"
    if given != "missing":
        directory.mkdir()
    if given == "not json":
        (directory / backup.MANIFEST).write_text("{not json")
    with pytest.raises(CommandError, match=r"not a directory|holds no manifest|not valid JSON"):
        restore(directory)


def test_reading_every_encrypted_value_names_one_moved_by_sql(db):
    """What the drill's read is worth: a value copied into another row is refused."""
    first = Person.objects.create(codename="First", legal_name="First Person")
    second = Person.objects.create(codename="Second", legal_name="Second Person")
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE casework_person SET legal_name = "
            "(SELECT legal_name FROM casework_person WHERE id = %s) WHERE id = %s",
            [first.pk, second.pk],
        )
    # Not pytest.raises: its traceback would keep PostgreSQL's server-side cursor open
    # until after the test's transaction is gone.
    try:
        backup.encrypted_values_read()
    except DecryptionError as error:
        refused = (error.place, error.pk)
    else:
        pytest.fail("a value copied into another row was read")
    assert refused == ("casework.person.legal_name", second.pk)


# Debian releases and the major version of their postgresql-client.
POSTGRESQL_CLIENT_OF = {"bookworm": 15, "trixie": 17}


def test_the_image_carries_the_postgresql_client_of_the_compose_database():
    """backup and restore run in the app's image (`docker compose run migrate …`): its
    pg_dump and pg_restore must be of the server's major version. A newer client writes
    dumps an older server may refuse; an older one refuses to dump a newer server."""
    import yaml

    dockerfile = (ROOT / "Dockerfile").read_text()
    base = next(line.split()[1] for line in dockerfile.splitlines() if line.startswith("FROM "))
    release = base.rsplit("-", 1)[-1]
    assert release in POSTGRESQL_CLIENT_OF, f"{base}: pin the Debian release"
    assert "postgresql-client" in dockerfile
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    server = compose["services"]["postgres"]["image"]
    assert server == f"postgres:{POSTGRESQL_CLIENT_OF[release]}", (base, server)
