"""The rollups equal a full recount after random event streams (filings through the intake
action, moves along the status machine through the journal, merchants answering, deadlines
met or missed), folded by roll-up runs of random batch sizes, some of them killed mid-run
(an exception at a pause point inside a batch, or the task cancelled while a batch is open)
and then resumed."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cases.actions import Filer
from cases.analytics.actions import recount, roll_up_due, rollup_snapshot
from cases.analytics.models import CaseFact, FigurePending
from cases.clock import SHANGHAI
from cases.deadlines.models import CaseDeadline, DeadlineStatus
from cases.intake import file_dispute
from cases.journal import record_event, transition
from cases.models import Case
from cases.negotiation.models import Merchant, Negotiation
from cases.negotiation.rules import EnrolmentStatus
from cases.pause import set_hook
from cases.status import TRANSITIONS, Status
from cases.timeline import EventKind
from cases.transactions import atomic, lock_case
from mediation.settings import Settings
from tests.support.factories import (
    filing_fields,
    new_mediator,
    new_organisation,
    party_ids,
    resident_id,
    uscc,
)

pytestmark = pytest.mark.usefixtures("db")

START = datetime(2026, 9, 1, 9, tzinfo=SHANGHAI).astimezone(UTC)
MERCHANT = uscc("91310105MA1FL9999")
FILINGS = [
    {},
    {"applicant_address": "浙江省杭州市西湖区文三路1号"},
    {"domain": "internet", "category": "goods_quality", "respondent_kind": "platform"},
    {
        "respondent_kind": "natural_person",
        "respondent_name": "李四",
        "respondent_id_number": resident_id("31010519850101222"),
    },
    {"respondent_id_number": MERCHANT, "respondent_name": "某某旅行社"},
    {"respondent_id_number": MERCHANT, "category": "accommodation"},
]

operations = st.one_of(
    st.tuples(st.just("file"), st.integers(0, len(FILINGS) - 1), st.integers(0, 40)),
    st.tuples(st.just("move"), st.integers(0, 1000), st.integers(0, 1000)),
    st.tuples(st.just("answer"), st.integers(0, 1000), st.integers(0, 100)),
    st.tuples(
        st.just("roll"),
        st.integers(1, 7),
        st.tuples(st.sampled_from(["done", "raise", "cancel"]), st.integers(1, 3)),
    ),
)


async def _facts() -> list[Any]:
    return sorted(
        await CaseFact.all().values_list(
            "case_id", "status", "outcome", "merchant_id", "d_answered", "deadlines"
        )
    )


class Killed(Exception):
    pass


async def _world() -> dict[str, Any]:
    """One organisation with a mediator, and one enrolled merchant (made once per test)."""
    org = await new_organisation("ORG-P", categories=("tour_refund", "goods_quality"))
    mediator = await new_mediator("prop-mediator", org.id)
    await Merchant.create(
        uscc=MERCHANT,
        name="某某旅行社",
        status=EnrolmentStatus.ENROLLED,
        requested_at=START,
        confirmed_at=START,
    )
    return {"org": org.id, "mediator": mediator.id, "n": 0}


async def _move(case_id: int, choice: int, now: datetime, world: dict[str, Any]) -> None:
    async with atomic():
        case = await lock_case(case_id)
        assert case is not None
        moves = [t for t in TRANSITIONS if t.source == case.status]
        if not moves:
            return
        chosen = moves[choice % len(moves)]
        actor = sorted(chosen.actors)[choice % len(chosen.actors)]
        if chosen.target in (Status.AWAITING_MEDIATOR, Status.IN_MEDIATION):
            await Case.filter(id=case_id).update(
                organisation_id=world["org"], mediator_id=world["mediator"]
            )
        if case.status == Status.AWAITING_MERCHANT:
            state = {
                Status.SETTLED_BY_NEGOTIATION: "settled",
                Status.WITHDRAWN: "withdrawn",
            }.get(chosen.target, "declined")
            await Negotiation.filter(case_id=case_id).update(state=state, ended_at=now)
        open_deadline = await CaseDeadline.filter(case_id=case_id, status="open").first()
        if open_deadline is not None:
            met = choice % 3 != 0
            await CaseDeadline.filter(id=open_deadline.id).update(
                status=DeadlineStatus.MET if met else DeadlineStatus.MISSED,
                closed_at=now + timedelta(days=choice % 9),
            )
        await transition(case, chosen.target, actor, now)


async def _answer(case_id: int, hours: int, now: datetime) -> None:
    async with atomic():
        case = await lock_case(case_id)
        assert case is not None
        changed = await Negotiation.filter(case_id=case_id, first_answer_at__isnull=True).update(
            first_answer_at=now + timedelta(hours=hours)
        )
        if changed:
            await record_event(case, EventKind.REMEDY_PROPOSED, now, remedy="refund")


async def _roll(batch: int, how: tuple[str, int], now: datetime) -> None:
    """A roll-up run; killed (an exception, or the task cancelled) inside its `kill_at`-th
    batch, after that batch's rollups were written and before it commits, if it gets there."""
    kind, kill_at = how
    if kind == "done":
        await roll_up_due(now, batch=batch)
        return
    reached = asyncio.Event()
    calls = {"n": 0}

    async def kill(name: str) -> None:
        calls["n"] += 1
        if calls["n"] < kill_at:
            return
        reached.set()
        if kind == "raise":
            raise Killed
        await asyncio.Event().wait()  # held until cancelled

    set_hook("analytics_folded", kill)
    try:
        task = asyncio.create_task(roll_up_due(now, batch=batch))
        waiting = asyncio.create_task(reached.wait())
        await asyncio.wait([task, waiting], return_when=asyncio.FIRST_COMPLETED)
        waiting.cancel()
        if reached.is_set() and kind == "cancel":
            task.cancel()
        try:
            await task
        except (Killed, asyncio.CancelledError):
            assert reached.is_set()
    finally:
        set_hook("analytics_folded", None)


@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(st.lists(operations, min_size=1, max_size=18))
async def test_rollups_equal_a_recount(
    settings: Settings, stream: list[tuple[str, int, Any]]
) -> None:
    world = getattr(test_rollups_equal_a_recount, "_world", None)
    if world is None or not await Merchant.filter(uscc=MERCHANT).exists():
        world = await _world()
        test_rollups_equal_a_recount._world = world  # type: ignore[attr-defined]
    step = world.setdefault("step", 0)
    cases = [c for c in await Case.all().order_by("id").values_list("id", flat=True)]
    for op, a, b in stream:
        step += 1
        now = START + timedelta(hours=5 * step)
        if op == "file":
            world["n"] += 1
            fields = filing_fields(**{**party_ids(world["n"] % 1000), **FILINGS[a]})
            case = await file_dispute(settings, fields, [], Filer(user_id=None), now)
            cases.append(case.id)
        elif op == "move" and cases:
            await _move(cases[a % len(cases)], b, now, world)
        elif op == "answer" and cases:
            await _answer(cases[a % len(cases)], b, now)
        elif op == "roll":
            await _roll(a, b, now)
    world["step"] = step
    # Resume (the lease a killed run held has run out by then) and fold everything.
    later = START + timedelta(hours=5 * step + 1)
    while await FigurePending.exists():
        await roll_up_due(later, batch=5)
    folded = await rollup_snapshot()
    facts = await _facts()
    assert await recount(later) == len(cases)
    assert await rollup_snapshot() == folded
    assert await _facts() == facts
