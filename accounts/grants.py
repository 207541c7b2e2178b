"""A user's roles and permissions, read in one query.

Roles are Django groups (accounts/roles.py). Django's ModelBackend asks for the groups'
permissions and the user's single permissions apart, and User.roles asked for the groups a
third time: three queries on every page. Here one query (a UNION ALL) answers all three; the
answer is kept on the User object (User.grants), which each request loads afresh, so a role
given or taken away counts from the user's next request, and nothing is kept between
requests.
"""

from dataclasses import dataclass

from django.contrib.auth.models import Group, Permission
from django.db.models import CharField, Value


@dataclass(frozen=True)
class Grants:
    role_names: frozenset[str]
    group_permissions: frozenset[str]  # "app_label.codename"
    user_permissions: frozenset[str]


def load_grants(user) -> Grants:
    # A group without permissions still names a role: its row has no permission.
    from_groups = (
        Group.objects.filter(user=user)
        .order_by()
        .values_list(
            Value("group", output_field=CharField()),
            "name",
            "permissions__content_type__app_label",
            "permissions__codename",
        )
    )
    own = (
        Permission.objects.filter(user=user)
        .order_by()
        .values_list(
            Value("user", output_field=CharField()),
            Value("", output_field=CharField()),
            "content_type__app_label",
            "codename",
        )
    )
    names, group_permissions, user_permissions = set(), set(), set()
    for source, name, app_label, codename in from_groups.union(own, all=True):
        if source == "group":
            names.add(name)
            if codename is not None:
                group_permissions.add(f"{app_label}.{codename}")
        else:
            user_permissions.add(f"{app_label}.{codename}")
    return Grants(frozenset(names), frozenset(group_permissions), frozenset(user_permissions))
