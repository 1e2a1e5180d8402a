"""The platform's clock and time zone, in one place: records a person reads are in Beijing
time, and periods are counted in local days.

A vocabulary: pure, importing nothing of the project, so the wire and the court desk use it
too (tests/test_import_directions.py).
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Final
from zoneinfo import ZoneInfo

SHANGHAI: Final = ZoneInfo("Asia/Shanghai")


def utcnow() -> datetime:
    return datetime.now(UTC)


def local_date(moment: datetime) -> date:
    """The day in Shanghai: periods are counted in local days."""
    return moment.astimezone(SHANGHAI).date()


# --- how a record a person reads says a time ---------------------------------------------------
# Official Chinese records write dates and times in full (2026年12月3日 20:32), never an ISO
# stamp or UTC; the English reader gets the same moment in words. Always Beijing time.

_MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)


def _moment(value: datetime | str) -> datetime | None:
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            return None
    if value.tzinfo is None:  # stored moments are UTC
        value = value.replace(tzinfo=UTC)
    return value.astimezone(SHANGHAI)


def say_date(value: date | datetime | str, locale: str) -> str:
    """A day as a record says it: 2027年1月4日, or 4 January 2027 in English. A datetime is
    first put in Beijing time; a string that is no date is returned as it came."""
    day: date
    if isinstance(value, datetime):
        day = value.astimezone(SHANGHAI).date()
    elif isinstance(value, date):
        day = value
    elif len(value) <= 10:
        try:
            day = date.fromisoformat(value)
        except ValueError:
            return value
    else:
        moment = _moment(value)
        if moment is None:
            return value
        day = moment.date()
    if locale.startswith("zh"):
        return f"{day.year}年{day.month}月{day.day}日"
    return f"{day.day} {_MONTHS[day.month - 1]} {day.year}"


def say_time(value: datetime | str, locale: str, *, seconds: bool = False) -> str:
    """A moment in Beijing time as a record says it: 2026年12月3日 20:32, or
    3 December 2026, 20:32 in English (the zone is stated once, where it could be doubted)."""
    moment = _moment(value)
    if moment is None:
        return str(value)
    clock = f"{moment:%H:%M:%S}" if seconds else f"{moment:%H:%M}"
    if locale.startswith("zh"):
        return f"{say_date(moment, locale)} {clock}"
    return f"{say_date(moment, locale)}, {clock}"
