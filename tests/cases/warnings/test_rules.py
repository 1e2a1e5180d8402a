"""The early-warning rules (pure): surge, response rate, burst, alert states, fingerprints."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from cases.warnings.rules import (
    AlertState,
    Rule,
    Scope,
    Thresholds,
    burst,
    fingerprint,
    move,
    response_rate,
    say_figures,
    say_week,
    surge,
    surge_window,
    week_of,
)

TODAY = date(2026, 12, 4)
T = Thresholds(surge_factor=3.0, surge_floor=10, surge_weeks=8)


def history(weekly: list[int], recent: int) -> dict[date, int]:
    """Daily filings: each earlier week's count on its first day, the last week's on today."""
    daily: dict[date, int] = {}
    for weeks_back, count in zip(range(len(weekly), 0, -1), weekly, strict=True):
        if count:
            daily[TODAY - timedelta(days=7 * weeks_back)] = count
    if recent:
        daily[TODAY] = recent
    return daily


@pytest.mark.parametrize(
    ("weekly", "recent", "fires", "median"),
    [
        ([2] * 8, 10, True, 2.0),  # 10 > 3 x 2 and at the floor
        ([2] * 8, 9, False, 2.0),  # below the floor
        ([4] * 8, 12, False, 4.0),  # 12 is not more than 3 x 4
        ([4] * 8, 13, True, 4.0),
        ([0] * 8, 10, True, 0.0),  # nothing before: only the floor counts
        ([0] * 8, 0, False, 0.0),
        ([1, 1, 1, 1, 50, 50, 50, 50], 60, False, 25.5),  # the median, not the mean
        ([1, 1, 1, 1, 1, 50, 50, 50], 60, True, 1.0),
    ],
)
def test_surge(weekly: list[int], recent: int, fires: bool, median: float) -> None:
    found = surge(Scope.MERCHANT, "7", "长宁旅行社", history(weekly, recent), TODAY, T)
    assert (found is not None) is fires
    if found is not None:
        assert found.rule is Rule.SURGE and found.key == "7" and found.label == "长宁旅行社"
        assert found.figures["last_7_days"] == recent
        assert found.figures["median_week"] == median
        assert found.figures["weeks"] == weekly
        assert found.parameters == {"factor": 3.0, "floor": 10, "weeks": 8, "days": 7}
        # The chart's series: every day of the window, today last.
        first, last = surge_window(TODAY, 8)
        assert found.figures["daily"][0][0] == first.isoformat()
        assert found.figures["daily"][-1] == [last.isoformat(), recent]
        assert len(found.figures["daily"]) == 63


def test_surge_counts_the_last_seven_days_today_inclusive() -> None:
    daily = {TODAY - timedelta(days=d): 2 for d in range(7)}  # 14 in the last 7 days
    daily[TODAY - timedelta(days=7)] = 100  # the day before them: the latest earlier week
    found = surge(Scope.CATEGORY, "tourism", "旅游", daily, TODAY, T)
    assert found is not None
    assert found.figures["last_7_days"] == 14
    assert found.figures["weeks"] == [0, 0, 0, 0, 0, 0, 0, 100]
    assert found.figures["median_week"] == 0.0 and found.figures["ratio"] is None


@pytest.mark.parametrize(
    ("answered", "asked", "fires"),
    [
        (4, 10, True),  # 40% of 10
        (5, 10, False),  # exactly the threshold is not below it
        (0, 9, False),  # too few asked to judge
        (0, 10, True),
        (10, 10, False),
    ],
)
def test_response_rate(answered: int, asked: int, fires: bool) -> None:
    t = Thresholds(response_rate_below=0.5, response_minimum_asked=10)
    found = response_rate("3", "某商户", answered, asked, t)
    assert (found is not None) is fires
    if found is not None:
        assert found.scope is Scope.MERCHANT
        assert found.figures == {"answered": answered, "asked": asked, "rate": answered / asked}


@pytest.mark.parametrize(("filings", "fires"), [(9, False), (10, True), (40, True)])
def test_burst(filings: int, fires: bool) -> None:
    found = burst("91310105MA1FL00001", "某旅行社", filings, Thresholds(burst_filings=10))
    assert (found is not None) is fires
    if found is not None:
        assert found.scope is Scope.RESPONDENT
        assert found.parameters == {"filings": 10, "hours": 48}


@pytest.mark.parametrize(
    ("state", "action", "after"),
    [
        (AlertState.NEW, "acknowledge", AlertState.ACKNOWLEDGED),
        (AlertState.NEW, "resolve", AlertState.RESOLVED),
        (AlertState.ACKNOWLEDGED, "resolve", AlertState.RESOLVED),
        (AlertState.ACKNOWLEDGED, "acknowledge", None),
        (AlertState.RESOLVED, "resolve", None),
        (AlertState.RESOLVED, "reopen", AlertState.ACKNOWLEDGED),
        (AlertState.NEW, "reopen", None),
        (AlertState.NEW, "anything", None),
    ],
)
def test_moves(state: AlertState, action: str, after: AlertState | None) -> None:
    assert move(state, action) == after


def test_fingerprint_is_per_rule_subject_and_week() -> None:
    week = week_of(TODAY)
    assert week == "2026-W49"
    assert week_of(date(2027, 1, 1)) == "2026-W53"
    one = fingerprint(Rule.SURGE, Scope.MERCHANT, "7", week)
    assert one == fingerprint(Rule.SURGE, Scope.MERCHANT, "7", week)
    others = {
        fingerprint(Rule.SURGE, Scope.MERCHANT, "8", week),
        fingerprint(Rule.SURGE, Scope.PLATFORM, "7", week),
        fingerprint(Rule.BURST, Scope.MERCHANT, "7", week),
        fingerprint(Rule.SURGE, Scope.MERCHANT, "7", "2026-W50"),
    }
    assert one not in others and len(others) == 4
    assert len(one) == 64


@pytest.mark.parametrize(
    "changes",
    [
        {"surge_factor": 0},
        {"surge_floor": 0},
        {"response_rate_below": 1.5},
        {"response_minimum_asked": 0},
        {"burst_filings": 1},
        {"burst_hours": 0},
    ],
)
def test_thresholds_refuse_nonsense(changes: dict[str, float]) -> None:
    with pytest.raises(ValueError):
        Thresholds(**changes)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("figures", "words"),
    [
        (
            {"last_7_days": 11, "median_week": 2.0, "ratio": 5.5},
            "近7日申请11件，此前8周每周中位数2件，为中位数的5.5倍",
        ),
        ({"answered": 3, "asked": 12, "rate": 0.25}, "已回应3件，应回应12件，回应率25%"),
        ({"filings": 33, "unknown": 1, "flag": True}, "同类申请33件"),
    ],
)
def test_an_alerts_figures_in_plain_words(figures: dict[str, object], words: str) -> None:
    assert say_figures(figures) == words


@pytest.mark.parametrize(
    ("week", "said"), [("2026-W49", "2026年第49周"), ("2027-W01", "2027年第1周")]
)
def test_a_week_in_plain_words(week: str, said: str) -> None:
    assert say_week(week) == said
