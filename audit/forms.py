from datetime import timedelta

from django import forms
from django.utils.translation import gettext_lazy as _

from audit.models import Action
from privacy.forms import OffTheRecord

MAX_RANGE = timedelta(days=366)


class DateInput(forms.DateInput):
    input_type = "date"


class EventFilterForm(OffTheRecord, forms.Form):
    actor = forms.CharField(label=_("Person acting (username)"), required=False, max_length=40)
    target = forms.CharField(label=_("Case or request reference"), required=False, max_length=32)
    action = forms.ChoiceField(
        label=_("Action"), required=False, choices=[("", _("Any")), *Action.choices]
    )
    since = forms.DateField(label=_("From"), required=False, widget=DateInput)
    until = forms.DateField(label=_("To"), required=False, widget=DateInput)

    def clean_target(self) -> str:
        return self.cleaned_data["target"].strip().upper()

    def clean(self):
        cleaned = super().clean()
        since, until = cleaned.get("since"), cleaned.get("until")
        if since and until and until < since:
            self.add_error("until", _("The end of the range comes before its start."))
        elif since and until and until - since > MAX_RANGE:
            self.add_error("until", _("Choose at most one year at a time."))
        return cleaned
