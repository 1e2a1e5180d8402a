"""The figures' pure core, table by table: districts from addresses, periods, growth, the
median of a histogram, a long period split into whole months and ragged days, and which
rollup answers which columns."""

from __future__ import annotations

from datetime import date

import pytest

from cases.analytics.rules import (
    Grain,
    cube_for,
    district_of,
    growth,
    median_of_histogram,
    month_segments,
    period_start,
    previous_range,
)


@pytest.mark.parametrize(
    ("address", "district"),
    [
        ("上海市长宁区愚园路100号", "长宁区"),
        ("浙江省杭州市西湖区文三路1号", "西湖区"),
        ("上海市浦东新区世纪大道1号", "浦东新区"),
        ("江苏省苏州市吴江区", "吴江区"),
        ("云南省大理白族自治州宾川县", ""),  # no 市 before the 县: not guessed
        ("", ""),
        ("某地某路1号", ""),
    ],
)
def test_district_of(address: str, district: str) -> None:
    assert district_of(address) == district


@pytest.mark.parametrize(
    ("day", "grain", "start"),
    [
        (date(2026, 12, 3), Grain.DAY, date(2026, 12, 3)),
        (date(2026, 12, 3), Grain.WEEK, date(2026, 11, 30)),  # a Thursday: that Monday
        (date(2026, 11, 30), Grain.WEEK, date(2026, 11, 30)),
        (date(2026, 12, 3), Grain.MONTH, date(2026, 12, 1)),
    ],
)
def test_period_start(day: date, grain: Grain, start: date) -> None:
    assert period_start(day, grain) == start


def test_previous_range_and_growth() -> None:
    assert previous_range(date(2026, 11, 1), date(2026, 11, 30)) == (
        date(2026, 10, 2),
        date(2026, 10, 31),
    )
    assert growth(15, 10) == pytest.approx(0.5)
    assert growth(3, 0) is None


@pytest.mark.parametrize(
    ("histogram", "median"),
    [
        ({}, None),
        ({0: 0}, None),
        ({4: 1}, 4.0),
        ({1: 1, 3: 1}, 2.0),
        ({1: 2, 5: 1}, 1.0),
        ({1: 1, 2: 1, 9: 2}, 5.5),
        ({7: 3, 2: 3}, 4.5),
    ],
)
def test_median_of_histogram(histogram: dict[int, int], median: float | None) -> None:
    assert median_of_histogram(histogram) == median


@pytest.mark.parametrize(
    ("start", "end", "pieces"),
    [
        (date(2026, 11, 3), date(2026, 11, 20), [(False, date(2026, 11, 3), date(2026, 11, 20))]),
        (date(2026, 11, 1), date(2026, 11, 30), [(True, date(2026, 11, 1), date(2026, 11, 30))]),
        (
            date(2026, 10, 15),
            date(2026, 12, 3),
            [
                (False, date(2026, 10, 15), date(2026, 10, 31)),
                (True, date(2026, 11, 1), date(2026, 11, 30)),
                (False, date(2026, 12, 1), date(2026, 12, 3)),
            ],
        ),
        (
            date(2025, 12, 4),
            date(2026, 12, 3),
            [
                (False, date(2025, 12, 4), date(2025, 12, 31)),
                (True, date(2026, 1, 1), date(2026, 11, 30)),
                (False, date(2026, 12, 1), date(2026, 12, 3)),
            ],
        ),
        (date(2026, 12, 5), date(2026, 12, 3), []),
    ],
)
def test_month_segments(start: date, end: date, pieces: list[tuple[bool, date, date]]) -> None:
    assert month_segments(start, end) == pieces


def test_open_ended_periods_are_covered() -> None:
    pieces = month_segments(None, None)
    assert pieces[0][1] <= date(1970, 1, 1) and pieces[-1][2] >= date(2999, 12, 31)


def test_the_leanest_rollup_answers() -> None:
    assert cube_for([]).table == "figure_by_category"
    assert cube_for(["domain"]).table == "figure_by_category"
    assert cube_for(["partner_id", "category"]).table == "figure_by_partner"
    assert cube_for(["merchant_id"]).table == "figure_by_merchant"
    assert cube_for(["merchant_id", "organisation_id"]).table == "figure_all"
    assert cube_for(["organisation_id", "mediator_id", "track"]).table == "figure_by_organisation"
