from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from accounts import permissions


def unread_count(user) -> int:
    return user.notifications.filter(read_at__isnull=True).count()


def navigation(request) -> dict:
    """The navigation a verified user sees; nothing before the second factor."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated or not user.is_verified():
        return {"navigation": [], "unread": 0}
    items = [(reverse("dashboard:home"), _("Dashboard"))]
    if user.has_perm("accounts.log_intake"):
        items.append((reverse("intake:queue"), _("Intake")))
    if user.has_perm("accounts.work_cases"):
        items.append((reverse("casework:case_list"), _("Cases")))
        items.append((reverse("casework:board"), _("Board")))
        items.append((reverse("casework:leg_list"), _("My legs")))
        items.append((reverse("destinations:register"), _("Destinations")))
    if permissions.can_see_member_list(user):
        items.append((reverse("accounts:members"), _("Members")))
    if user.has_perm("accounts.review_audit"):
        items.append((reverse("audit:events"), _("Audit")))
    if permissions.can_manage_accounts(user):
        items.append((reverse("dashboard:health"), _("Health")))
    items.append((reverse("accounts:profile"), _("My account")))
    return {
        "navigation": [{"url": address, "label": label} for address, label in items],
        "inbox_url": reverse("casework:inbox"),
        "unread": unread_count(user),
    }
