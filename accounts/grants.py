"""A user's roles and permissions, read in one query.

Roles are Django groups (accounts/roles.py). Django's ModelBackend asks for the groups'
permissions and the user's single permissions apart, and User.roles asked for the groups a
third time: three queries on every page. Here one query answers all three; the answer is
kept on the User object (User.grants), which each request loads afresh, so a role given or
taken away counts from the user's next request, and nothing is kept between requests.
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
    # A group without permissions still names a role: its row has no permission (NULLs).
    from_groups = (
        Group.objects.filter(user=user)
        .annotate(source=Value("group", output_field=CharField()))
        .values_list(
            "source", "name", "permissions__content_type__app_label", "permissions__codename"
        )
        .order_by()
    )
    singles = (
        Permission.objects.filter(user=user)
        .annotate(
            source=Value("user", output_field=CharField()),
            no_group=Value("", output_field=CharField()),
        )
        .values_list("source", "no_group", "content_type__app_label", "codename")
        .order_by()
    )
    names, group_permissions, user_permissions = set(), set(), set()
    for source, name, app_label, codename in from_groups.union(singles, all=True):
        if source == "group":
            names.add(name)
            if codename is not None:
                group_permissions.add(f"{app_label}.{codename}")
        else:
            user_permissions.add(f"{app_label}.{codename}")
    return Grants(frozenset(names), frozenset(group_permissions), frozenset(user_permissions))
