"""Early warnings: the pure rules, table-tested.

Three rules, each evaluated by the background job over the figures (cases.analytics.figures):

- surge: a merchant, platform or category whose filings in the last 7 days exceed `k` times
  the median of its weekly filings over the 8 weeks before, and at least an absolute floor;
- response rate: a merchant whose share of disputes answered (of those it was asked to answer
  first) falls below a threshold, counted only once it was asked at least a minimum;
- burst: at least `n` similar filings against one respondent within 48 hours (a cancelled
  tour, a typhoon, a failed agency).

An alert is raised at most once per rule, subject and ISO week (`fingerprint`), so the job can
run in several processes and every few seconds without raising the same alert twice.

Pure: no I/O, no ORM, no clock. Codes only; the shell holds the words.
"""

from __future__ import annotations

import hashlib
import statistics
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum
from typing import Any


class Rule(StrEnum):
    SURGE = "surge"
    RESPONSE_RATE = "response_rate"
    BURST = "burst"


class Scope(StrEnum):
    """What an alert is about (the first three are the figures' dimensions of the same name)."""

    MERCHANT = "merchant"
    PLATFORM = "platform"
    CATEGORY = "category"
    RESPONDENT = "respondent"


class AlertState(StrEnum):
    NEW = "new"
    ACKNOWLEDGED = "acknowledged"
    RESOLVED = "resolved"


# Which state an action moves an alert to, from which states.
MOVES: Mapping[str, tuple[frozenset[AlertState], AlertState]] = {
    "acknowledge": (frozenset({AlertState.NEW}), AlertState.ACKNOWLEDGED),
    "resolve": (frozenset({AlertState.NEW, AlertState.ACKNOWLEDGED}), AlertState.RESOLVED),
    "reopen": (frozenset({AlertState.RESOLVED}), AlertState.ACKNOWLEDGED),
}


def move(state: AlertState, action: str) -> AlertState | None:
    """The state `action` moves an alert in `state` to, or None if it may not."""
    found = MOVES.get(action)
    if found is None or state not in found[0]:
        return None
    return found[1]


SURGE_SCOPES = (Scope.MERCHANT, Scope.PLATFORM, Scope.CATEGORY)
SURGE_DAYS = 7


@dataclass(frozen=True)
class Thresholds:
    """Each rule's parameters (the platform's settings, GOVERNANCE_*)."""

    surge_factor: float = 3.0  # k: last 7 days > k x the median week
    surge_floor: int = 10  # and at least this many filings in the last 7 days
    surge_weeks: int = 8  # the weeks the median is taken over
    response_rate_below: float = 0.5  # a merchant answering less than this share
    response_minimum_asked: int = 10  # of at least this many disputes
    response_days: int = 30  # filed within this many days
    burst_filings: int = 10  # at least this many similar filings against one respondent
    burst_hours: int = 48  # within this many hours

    def __post_init__(self) -> None:
        if self.surge_factor <= 0 or self.surge_floor < 1 or self.surge_weeks < 1:
            raise ValueError("GOVERNANCE_SURGE_*: factor above 0, floor and weeks at least 1")
        if not 0 < self.response_rate_below <= 1 or self.response_minimum_asked < 1:
            raise ValueError("GOVERNANCE_RESPONSE_*: rate in (0, 1], minimum at least 1")
        if self.response_days < 1 or self.burst_filings < 2 or self.burst_hours < 1:
            raise ValueError("GOVERNANCE_*: days and hours at least 1, burst at least 2")

    def of(self, rule: Rule) -> dict[str, Any]:
        """The parameters a rule was evaluated with (kept with each alert it raises)."""
        if rule is Rule.SURGE:
            return {
                "factor": self.surge_factor,
                "floor": self.surge_floor,
                "weeks": self.surge_weeks,
                "days": SURGE_DAYS,
            }
        if rule is Rule.RESPONSE_RATE:
            return {
                "below": self.response_rate_below,
                "minimum_asked": self.response_minimum_asked,
                "days": self.response_days,
            }
        return {"filings": self.burst_filings, "hours": self.burst_hours}


