"""The `date` filter every template uses (config/date_filter.py) prints exactly what
Django's own prints, in every language and time zone, for every format letter."""

import re
import string
from datetime import UTC, date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings
from django.template import engines
from django.template.defaultfilters import date as django_date
from django.utils import timezone, translation
from django.utils.dateformat import DateFormat

from config.date_filter import date as our_date

TEMPLATE_FORMATS = sorted(
    {
        found
        for path in Path(settings.BASE_DIR, "templates").rglob("*.html")
        for found in re.findall(r"\|date:[\"']([^\"']*)[\"']", path.read_text())
    }
)
LETTERS = [letter for letter in string.ascii_letters if hasattr(DateFormat, letter)]
MOSCOW, NEW_YORK = ZoneInfo("Europe/Moscow"), ZoneInfo("America/New_York")
DATETIMES = [
    datetime(2026, 3, 9, 14, 5, 7, 123456, tzinfo=UTC),
    datetime(2026, 11, 1, 5, 30, tzinfo=UTC),  # an hour New York lives twice
    datetime(2026, 3, 8, 7, 30, tzinfo=UTC),  # the day New York skips an hour
    datetime(2025, 12, 31, 23, 59, 59),  # naive
]
DATES = [date(2026, 1, 1), date(2024, 2, 29), date(2026, 5, 9)]
ODD_VALUES = [None, "", "not a date", 0, 42]


def test_the_templates_use_formats_it_speeds_up():
    assert {"c", "j M Y H:i", "Y-m-d"} <= set(TEMPLATE_FORMATS)


@pytest.mark.parametrize("language", [code for code, _name in settings.LANGUAGES])
@pytest.mark.parametrize("zone", [UTC, MOSCOW, NEW_YORK])
@pytest.mark.parametrize("format_string", [*TEMPLATE_FORMATS, *LETTERS, r"\Y\e\s: Y", "jS F, l"])
def test_it_prints_what_django_prints_for_datetimes(language, zone, format_string):
    with translation.override(language), timezone.override(zone):
        for value in DATETIMES:
            local = timezone.localtime(value) if timezone.is_aware(value) else value
            assert our_date(local, format_string) == django_date(local, format_string)


@pytest.mark.parametrize("language", [code for code, _name in settings.LANGUAGES])
@pytest.mark.parametrize(
    "format_string",
    [format_string for format_string in TEMPLATE_FORMATS if "H" not in format_string],
)
def test_it_prints_what_django_prints_for_dates(language, format_string):
    with translation.override(language):
        for value in DATES:
            assert our_date(value, format_string) == django_date(value, format_string)


def test_a_time_asked_of_a_date_is_refused_as_django_refuses_it():
    with pytest.raises(TypeError, match="time-related format specifiers"):
        our_date(date(2026, 1, 1), "j M Y H:i")


@pytest.mark.parametrize("value", ODD_VALUES)
@pytest.mark.parametrize("format_string", ["j M Y", "c", "", None, "DATE_FORMAT"])
def test_odd_values_and_named_formats_answer_as_django_does(value, format_string):
    with translation.override("ru"):
        assert our_date(value, format_string) == django_date(value, format_string)
        assert our_date(DATETIMES[0], format_string) == django_date(DATETIMES[0], format_string)


def test_templates_use_it_with_the_users_time_zone_and_language():
    template = engines["django"].from_string('{{ when|date:"j M Y H:i" }}|{{ when|date:"c" }}')
    with translation.override("ru"), timezone.override(MOSCOW):
        shown = template.render({"when": DATETIMES[0]})
        month = django_date(DATETIMES[0], "M")
    assert month != "Mar"
    assert shown == f"9 {month} 2026 17:05|2026-03-09T17:05:07.123456+03:00"
    assert engines["django"].engine.template_builtins[-1].filters["date"] is our_date
