"""Creates the three roles as groups with their permissions.

A frozen copy of accounts.roles.ROLE_PERMISSIONS as it stood when this was written;
tests/accounts/test_roles.py fails when the two drift apart.
"""

from django.contrib.auth.management import create_permissions
from django.db import migrations

ROLE_PERMISSIONS = {
    "volunteer": ["accounts.log_intake", "accounts.work_cases"],
    "coordinator": [
        "accounts.log_intake",
        "accounts.work_cases",
        "accounts.coordinate_cases",
        "accounts.break_glass",
        "accounts.reset_second_factor",
    ],
    "admin": [
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
    ],
}


def create_roles(apps, schema_editor):
    # Permissions are normally made after all migrations; the groups need them now.
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for role, labels in ROLE_PERMISSIONS.items():
        group, _ = Group.objects.get_or_create(name=role)
        permissions = [
            Permission.objects.get(content_type__app_label=app, codename=codename)
            for app, codename in (label.split(".") for label in labels)
        ]
        group.permissions.set(permissions)


def remove_roles(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name__in=ROLE_PERMISSIONS).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(create_roles, remove_roles)]
