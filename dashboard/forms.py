from django import forms
from django.utils.translation import gettext_lazy as _

from dashboard.search import EMPTY, Query, query_read
from privacy.forms import OffTheRecord


class SearchInput(forms.TextInput):
    input_type = "search"


class SearchForm(OffTheRecord, forms.Form):
    """The one search box: what was typed is read into a Query, never kept as text."""

    query = forms.CharField(
        label=_("Search for"),
        max_length=200,
        error_messages={"required": EMPTY},
        help_text=_(
            "A reference (C-2026-00042), a phone number, a handle, an e-mail address, or a "
            "name with a date of birth (Ivan Petrov 17.05.1990). Only exact matches are found."
        ),
        widget=SearchInput(attrs={"autocapitalize": "none", "spellcheck": "false"}),
    )

    def clean_query(self) -> Query:
        return query_read(self.cleaned_data["query"])
