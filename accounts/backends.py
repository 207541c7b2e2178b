from django.contrib.auth.backends import ModelBackend

from accounts.models import User


class RoleBackend(ModelBackend):
    """Django's ModelBackend, answering permissions from User.grants: one query per request
    for roles and permissions together (accounts/grants.py) where it took two more.

    Superusers, inactive users and per-object questions are answered as ModelBackend does.
    """

    def get_user_permissions(self, user_obj, obj=None) -> set[str]:
        if not _from_grants(user_obj, obj):
            return super().get_user_permissions(user_obj, obj)
        return set(user_obj.grants.user_permissions)

    def get_group_permissions(self, user_obj, obj=None) -> set[str]:
        if not _from_grants(user_obj, obj):
            return super().get_group_permissions(user_obj, obj)
        return set(user_obj.grants.group_permissions)


def _from_grants(user_obj, obj) -> bool:
    return (
        isinstance(user_obj, User)
        and obj is None
        and user_obj.is_active
        and not user_obj.is_superuser
    )
