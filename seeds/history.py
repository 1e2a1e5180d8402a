"""A year of generated history for the demo, so the district's dashboard shows something real
on the first `./scripts/demo`: a few thousand cases over the past year across the demo's
organisations, mediators, partner platform and a score of merchants, each along a plausible
life (answered or not, settled by the merchant, mediated, settled or failed, confirmed by the
court or docketed), and a surge in the last week against one tour operator (a cancelled
season: tour-fee refunds), most of it in the last two days.

Written in bulk (one statement per table; the timeline through the journal's
`record_events`, so the figures' hook queues them), then folded into the figures at once.
Nobody in it is a real person: applicants are numbered, without ID number, mobile or
address beyond a district. Idempotent: it is not written again once there.
"""

from __future__ import annotations

import random
from collections import defaultdict
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from cases.accounts.models import Organisation, PartnerPlatform, Role, User
from cases.analytics.actions import roll_up_due
from cases.categories import CATEGORIES, Domain
from cases.clock import local_date
from cases.deadlines.models import CaseDeadline, DeadlineStatus
from cases.journal import event_row, record_events
from cases.models import Case, Party, PartyKind, Side, Source
from cases.negotiation.models import Merchant, Negotiation
from cases.negotiation.rules import EnrolmentStatus
from cases.numbering import next_case_numbers
from cases.timeline import EventKind
from cases.transactions import atomic

MARK = "【演示历史数据】"
CASES = 3000
SURGE_CASES = 60
SURGE_MERCHANT = ("91310105MA1HIST01X", "上海畅游国际旅行社有限公司")
DISTRICTS = ("长宁区", "长宁区", "长宁区", "徐汇区", "静安区", "闵行区", "浦东新区", "普陀区")
PLATFORMS = ("某某电商平台有限公司", "某某在线旅游平台有限公司", "某某外卖平台有限公司")
MERCHANT_NAMES = (
    "上海佳游旅行社有限公司",
    "上海云途国际旅行社有限公司",
    "上海锦程酒店管理有限公司",
    "上海乐享电器商贸有限公司",
    "上海优品数码科技有限公司",
    "上海鲜生活餐饮管理有限公司",
    "上海星光直播电子商务有限公司",
    "上海美居家居用品有限公司",
    "上海安途票务代理有限公司",
    "上海好物优选网络科技有限公司",
    "上海青禾景区管理有限公司",
    "上海悦行汽车租赁有限公司",
)

# Lives after `submitted`, with a weight. Every case older than a few weeks has ended, so no
# background job finds history to act on.
LIVES: tuple[tuple[int, tuple[str, ...]], ...] = (
    (22, ("awaiting_merchant", "settled_by_negotiation")),
    (
        8,
        (
            "awaiting_merchant",
            "accepted",
            "assigning",
            "awaiting_mediator",
            "in_mediation",
            "settled",
        ),
    ),
    (
        16,
        (
            "awaiting_consent",
            "accepted",
            "assigning",
            "awaiting_mediator",
            "in_mediation",
            "settled",
            "confirmation_requested",
            "confirmed",
        ),
    ),
    (
        10,
        (
            "awaiting_consent",
            "accepted",
            "assigning",
            "awaiting_mediator",
            "in_mediation",
            "settled",
        ),
    ),
    (
        9,
        (
            "awaiting_consent",
            "accepted",
            "assigning",
            "awaiting_mediator",
            "in_mediation",
            "failed",
            "transferred",
            "docketed",
        ),
    ),
    (
        5,
        (
            "awaiting_consent",
            "accepted",
            "assigning",
            "awaiting_mediator",
            "in_mediation",
            "timed_out",
        ),
    ),
    (
        5,
        (
            "awaiting_consent",
            "accepted",
            "assigning",
            "awaiting_mediator",
            "in_mediation",
            "withdrawn",
        ),
    ),
    (12, ("awaiting_consent", "refused")),
    (9, ("awaiting_consent", "no_response")),
    (4, ("awaiting_consent", "withdrawn")),
)


def _uscc(n: int) -> str:
    return f"91310105MA1HIS{n:03d}X"


