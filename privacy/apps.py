from django.apps import AppConfig


class PrivacyConfig(AppConfig):
    name = "privacy"

    def ready(self):
        from privacy import canary, csrf  # noqa: F401 (register their system checks)
