import os
import secrets

from django.conf import settings
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from accounts.models import Team, User
from accounts.roles import Role

DEMO_TEAM = "Demo team"
DEMO_USERS = {
    "demo-volunteer": Role.VOLUNTEER,
    "demo-coordinator": Role.COORDINATOR,
    "demo-admin": Role.ADMIN,
}


def demo_password() -> str:
    """One random demo password per machine, kept in var/ for the owner only."""
    path = settings.VAR_DIR / "demo-password"
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text().strip()
    password = "demo-" + secrets.token_urlsafe(12)
    with os.fdopen(descriptor, "w") as handle:
        handle.write(password)
    return password


class Command(BaseCommand):
    help = "Fills the embedded default with a demo team and one user per role."

    def handle(self, *args, **options):
        if not settings.EMBEDDED:
            raise CommandError("seed_demo only runs on the embedded default (SAFE_PASSAGE_MODE).")
        password = demo_password()
        with transaction.atomic():
            team, _ = Team.objects.get_or_create(name=DEMO_TEAM)
            for username, role in DEMO_USERS.items():
                user = User.objects.filter(username=username).first()
                if user is None:
                    user = User.objects.create_user(username, password, is_staff=role == Role.ADMIN)
                user.groups.add(Group.objects.get(name=role))
                if role != Role.ADMIN:
                    user.teams.add(team)
        self.stdout.write("Demo accounts (an authenticator app is set up at first sign-in):")
        for username, role in DEMO_USERS.items():
            self.stdout.write(f"  {username:<18} {role.label}")
        self.stdout.write(f"Demo password: {password}")
