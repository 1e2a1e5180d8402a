"""Every figure read from the rollups (whole months from the monthly twins, ragged ends from
the daily tables) equals the same count made directly over the cases' facts, for periods that
start and end mid-month, with and without filters (on the demo's generated year)."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime

from cases.analytics.figures import (
    Dimension,
    FigureFilter,
    Grain,
    cases_behind,
    deadline_compliance,
    funnel,
    merchant_response_rates,
    ranking,
    scorecards,
    volume,
    workload,
)
from cases.analytics.models import CaseFact
from mediation.settings import Settings
from seeds.demo import seed_demo

NOW = datetime(2026, 11, 27, 2, 0, tzinfo=UTC)


def facts_in(rows: list[CaseFact], f: FigureFilter) -> list[CaseFact]:
    found = []
    for r in rows:
        if (f.start and r.day < f.start) or (f.end and r.day > f.end):
            continue
        if (f.domain and r.domain != f.domain) or (f.category and r.category != f.category):
            continue
        if f.partner_id is not None and r.partner_id != f.partner_id:
            continue
        if f.organisation_id is not None and r.organisation_id != f.organisation_id:
            continue
        if f.merchant_id is not None and r.merchant_id != f.merchant_id:
            continue
        found.append(r)
    return found


async def test_rollups_match_the_facts(db: None, settings: Settings) -> None:
    await seed_demo(settings, NOW, history=True)
    rows = list(await CaseFact.all())
    some_org = next(r.organisation_id for r in rows if r.organisation_id)
    some_merchant = Counter(r.merchant_id for r in rows if r.merchant_id).most_common(1)[0][0]
    filters = [
        FigureFilter(),
        FigureFilter(end=date(2026, 11, 3)),
        FigureFilter(start=date(2026, 11, 26), end=date(2026, 11, 26)),
        FigureFilter(start=date(2025, 12, 15), end=date(2026, 11, 20)),
        FigureFilter(start=date(2026, 1, 1), end=date(2026, 10, 31), domain="tourism"),
        FigureFilter(start=date(2026, 3, 9), end=date(2026, 3, 30), category="tour_refund"),
        FigureFilter(start=date(2025, 12, 31), end=date(2026, 11, 1), organisation_id=some_org),
        FigureFilter(start=date(2026, 2, 2), end=date(2026, 11, 26), merchant_id=some_merchant),
    ]
    for f in filters:
        expected = facts_in(rows, f)
        for grain in Grain:
            assert sum(p.count for p in await volume(f, grain)) == len(expected), (f, grain)
        by_district = Counter(r.district for r in expected)
        got = Counter()
        for p in await volume(f, Grain.MONTH, Dimension.DISTRICT):
            got[p.key] += p.count
        assert got == +by_district, f
        steps = {s.stage: s.count for s in await funnel(f)}
        assert steps["filed"] == len(expected)
        assert steps["settled"] == sum(1 for r in expected if r.d_settled is not None)
        assert steps["answered"] == sum(1 for r in expected if r.d_answered is not None)
        deadlines = [d for r in expected for d in r.deadlines]
        compliance = await deadline_compliance(f)
        assert sum(c.total for c in compliance) == len(deadlines)
        assert sum(c.met for c in compliance) == sum(1 for d in deadlines if d[1])
        load = await workload(f)
        assert sum(w.settled for w in load) == sum(
            1 for r in expected if r.mediator_id and r.outcome == "settled"
        )
        listed, total = await cases_behind(f, stage="settled", per_page=5)
        assert total == steps["settled"] and len(listed) == min(5, total)
        district = next(iter(by_district), None)
        if district is not None:
            _, total = await cases_behind(f, dimension=Dimension.DISTRICT, key=district)
            assert total == by_district[district]
        cards = {c.merchant_id: c for c in await scorecards(f, limit=100)}
        for merchant, n in Counter(r.merchant_id for r in expected if r.merchant_id).items():
            assert cards[merchant].cases == n
    # ranking: the period and the one before, each counted from the facts
    if rows:
        f = FigureFilter(start=date(2026, 5, 10), end=date(2026, 11, 26))
        before = FigureFilter(start=date(2025, 11, 22), end=date(2026, 5, 9))
        now_counts = Counter(r.category for r in facts_in(rows, f))
        then_counts = Counter(r.category for r in facts_in(rows, before))
        for row in await ranking(f, Dimension.CATEGORY, limit=50):
            assert (row.count, row.previous) == (now_counts[row.key], then_counts[row.key])
    since = date(2026, 6, 1)
    rates = await merchant_response_rates(since)
    recent = [r for r in rows if r.day >= since and r.merchant_id]
    for key, (_, answered, asked) in rates.items():
        mine = [r for r in recent if str(r.merchant_id) == key]
        assert (answered, asked) == (
            sum(1 for r in mine if r.answered),
            sum(1 for r in mine if r.counted),
        )
    assert rates
