"""Backing up the database and restoring it, on the embedded SQLite file and on PostgreSQL.

A backup is a directory holding these, readable by its owner only:

- the database: ``database.sqlite3``, a copy made with SQLite's online backup API (the app
  may keep running), or ``database.pgdump``, ``pg_dump --format=custom`` run as the owner of
  the tables (DATABASE_OWNER_URL; DATABASE_URL's role without it);
- ``documents/``: the documents' files exactly as storage holds them (encrypted under the
  field keys, random names), one per document row of the dump;
- ``manifest.json``: when it was made, from which kind of database, which migrations had
  run, the audit chain's head (position and link), the rows of every table, and the dump's
  SHA-256, under an HMAC keyed from AUDIT_KEY. On PostgreSQL it is read in the very snapshot
  pg_dump dumps (``pg_export_snapshot``), on SQLite from the copy: it describes the dump
  exactly, even while the app writes.

No key goes in: a stolen backup is ciphertext, and whoever holds the keys but no backup has
nothing either. Every file written is searched for the configured keys before the backup
counts as made, and in the embedded mode it may not be written under ``var/``, beside
``secrets.json``, where a copy of the folder would carry both.

A restore refuses a database that already has tables (unless told to replace them), a
dump whose SHA-256 or manifest whose MAC does not match, and a backup of the other kind of
database. After loading it proves the result: the migrations, rows and audit head are the
manifest's, the configured keys fit (key canary, blind-index key, audit key), every
encrypted value of every model decrypts in its place, every document's file is there and
decrypts, and the audit chain verifies through the manifest's head.
"""

import base64
import hashlib
import hmac
import json
import os
import shutil
import sqlite3
import subprocess
import time
from contextlib import nullcontext
from dataclasses import asdict, dataclass, field
from dataclasses import replace as replace_fields
from pathlib import Path

from django.apps import apps
from django.conf import settings
from django.core.files import File
from django.db import connection, transaction
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from audit import checkpoints, log
from audit.checkpoints import Checkpoint
from documents import vault
from documents.models import Document
from privacy import canary
from privacy.database_roles import apply_grants, connected_as_owner, current_role
from privacy.fields import DecryptionError, encrypted_fields

FORMAT = 1
MANIFEST = "manifest.json"
DUMPS = {"sqlite": "database.sqlite3", "postgresql": "database.pgdump"}
DOCUMENTS = "documents"
# The manifest's MAC is under AUDIT_KEY with a label of its own: it can never pass for a
# chain link or a checkpoint line, which are MACs under the same key.
MAC_LABEL = b"safe-passage backup manifest\x00"
READ_CHUNK = 1 << 20
CLIENT_MISSING = (
    "install the PostgreSQL client of the server's major version (Debian: postgresql-client)."
)


class BackupError(Exception):
    """What went wrong, said for the operator: no traceback, no value from the database."""


@dataclass(frozen=True)
class State:
    """What a database holds, as far as a restore must find it again."""

    migrations: list[list[str]]
    audit_position: int
    audit_link: str
    rows: dict[str, int]


@dataclass(frozen=True)
class Manifest:
    created_at: str
    vendor: str
    dump: str
    sha256: str
    size: int
    state: State
    # The documents' files: storage name -> SHA-256 of the encrypted blob.
    files: dict[str, str] = field(default_factory=dict)

    def as_json(self) -> dict:
        return {"format": FORMAT, **asdict(self)}

    @classmethod
    def from_json(cls, data) -> "Manifest":
        try:
            if data["format"] != FORMAT:
                raise BackupError(
                    f"The manifest is of format {data['format']!r}; this version reads {FORMAT}."
                )
            state = data["state"]
            manifest = cls(
                created_at=str(data["created_at"]),
                vendor=str(data["vendor"]),
                dump=str(data["dump"]),
                sha256=str(data["sha256"]),
                size=int(data["size"]),
                state=State(
                    migrations=[[str(app), str(name)] for app, name in state["migrations"]],
                    audit_position=int(state["audit_position"]),
                    audit_link=str(state["audit_link"]),
                    rows={str(table): int(count) for table, count in state["rows"].items()},
                ),
                files={str(name): str(digest) for name, digest in data.get("files", {}).items()},
            )
        except (KeyError, TypeError, ValueError, AttributeError):
            raise BackupError("The manifest is damaged: a field is missing or malformed.") from None
        if DUMPS.get(manifest.vendor) != manifest.dump:
            raise BackupError(f"The manifest names no dump this version reads ({manifest.dump!r}).")
        return manifest


