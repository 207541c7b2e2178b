"""Dates as the pages show them in English: "6 Dec 2026 14:05" (named in templates, so each
language words its own; config/formats/ru has the Russian)."""

DATE_FORMAT = "j M Y"
DATETIME_FORMAT = "j M Y H:i"
SHORT_DATETIME_FORMAT = "j M H:i"
MONTH_DAY_FORMAT = "j M"
TIME_FORMAT = "H:i"
# A chart's axis: the shortest day and month.
SHORT_DATE_FORMAT = "j M"
