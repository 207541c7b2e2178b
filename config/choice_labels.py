"""get_FOO_display() at the cost of one dictionary look-up.

Django's own builds a dictionary of every choice on each call, and hashing each lazily
translated label translates it: one audit row's action costs 36 gettext calls, a page of
50 rows 1,800, a case page's timeline about a thousand. Here each field keeps one
{value: label} map for the life of the process; the labels stay lazy, so the one shown is
translated into the asking user's language when it is shown.
"""

from functools import cache

from django.db.models import Field
from django.utils.encoding import force_str
from django.utils.hashable import make_hashable


@cache
def _labels(field: Field) -> dict:
    # Only the values are hashed; the labels are kept as they are, untranslated.
    return {make_hashable(value): label for value, label in field.flatchoices}


class ChoiceLabelsMixin:
    """Put before models.Model in a model's bases: its get_FOO_display() methods stop
    translating every label of the field to show one."""

    def _get_FIELD_display(self, field: Field):
        value = getattr(self, field.attname)
        return force_str(_labels(field).get(make_hashable(value), value), strings_only=True)
