import getpass

from django.contrib.auth.models import Group
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from accounts.models import User
from accounts.roles import Role


class Command(BaseCommand):
    help = "Creates an admin account interactively (production). 2FA is set up at first login."

    def add_arguments(self, parser):
        parser.add_argument("--username", help="Asked for when left out.")

    def handle(self, *args, **options):
        username = options["username"] or input("Username: ").strip()
        if not username:
            raise CommandError("A username is required.")
        if User.objects.filter(username=username).exists():
            raise CommandError("That username is taken.")
        password = getpass.getpass("Password (12 characters or more): ")
        if password != getpass.getpass("Password again: "):
            raise CommandError("The two passwords differ.")
        candidate = User(username=username)
        try:
            validate_password(password, candidate)
        except ValidationError as error:
            raise CommandError(" ".join(error.messages)) from None
        with transaction.atomic():
            user = User.objects.create_user(username, password, is_staff=True)
            user.groups.add(Group.objects.get(name=Role.ADMIN))
        self.stdout.write(
            self.style.SUCCESS(
                f"Admin {user.username} created. Sign in to enrol an authenticator app."
            )
        )
