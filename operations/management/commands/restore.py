import time
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from audit import checkpoints
from operations.backup import BackupError, backup_restore


class Command(BaseCommand):
    help = (
        "Restores a backup made by `backup` into the database DATABASE_URL names (empty, "
        "unless --force), then proves it: the manifest's migrations, rows and audit head, "
        "the keys, every encrypted value, and the audit chain."
    )

    # The system checks would judge the database it is about to replace; it checks the keys
    # against what it restored, and says what does not fit.
    requires_system_checks = []

    def add_arguments(self, parser):
        parser.add_argument("directory", type=Path, help="The directory `backup` wrote.")
        parser.add_argument(
            "--force",
            action="store_true",
            help="Replace everything the database holds (every table in it).",
        )

    def handle(self, *args, **options):
        started = time.perf_counter()
        try:
            restored = backup_restore(
                directory=options["directory"],
                replace=options["force"],
            )
        except BackupError as error:
            raise CommandError(str(error)) from None
        took = time.perf_counter() - started
        manifest, values, result = restored.manifest, restored.values, restored.verification
        rows = manifest.state.rows
        self.stdout.write(
            f"Restored the backup of {manifest.created_at} ({manifest.vendor}) in {took:.1f} s "
            f"(loading {restored.load_seconds:.1f} s, checking {restored.proof_seconds:.1f} s): "
            f"{sum(rows.values()):,} rows in {len(rows)} tables, the migrations and audit head "
            "its manifest names."
        )
        self.stdout.write(
            f"Read {values.values:,} encrypted values ({values.fields} fields, "
            f"{values.rows:,} rows): every one decrypts in its place."
        )
        for name in restored.unknown[:1]:
            self.stderr.write(
                f"The backup has {len(restored.unknown)} migrations this code does not know "
                f"(the first {name}): it was made by a newer version; run that version."
            )
        if restored.index_problem:
            self.stderr.write(restored.index_problem)
        if restored.unapplied:
            self.stdout.write(
                f"This code has {len(restored.unapplied)} migrations the backup had not run: "
                "run `python manage.py migrate` before starting the app."
            )
        if not result.intact:
            if restored.later_checkpoints:
                self.stderr.write(
                    f"{checkpoints.path()} holds checkpoints written after this backup was "
                    f"made ({restored.later_checkpoints}), naming events it does not hold. If "
                    "that is the only problem, those events were lost with the restore: keep "
                    "the file as their record, move it out of AUDIT_CHECKPOINT_DIR, and run "
                    "`python manage.py verify_audit`."
                )
            where = f" at event #{result.broken_seq}" if result.broken_seq is not None else ""
            raise CommandError(
                f"The database was restored, but its audit chain does not verify{where}: "
                f"{result.problem} ({result.checked:,} events before it are intact)."
            )
        self.stdout.write(
            f"Audit chain intact: {result.checked:,} events, through the backup's head "
            f"#{manifest.state.audit_position}."
        )
