"""The working-day calendar against the State Council's published arrangements.

The 2026 expectations are written out by hand from the official notice (not read back from the
library), so a library or lookup error fails here.
"""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta
from importlib import resources

import pytest

from cases.deadlines.calendar_cn import (
    FIXED_STATUTORY_HOLIDAYS,
    WorkingDayCalendar,
    YearArrangement,
    load_extra_years,
    parse_extra_years,
)

# 2026 notice: holidays falling on Monday-Friday, and weekend days declared working days.
WEEKDAY_HOLIDAYS_2026 = frozenset(
    date(2026, m, d)
    for m, d in [
        (1, 1), (1, 2),
        (2, 16), (2, 17), (2, 18), (2, 19), (2, 20), (2, 23),
        (4, 6),
        (5, 1), (5, 4), (5, 5),
        (6, 19),
        (9, 25),
        (10, 1), (10, 2), (10, 5), (10, 6), (10, 7),
    ]
)  # fmt: skip
WEEKEND_WORKING_DAYS_2026 = frozenset(
    date(2026, m, d) for m, d in [(1, 4), (2, 14), (2, 28), (5, 9), (9, 20), (10, 10)]
)


@pytest.fixture(scope="module")
def cal() -> WorkingDayCalendar:
    return WorkingDayCalendar()


def test_every_day_of_2026_matches_the_notice(cal: WorkingDayCalendar) -> None:
    d = date(2026, 1, 1)
    wrong = []
    while d.year == 2026:
        expected = (
            d in WEEKEND_WORKING_DAYS_2026 or d.weekday() < 5
        ) and d not in WEEKDAY_HOLIDAYS_2026
        if cal.is_working_day(d) != expected:
            wrong.append(d)
        assert cal.is_known(d)
        d += timedelta(days=1)
    assert wrong == []


@pytest.mark.parametrize(
    ("day", "working", "statutory"),
    [
        pytest.param(date(2026, 1, 1), False, True, id="2026-new-year-thu"),
        pytest.param(date(2026, 1, 3), False, True, id="2026-new-year-sat-in-span"),
        pytest.param(date(2026, 1, 4), True, False, id="2026-adjusted-sun-jan4"),
        pytest.param(date(2026, 2, 14), True, False, id="2026-adjusted-sat-feb14"),
        pytest.param(date(2026, 2, 15), False, True, id="2026-spring-festival-sun-in-span"),
        pytest.param(date(2026, 2, 23), False, True, id="2026-spring-festival-last-day-mon"),
        pytest.param(date(2026, 2, 24), True, False, id="2026-first-working-day-after-spring"),
        pytest.param(date(2026, 2, 28), True, False, id="2026-adjusted-sat-feb28"),
        pytest.param(date(2026, 3, 7), False, False, id="2026-ordinary-saturday"),
        pytest.param(date(2026, 3, 9), True, False, id="2026-ordinary-monday"),
        pytest.param(date(2026, 4, 4), False, True, id="2026-qingming-sat"),
        pytest.param(date(2026, 5, 9), True, False, id="2026-adjusted-sat-may9"),
        pytest.param(date(2026, 9, 20), True, False, id="2026-adjusted-sun-sep20"),
        pytest.param(date(2026, 10, 4), False, True, id="2026-national-day-sun-in-span"),
        pytest.param(date(2026, 10, 7), False, True, id="2026-national-day-last-day"),
        pytest.param(date(2026, 10, 10), True, False, id="2026-adjusted-sat-oct10"),
        pytest.param(date(2025, 1, 26), True, False, id="2025-adjusted-sun-jan26"),
        pytest.param(date(2025, 1, 28), False, True, id="2025-spring-festival-eve"),
        pytest.param(date(2025, 2, 8), True, False, id="2025-adjusted-sat-feb8"),
        pytest.param(date(2025, 5, 2), False, True, id="2025-labour-day-fri"),
        pytest.param(date(2025, 10, 8), False, True, id="2025-national-day-wed-oct8"),
        pytest.param(date(2025, 10, 11), True, False, id="2025-adjusted-sat-oct11"),
    ],
)
def test_known_days(cal: WorkingDayCalendar, day: date, working: bool, statutory: bool) -> None:
    assert cal.is_working_day(day) is working
    assert cal.is_statutory_holiday(day) is statutory
    assert cal.is_known(day) is True


@pytest.mark.parametrize(
    ("day", "known"),
    [
        pytest.param(date(2004, 1, 1), True, id="first-library-year"),
        pytest.param(date(2026, 12, 31), True, id="last-library-day"),
        pytest.param(date(2027, 1, 1), False, id="2027-not-published"),
        pytest.param(date(2003, 12, 31), False, id="before-library"),
    ],
)
def test_is_known(cal: WorkingDayCalendar, day: date, known: bool) -> None:
    assert cal.is_known(day) is known


