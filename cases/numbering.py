"""The platform's own case numbers (not a court 案号): CNM-<year>-<T|I>-<serial>.

T marks a tourism dispute, I an internet dispute; serials restart each year per domain.
"""

from __future__ import annotations

import re

from cases.categories import Domain
from cases.models import CaseNumberCounter

_DOMAIN_LETTER = {Domain.TOURISM: "T", Domain.INTERNET: "I"}
CASE_NUMBER_PATTERN = re.compile(r"^CNM-(\d{4})-([TI])-(\d{5,})$")


def format_case_number(year: int, domain: Domain, serial: int) -> str:
    return f"CNM-{year}-{_DOMAIN_LETTER[domain]}-{serial:05d}"


async def next_case_number(year: int, domain: Domain) -> str:
    """Allocate the next serial (see `next_case_numbers`)."""
    return (await next_case_numbers(year, domain, 1))[0]


async def next_case_numbers(year: int, domain: Domain, count: int) -> list[str]:
    """Allocate the next `count` serials, in order. Call inside the filing transaction: the
    UPDATE takes a row lock on PostgreSQL (and SQLite serialises writers), so two filings
    never share a number, and a rollback gives the serials back (no gaps).

    `year` is the filing's year in Beijing time (`cases.clock.local_date(now).year`): a
    dispute filed in the first hours of 1 January is a new year's dispute."""
    # One statement increments and reads back, for a whole batch of filings at once: the
    # counter row is the one every filing of a domain waits on, so the fewer round trips
    # while it is locked, the more filings a second. The year's first filing of a domain
    # makes the row first (insert-if-missing never fails, even when two first filings of a
    # year race) and takes the serials again.
    last = await _increment(year, domain, count)
    if last is None:
        await CaseNumberCounter.bulk_create(
            [CaseNumberCounter(year=year, domain=domain, last_serial=0)], ignore_conflicts=True
        )
        last = await _increment(year, domain, count)
    assert last is not None
    first = last - count + 1
    return [format_case_number(year, domain, serial) for serial in range(first, last + 1)]


async def _increment(year: int, domain: Domain, count: int) -> int | None:
    db = CaseNumberCounter._meta.db
    marks = ["?"] * 3 if db.capabilities.dialect == "sqlite" else ["$1", "$2", "$3"]
    # (execute_query_dict: Tortoise's execute_query drops the rows an UPDATE returns.)
    rows = await db.execute_query_dict(
        f"UPDATE {CaseNumberCounter._meta.db_table} SET last_serial = last_serial + {marks[0]} "
        f"WHERE year = {marks[1]} AND domain = {marks[2]} RETURNING last_serial",
        [count, year, domain.value],
    )
    return int(rows[0]["last_serial"]) if rows else None
