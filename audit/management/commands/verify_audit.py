import time

from django.core.management.base import BaseCommand, CommandError

from audit import checkpoints, log


class Command(BaseCommand):
    help = (
        "Walks the audit log's keyed chain, holds it against the checkpoints kept outside "
        "the database, and names the first event that is missing, changed or unreadable."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--checkpoint",
            action="append",
            default=[],
            metavar="SEQ:LINK",
            help="A checkpoint from an e-mail, checked as well (may be given more than once).",
        )

    def handle(self, *args, **options):
        try:
            given = [checkpoints.parse_given(value) for value in options["checkpoint"]]
        except ValueError as error:
            raise CommandError(str(error)) from None
        started = time.perf_counter()
        result = log.verify_and_record(extra_checkpoints=given)
        took = time.perf_counter() - started
        if result.broken_seq is not None:
            raise CommandError(
                f"Audit chain broken at event #{result.broken_seq}: {result.problem} "
                f"({result.checked:,} events before it are intact)."
            )
        if result.problem:
            raise CommandError(
                f"Audit chain of {result.checked:,} events verifies, but: {result.problem}."
            )
        self.stdout.write(f"Audit chain intact: {result.checked:,} events in {took:.1f} s.")
