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
