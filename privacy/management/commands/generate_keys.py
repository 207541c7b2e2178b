from django.core.management.base import BaseCommand

from config.environment import generate_keys


class Command(BaseCommand):
    help = (
        "Prints fresh SECRET_KEY, FIELD_ENCRYPTION_KEY, BLIND_INDEX_KEY and AUDIT_KEY lines "
        "for .env."
    )

    def handle(self, *args, **options):
        for name, value in generate_keys().items():
            self.stdout.write(f"{name}={value}")
