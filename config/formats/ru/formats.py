"""Dates as Russian writes them: the month in the genitive, "6 декабря 2026 14:05" (the
`E` format character), never the abbreviated nominative "6 Дек"."""

DATE_FORMAT = "j E Y"
DATETIME_FORMAT = "j E Y H:i"
SHORT_DATETIME_FORMAT = "j E H:i"
MONTH_DAY_FORMAT = "j E"
TIME_FORMAT = "H:i"
# A chart's axis: the shortest day and month ("05.12").
SHORT_DATE_FORMAT = "d.m"
