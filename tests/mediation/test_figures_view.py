"""What the dashboard reads of a query string, and how it says periods and shares
(mediation/figures_view.py): table tests."""

from __future__ import annotations

from datetime import date

import pytest

from cases.analytics.figures import Dimension, FigureFilter, Grain
from mediation import figures_view as fv

TODAY = date(2026, 12, 4)


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({}, FigureFilter(start=date(2026, 6, 6), end=TODAY)),
        (
            {"start": "2026-11-01", "end": "2026-11-30", "domain": "tourism"},
            FigureFilter(start=date(2026, 11, 1), end=date(2026, 11, 30), domain="tourism"),
        ),
        # A start after the end is swapped; the end is never after today.
        (
            {"start": "2026-11-30", "end": "2030-01-01"},
            FigureFilter(start=date(2026, 11, 30), end=TODAY),
        ),
        (
            {"start": "2027-01-01", "end": "2026-11-01"},
            FigureFilter(start=date(2026, 11, 1), end=TODAY),
        ),
        # At most MAX_DAYS, cut from the start; never before 2000.
        (
            {"start": "2001-01-01"},
            FigureFilter(start=date(2023, 12, 3), end=TODAY),
        ),
        (
            {"start": "0001-01-01", "end": "0001-01-02"},
            FigureFilter(start=date(2000, 1, 1), end=date(2000, 1, 1)),
        ),
        # What is not a valid value is left out.
        (
            {"start": "2026-13-01", "domain": "sports", "category": "nope", "organisation": "x"},
            FigureFilter(start=date(2026, 6, 6), end=TODAY),
        ),
        # A category of another domain than the one asked for is left out.
        (
            {"domain": "internet", "category": "tour_refund"},
            FigureFilter(start=date(2026, 6, 6), end=TODAY, domain="internet"),
        ),
        (
            {"category": "tour_refund", "track": "peoples", "partner": "3", "merchant": "12"},
            FigureFilter(
                start=date(2026, 6, 6),
                end=TODAY,
                category="tour_refund",
                track="peoples",
                partner_id=3,
                merchant_id=12,
            ),
        ),
    ],
)
def test_read_filter(query: dict[str, str], expected: FigureFilter) -> None:
    assert fv.read_filter(query, TODAY) == expected


def test_an_organisation_admin_is_forced_to_their_own() -> None:
    f = fv.read_filter({"organisation": "9"}, TODAY, organisation_id=4)
    assert f.organisation_id == 4


def test_read_choices() -> None:
    assert fv.read_choices({}) == fv.Choices()
    choices = fv.read_choices(
        {
            "grain": "month",
            "by": "merchant",
            "order": "growth",
            "dimension": "category",
            "key": "tour_refund",
            "stage": "settled",
            "page": "3",
        }
    )
    assert choices == fv.Choices(
        grain=Grain.MONTH,
        by=Dimension.MERCHANT,
        order="growth",
        dimension=Dimension.CATEGORY,
        key="tour_refund",
        stage="settled",
        page=3,
    )
    assert fv.read_choices({"grain": "year", "by": "x", "page": "-1"}) == fv.Choices()
    # A key must name a value of its dimension (ids for merchants and organisations); a
    # stage must be one; "~none" is the key of "none" (no merchant).
    assert fv.read_choices({"dimension": "merchant", "key": "abc"}) == fv.Choices()
    assert fv.read_choices({"key": "3"}) == fv.Choices()
    assert fv.read_choices({"dimension": "merchant", "key": "~none"}) == fv.Choices(
        dimension=Dimension.MERCHANT, key=""
    )
    assert fv.read_choices({"stage": "nowhere"}) == fv.Choices()
    assert fv.cases_link(FigureFilter(), dimension="platform", key="") == (
        "/governance/cases?dimension=platform&key=~none"
    )


def test_a_filter_goes_back_into_links_unchanged() -> None:
    f = FigureFilter(start=date(2026, 11, 1), end=date(2026, 11, 30), partner_id=2)
    query = fv.filter_query(f, grain="week", by=None, key="")
    assert query == {"start": "2026-11-01", "end": "2026-11-30", "partner": "2", "grain": "week"}
    assert fv.read_filter(query, TODAY) == f


@pytest.mark.parametrize(
    ("period", "grain", "zh", "en", "end"),
    [
        (date(2026, 11, 1), Grain.MONTH, "2026年11月", "Nov 2026", date(2026, 11, 30)),
        (date(2026, 12, 1), Grain.MONTH, "2026年12月", "Dec 2026", date(2026, 12, 31)),
        (date(2026, 11, 30), Grain.WEEK, "11月30日起", "w/c 30 Nov", date(2026, 12, 6)),
        (date(2026, 12, 3), Grain.DAY, "12月3日", "3 Dec", date(2026, 12, 3)),
    ],
)
def test_periods(period: date, grain: Grain, zh: str, en: str, end: date) -> None:
    assert fv.say_period(period, grain, "zh_CN") == zh
    assert fv.say_period(period, grain, "en") == en
    assert fv.period_end(period, grain) == end


def test_shares_and_growth() -> None:
    assert fv.say_share(None) == "—"
    assert fv.say_share(0.456) == "46%"
    assert fv.say_growth(0.5, str) == "+50%"
    assert fv.say_growth(-0.25, str) == "−25%"
    assert fv.say_growth(None, str) == "new"


def test_a_long_period_is_not_shown_day_by_day() -> None:
    short = FigureFilter(start=date(2026, 9, 1), end=date(2026, 11, 30))
    long = FigureFilter(start=date(2026, 9, 1), end=date(2026, 12, 2))
    assert fv.fitting_grain(short, Grain.DAY) is Grain.DAY
    assert fv.fitting_grain(long, Grain.DAY) is Grain.WEEK
    assert fv.fitting_grain(long, Grain.MONTH) is Grain.MONTH


def test_the_volume_table_has_the_charts_columns_and_every_period() -> None:
    from cases.analytics.figures import VolumePoint

    f = FigureFilter(start=date(2026, 11, 1), end=date(2026, 11, 30))
    points = [VolumePoint(date(2026, 11, 2), str(k), f"商户{k}", 10 - k) for k in range(10)]
    panel = fv.volume_panel(points, f, Grain.WEEK, Dimension.MERCHANT, str, "zh_CN")
    # Eight merchants, "Other" for the last two, and the total.
    assert len(panel.table.headings) == 1 + fv.MAX_SERIES + 1 + 1
    assert panel.table.headings[-2:] == ("Other", "Total")
    # Every week from the one of 1 November to the one of 30 November.
    assert [row[0] for row in panel.table.rows] == [
        "10月26日起",
        "11月2日起",
        "11月9日起",
        "11月16日起",
        "11月23日起",
        "11月30日起",
    ]
    assert panel.table.rows[1][-2:] == (2 + 1, sum(10 - k for k in range(10)))
    assert panel.lines[0][1] is None  # nothing behind an empty week
    assert panel.lines[1][1] == ("/governance/cases?start=2026-11-02&end=2026-11-08")
    totals = fv.volume_totals_panel(points, f, Dimension.MERCHANT, str)
    assert totals.table.rows[0] == ("商户0", 10)
    assert totals.lines[0][1] == (
        "/governance/cases?start=2026-11-01&end=2026-11-30&dimension=merchant&key=0"
    )
