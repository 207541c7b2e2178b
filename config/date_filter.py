"""The `date` template filter, with each format string parsed once.

Django's filter parses its format string on every call (a regular-expression split, a
substitution per literal) after looking the string up among the locale's named formats:
about 200,000 instructions to print "12 Mar 2026 14:05", twice per row of the case list
and the audit log and per entry of a case's timeline. This one keeps the pieces of each
format string and calls the same DateFormat methods on them, so it prints exactly what
Django's prints. Named formats ("DATE_FORMAT", …), no format at all, and anything unusual
go to Django's own filter.

Installed as a template builtin (config/settings.py), so it replaces Django's `date` in
every template without a {% load %}.
"""

import string
from datetime import date as plain_date
from functools import lru_cache

from django import template
from django.template.defaultfilters import date as django_date
from django.utils.dateformat import DateFormat, TimeFormat, re_escaped, re_formatchars
from django.utils.formats import FORMAT_SETTINGS

register = template.Library()

# Django refuses these for a date without a time; such a call goes to its filter to be refused.
TIME_SPECIFIERS = frozenset(
    letter for letter in string.ascii_letters if hasattr(TimeFormat, letter)
)


@lru_cache(maxsize=256)
def compile_format(format_string: str) -> tuple[tuple[tuple[bool, str], ...], bool]:
    """The pieces in order, (is a specifier, text), split as django.utils.dateformat's
    Formatter splits them; and whether any asks for the time of day."""
    pieces = []
    for index, piece in enumerate(re_formatchars.split(format_string)):
        if index % 2:
            pieces.append((True, piece))
        elif piece:
            pieces.append((False, re_escaped.sub(r"\1", piece)))
    asks_time = any(specifier and text in TIME_SPECIFIERS for specifier, text in pieces)
    return tuple(pieces), asks_time


@register.filter(expects_localtime=True, is_safe=False)
def date(value, arg=None):
    """Django's `date` filter (django.template.defaultfilters.date), parsing once."""
    if value in (None, "") or not isinstance(arg, str) or not arg or arg in FORMAT_SETTINGS:
        return django_date(value, arg)
    pieces, asks_time = compile_format(arg)
    if asks_time and type(value) is plain_date:
        return django_date(value, arg)  # which refuses it, as it always has
    try:
        formatter = DateFormat(value)
        return "".join(
            str(getattr(formatter, text)()) if specifier else text for specifier, text in pieces
        )
    except AttributeError:
        return django_date(value, arg)
