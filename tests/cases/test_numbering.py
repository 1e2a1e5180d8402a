"""The platform's case numbers: one serial per filing of a domain and year, never shared by
filings at once, given back by a filing that rolls back, and counted in the Beijing year."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest

from cases.accounts.actions import do_register_disputant
from cases.actions import Filer
from cases.categories import Domain
from cases.intake import file_dispute
from cases.numbering import CASE_NUMBER_PATTERN, format_case_number, next_case_number
from cases.transactions import atomic
from mediation.settings import Settings
from tests.support.factories import cheap_password_hashing, filing_fields


@pytest.fixture(autouse=True)
def _fast_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    cheap_password_hashing(monkeypatch)


@pytest.mark.parametrize(
    ("year", "domain", "serial", "number"),
    [
        (2026, Domain.TOURISM, 1, "CNM-2026-T-00001"),
        (2026, Domain.INTERNET, 42, "CNM-2026-I-00042"),
        (2027, Domain.TOURISM, 123456, "CNM-2027-T-123456"),
    ],
)
def test_a_number_says_year_domain_and_serial(
    year: int, domain: Domain, serial: int, number: str
) -> None:
    assert format_case_number(year, domain, serial) == number
    assert CASE_NUMBER_PATTERN.fullmatch(number)


async def test_filings_at_once_take_consecutive_numbers_and_a_rollback_leaves_no_gap(
    db: None,
) -> None:
    async def take() -> str:
        async with atomic():
            return await next_case_number(2026, Domain.TOURISM)

    numbers = await asyncio.gather(*(take() for _ in range(12)))
    assert sorted(numbers) == [format_case_number(2026, Domain.TOURISM, n) for n in range(1, 13)]

    class Abandoned(Exception):
        pass

    with pytest.raises(Abandoned):
        async with atomic():
            await next_case_number(2026, Domain.TOURISM)
            raise Abandoned
    assert await take() == "CNM-2026-T-00013"
    assert await take() != "CNM-2026-I-00013"  # each domain counts on its own


async def test_a_filing_on_new_years_night_in_beijing_is_numbered_in_the_new_year(
    settings: Settings, db: None
) -> None:
    user = await do_register_disputant(
        identifier="13812345678", password="correct horse 1", display_name="张三"
    )
    # 2 o'clock on 1 January 2027 in Beijing is still 31 December 2026 in UTC.
    new_years_night = datetime(2026, 12, 31, 18, 0, tzinfo=UTC)
    case = await file_dispute(
        settings, filing_fields(), [], Filer(user_id=user.id), new_years_night
    )
    assert case.number == "CNM-2027-T-00001"
