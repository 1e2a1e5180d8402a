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
