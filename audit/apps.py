from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AuditConfig(AppConfig):
    name = "audit"
    verbose_name = _("Audit log")

    def ready(self) -> None:
        from audit import checks  # noqa: F401 - registers the audit key's system check
        from audit.alerts import on_value_refused
        from privacy.tampering import value_refused

        value_refused.connect(on_value_refused, dispatch_uid="audit.value_refused")
