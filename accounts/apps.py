from axes import apps as axes_apps
from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = _("Accounts and teams")
    default = True

    def ready(self):
        from accounts import audit_signals  # noqa: F401 (connects the receivers)


class AdminConfig(admin_apps.AdminConfig):
    """The Django admin, on django-otp's admin site: staff need a verified second factor."""

    default = False
    default_site = "accounts.admin_site.AdminSite"


class AxesConfig(axes_apps.AppConfig):
    """django-axes, its failed sign-ins named in the reader's language in the admin."""

    verbose_name = _("Failed sign-ins")