async def _merchants(now: datetime) -> list[Merchant]:
    """The surge's tour operator and a dozen other merchants, enrolled (answering first)."""
    wanted = [SURGE_MERCHANT, *((_uscc(n), name) for n, name in enumerate(MERCHANT_NAMES))]
    have = set(
        await Merchant.filter(uscc__in=[u for u, _ in wanted]).values_list("uscc", flat=True)
    )
    missing = [
        Merchant(
            uscc=uscc,
            name=name,
            status=EnrolmentStatus.ENROLLED,
            requested_at=now - timedelta(days=400),
            confirmed_at=now - timedelta(days=400),
        )
        for uscc, name in wanted
        if uscc not in have
    ]
    if missing:
        await Merchant.bulk_create(missing)
    return list(await Merchant.filter(uscc__in=[u for u, _ in wanted]).order_by("id"))


def _plan(now: datetime, rng: random.Random, merchants: list[Merchant]) -> list[dict[str, Any]]:
    surge, others = merchants[0], merchants[1:]
    plans = []
    for n in range(CASES + SURGE_CASES):
        surging = n >= CASES
        if surging:
            # The last week, most of it in the last two days.
            hours = rng.uniform(0, 48) if rng.random() < 0.6 else rng.uniform(48, 6 * 24)
            filed = now - timedelta(hours=hours)
            category = next(c for c in CATEGORIES if c.code == "tour_refund")
        else:
            filed = now - timedelta(days=365 * rng.random() ** 0.8, minutes=rng.randrange(1440))
            category = rng.choice(CATEGORIES)
        respondent = rng.random()
        merchant = None
        if surging or (respondent < 0.3 and rng.random() < 0.1):
            merchant = surge
        elif respondent < 0.55:
            merchant = rng.choice(others[:6] if category.domain is Domain.TOURISM else others[3:])
        life = rng.choices([life for _, life in LIVES], [w for w, _ in LIVES])[0]
        if merchant is None and life[0] == "awaiting_merchant":
            life = LIVES[3][1]
        if merchant is not None and rng.random() < 0.8:
            life = life if life[0] == "awaiting_merchant" else LIVES[0][1]
        age = (now - filed).days
        if age < 21:
            # Recent: still with the merchant, or ended quickly; never in a state a job acts on.
            life = life[:1] if life[0] == "awaiting_merchant" else ("awaiting_consent", "refused")
        if surging:
            life = ("awaiting_merchant",) if rng.random() < 0.8 else LIVES[0][1]
        plans.append(
            {
                "filed": filed,
                "category": category,
                "merchant": merchant,
                "platform": None if merchant or rng.random() < 0.7 else rng.choice(PLATFORMS),
                "life": life,
                "district": rng.choice(DISTRICTS),
                "partner": rng.random() < 0.35,
            }
        )
    return plans