@dataclass(frozen=True)
class ValuesRead:
    values: int
    rows: int
    fields: int


@dataclass(frozen=True)
class Restored:
    manifest: Manifest
    values: ValuesRead
    verification: log.Verification
    # Migrations of this code the backup has not run (`migrate` runs them next), and ones
    # the backup has run that this code does not know (it was made by a newer version).
    unapplied: list[str]
    unknown: list[str]
    # Checkpoints in AUDIT_CHECKPOINT_DIR past the backup's head: written after it was made.
    later_checkpoints: int
    # BLIND_INDEX_KEY is not the one the search indexes were made with: none when it is.
    index_problem: str | None
    load_seconds: float = 0.0
    # Checking the manifest's state and the keys, reading every value, verifying the chain.
    proof_seconds: float = 0.0


# Backup ----------------------------------------------------------------------------------


def backup_write(*, directory: Path) -> Manifest:
    """Writes a backup of the default database into `directory`, which must be new or
    empty; on any failure nothing of it is left there."""
    vendor = connection.vendor
    if vendor not in DUMPS:
        raise BackupError(f"Backups are made of SQLite and PostgreSQL databases, not {vendor}.")
    directory = Path(directory).absolute()
    _refuse_beside_keys(directory)
    created = _make_directory(directory)
    try:
        # Everything written so far gets its place in the chain, and the manifest's head.
        log.seal()
        dump = directory / DUMPS[vendor]
        created_at = timezone.now().isoformat(timespec="seconds")
        state = _dump_sqlite(dump) if vendor == "sqlite" else _dump_postgresql(dump)
        os.chmod(dump, 0o600)
        files = _copy_documents(directory / DOCUMENTS)
        manifest = Manifest(
            created_at=created_at,
            vendor=vendor,
            dump=dump.name,
            sha256=_sha256(dump),
            size=dump.stat().st_size,
            state=state,
            files=files,
        )
        data = manifest.as_json()
        data["mac"] = _mac(settings.AUDIT_KEY[0], data)
        _write_private(directory / MANIFEST, json.dumps(data, indent=2) + "\n")
        _refuse_keys_in(directory)
    except BaseException:
        _remove(directory, created)
        raise
    return manifest


def _copy_documents(target: Path) -> dict[str, str]:
    """Copies every document's blob named by the database (as dumped, or written since),
    encrypted as it is; their SHA-256s by name."""
    names = list(Document.objects.order_by("pk").values_list("storage_name", flat=True))
    target.mkdir(mode=0o700)
    files = {}
    for name in names:
        copy = target / name
        with vault.storage().open(name, "rb") as blob, copy.open("xb") as out:
            shutil.copyfileobj(blob, out, READ_CHUNK)
        os.chmod(copy, 0o600)
        files[name] = _sha256(copy)
    return files


def _restore_documents(directory: Path, manifest: Manifest, *, replace: bool) -> None:
    """Puts the backup's files back into the documents' storage under their own names
    (manifest_read checked each against the manifest)."""
    source = directory / DOCUMENTS
    storage = vault.storage()
    for name in manifest.files:
        if storage.exists(name):
            if not replace:
                raise BackupError(
                    f"The documents' storage already holds a file named {name}. Restore into "
                    "an empty storage, or give --force to replace it."
                )
            storage.delete(name)
        with (source / name).open("rb") as blob:
            if storage.save(name, File(blob)) != name:
                raise BackupError(f"The documents' storage would not keep the name {name}.")


def documents_read() -> int:
    """Reads every document's file; DecryptionError or a missing file stop the proof."""
    names = Document.objects.order_by("pk").values_list("pk", "storage_name")
    count = 0
    for pk, name in names.iterator():
        if not vault.storage().exists(name):
            raise BackupError(f"The file of document {pk} is missing from the documents' storage.")
        vault.read(name)
        count += 1
    return count


