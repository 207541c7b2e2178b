"""Countries by name in the reader's language, stored as their ISO 3166 code.

A destination is typed by people under stress, in Russian as often as not: they choose
"Грузия" from a list, and the case and the register keep "GE" as before (the code is what
the register and the case are matched on). The names and their translations are
django-countries'; a code it does not know (one stored before the list) stays valid and is
shown as the code.
"""

from django import forms
from django.utils.translation import gettext_lazy as _
from django_countries import countries


def country_name(code: str) -> str:
    """The country's name in the active language; the code itself if the list lacks it."""
    return str(countries.name(code)) or code if code else ""


def country_choices(keep: str = "") -> list[tuple[str, str]]:
    """Every country, by name in the active language; `keep` (a stored code) always
    among them, so a value saved before stays valid."""
    choices = [(code, str(name)) for code, name in countries]
    if keep and keep not in dict(choices):
        choices.insert(0, (keep, keep))
    return choices


class CountryChoiceField(forms.ChoiceField):
    """A <select> of countries named in the reader's language, cleaned to the upper-case
    code; `keep` is the value already stored."""

    def __init__(self, *, keep: str = "", **kwargs):
        empty_label = _("Not chosen yet")
        kwargs.setdefault(
            "error_messages", {"invalid_choice": _("Choose the country from the list.")}
        )
        super().__init__(choices=lambda: [("", empty_label), *country_choices(keep)], **kwargs)
        self.widget.attrs.setdefault("autocomplete", "off")

    def to_python(self, value) -> str:
        return super().to_python(value).strip().upper()