async def seed_history(now: datetime, *, seed: int = 13) -> list[str]:
    """Write the history (unless it is there) and fold it into the figures."""
    if await Case.exists(facts__startswith=MARK):
        return []
    rng = random.Random(seed)
    merchants = await _merchants(now)
    organisations = [o.id for o in await Organisation.all().order_by("id")]
    mediators: dict[int, list[int]] = defaultdict(list)
    for uid, oid in await User.filter(
        role=Role.MEDIATOR, organisation_id__isnull=False
    ).values_list("id", "organisation_id"):
        mediators[int(oid)].append(int(uid))
    staffed = [o for o in organisations if mediators.get(o)] or organisations
    partner = await PartnerPlatform.all().order_by("id").first()
    plans = _plan(now, rng, merchants)
    async with atomic():
        by_year: dict[tuple[int, Domain], list[dict[str, Any]]] = defaultdict(list)
        for plan in plans:
            by_year[(local_date(plan["filed"]).year, plan["category"].domain)].append(plan)
        for (year, domain), group in sorted(by_year.items()):
            for plan, number in zip(
                group, await next_case_numbers(year, domain, len(group)), strict=True
            ):
                plan["number"] = number
        rows = []
        for plan in plans:
            at = plan["filed"]
            status = "submitted"
            changes: list[tuple[datetime, str, str]] = []
            org: int | None = None
            mediator: int | None = None
            for target in plan["life"]:
                at = min(at + timedelta(days=rng.uniform(0.2, 6)), now)
                if target == "assigning" and staffed:
                    org = rng.choice(staffed)
                if target == "in_mediation" and org is not None and mediators.get(org):
                    mediator = rng.choice(mediators[org])
                changes.append((at, status, target))
                status = target
            plan.update(status=status, changes=changes, last=at, org=org, mediator=mediator)
            rows.append(
                Case(
                    number=plan["number"],
                    domain=plan["category"].domain,
                    category=plan["category"].code,
                    status=status,
                    source=Source.PARTNER if plan["partner"] and partner else Source.WEB,
                    partner_id=partner.id if plan["partner"] and partner else None,
                    claim_amount=Decimal(rng.randrange(100, 20000)),
                    facts=f"{MARK}{plan['category'].zh}纠纷（生成的演示数据）。",
                    requested_outcome="退还费用。",
                    organisation_id=org,
                    mediator_id=mediator,
                    mediation_ended_at=at if status in ("settled", "failed") else None,
                    created_at=plan["filed"],
                    updated_at=at,
                )
            )
        await Case.bulk_create(rows, batch_size=500)
        cases = {c.number: c for c in await Case.filter(number__in=[p["number"] for p in plans])}
        parties, negotiations, deadlines, events = [], [], [], []
        for n, plan in enumerate(plans):
            case = cases[plan["number"]]
            filed = plan["filed"]
            parties.append(
                Party(
                    case_id=case.id,
                    side=Side.APPLICANT,
                    kind=PartyKind.NATURAL_PERSON,
                    name=f"演示申请人{n + 1}",
                    service_address=f"上海市{plan['district']}",
                    created_at=filed,
                )
            )
            merchant: Merchant | None = plan["merchant"]
            respondent: tuple[PartyKind, str, str | None]
            if merchant is not None:
                respondent = (PartyKind.MERCHANT, merchant.name, merchant.uscc)
            elif plan["platform"]:
                respondent = (PartyKind.PLATFORM, plan["platform"], None)
            else:
                respondent = (PartyKind.MERCHANT, rng.choice(MERCHANT_NAMES), None)
            parties.append(
                Party(
                    case_id=case.id,
                    side=Side.RESPONDENT,
                    kind=respondent[0],
                    name=respondent[1],
                    id_number=respondent[2],
                    created_at=filed,
                )
            )
            events.append(event_row(case, EventKind.FILED, filed, actor_label="applicant"))
            for at, source, target in plan["changes"]:
                events.append(
                    event_row(
                        case,
                        EventKind.STATUS_CHANGED,
                        at,
                        actor_label="system",
                        status=[source, target],
                    )
                )
            life = plan["life"]
            if merchant is not None and life and life[0] == "awaiting_merchant":
                answered = len(life) > 1 or rng.random() < 0.3
                state = {"settled_by_negotiation": "settled", "accepted": "declined"}.get(
                    life[1] if len(life) > 1 else "", "open"
                )
                negotiations.append(
                    Negotiation(
                        case_id=case.id,
                        merchant_id=merchant.id,
                        state=state,
                        started_at=filed,
                        first_answer_at=(
                            filed + timedelta(hours=rng.uniform(1, 120)) if answered else None
                        ),
                        ended_at=None if state == "open" else plan["last"],
                    )
                )
            if len(life) > 1:
                late = rng.random() < 0.12
                regime = (
                    "merchant_answer" if life[0] == "awaiting_merchant" else ("respondent_notice")
                )
                due = local_date(filed) + timedelta(days=10)
                deadlines.append(
                    CaseDeadline(
                        case_id=case.id,
                        regime=regime,
                        started_on=local_date(filed),
                        due_on=due,
                        status=DeadlineStatus.MISSED if late else DeadlineStatus.MET,
                        closed_at=filed + timedelta(days=rng.uniform(11, 16) if late else 3),
                        created_at=filed,
                    )
                )
        await Party.bulk_create(parties, batch_size=500)
        await Negotiation.bulk_create(negotiations, batch_size=500)
        await CaseDeadline.bulk_create(deadlines, batch_size=500)
        await record_events(events)
    while await roll_up_due(now):
        pass
    return [
        f"history: {len(plans)} generated cases over the past year "
        f"({SURGE_CASES} in the last week against {SURGE_MERCHANT[1]})"
    ]
