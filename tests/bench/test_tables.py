"""`make bench`'s verdicts (tests/bench/pages.py): each page against the floor measured
right after it, and growth between sizes read over each size's own floor."""

from tests.bench.pages import growth_table


def row(name, p50, p95, floor_p50=None, floor_p95=None, queries=10):
    page = {"name": name, "p50": p50, "p95": p95, "queries": queries, "errors": 0}
    if floor_p50 is not None:
        page["floor_p50"], page["floor_p95"] = floor_p50, floor_p95
    return page


def result(cases, pages):
    return {"cases": cases, "pages": pages}


def verdicts(small, large) -> dict[str, str]:
    lines = growth_table(small, large)[2:]
    return {line[:24].strip(): line.split("  ")[-1].strip() for line in lines}


def test_a_page_is_read_against_the_floor_measured_right_after_it():
    # The machine slowed to half speed after the first floor: the list took 16 ms, and so
    # did the floor right after it. Against the first floor it would be 8x, a miss.
    small = result(1_000, [row("floor", 2, 3), row("case list p1", 7, 9, 2, 3)])
    large = result(100_000, [row("floor", 2, 3), row("case list p1", 16, 20, 4.5, 6)])
    assert verdicts(small, large)["case list p1"] == "ok"


def test_a_list_over_four_floors_misses_and_one_that_grows_is_named():
    small = result(1_000, [row("floor", 2, 3), row("case list p1", 6, 8, 2, 3)])
    large = result(100_000, [row("floor", 2, 3), row("case list p1", 9, 12, 2, 3)])
    assert verdicts(small, large)["case list p1"] == "p50 > 4x floor, grows"


def test_a_machine_slower_for_the_second_size_is_not_growth():
    # Every page and its floor 40 % slower at 100,000 cases: the same ratio, no growth.
    small = result(1_000, [row("floor", 2, 3), row("dashboard", 10, 12, 2, 3)])
    large = result(100_000, [row("floor", 2.8, 4.2), row("dashboard", 14, 16.8, 2.8, 4.2)])
    assert verdicts(small, large)["dashboard"] == "ok"


def test_query_counts_that_grow_are_named():
    small = result(1_000, [row("floor", 2, 3), row("dashboard", 10, 12, 2, 3, queries=15)])
    large = result(100_000, [row("floor", 2, 3), row("dashboard", 10, 12, 2, 3, queries=16)])
    assert verdicts(small, large)["dashboard"] == "queries grow"
