import time
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from operations.backup import BackupError, backup_write


class Command(BaseCommand):
    help = (
        "Writes a backup of the database into a new directory: the dump and a manifest "
        "(time, migrations, audit chain head, rows, SHA-256). Never a key: keep those apart "
        "(README, 'Backup and restore')."
    )

    # A tool for bad days: it must run on a database the configured keys do not fit (the
    # system checks would refuse that), and a backup needs no key to read the data.
    requires_system_checks = []

    def add_arguments(self, parser):
        parser.add_argument(
            "directory",
            type=Path,
            help="A new or empty directory; in the embedded mode outside var/, beside the keys.",
        )

    def handle(self, *args, **options):
        started = time.perf_counter()
        try:
            manifest = backup_write(directory=options["directory"])
        except BackupError as error:
            raise CommandError(str(error)) from None
        took = time.perf_counter() - started
        state = manifest.state
        self.stdout.write(
            f"Backup of the {manifest.vendor} database written to {options['directory']} in "
            f"{took:.1f} s: {manifest.size / 1e6:,.1f} MB, {sum(state.rows.values()):,} rows "
            f"in {len(state.rows)} tables, audit chain head #{state.audit_position}."
        )
        self.stdout.write(
            "It holds no key, and is unreadable without FIELD_ENCRYPTION_KEY: keep the keys "
            "somewhere else, as long as the backup is kept."
        )
