from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PublicFormConfig(AppConfig):
    name = "intake.public"
    label = "public_form"
    verbose_name = _("Public request form")
