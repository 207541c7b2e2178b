from django.apps import AppConfig
from django.core.signals import got_request_exception


class PrivacyConfig(AppConfig):
    name = "privacy"

    def ready(self):
        from privacy import canary, csrf  # noqa: F401 (register their system checks)
        from privacy.tampering import report_unhandled

        got_request_exception.connect(report_unhandled, dispatch_uid="privacy.refused_value")
