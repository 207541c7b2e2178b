import time

from django.core.management.base import BaseCommand, CommandError

from operations.rotation.blind_indexes import rotate_blind_indexes, sources_to_scan
from operations.rotation.document_files import rotate_document_files
from operations.rotation.encrypted_columns import (
    encrypted_tables,
    rotate_encrypted_columns,
    rows_to_scan,
)
from privacy.rotation import RotationError


class ProgressBar:
    """One line on stderr, redrawn in place whenever the percentage moves, so a long run
    shows it is alive without flooding a log when stderr is a file."""

    WIDTH = 30

    def __init__(self, stream, total: int):
        self.stream = stream
        self.total = total
        self.done = 0
        self.shown: tuple[int, str] | None = None

    def advance(self, label: str, rows: int) -> None:
        self.done += rows
        percent = min(100, 100 * self.done // self.total) if self.total else 100
        if (percent, label) == self.shown:
            return
        self.shown = (percent, label)
        filled = self.WIDTH * percent // 100
        bar = "#" * filled + "-" * (self.WIDTH - filled)
        self.stream.write(
            f"\r[{bar}] {percent:3d}%  {self.done:,}/{self.total:,} rows  {label:<32}",
            style_func=str,
            ending="",
        )
        self.stream.flush()

    def close(self) -> None:
        if self.shown is not None:
            self.stream.write("")


class Command(BaseCommand):
    help = (
        "Re-encrypts every encrypted column and document file under the first "
        "FIELD_ENCRYPTION_KEY, or with "
        "--blind-index recomputes every blind index under BLIND_INDEX_KEY. Safe to stop and "
        "run again: it goes on where it stopped. A second run that changes nothing is the "
        "check that the old key can go."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--blind-index",
            action="store_true",
            help="Recompute the blind indexes under BLIND_INDEX_KEY instead.",
        )
        parser.add_argument(
            "--batch-size",
            type=int,
            default=500,
            help="Rows per transaction (default 500).",
        )

    def handle(self, *args, **options):
        if options["batch_size"] < 1:
            raise CommandError("--batch-size must be at least 1.")
        started = time.perf_counter()
        try:
            if options["blind_index"]:
                counts = self._blind_indexes(options["batch_size"])
                summary = counts.summary()
            else:
                counts = self._encrypted_columns(options["batch_size"])
                # The documents' files are under the same keys: rotated with the columns.
                summary = f"{counts.summary()}; {rotate_document_files().summary()}"
        except RotationError as error:
            raise CommandError(str(error)) from None
        took = time.perf_counter() - started
        self.stdout.write(f"{summary}; {took:.1f} s.")
        if getattr(counts, "out_of_place", None):
            # Finished, but not clean: the operator must hear it, and a script must see it.
            raise CommandError(
                "These values are out of their place: written there around the application "
                "(copied by SQL from another row or column), not rotated, and reported to "
                "the admins as alerts. They stop decrypting once the old key is removed.\n"
                + "\n".join(counts.out_of_place)
            )

    def _encrypted_columns(self, batch_size: int):
        tables = encrypted_tables()
        progress = ProgressBar(self.stderr, rows_to_scan(tables))
        try:
            return rotate_encrypted_columns(batch_size=batch_size, on_batch=progress.advance)
        finally:
            progress.close()

    def _blind_indexes(self, batch_size: int):
        progress = ProgressBar(self.stderr, sources_to_scan())
        try:
            return rotate_blind_indexes(batch_size=batch_size, on_batch=progress.advance)
        finally:
            progress.close()
