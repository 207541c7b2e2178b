from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DashboardConfig(AppConfig):
    """Pages that compose several apps: the dashboard, its charts, the health page. No
    models; it sits on top and may import every app below it."""

    name = "dashboard"
    verbose_name = _("Dashboard")
