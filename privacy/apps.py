from django.apps import AppConfig
from django.core.signals import got_request_exception
from django.utils.translation import gettext_lazy as _


class PrivacyConfig(AppConfig):
    name = "privacy"
    verbose_name = _("Privacy")

    def ready(self):
        from privacy import canary, csrf, database_roles  # noqa: F401 (register their checks)
        from privacy.tampering import report_unhandled

        got_request_exception.connect(report_unhandled, dispatch_uid="privacy.refused_value")
