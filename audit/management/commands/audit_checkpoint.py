from django.core.management.base import BaseCommand

from audit import checkpoints, log


class Command(BaseCommand):
    help = (
        "Appends the audit chain's head (sequence number and link) to the checkpoint file "
        "outside the database, and prints it: keep a copy somewhere else as well."
    )

    def handle(self, *args, **options):
        checkpoint = log.checkpoint()
        if checkpoint is None:
            self.stdout.write("The audit log is empty: nothing to checkpoint yet.")
            return
        self.stdout.write(
            f"Checkpoint: event #{checkpoint.seq}, link {checkpoint.link}, at {checkpoint.at} "
            f"(appended to {checkpoints.path()} if the head moved)."
        )
        self.stdout.write(
            f"Check it later with: manage.py verify_audit --checkpoint "
            f"{checkpoint.seq}:{checkpoint.link}"
        )
