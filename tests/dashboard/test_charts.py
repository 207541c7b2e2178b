"""The dashboard charts' geometry: counts in, bars that say the same thing out."""

import itertools
from datetime import date, timedelta

import pytest

from dashboard import charts

MONDAYS = [date(2026, 1, 5) + timedelta(weeks=n) for n in range(12)]


def weekly(requests, crossings, starts=MONDAYS):
    return charts.grouped(
        starts, [("requests", "Requests", requests), ("crossings", "Crossings", crossings)]
    )


def test_the_funnel_with_no_cases_draws_no_bars_but_every_stage():
    chart = charts.funnel([("new", "New", 0), ("screening", "Screening", 0)])
    assert [row.label for row in chart.rows] == ["New", "Screening"]
    assert all(row.bar.width == 0 for row in chart.rows)
    assert chart.total == 0
    assert chart.height > 0


def test_the_largest_stage_fills_the_width_and_the_rest_are_in_proportion():
    chart = charts.funnel([("new", "New", 10), ("screening", "Screening", 5), ("p", "P", 1)])
    new, screening, planning = (row.bar.width for row in chart.rows)
    assert new == chart.width - charts.FUNNEL_VALUE_ROOM
    assert screening == pytest.approx(new / 2)
    assert planning == pytest.approx(new / 10)
    # The count is written just after its own bar, never on top of the next.
    assert all(row.value_x > row.bar.x + row.bar.width for row in chart.rows)
    assert all(row.value_x < chart.width for row in chart.rows)


def test_funnel_rows_do_not_overlap():
    chart = charts.funnel([(str(n), str(n), n) for n in range(9)])
    tops = [row.bar.y for row in chart.rows]
    assert all(b - a >= charts.FUNNEL_BAR for a, b in itertools.pairwise(tops))
    assert chart.rows[-1].bar.y + charts.FUNNEL_BAR <= chart.height


def test_one_case_among_thousands_still_shows():
    chart = charts.funnel([("new", "New", 20_000), ("crossing", "Crossing", 1)])
    assert chart.rows[1].bar.width >= charts.MIN_BAR


@pytest.mark.parametrize(
    ("top", "step"),
    [(0, 1), (1, 1), (4, 1), (5, 2), (7, 2), (10, 5), (37, 10), (1_000, 500), (10_001, 5_000)],
)
def test_steps_are_round_and_whole(top, step):
    assert charts.nice_step(top) == step


def test_no_data_draws_an_empty_chart_with_a_baseline():
    chart = weekly([0] * 12, [0] * 12)
    assert chart.empty
    assert chart.ticks[0].value == 0 and chart.ticks[0].y == chart.bottom
    assert all(bar.height == 0 for period in chart.periods for bar in period.bars)


def test_the_axis_covers_the_largest_week_with_a_round_top():
    chart = weekly([3, 0, 7, 1, 0, 0, 0, 0, 0, 0, 0, 2], [0] * 11 + [1])
    values = [tick.value for tick in chart.ticks]
    assert values == [0, 2, 4, 6, 8]
    assert chart.ticks[-1].y == chart.top
    assert not chart.empty


def test_bars_stand_on_the_baseline_in_proportion_to_the_axis():
    chart = weekly([8, 4] + [0] * 10, [2] + [0] * 11)
    eight, four = chart.periods[0].bars[0], chart.periods[1].bars[0]
    two = chart.periods[0].bars[1]
    plot = chart.bottom - chart.top
    assert eight.height == pytest.approx(plot)
    assert four.height == pytest.approx(plot / 2)
    assert two.height == pytest.approx(plot / 4)
    for bar in (eight, four, two):
        assert bar.y + bar.height == pytest.approx(chart.bottom)


def test_one_huge_week_keeps_the_others_visible_and_inside():
    chart = weekly([1] * 11 + [50_000], [0] * 11 + [3])
    assert chart.ticks[-1].value >= 50_000
    assert chart.ticks[-1].value <= 100_000
    small = chart.periods[0].bars[0]
    assert small.height >= charts.MIN_BAR
    for period in chart.periods:
        for bar in period.bars:
            assert chart.top <= bar.y <= chart.bottom
            assert chart.left <= bar.x and bar.x + bar.width <= chart.right


def test_bars_of_one_week_sit_side_by_side_and_weeks_do_not_overlap():
    chart = weekly([5] * 12, [5] * 12)
    edges = []
    for period in chart.periods:
        requests, crossings = period.bars
        assert requests.x + requests.width <= crossings.x + 0.01
        assert (requests.key, crossings.key) == ("requests", "crossings")
        edges.append((requests.x, crossings.x + crossings.width))
    for (_, right), (left, _) in itertools.pairwise(edges):
        assert right < left


def test_week_labels_skip_weeks_rather_than_overlap_and_the_latest_is_labelled():
    chart = weekly([1] * 12, [1] * 12)
    labelled = [period for period in chart.periods if period.labelled]
    assert chart.periods[-1].labelled
    assert len(labelled) < 12
    gaps = [b.label_x - a.label_x for a, b in itertools.pairwise(labelled)]
    assert min(gaps) >= charts.PERIOD_LABEL_WIDTH


def test_a_few_weeks_are_all_labelled():
    starts = MONDAYS[:3]
    chart = weekly([1, 2, 3], [0, 0, 1], starts=starts)
    assert all(period.labelled for period in chart.periods)


def test_the_legend_totals_each_series():
    chart = weekly([1] * 12, [0] * 11 + [4])
    assert [(s.key, s.total) for s in chart.series] == [("requests", 12), ("crossings", 4)]
    # One line each, above the plot: a long translated label cannot run into the next.
    first, second = chart.series
    assert first.text_y < second.swatch_y
    assert second.text_y < chart.top


def test_a_series_of_the_wrong_length_is_refused():
    with pytest.raises(ValueError):
        weekly([1] * 11, [1] * 12)