@pytest.mark.parametrize(
    ("day", "working", "statutory"),
    [
        pytest.param(date(2027, 1, 1), False, True, id="new-year-fri"),
        pytest.param(date(2027, 1, 2), False, False, id="plain-saturday"),
        pytest.param(date(2027, 1, 4), True, False, id="plain-monday"),
        pytest.param(date(2027, 5, 1), False, True, id="labour-day-sat"),
        pytest.param(date(2027, 5, 2), False, True, id="labour-day-2-sun"),
        pytest.param(date(2027, 5, 3), True, False, id="may-3-no-bridge-known"),
        pytest.param(date(2027, 10, 1), False, True, id="national-day-1"),
        pytest.param(date(2027, 10, 3), False, True, id="national-day-3"),
        pytest.param(date(2027, 10, 4), True, False, id="oct-4-monday"),
    ],
)
def test_unknown_year_fallback_is_provisional(
    cal: WorkingDayCalendar, day: date, working: bool, statutory: bool
) -> None:
    assert cal.is_working_day(day) is working
    assert cal.is_statutory_holiday(day) is statutory
    assert cal.is_known(day) is False


def test_fixed_holidays_are_the_statutory_fixed_dates() -> None:
    assert {(1, 1), (5, 1), (5, 2), (10, 1), (10, 2), (10, 3)} == FIXED_STATUTORY_HOLIDAYS


def test_packaged_data_file_is_loadable_and_empty() -> None:
    resource = resources.files("cases.deadlines") / "data" / "cn_calendar_extra.json"
    raw = json.loads(resource.read_text(encoding="utf-8"))
    assert raw["years"] == {}
    assert "State Council" in raw["note"]
    assert load_extra_years() == {}
    assert WorkingDayCalendar().reviewed_years == frozenset()


FICTIONAL_2027 = YearArrangement.of(
    2027,
    holidays=[date(2027, 1, 1), date(2027, 1, 4)],
    adjusted_working_days=[date(2027, 1, 9)],
    source="test fixture, fictional",
)


def test_injected_year_is_known_and_used() -> None:
    cal = WorkingDayCalendar({2027: FICTIONAL_2027})
    assert cal.is_known(date(2027, 1, 5))
    assert not cal.is_working_day(date(2027, 1, 4))
    assert cal.is_statutory_holiday(date(2027, 1, 4))
    assert cal.is_working_day(date(2027, 1, 9))
    assert not cal.is_statutory_holiday(date(2027, 1, 9))
    # Not in the reviewed list, so not a holiday: the reviewed notice replaces the fallback.
    assert cal.is_working_day(date(2027, 10, 1))
    assert not cal.is_working_day(date(2027, 1, 10))
    assert cal.reviewed_years == frozenset({2027})


def test_injected_year_overrides_the_library() -> None:
    override = YearArrangement.of(
        2026, holidays=[date(2026, 3, 9)], adjusted_working_days=[], source="test override"
    )
    cal = WorkingDayCalendar({2026: override}, use_data_file=False)
    assert not cal.is_working_day(date(2026, 3, 9))
    assert cal.is_statutory_holiday(date(2026, 3, 9))
    # The library's 2026 holidays are gone for this calendar: the reviewed year wins.
    assert cal.is_working_day(date(2026, 2, 16))
    assert not cal.is_working_day(date(2026, 2, 14))


def test_parse_extra_years_data_file_format() -> None:
    years = parse_extra_years(
        {
            "years": {
                "2027": {
                    "holidays": ["2027-01-01", "2027-01-04"],
                    "adjusted_working_days": ["2027-01-09"],
                    "source": "test fixture, fictional",
                }
            }
        }
    )
    assert years == {2027: FICTIONAL_2027}


@pytest.mark.parametrize(
    "entry",
    [
        pytest.param(
            {"holidays": ["2028-01-01"], "source": "x"},
            id="date-outside-year",
        ),
        pytest.param(
            {"holidays": ["2027-01-09"], "adjusted_working_days": ["2027-01-09"], "source": "x"},
            id="both-holiday-and-working",
        ),
        pytest.param(
            {"adjusted_working_days": ["2027-01-08"], "source": "x"},
            id="adjusted-day-on-a-weekday",
        ),
        pytest.param({"holidays": ["2027-01-01"]}, id="no-source"),
        pytest.param({"holidays": "2027-01-01", "source": "x"}, id="not-a-list"),
        pytest.param({"holidays": ["2027-13-01"], "source": "x"}, id="bad-date"),
    ],
)
def test_parse_extra_years_rejects_bad_entries(entry: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        parse_extra_years({"years": {"2027": entry}})


def test_mismatched_injected_year_is_rejected() -> None:
    with pytest.raises(ValueError):
        WorkingDayCalendar({2028: FICTIONAL_2027})


def test_datetime_is_rejected(cal: WorkingDayCalendar) -> None:
    with pytest.raises(TypeError):
        cal.is_working_day(datetime(2026, 3, 9, 10, 0))


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        pytest.param(date(2026, 2, 13), date(2026, 2, 14), id="to-adjusted-saturday"),
        pytest.param(date(2026, 2, 14), date(2026, 2, 24), id="over-spring-festival"),
        pytest.param(date(2026, 9, 30), date(2026, 10, 8), id="over-national-day"),
        pytest.param(date(2026, 12, 31), date(2027, 1, 4), id="into-unknown-2027"),
    ],
)
def test_next_working_day(cal: WorkingDayCalendar, day: date, expected: date) -> None:
    assert cal.next_working_day(day) == expected
