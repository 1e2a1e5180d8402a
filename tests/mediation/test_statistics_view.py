"""The open statistics page's tables (mediation/statistics_view.py): table tests that no
count from 1 to 4 is shown, nor can be worked out from what is shown."""

from __future__ import annotations

from datetime import date

import pytest

from cases.analytics.figures import FigureFilter, FunnelStep, RankRow, VolumePoint
from mediation.statistics_view import by_category, monthly, outcomes, public_stage_count

F = FigureFilter(start=date(2026, 1, 1), end=date(2026, 4, 30))


def test_months_are_every_month_and_suppressed() -> None:
    points = [
        VolumePoint(date(2026, 1, 1), "", "全部", 12),
        VolumePoint(date(2026, 2, 1), "", "全部", 3),
        VolumePoint(date(2026, 4, 1), "", "全部", 30),
    ]
    table = monthly(points, F, str, "zh_CN")
    assert [label for label, _ in table.rows] == [
        "2026年1月",
        "2026年2月",
        "2026年3月",
        "2026年4月",
        "Total",
    ]
    # March's zero is shown; February's 3 is hidden, and so is January's 12 (else the total
    # less the others would give February).
    assert [cells[0] for _, cells in table.rows] == [None, None, 0, 30, 45]


def test_categories_are_suppressed() -> None:
    rows = [
        RankRow("tour_refund", "旅游费用退还", 20, 0, None),
        RankRow("tour_contract", "包价旅游合同纠纷", 2, 0, None),
        RankRow("goods_quality", "网购商品质量", 1, 0, None),
    ]
    table = by_category(rows, str)
    assert [cells[0] for _, cells in table.rows] == [None, None, None, 23]


@pytest.mark.parametrize(
    ("count", "shown"),
    [(0, 0), (1, None), (4, None), (5, 5), (7, 5), (8, 10), (12, 10), (13, 15), (102, 100)],
)
def test_a_stage_is_hidden_when_small_and_rounded_to_five(count: int, shown: int | None) -> None:
    assert public_stage_count(count) == shown


def test_the_funnel_says_it_is_rounded() -> None:
    steps = [FunnelStep("filed", "filed", 13, 1.0, 0.0), FunnelStep("answered", "a", 9, 0.7, 2)]
    table = outcomes(steps, str)
    assert [cells[0] for _, cells in table.rows] == [15, 10]
    assert table.note == "Rounded to the nearest 5."