def _refuse_beside_keys(directory: Path) -> None:
    if not settings.EMBEDDED:
        return
    keys_folder = Path(settings.VAR_DIR).resolve()
    if directory.resolve().is_relative_to(keys_folder):
        raise BackupError(
            f"Write the backup outside {keys_folder}: that folder holds the keys "
            "(secrets.json), and a backup copied together with its keys protects nothing."
        )


def _make_directory(directory: Path) -> bool:
    """True when it made the directory, False when it was there, empty."""
    if directory.exists():
        if not directory.is_dir() or any(directory.iterdir()):
            raise BackupError(f"{directory} exists and is not an empty directory: give a new one.")
        return False
    try:
        directory.mkdir(mode=0o700, parents=True)
    except OSError as error:
        raise BackupError(f"Cannot make {directory}: {error.strerror}.") from None
    return True


def _remove(directory: Path, created: bool) -> None:
    if created:
        shutil.rmtree(directory, ignore_errors=True)
        return
    for path in directory.iterdir():
        path.unlink(missing_ok=True)


def _dump_sqlite(dump: Path) -> State:
    os.close(os.open(dump, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    connection.ensure_connection()
    copy = sqlite3.connect(dump)
    try:
        # Page by page from the live database: writers wait a moment, nobody fails.
        connection.connection.backup(copy)
        return _state(copy.cursor(), "sqlite")
    finally:
        copy.close()


def _dump_postgresql(dump: Path) -> State:
    login = _owner_login()
    # The manifest is read in the snapshot pg_dump dumps: the same rows, the same head.
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        cursor.execute("SELECT pg_export_snapshot()")
        (snapshot,) = cursor.fetchone()
        state = _state(cursor, "postgresql")
        _run_client(
            [
                "pg_dump",
                "--format=custom",
                "--no-owner",
                "--no-privileges",
                f"--snapshot={snapshot}",
                f"--file={dump}",
            ],
            login,
        )
    return state


def _refuse_keys_in(directory: Path) -> None:
    """Searches every file of the backup for every configured key, in each form it has; a
    PostgreSQL dump as pg_restore reads it back, since pg_dump compresses its data."""
    for path in sorted(found for found in directory.rglob("*") if found.is_file()):
        if path.name != DUMPS["postgresql"]:
            with path.open("rb") as handle:
                _refuse_keys_read(handle, path.name)
            continue
        try:
            reader = subprocess.Popen(  # noqa: S603
                ["pg_restore", "--file=-", str(path)],  # noqa: S607
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,
            )
        except FileNotFoundError:
            raise BackupError(f"pg_restore is not installed: {CLIENT_MISSING}") from None
        stdout = reader.stdout
        assert stdout is not None  # stdout=PIPE
        try:
            _refuse_keys_read(stdout, path.name)
        except BaseException:
            reader.kill()
            raise
        finally:
            stdout.close()
            status = reader.wait()
        if status != 0:
            raise BackupError(f"pg_restore cannot read back {path.name}: the dump is damaged.")


def _refuse_keys_read(stream, name: str) -> None:
    needles = _key_forms()
    longest = max(len(needle) for needle, _key in needles)
    tail = b""
    while chunk := stream.read(READ_CHUNK):
        window = tail + chunk
        for needle, key in needles:
            if needle in window:
                raise BackupError(
                    f"{key} was found in {name}: a key must never travel with the data it "
                    "protects. The backup was deleted; find out how the key got into the "
                    "database."
                )
        tail = window[-(longest - 1) :]


def _key_forms() -> list[tuple[bytes, str]]:
    forms = [(settings.SECRET_KEY.encode(), "SECRET_KEY")]
    for key in settings.FIELD_ENCRYPTION_KEY:
        forms += [
            (key.encode(), "FIELD_ENCRYPTION_KEY"),
            (base64.urlsafe_b64decode(key), "FIELD_ENCRYPTION_KEY"),
        ]
    for raw, name in [
        (settings.BLIND_INDEX_KEY, "BLIND_INDEX_KEY"),
        *((raw, "AUDIT_KEY") for raw in settings.AUDIT_KEY),
    ]:
        forms += [(raw, name), (raw.hex().encode(), name), (raw.hex().upper().encode(), name)]
    return forms


# Restore ---------------------------------------------------------------------------------


def manifest_read(directory: Path) -> Manifest:
    """The backup's manifest, once its MAC and its dump's SHA-256 check."""
    directory = Path(directory)
    if not directory.is_dir():
        raise BackupError(f"{directory} is not a directory: give the one `backup` wrote.")
    path = directory / MANIFEST
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError:
        raise BackupError(
            f"{directory} holds no {MANIFEST}: not a backup made by `backup`."
        ) from None
    except (ValueError, UnicodeDecodeError):
        raise BackupError(f"{path} is not valid JSON: the backup is damaged.") from None
    if not isinstance(data, dict):
        raise BackupError(f"{path} is not a manifest: the backup is damaged.")
    manifest = Manifest.from_json(data)
    if not any(
        hmac.compare_digest(_mac(key, data), str(data.get("mac", ""))) for key in settings.AUDIT_KEY
    ):
        raise BackupError(
            "The manifest's MAC does not verify under AUDIT_KEY: the backup was changed after "
            "it was made, or made under an audit key that is not configured here (put it "
            "back, behind the newest). Nothing was restored."
        )
    dump = directory / manifest.dump
    if not dump.is_file():
        raise BackupError(f"{dump} is missing: the backup is incomplete. Nothing was restored.")
    if not hmac.compare_digest(_sha256(dump), manifest.sha256):
        raise BackupError(
            f"{dump.name} does not match the SHA-256 in the manifest: it was changed or cut short "
            "after the backup was made. Nothing was restored."
        )
    for name, digest in manifest.files.items():
        path = directory / DOCUMENTS / name
        if not path.is_file() or not hmac.compare_digest(_sha256(path), digest):
            raise BackupError(
                f"The document file {name} is missing or changed since the backup was made. "
                "Nothing was restored."
            )
    return manifest


def backup_restore(*, directory: Path, replace: bool = False) -> Restored:
    """Loads the backup in `directory` into the default database, then proves it (see the
    module's docstring). The database must hold no tables unless `replace`."""
    manifest = manifest_read(directory)
    vendor = connection.vendor
    if manifest.vendor != vendor:
        raise BackupError(
            f"This is a backup of a {manifest.vendor} database; DATABASE_URL points at "
            f"{vendor}. Nothing was restored."
        )
    with connection.cursor() as cursor:
        tables = _tables(cursor, vendor)
    if tables and not replace:
        raise BackupError(
            f"The database already holds {len(tables)} tables. Restore into a new, empty "
            "database, or give --force to replace everything it holds. Nothing was restored."
        )
    dump = Path(directory) / manifest.dump
    started = time.perf_counter()
    if vendor == "sqlite":
        _load_sqlite(dump)
    else:
        _load_postgresql(dump, replace=bool(tables))
    _restore_documents(Path(directory), manifest, replace=replace)
    loaded = time.perf_counter()
    restored = _prove(manifest)
    return replace_fields(
        restored, load_seconds=loaded - started, proof_seconds=time.perf_counter() - loaded
    )


def _load_sqlite(dump: Path) -> None:
    source = sqlite3.connect(dump.resolve().as_uri() + "?mode=ro", uri=True)
    connection.ensure_connection()
    try:
        # Overwrites the whole file, whatever it held.
        source.backup(connection.connection)
    finally:
        source.close()
        connection.close()


def _load_postgresql(dump: Path, *, replace: bool) -> None:
    owner = settings.DATABASE_OWNER
    app_role = current_role(connection) if owner else None  # None: one role for all
    with connected_as_owner(connection, owner) if owner else nullcontext():
        if replace:
            _drop_everything()
        # One transaction: a restore that fails leaves the database as it was (empty).
        _run_client(
            ["pg_restore", "--single-transaction", "--no-owner", "--no-privileges", str(dump)],
            _owner_login(),
        )
        if app_role is not None:
            # What `migrate` grants the app's role; the dump carries no privileges.
            apply_grants(connection=connection, role=app_role)
    connection.close()


def _drop_everything() -> None:
    """Drops the tables, sequences and functions (the triggers' too) of the current schema,
    as their owner: what `replace` promises, and what pg_restore needs."""
    with transaction.atomic(), connection.cursor() as cursor:
        tables = _tables(cursor, "postgresql")
        if tables:
            cursor.execute(f"DROP TABLE {', '.join(map(_quoted, tables))} CASCADE")
        cursor.execute(
            "SELECT sequence_name FROM information_schema.sequences "
            "WHERE sequence_schema = current_schema()"
        )
        for (name,) in cursor.fetchall():
            cursor.execute(f"DROP SEQUENCE IF EXISTS {_quoted(name)} CASCADE")
        cursor.execute(
            "SELECT p.oid::regprocedure::text FROM pg_proc p "
            "WHERE p.pronamespace = current_schema()::regnamespace AND NOT EXISTS ("
            "  SELECT 1 FROM pg_depend d WHERE d.objid = p.oid AND d.deptype = 'e')"
        )
        for (signature,) in cursor.fetchall():
            cursor.execute(f"DROP FUNCTION IF EXISTS {signature} CASCADE")


def _prove(manifest: Manifest) -> Restored:
    restored = "The database was restored, but"
    with connection.cursor() as cursor:
        found = _state(cursor, connection.vendor)
    if differences := _differences(manifest.state, found):
        raise BackupError(
            f"{restored} it is not what the manifest describes: " + "; ".join(differences) + "."
        )
    # The checks every process runs at start (config/key_checks.py). A blind-index key
    # other than the indexes' is the one that can be mended here: rotate_keys rebuilds them.
    if problems := [message for check in (canary.problem, log.key_problem) if (message := check())]:
        raise BackupError(f"{restored} the configured keys do not fit it: " + " ".join(problems))
    index_problem = canary.blind_index_key_problem()
    try:
        values = encrypted_values_read()
    except DecryptionError as error:
        raise BackupError(f"{restored} a value is refused: {error} (row {error.pk}).") from None
    try:
        documents_read()
    except DecryptionError as error:
        raise BackupError(f"{restored} a document's file is refused: {error}") from None
    # Events the backup holds unsealed (written in its last seconds) are chained now, as
    # the app's sealer would at once; the manifest's head stays where it was.
    log.seal()
    head = manifest.state
    given = []
    if head.audit_position:
        given.append(
            Checkpoint(
                seq=head.audit_position,
                link=head.audit_link,
                at=manifest.created_at,
                source="the backup's manifest",
            )
        )
    verification = log.verify(extra_checkpoints=given)
    marks, _problems = checkpoints.read()
    later = sum(mark.seq > head.audit_position for mark in marks)
    unapplied, unknown = _migrations_against_code()
    return Restored(manifest, values, verification, unapplied, unknown, later, index_problem)


def _differences(expected: State, found: State) -> list[str]:
    differences = []
    if expected.migrations != found.migrations:
        differences.append(
            f"{len(expected.migrations)} migrations applied in the manifest, "
            f"{len(found.migrations)} here, or other ones"
        )
    if (expected.audit_position, expected.audit_link) != (found.audit_position, found.audit_link):
        differences.append(
            f"the audit chain's head is #{found.audit_position}, the manifest's "
            f"#{expected.audit_position}"
        )
    for table in sorted(set(expected.rows) | set(found.rows)):
        want, have = expected.rows.get(table), found.rows.get(table)
        if want != have:
            differences.append(
                f"{table}: {'no table' if want is None else f'{want:,} rows'} in the manifest, "
                f"{'no table' if have is None else f'{have:,} rows'} here"
            )
    return differences


def _migrations_against_code() -> tuple[list[str], list[str]]:
    executor = MigrationExecutor(connection)
    graph = executor.loader.graph
    plan = executor.migration_plan(graph.leaf_nodes())
    unapplied = [f"{migration.app_label}.{migration.name}" for migration, _back in plan]
    applied = executor.recorder.applied_migrations()
    unknown = sorted(f"{app}.{name}" for app, name in applied if (app, name) not in graph.nodes)
    return unapplied, unknown


def encrypted_values_read(*, batch: int = 2000) -> ValuesRead:
    """Reads every encrypted value of every model through the field that decrypts it and
    checks its place and row: that a database and the configured FIELD_ENCRYPTION_KEY
    belong together. Raises DecryptionError, naming the place and row, at the first value
    refused."""
    values = rows = fields = 0
    for model in apps.get_models():
        names = [field.attname for field in encrypted_fields(model)]
        if not names or model._meta.proxy or not model._meta.managed:
            continue
        fields += len(names)
        loaded = model._base_manager.only(model._meta.pk.name, "seal", *names).order_by("pk")
        for row in loaded.iterator(chunk_size=batch):
            rows += 1
            values += sum(getattr(row, name) is not None for name in names)
    return ValuesRead(values=values, rows=rows, fields=fields)


# Both ------------------------------------------------------------------------------------


def _tables(cursor, vendor: str) -> list[str]:
    if vendor == "sqlite":
        cursor.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite%'"
        )
    else:
        cursor.execute("SELECT tablename FROM pg_tables WHERE schemaname = current_schema()")
    return sorted(name for (name,) in cursor.fetchall())


def _state(cursor, vendor: str) -> State:
    """Read with plain SQL, so the same code reads a live database and a copy of one."""
    tables = _tables(cursor, vendor)
    migrations = []
    if "django_migrations" in tables:
        cursor.execute("SELECT app, name FROM django_migrations ORDER BY app, name")
        migrations = [[app, name] for app, name in cursor.fetchall()]
    position, link = 0, ""
    if "audit_chainhead" in tables:
        cursor.execute("SELECT seq, last_hash FROM audit_chainhead WHERE id = 1")
        position, link = cursor.fetchone() or (0, "")
    rows = {}
    for table in tables:
        cursor.execute(f"SELECT count(*) FROM {_quoted(table)}")  # noqa: S608
        rows[table] = cursor.fetchone()[0]
    return State(migrations=migrations, audit_position=position, audit_link=link or "", rows=rows)


def _quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _mac(key: bytes, data: dict) -> str:
    body = {name: value for name, value in data.items() if name != "mac"}
    message = MAC_LABEL + json.dumps(body, sort_keys=True, separators=(",", ":")).encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(READ_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _write_private(path: Path, text: str) -> None:
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        handle.write(text)


def _owner_login() -> dict:
    """The owner of the tables (DATABASE_OWNER_URL, or DATABASE_URL's role without it),
    logging in to the database the app uses."""
    database = connection.settings_dict
    owner = settings.DATABASE_OWNER or database
    return {
        "NAME": database["NAME"],
        **{key: owner.get(key) or "" for key in ("USER", "PASSWORD", "HOST", "PORT")},
        "OPTIONS": owner.get("OPTIONS") or {},
    }


def _run_client(command: list[str], login: dict) -> None:
    """Runs pg_dump or pg_restore logged in as `login`; the password goes by environment."""
    arguments = [*command[:1], "--no-password", "--dbname", login["NAME"]]
    for flag, key in (("--host", "HOST"), ("--port", "PORT"), ("--username", "USER")):
        if login[key]:
            arguments += [flag, str(login[key])]
    environment = {name: value for name, value in os.environ.items() if not name.startswith("PG")}
    if login["PASSWORD"]:
        environment["PGPASSWORD"] = login["PASSWORD"]
    if sslmode := login["OPTIONS"].get("sslmode"):
        environment["PGSSLMODE"] = sslmode
    try:
        done = subprocess.run(  # noqa: S603
            [*arguments, *command[1:]], env=environment, capture_output=True, text=True, check=False
        )
    except FileNotFoundError:
        raise BackupError(f"{command[0]} is not installed: {CLIENT_MISSING}") from None
    if done.returncode != 0:
        raise BackupError(f"{command[0]} failed: {done.stderr.strip()[-2000:]}")
