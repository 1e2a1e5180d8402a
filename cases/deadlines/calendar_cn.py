"""The working-day calendar of mainland China, as the deadline engine needs it.

Working-day periods (Art. 10, 12, 15 of the online mediation rules; tourism and consumer
complaint rules) skip weekends and the official holidays and count the adjusted working days
(调休) that the State Council's annual notice declares. That notice changes every year, so the
calendar comes from sources, in this order of precedence:

1. reviewed years from ``cases/deadlines/data/cn_calendar_extra.json`` (or injected by the caller):
   a year is added there after the State Council's notice is published and before the
   ``chinesecalendar`` library ships it; a reviewed entry overrides the library;
2. the ``chinesecalendar`` library (2004-2026 in version 1.11.0; it raises
   ``NotImplementedError`` for any other year);
3. for a year nobody knows, a provisional fallback: Saturday and Sunday are rest days and the
   fixed-date holidays that the law itself sets (《全国年节及纪念日放假办法》第二条, as amended
   with effect from 2025-01-01: 元旦 1 月 1 日, 劳动节 5 月 1 日、2 日, 国庆节 10 月 1 日至 3 日)
   are holidays. Lunar holidays and the notice's bridge days and adjusted working days cannot be
   known in advance; ``is_known`` is False for such a year so callers mark results provisional.

Pure: no clock reads; the only I/O is reading the packaged data file when a calendar is built
without an explicit ``extra_years`` mapping.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from functools import cache
from importlib import resources
from typing import Final

import chinese_calendar

__all__ = [
    "FIXED_STATUTORY_HOLIDAYS",
    "WorkingDayCalendar",
    "YearArrangement",
    "load_extra_years",
    "parse_extra_years",
]

# (month, day) pairs fixed by 《全国年节及纪念日放假办法》第二条 (2024 amendment, in force
# 2025-01-01). They are holidays in every year whatever the annual notice says; the lunar
# holidays (春节, 清明节, 端午节, 中秋节) move and are left to the notice.
FIXED_STATUTORY_HOLIDAYS: Final[frozenset[tuple[int, int]]] = frozenset(
    {(1, 1), (5, 1), (5, 2), (10, 1), (10, 2), (10, 3)}
)

_DATA_PACKAGE: Final = "cases.deadlines"
_DATA_FILE: Final = ("data", "cn_calendar_extra.json")


@dataclass(frozen=True)
class YearArrangement:
    """One year's official holiday arrangement, as published in the State Council's notice.

    ``holidays`` lists every day of each holiday span, weekends inside the span included
    (e.g. 2026-02-15..2026-02-23); ``adjusted_working_days`` lists the weekend days declared
    working days (调休).
    """

    year: int
    holidays: frozenset[date]
    adjusted_working_days: frozenset[date]
    source: str

    def __post_init__(self) -> None:
        for d in self.holidays | self.adjusted_working_days:
            if d.year != self.year:
                raise ValueError(f"{d.isoformat()} is not in year {self.year}")
        both = self.holidays & self.adjusted_working_days
        if both:
            days = ", ".join(sorted(d.isoformat() for d in both))
            raise ValueError(f"{self.year}: days both holiday and adjusted working day: {days}")
        not_weekend = [d for d in self.adjusted_working_days if d.weekday() < 5]
        if not_weekend:
            days = ", ".join(sorted(d.isoformat() for d in not_weekend))
            raise ValueError(f"{self.year}: adjusted working days must be weekend days: {days}")
        if not self.source.strip():
            raise ValueError(f"{self.year}: a reviewed year must name its source")

    @classmethod
    def of(
        cls, year: int, holidays: Iterable[date], adjusted_working_days: Iterable[date], source: str
    ) -> YearArrangement:
        return cls(year, frozenset(holidays), frozenset(adjusted_working_days), source)


def _parse_dates(year: int, key: str, value: object) -> frozenset[date]:
    if not isinstance(value, list):
        raise ValueError(f"{year}: {key!r} must be a list of ISO dates")
    out: set[date] = set()
    for item in value:
        if not isinstance(item, str):
            raise ValueError(f"{year}: {key!r} must hold ISO date strings, got {item!r}")
        out.add(date.fromisoformat(item))
    return frozenset(out)


def parse_extra_years(raw: Mapping[str, object]) -> dict[int, YearArrangement]:
    """Parse the data-file format ``{"years": {"2027": {"holidays": [...], ...}}}``."""
    years = raw.get("years", {})
    if not isinstance(years, Mapping):
        raise ValueError("'years' must be an object keyed by year")
    out: dict[int, YearArrangement] = {}
    for key, entry in years.items():
        year = int(key)
        if not isinstance(entry, Mapping):
            raise ValueError(f"{year}: entry must be an object")
        source = entry.get("source", "")
        if not isinstance(source, str):
            raise ValueError(f"{year}: 'source' must be a string")
        out[year] = YearArrangement(
            year=year,
            holidays=_parse_dates(year, "holidays", entry.get("holidays", [])),
            adjusted_working_days=_parse_dates(
                year, "adjusted_working_days", entry.get("adjusted_working_days", [])
            ),
            source=source,
        )
    return out


def load_extra_years() -> dict[int, YearArrangement]:
    """Read the reviewed years shipped in ``cases/deadlines/data/cn_calendar_extra.json``."""
    resource = resources.files(_DATA_PACKAGE).joinpath(*_DATA_FILE)
    raw = json.loads(resource.read_text(encoding="utf-8"))
    if not isinstance(raw, dict):
        raise ValueError("cn_calendar_extra.json must hold a JSON object")
    return parse_extra_years(raw)


@dataclass(frozen=True)
class _DayInfo:
    working: bool
    statutory_holiday: bool
    known: bool


class WorkingDayCalendar:
    """Answers whether a day is a working day, a statutory holiday, and whether that is official.

    ``extra_years`` adds reviewed years on top of the packaged data file (an injected year wins
    over the file, and both win over the library). Pass ``use_data_file=False`` to ignore the
    file, e.g. in tests that need a fixed set of sources.
    """

    def __init__(
        self,
        extra_years: Mapping[int, YearArrangement] | None = None,
        *,
        use_data_file: bool = True,
    ) -> None:
        years: dict[int, YearArrangement] = load_extra_years() if use_data_file else {}
        for year, arrangement in (extra_years or {}).items():
            if arrangement.year != year:
                raise ValueError(f"extra year {year} carries an arrangement for {arrangement.year}")
            years[year] = arrangement
        self._extra: Final[Mapping[int, YearArrangement]] = years
        self._cache: dict[date, _DayInfo] = {}

    @property
    def reviewed_years(self) -> frozenset[int]:
        """Years answered from reviewed data rather than the library."""
        return frozenset(self._extra)

    def is_working_day(self, d: date) -> bool:
        return self._info(d).working

    def is_statutory_holiday(self, d: date) -> bool:
        """True for a day inside an official holiday span (weekend days in the span included)."""
        return self._info(d).statutory_holiday

    def is_known(self, d: date) -> bool:
        """True when the official State Council arrangement for ``d``'s year is known."""
        return self._info(d).known

    def next_working_day(self, d: date) -> date:
        """The first working day strictly after ``d``."""
        d = date.fromordinal(d.toordinal() + 1)
        while not self.is_working_day(d):
            d = date.fromordinal(d.toordinal() + 1)
        return d

    def _info(self, d: date) -> _DayInfo:
        # A datetime is a date subclass but compares unequal to dates; deadlines are counted in
        # whole local days, so make the caller choose the local date explicitly.
        if isinstance(d, datetime):
            raise TypeError("pass a date (the local Shanghai day), not a datetime")
        info = self._cache.get(d)
        if info is None:
            info = self._lookup(d)
            self._cache[d] = info
        return info

    def _lookup(self, d: date) -> _DayInfo:
        reviewed = self._extra.get(d.year)
        if reviewed is not None:
            if d in reviewed.adjusted_working_days:
                return _DayInfo(working=True, statutory_holiday=False, known=True)
            if d in reviewed.holidays:
                return _DayInfo(working=False, statutory_holiday=True, known=True)
            return _DayInfo(working=d.weekday() < 5, statutory_holiday=False, known=True)
        try:
            is_rest, name = chinese_calendar.get_holiday_detail(d)
        except NotImplementedError:
            return self._fallback(d)
        # The library names a day (is_rest=True, name) inside a holiday span, (False, name) for
        # an adjusted working day and (True, None) for an ordinary weekend.
        return _DayInfo(
            working=not is_rest, statutory_holiday=bool(is_rest) and name is not None, known=True
        )

    @staticmethod
    def _fallback(d: date) -> _DayInfo:
        statutory = (d.month, d.day) in FIXED_STATUTORY_HOLIDAYS
        return _DayInfo(
            working=d.weekday() < 5 and not statutory, statutory_holiday=statutory, known=False
        )


@cache
def official_calendar() -> WorkingDayCalendar:
    return WorkingDayCalendar()