@dataclass(frozen=True)
class Finding:
    """A rule that fired for one subject: what the alert keeps."""

    rule: Rule
    scope: Scope
    key: str
    label: str
    parameters: Mapping[str, Any]
    figures: Mapping[str, Any]


def week_of(day: date) -> str:
    """The ISO week a day falls in, as alerts are counted once per week: 2026-W49."""
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


def fingerprint(rule: Rule, scope: Scope, key: str, week: str) -> str:
    """One alert per rule, subject and week: the unique column's value (SHA-256 hex)."""
    return hashlib.sha256(f"{rule}\x1f{scope}\x1f{key}\x1f{week}".encode()).hexdigest()


def surge_window(today: date, weeks: int) -> tuple[date, date]:
    """The first and last day whose filings the surge rule reads (today inclusive)."""
    return today - timedelta(days=SURGE_DAYS * (weeks + 1) - 1), today


def weekly_counts(daily: Mapping[date, int], today: date, weeks: int) -> tuple[int, list[int]]:
    """Filings in the last 7 days (today inclusive), and in each of the `weeks` weeks of 7
    days before them, oldest first."""

    def block(end: date) -> int:
        return sum(daily.get(end - timedelta(days=i), 0) for i in range(SURGE_DAYS))

    recent = block(today)
    before = [block(today - timedelta(days=SURGE_DAYS * w)) for w in range(weeks, 0, -1)]
    return recent, before


def surge(
    scope: Scope, key: str, label: str, daily: Mapping[date, int], today: date, t: Thresholds
) -> Finding | None:
    """The surge rule for one subject's daily filings (days without filings absent)."""
    recent, before = weekly_counts(daily, today, t.surge_weeks)
    median = float(statistics.median(before)) if before else 0.0
    if recent < t.surge_floor or recent <= t.surge_factor * median:
        return None
    first, _ = surge_window(today, t.surge_weeks)
    series = [
        [(first + timedelta(days=i)).isoformat(), daily.get(first + timedelta(days=i), 0)]
        for i in range((today - first).days + 1)
    ]
    return Finding(
        Rule.SURGE,
        scope,
        key,
        label,
        t.of(Rule.SURGE),
        {
            "last_7_days": recent,
            "median_week": median,
            "weeks": before,
            "ratio": round(recent / median, 2) if median else None,
            "daily": series,
        },
    )


def response_rate(key: str, label: str, answered: int, asked: int, t: Thresholds) -> Finding | None:
    """The response-rate rule for one merchant."""
    if asked < t.response_minimum_asked:
        return None
    rate = answered / asked
    if rate >= t.response_rate_below:
        return None
    return Finding(
        Rule.RESPONSE_RATE,
        Scope.MERCHANT,
        key,
        label,
        t.of(Rule.RESPONSE_RATE),
        {"answered": answered, "asked": asked, "rate": round(rate, 4)},
    )


def burst(key: str, label: str, filings: int, t: Thresholds) -> Finding | None:
    """The burst rule for one respondent's similar filings within the window."""
    if filings < t.burst_filings:
        return None
    return Finding(Rule.BURST, Scope.RESPONDENT, key, label, t.of(Rule.BURST), {"filings": filings})


# The figures that fired a rule, in the words of an official notice.
FIGURE_WORDS = {
    "last_7_days": "近7日申请{}件",
    "median_week": "此前8周每周中位数{}件",
    "ratio": "为中位数的{}倍",
    "answered": "已回应{}件",
    "asked": "应回应{}件",
    "filings": "同类申请{}件",
}


def say_figures(figures: dict[str, Any]) -> str:
    """The figures of an alert in plain words (a rate as a percentage; unknown keys left out)."""
    words = []
    for key, value in figures.items():
        if not isinstance(value, int | float) or isinstance(value, bool):
            continue
        if key == "rate":
            words.append(f"回应率{value:.0%}")
        elif key in FIGURE_WORDS:
            shown = f"{value:g}" if isinstance(value, float) else str(value)
            words.append(FIGURE_WORDS[key].format(shown))
    return "，".join(words)


def say_week(week: str) -> str:
    """An ISO week ("2026-W49") as a notice says it: 2026年第49周."""
    year, _, number = week.partition("-W")
    return f"{year}年第{int(number)}周" if year.isdigit() and number.isdigit() else week
