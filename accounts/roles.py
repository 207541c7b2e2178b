"""Roles are Django groups; this table says what each may do.

The data migration that creates the groups keeps a frozen copy of this table, and a test
holds the two together: change a role here and write a migration for it.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    VOLUNTEER = "volunteer", _("Volunteer")
    COORDINATOR = "coordinator", _("Coordinator")
    ADMIN = "admin", _("Admin")


# Permissions are "app_label.codename". Admins manage accounts and audit access; by default
# they see no personal data, so they hold no case or intake permission.
ROLE_PERMISSIONS: dict[Role, frozenset[str]] = {
    Role.VOLUNTEER: frozenset({"accounts.log_intake", "accounts.work_cases"}),
    Role.COORDINATOR: frozenset(
        {
            "accounts.log_intake",
            "accounts.work_cases",
            "accounts.coordinate_cases",
            "accounts.break_glass",
            "accounts.reset_second_factor",
        }
    ),
    Role.ADMIN: frozenset(
        {
            "accounts.manage_accounts",
            "accounts.reset_second_factor",
            "accounts.end_sessions",
            "accounts.review_audit",
            "accounts.view_user",
            "accounts.add_user",
            "accounts.change_user",
            "accounts.view_team",
            "accounts.add_team",
            "accounts.change_team",
        }
    ),
}

# When somebody holds several roles, the strongest one names them in the interface.
ROLE_ORDER = (Role.ADMIN, Role.COORDINATOR, Role.VOLUNTEER)
