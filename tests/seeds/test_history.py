"""The demo's generated history: a few thousand cases over the past year, folded into the
figures, with a surge against one tour operator in the last week that the figures show (the
merchant's filings, its growth, a burst within 48 hours), written once, with nobody's
personal data."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from cases.analytics.actions import recount, rollup_snapshot
from cases.analytics.figures import (
    Dimension,
    FigureFilter,
    Grain,
    daily_filings,
    funnel,
    ranking,
    respondent_bursts,
    volume,
)
from cases.analytics.models import FigurePending
from cases.clock import local_date
from cases.models import Case, Party
from cases.negotiation.models import Merchant
from mediation.settings import Settings
from seeds.demo import seed_demo
from seeds.history import CASES, SURGE_CASES, SURGE_MERCHANT

NOW = datetime(2026, 11, 27, 2, 0, tzinfo=UTC)


async def test_history_shows_a_year_and_a_surge(db: None, settings: Settings) -> None:
    created = await seed_demo(settings, NOW, history=True)
    assert any(line.startswith("history:") for line in created)
    demo_cases = await Case.filter(facts__startswith="【演示历史数据】").count()
    assert demo_cases == CASES + SURGE_CASES
    assert not await FigurePending.exists()  # folded in at once

    today = local_date(NOW)
    year = FigureFilter(start=today - timedelta(days=364), end=today)
    months = await volume(year, Grain.MONTH)
    assert len(months) >= 12 and sum(p.count for p in months) >= CASES
    steps = {s.stage: s.count for s in await funnel(year)}
    assert steps["merchant_settled"] > 0 and steps["settled"] > 0 and steps["court_done"] > 0

    surge = await Merchant.get(uscc=SURGE_MERCHANT[0])
    week = FigureFilter(start=today - timedelta(days=6), end=today)
    top = await ranking(week, Dimension.MERCHANT, order="growth")
    assert top[0].key == str(surge.id) and top[0].label == SURGE_MERCHANT[1]
    assert top[0].count >= SURGE_CASES
    weekly = await daily_filings(Dimension.MERCHANT, today - timedelta(days=62), today)
    last_week = sum(n for day, n in weekly[str(surge.id)].items() if day > today - timedelta(7))
    before = sum(n for day, n in weekly[str(surge.id)].items() if day <= today - timedelta(7))
    assert last_week >= SURGE_CASES and last_week > 3 * before / 8
    bursts = await respondent_bursts(NOW - timedelta(hours=48), 20)
    assert [b.key for b in bursts] == [SURGE_MERCHANT[0]]

    # Nobody real: no ID number, mobile or e-mail on any party of the history.
    history = Party.filter(case__facts__startswith="【演示历史数据】")
    assert not await history.filter(mobile__not_isnull=True).exists()
    assert not await history.filter(email__not_isnull=True).exists()
    assert not await history.filter(side="applicant", id_number__not_isnull=True).exists()

    # Written once; and the figures folded as it was written equal a recount.
    assert await seed_demo(settings, NOW, history=True) == []
    folded = await rollup_snapshot()
    await recount(NOW)
    assert await rollup_snapshot() == folded
