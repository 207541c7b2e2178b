"""Django's migrate, run as the owner of the tables when DATABASE_OWNER_URL is set, and
followed by the app's grants (privacy/database_roles.py).

The system checks run first, before this command's handle(), on DATABASE_URL as the app
will use it: the check that the app's role cannot undo the audit log looks at the app's
role, not at the owner that migrates.
"""

from django.conf import settings
from django.core.management.base import CommandError
from django.core.management.commands import migrate
from django.db import DEFAULT_DB_ALIAS, OperationalError, connections

from privacy.database_roles import apply_grants, connected_as_owner, current_role


class Command(migrate.Command):
    help = (
        "Migrates the database; with DATABASE_OWNER_URL set, as that owner, and then grants "
        "DATABASE_URL's role what the app needs and nothing more."
    )

    def handle(self, *args, **options):
        owner = settings.DATABASE_OWNER
        if owner is None or options["database"] != DEFAULT_DB_ALIAS:
            return super().handle(*args, **options)
        connection = connections[options["database"]]
        try:
            app_role = current_role(connection)
        except OperationalError as error:
            raise CommandError(
                f"Cannot log in as DATABASE_URL's role: {error}".strip()
                + "\nCreate the app's role first (README, 'Two database roles'); migrate "
                "then grants it its privileges."
            ) from None
        with connected_as_owner(connection, owner):
            super().handle(*args, **options)
            try:
                apply_grants(connection=connection, role=app_role)
            except ValueError as error:
                raise CommandError(str(error)) from None
        if options["verbosity"] >= 1:
            self.stdout.write(f"Granted {app_role} the app's privileges.")
