from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "audit"

    def ready(self) -> None:
        from audit import checks  # noqa: F401 - registers the audit key's system check
        from audit.alerts import on_value_refused
        from privacy.tampering import value_refused

        value_refused.connect(on_value_refused, dispatch_uid="audit.value_refused")
