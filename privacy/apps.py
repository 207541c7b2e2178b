from django.apps import AppConfig


class PrivacyConfig(AppConfig):
    name = "privacy"

    def ready(self):
        from privacy import canary, csrf, database_roles  # noqa: F401 (register their checks)
