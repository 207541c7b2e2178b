import importlib

import pytest
from django.contrib.auth.models import Group

from accounts.roles import ROLE_PERMISSIONS, Role
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def group_permissions(role: Role) -> set[str]:
    group = Group.objects.get(name=role)
    return {
        f"{permission.content_type.app_label}.{permission.codename}"
        for permission in group.permissions.select_related("content_type")
    }


@pytest.mark.parametrize("role", list(Role))
def test_each_role_exists_with_exactly_its_permissions(role):
    assert group_permissions(role) == set(ROLE_PERMISSIONS[role])


def test_the_migration_matches_the_role_table():
    migration = importlib.import_module("accounts.migrations.0002_roles")
    frozen = {Role(name): frozenset(labels) for name, labels in migration.ROLE_PERMISSIONS.items()}
    assert frozen == ROLE_PERMISSIONS


def test_admins_hold_no_casework_permission():
    assert (
        not {
            "accounts.log_intake",
            "accounts.work_cases",
            "accounts.coordinate_cases",
            "accounts.break_glass",
        }
        & ROLE_PERMISSIONS[Role.ADMIN]
    )


@pytest.mark.parametrize(
    ("role", "may_break_glass"),
    [(Role.VOLUNTEER, False), (Role.COORDINATOR, True), (Role.ADMIN, False)],
)
def test_only_coordinators_may_break_glass(role, may_break_glass):
    user = UserFactory(role=role)
    assert user.has_perm("accounts.break_glass") is may_break_glass


def test_a_user_holding_two_roles_shows_the_stronger():
    user = UserFactory(role=Role.VOLUNTEER)
    user.groups.add(Group.objects.get(name=Role.COORDINATOR))
    user = type(user).objects.get(pk=user.pk)
    assert user.role == Role.COORDINATOR
