"""The platform's own case numbers (not a court 案号): CNM-<year>-<T|I>-<serial>.

T marks a tourism dispute, I an internet dispute; serials restart each year per domain.
"""

from __future__ import annotations

import re

from tortoise.expressions import F

from cases.categories import Domain
from cases.models import CaseNumberCounter

_DOMAIN_LETTER = {Domain.TOURISM: "T", Domain.INTERNET: "I"}
CASE_NUMBER_PATTERN = re.compile(r"^CNM-(\d{4})-([TI])-(\d{5,})$")


def format_case_number(year: int, domain: Domain, serial: int) -> str:
    return f"CNM-{year}-{_DOMAIN_LETTER[domain]}-{serial:05d}"


async def next_case_number(year: int, domain: Domain) -> str:
    """Allocate the next serial. Call inside the filing transaction: the UPDATE takes a row
    lock on PostgreSQL (and SQLite serialises writers), so two filings never share a number."""
    # Insert-if-missing never fails, even when two first filings of a year race.
    await CaseNumberCounter.bulk_create(
        [CaseNumberCounter(year=year, domain=domain, last_serial=0)], ignore_conflicts=True
    )
    await CaseNumberCounter.filter(year=year, domain=domain).update(
        last_serial=F("last_serial") + 1
    )
    counter = await CaseNumberCounter.get(year=year, domain=domain)
    return format_case_number(year, domain, counter.last_serial)
