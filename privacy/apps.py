from django.apps import AppConfig


class PrivacyConfig(AppConfig):
    name = "privacy"

    def ready(self):
        from privacy import canary  # noqa: F401 (registers the system check)
