from django import forms
from django.utils.translation import gettext_lazy as _

from destinations.countries import CountryChoiceField
from destinations.models import DestinationRisk
from privacy.forms import OffTheRecord


def clean_country_code(raw: str) -> str:
    """Two ASCII letters, upper-cased; anything else is refused with an example."""
    code = raw.strip().upper()
    if not (len(code) == 2 and code.isascii() and code.isalpha()):
        raise forms.ValidationError(_("Use the two-letter country code, e.g. GE."))
    return code


class DestinationRiskForm(OffTheRecord, forms.ModelForm):
    # Chosen by name in the reader's language, stored as the code (destinations.countries).
    country = CountryChoiceField(label=_("Country"))
    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1, max_value=2**31 - 1)

    class Meta:
        model = DestinationRisk
        fields = ["country", "extradites", "incidents", "passport_needed", "notes"]
        widgets = {
            "extradites": forms.RadioSelect,
            "incidents": forms.Textarea(attrs={"rows": 4}),
            "passport_needed": forms.Textarea(attrs={"rows": 2}),
            "notes": forms.Textarea(attrs={"rows": 4}),
        }

    def __init__(self, *args, adding: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        if adding:
            del self.fields["version"]
        else:
            # The code names the entry (and its URL): changing it is adding another.
            del self.fields["country"]

    def clean_country(self) -> str:
        return clean_country_code(self.cleaned_data["country"])

    def validate_unique(self):
        """The service answers "already in the register" in words people understand."""
