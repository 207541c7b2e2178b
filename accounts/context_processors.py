from functools import cache

from django.contrib.auth import get_user_model
from django.db import connection
from django.urls import get_script_prefix, reverse
from django.utils.translation import gettext_lazy as _

from accounts import permissions

# Every page shows the navigation, so it is built for the least work: addresses found once
# per process (they depend on nothing but the deployment's script prefix), and the unread
# count asked in plain SQL (building it took the ORM ten times the work of answering it).


@cache
def _url(name: str, script_prefix: str) -> str:
    return reverse(name)


def url(name: str) -> str:
    return _url(name, get_script_prefix())


@cache
def _unread_sql() -> str:
    notification = get_user_model().notifications.field.model._meta
    quote = connection.ops.quote_name
    user = quote(notification.get_field("user").column)
    read_at = quote(notification.get_field("read_at").column)
    table = quote(notification.db_table)
    return f"SELECT COUNT(*) FROM {table} WHERE {user} = %s AND {read_at} IS NULL"  # noqa: S608


def unread_count(user) -> int:
    with connection.cursor() as cursor:
        cursor.execute(_unread_sql(), [user.pk])
        return cursor.fetchone()[0]


def navigation(request) -> dict:
    """The navigation a verified user sees; nothing before the second factor."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated or not user.is_verified():
        return {"navigation": [], "unread": 0}
    items = [(url("dashboard:home"), _("Dashboard"))]
    if user.has_perm("accounts.log_intake"):
        items.append((url("intake:queue"), _("Intake")))
    if user.has_perm("accounts.work_cases"):
        items.append((url("casework:case_list"), _("Cases")))
        items.append((url("casework:board"), _("Board")))
        items.append((url("casework:leg_list"), _("My legs")))
        items.append((url("destinations:register"), _("Destinations")))
    if permissions.can_see_member_list(user):
        items.append((url("accounts:members"), _("Members")))
    if user.has_perm("accounts.review_audit"):
        items.append((url("audit:events"), _("Audit")))
    if permissions.can_manage_accounts(user):
        items.append((url("dashboard:health"), _("Health")))
    items.append((url("accounts:profile"), _("My account")))
    return {
        "navigation": [{"url": address, "label": label} for address, label in items],
        "inbox_url": url("casework:inbox"),
        "unread": unread_count(user),
    }
