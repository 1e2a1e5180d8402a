"""Two roll-up jobs at once (PostgreSQL: two connections, real concurrency) never count an
event twice: the second cannot take the lease while the first holds it, and when the first's
lease runs out mid-run the second waits for the batch the first has open (the state row's
lock), takes over, and the first stops at its next batch."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from cases.actions import Filer
from cases.analytics.actions import LEASE, recount, roll_up_due, rollup_snapshot
from cases.analytics.models import FigurePending
from cases.clock import SHANGHAI
from cases.intake import file_dispute
from cases.pause import set_hook
from mediation.settings import Settings
from tests.support.factories import filing_fields, party_ids

pytestmark = [pytest.mark.postgres_only, pytest.mark.usefixtures("db")]

NOW = datetime(2026, 11, 2, 10, tzinfo=SHANGHAI).astimezone(UTC)


async def _file(settings: Settings, count: int) -> int:
    for n in range(count):
        await file_dispute(
            settings, filing_fields(**party_ids(n)), [], Filer(user_id=None), NOW + timedelta(n)
        )
    return await FigurePending.all().count()


async def test_two_jobs_at_once_count_each_event_once(settings: Settings) -> None:
    pending = await _file(settings, 12)

    async def slow(name: str) -> None:
        await asyncio.sleep(0.05)

    set_hook("analytics_fold", slow)
    try:
        first, second = await asyncio.gather(roll_up_due(NOW, batch=3), roll_up_due(NOW, batch=3))
    finally:
        set_hook("analytics_fold", None)
    assert first + second == pending
    assert 0 in (first, second)  # one held the lease throughout
    folded = await rollup_snapshot()
    await recount(NOW)
    assert await rollup_snapshot() == folded


async def test_a_job_whose_lease_ran_out_hands_over_without_double_counting(
    settings: Settings,
) -> None:
    pending = await _file(settings, 12)
    first_inside = asyncio.Event()
    calls = {"n": 0}

    async def hold_the_first_batch(name: str) -> None:
        calls["n"] += 1
        if calls["n"] == 1:
            first_inside.set()
            await asyncio.sleep(0.5)  # the second job arrives while this batch is open

    set_hook("analytics_fold", hold_the_first_batch)
    try:
        early = asyncio.create_task(roll_up_due(NOW, batch=3))
        await first_inside.wait()
        # Later than the first job's lease: the second may take over, but only after the
        # first job's open batch has committed.
        late = asyncio.create_task(roll_up_due(NOW + 2 * LEASE, batch=3))
        first, second = await asyncio.gather(early, late)
    finally:
        set_hook("analytics_fold", None)
    assert first >= 3 and second > 0
    assert first + second == pending
    assert not await FigurePending.exists()
    folded = await rollup_snapshot()
    await recount(NOW + 3 * LEASE)
    assert await rollup_snapshot() == folded
