from django.apps import AppConfig


class OperationsConfig(AppConfig):
    """Tools for whoever runs the site that walk every app: backup and restore, key
    rotation, demo data. No models."""

    name = "operations"
