"""The governance figures on a real database: cases filed through the intake action, the
journal's hook queuing their events, the roll-up job folding them in, each figure read back,
and the drill-down showing no personal data."""

from __future__ import annotations

from dataclasses import asdict
from datetime import UTC, date, datetime, timedelta

import pytest

from cases.actions import Filer
from cases.analytics.actions import recount, roll_up_due, rollup_snapshot
from cases.analytics.figures import (
    Dimension,
    FigureFilter,
    Grain,
    cases_behind,
    daily_filings,
    deadline_compliance,
    funnel,
    merchant_response_rates,
    ranking,
    respondent_bursts,
    scorecards,
    volume,
    workload,
)
from cases.analytics.models import CaseFact, FigurePending
from cases.clock import SHANGHAI
from cases.intake import file_dispute
from mediation.settings import Settings
from tests.support.factories import file_and_consent, filing_fields, party_ids

pytestmark = pytest.mark.usefixtures("db")


def shanghai(month: int, day: int, hour: int = 10) -> datetime:
    return datetime(2026, month, day, hour, tzinfo=SHANGHAI).astimezone(UTC)


async def file(settings: Settings, n: int, at: datetime, **overrides: str) -> None:
    await file_dispute(
        settings, filing_fields(**party_ids(n), **overrides), [], Filer(user_id=None), at
    )


async def test_figures_follow_the_filings(settings: Settings) -> None:
    for n in range(3):
        await file(settings, n, shanghai(11, 2 + n), applicant_address="上海市长宁区愚园路1号")
    await file(
        settings,
        7,
        shanghai(11, 9),
        domain="internet",
        category="goods_quality",
        applicant_address="浙江省杭州市西湖区文三路1号",
        respondent_kind="platform",
        respondent_name="某某电商平台有限公司",
    )
    assert await FigurePending.all().count() > 0
    assert await roll_up_due(shanghai(11, 20)) > 0
    assert await FigurePending.all().count() == 0
    assert await CaseFact.all().count() == 4

    everything = FigureFilter(start=date(2026, 11, 1), end=date(2026, 11, 30))
    days = await volume(everything, Grain.DAY)
    assert sum(p.count for p in days) == 4
    assert {p.label for p in days} == {"全部"}
    weeks = await volume(everything, Grain.WEEK)
    assert [(p.period, p.count) for p in weeks] == [
        (date(2026, 11, 2), 3),
        (date(2026, 11, 9), 1),
    ]
    by_category = await volume(everything, Grain.MONTH, Dimension.CATEGORY)
    assert {(p.key, p.label, p.count) for p in by_category} == {
        ("tour_refund", "旅游费用退还", 3),
        ("goods_quality", "网购商品质量", 1),
    }
    districts = await volume(everything, Grain.MONTH, Dimension.DISTRICT)
    assert {(p.key, p.count) for p in districts} == {("长宁区", 3), ("西湖区", 1)}
    platforms = await ranking(everything, Dimension.PLATFORM)
    assert [(r.label, r.count) for r in platforms] == [("某某电商平台有限公司", 1)]

    internet = FigureFilter(start=date(2026, 11, 1), end=date(2026, 11, 30), domain="internet")
    assert sum(p.count for p in await volume(internet, Grain.MONTH)) == 1

    steps = await funnel(everything)
    assert steps[0].stage == "filed" and steps[0].count == 4 and steps[0].rate == 1.0
    assert steps[0].median_days == 0.0

    found, total = await cases_behind(everything, dimension=Dimension.DISTRICT, key="长宁区")
    assert total == 3 and len(found) == 3
    shown = repr([asdict(c) for c in found])
    fields = filing_fields()
    for personal in (
        fields["applicant_name"],
        fields["applicant_mobile"],
        fields["applicant_address"],
        fields["respondent_mobile"],
        "3101051990030700",
    ):
        assert personal not in shown
    assert found[0].filed_on == "2026年11月4日"

    filings = await daily_filings(Dimension.CATEGORY, date(2026, 11, 1), date(2026, 11, 30))
    assert filings["tour_refund"] == {
        date(2026, 11, 2): 1,
        date(2026, 11, 3): 1,
        date(2026, 11, 4): 1,
    }
    bursts = await respondent_bursts(shanghai(11, 1), 1)
    assert {r.count for r in bursts} == {1}
    assert all("张三" not in r.label for r in bursts)
    assert await scorecards(everything) == []
    assert await merchant_response_rates(date(2026, 11, 1)) == {}
    assert isinstance(await deadline_compliance(everything), list)
    assert await workload(everything) == []

    # A full recount gives the same rollups.
    before = await rollup_snapshot()
    assert await recount(shanghai(11, 21)) == 4
    assert await rollup_snapshot() == before


async def test_consent_moves_the_funnel(settings: Settings) -> None:
    from tests.support.factories import new_organisation

    await new_organisation("ORG1")
    now = shanghai(11, 2)
    await file_and_consent(settings, now, **party_ids(1))
    await roll_up_due(now + timedelta(hours=1))
    steps = {s.stage: s for s in await funnel(FigureFilter())}
    assert steps["answered"].count == 1
    before = await rollup_snapshot()
    await recount(now + timedelta(hours=2))
    assert await rollup_snapshot() == before


async def test_partner_ranking_and_growth(settings: Settings) -> None:
    for n in range(2):
        await file(settings, n, shanghai(10, 20))
    for n in range(2, 7):
        await file(settings, n, shanghai(11, 20))
    await roll_up_due(shanghai(11, 25))
    november = FigureFilter(start=date(2026, 11, 1), end=date(2026, 11, 30))
    rows = await ranking(november, Dimension.CATEGORY, order="growth")
    assert [(r.key, r.count, r.previous) for r in rows] == [("tour_refund", 5, 2)]
    assert rows[0].growth == pytest.approx(1.5)
