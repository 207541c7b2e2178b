from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps


class AccountsConfig(AppConfig):
    name = "accounts"
    default = True

    def ready(self):
        from accounts import audit_signals  # noqa: F401 (connects the receivers)


class AdminConfig(admin_apps.AdminConfig):
    """The Django admin, on django-otp's admin site: staff need a verified second factor."""

    default = False
    default_site = "accounts.admin_site.AdminSite"
