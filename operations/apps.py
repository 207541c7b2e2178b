from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OperationsConfig(AppConfig):
    """Tools for whoever runs the site that walk every app: backup and restore, key
    rotation, demo data. No models."""

    name = "operations"
    verbose_name = _("Operations")
