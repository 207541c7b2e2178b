"""Chart geometry for the dashboard: counts in, rectangles, ticks and labels out.

Pure functions, no Django: the templates (`casework/_chart_*.html`) only place what is
computed here. Coordinates are in the SVG's own units (its viewBox); the browser scales
the drawing to the page, so a chart reads the same on a phone and on a desktop.
"""

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

# Both charts are drawn 320 units wide, about the width of a panel on a 360-px phone: their
# 13-unit text shows at about 12 px there, and at about 17 px in a desktop's half-width panel.
WIDTH = 320


@dataclass(frozen=True)
class Bar:
    value: int
    x: float
    y: float
    width: float
    height: float
    key: str = ""  # the series (or stage) it belongs to: names its CSS class


@dataclass(frozen=True)
class FunnelRow:
    """One stage of the funnel: its label above a horizontal bar, the count after it."""

    key: str
    label: str
    bar: Bar
    top: float  # of the row: a link covers the whole row, not only the bar
    label_y: float
    value_x: float
    value_y: float


@dataclass(frozen=True)
class Funnel:
    width: int
    height: int
    rows: list[FunnelRow]
    total: int


FUNNEL_ROW = 40  # label line, bar, gap
FUNNEL_BAR = 16
FUNNEL_VALUE_ROOM = 48  # right of the longest bar: room for "12345"
MIN_BAR = 2  # a count of 1 among thousands still shows as a sliver, not as nothing


def _length(value: int, top: int, room: float) -> float:
    if value <= 0 or top <= 0:
        return 0.0
    return round(max(MIN_BAR, room * value / top), 2)


def funnel(rows: Sequence[tuple[str, str, int]], width: int = WIDTH) -> Funnel:
    """Horizontal bars, one per (key, label, count), the longest for the largest count."""
    top = max((count for _key, _label, count in rows), default=0)
    room = width - FUNNEL_VALUE_ROOM
    placed = []
    for index, (key, label, count) in enumerate(rows):
        y = index * FUNNEL_ROW
        length = _length(count, top, room)
        bar = Bar(value=count, x=0, y=y + 20, width=length, height=FUNNEL_BAR, key=key)
        placed.append(
            FunnelRow(
                key=key,
                label=label,
                bar=bar,
                top=y,
                label_y=y + 15,
                value_x=round(length + 6, 2),
                value_y=y + 33,
            )
        )
    return Funnel(
        width=width,
        height=max(len(rows) * FUNNEL_ROW, FUNNEL_ROW),
        rows=placed,
        total=sum(count for _key, _label, count in rows),
    )


def nice_step(top: int, ticks: int = 4) -> int:
    """A step of 1, 2 or 5 times a power of ten that covers `top` in about `ticks` steps;
    at least 1, since what is counted comes in whole numbers."""
    if top <= ticks:
        return 1
    raw = top / ticks
    magnitude = 10 ** math.floor(math.log10(raw))
    for factor in (1, 2, 5, 10):
        if factor * magnitude >= raw:
            return int(factor * magnitude)
    return int(10 * magnitude)  # unreachable: factor 10 always covers raw


@dataclass(frozen=True)
class Tick:
    value: int
    y: float


@dataclass(frozen=True)
class Series:
    key: str  # names the CSS class of its bars and swatch
    label: str
    total: int
    swatch_y: float
    text_y: float  # one line each: a translated label may take the whole width


@dataclass(frozen=True)
class Period:
    """One week of the grouped chart: a bar per series, and maybe a label under them."""

    start: date
    bars: list[Bar]
    values: list[int]
    label_x: float
    labelled: bool


@dataclass(frozen=True)
class Grouped:
    width: int
    height: int
    # The plotting area: left, top, right, bottom edges.
    left: float
    top: float
    right: float
    bottom: float
    ticks: list[Tick]
    tick_x: float  # where tick labels end, right-aligned against the axis
    series: list[Series]
    periods: list[Period]
    label_y: float
    swatch_x: float
    text_x: float  # of the legend's labels
    empty: bool  # nothing counted at all: the template says so in the plot
    middle_x: float
    middle_y: float


GROUPED_HEIGHT = 250
MARGIN_LEFT = 40  # tick labels up to five digits
MARGIN_RIGHT = 6
LEGEND_LINE = 20
MARGIN_TOP = 12  # above the legend, whose lines are added to it
MARGIN_BOTTOM = 30  # the week labels
PERIOD_LABEL_WIDTH = 52  # "12 Jan", "12 Сен" at 12 units, with room between
BAR_GAP = 1


def grouped(
    starts: Sequence[date],
    series: Sequence[tuple[str, str, Sequence[int]]],
    width: int = WIDTH,
    height: int = GROUPED_HEIGHT,
) -> Grouped:
    """Vertical bars grouped by period: `series` is (key, label, one count per start).

    The y axis runs from 0 to a round number at or above the largest count. Periods are
    labelled at the last one and every k-th before it, k chosen so labels never overlap.
    """
    for _key, _label, values in series:
        if len(values) != len(starts):
            raise ValueError("every series needs one count per period")
    left, right = MARGIN_LEFT, width - MARGIN_RIGHT
    top, bottom = MARGIN_TOP + LEGEND_LINE * len(series), height - MARGIN_BOTTOM
    plot_height = bottom - top
    largest = max((value for _k, _l, values in series for value in values), default=0)
    step = nice_step(largest)
    ceiling = step * max(1, math.ceil(largest / step))
    ticks = [
        Tick(value=value, y=round(bottom - plot_height * value / ceiling, 2))
        for value in range(0, ceiling + 1, step)
    ]

    count = len(starts)
    slot = (right - left) / count if count else 0
    bar_width = round(slot * 0.8 / max(len(series), 1), 2)
    every = max(1, math.ceil(PERIOD_LABEL_WIDTH / slot)) if slot else 1
    periods = []
    for index, start in enumerate(starts):
        slot_left = left + index * slot + slot * 0.1
        bars, values = [], []
        for position, (key, _label, counts) in enumerate(series):
            value = counts[index]
            height_of = _length(value, ceiling, plot_height)
            bars.append(
                Bar(
                    value=value,
                    x=round(slot_left + position * bar_width, 2),
                    y=round(bottom - height_of, 2),
                    # A hair of white between the two bars of a week: each meets its
                    # neighbour's colour across the background, not edge to edge.
                    width=round(bar_width - BAR_GAP, 2),
                    height=height_of,
                    key=key,
                )
            )
            values.append(value)
        periods.append(
            Period(
                start=start,
                bars=bars,
                values=values,
                label_x=round(left + (index + 0.5) * slot, 2),
                labelled=(count - 1 - index) % every == 0,
            )
        )

    legend = [
        Series(
            key=key,
            label=label,
            total=sum(values),
            swatch_y=position * LEGEND_LINE,
            text_y=position * LEGEND_LINE + 11,
        )
        for position, (key, label, values) in enumerate(series)
    ]
    return Grouped(
        width=width,
        height=height,
        left=left,
        top=top,
        right=right,
        bottom=bottom,
        ticks=ticks,
        tick_x=left - 6,
        series=legend,
        periods=periods,
        label_y=bottom + 18,
        swatch_x=left,
        text_x=left + 18,
        empty=largest == 0,
        middle_x=round((left + right) / 2, 2),
        middle_y=round((top + bottom) / 2, 2),
    )
