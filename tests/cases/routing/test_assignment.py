"""Routing a case (online mediation rules Art. 10-14), action by action: triage on consent,
the parties' joint choice, appointment when the window closes, conflicts, the mediator's
answer, changes, overrides, the unanswered-mediator job, and the mediators' load counters.

Dates: filed on Thursday 2026-09-24 (Shanghai). Sep 25-27 is the Mid-Autumn holiday, Oct 1-7
National Day, Oct 10 (Saturday) an adjusted working day, so the working-day periods here cross
real holidays.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

import pytest

from cases.accounts.actions import do_create_staff, do_register_disputant
from cases.accounts.models import MediatorLeave, MediatorProfile, Organisation, Role, User
from cases.actions import Filer, do_answer_invitation
from cases.clock import SHANGHAI, local_date
from cases.deadlines.calendar_cn import official_calendar
from cases.deadlines.models import CaseDeadline, DeadlineStatus
from cases.deadlines.rules import Regime, deadline_for
from cases.errors import CaseConflict, CaseNotFound
from cases.intake import file_dispute
from cases.models import Case, Invitation, Notice, NoticeChannel, Party, Side, TimelineEvent
from cases.routing.assignment import (
    AssignmentError,
    candidates_for,
    do_appoint,
    do_appoint_when_choice_window_closes,
    do_choose_mediator,
    do_mediator_answer,
    do_override_mediator,
    do_reassign_unanswered,
    do_request_mediator_change,
    do_route_accepted_cases,
)
from cases.routing.models import ConflictDisclosure, MediatorAssignment, MediatorChoice
from cases.routing.roster import open_case_counts
from cases.routing.scoring import Exclusion, rank_mediators
from cases.status import Status
from mediation.settings import Settings
from seeds.demo import seed_demo
from tests.support.concurrency import rendezvous
from tests.support.factories import (
    STAFF_PASSWORD,
    cheap_password_hashing,
    file_and_consent,
    filing_fields,
    new_mediator,
    new_organisation,
    party_ids,
)


def shanghai(month: int, day: int, hour: int = 10, minute: int = 0) -> datetime:
    """A moment given in Shanghai local time, as the UTC datetime actions receive."""
    return datetime(2026, month, day, hour, minute, tzinfo=SHANGHAI).astimezone(UTC)


FILED = shanghai(9, 24)  # Thursday
HOLDING = (Status.AWAITING_MEDIATOR, Status.IN_MEDIATION)


@pytest.fixture(autouse=True)
def _fast_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    cheap_password_hashing(monkeypatch)


@dataclass
class World:
    tqo: Organisation  # administrative: takes tourism refunds (where triage sends them)
    pmc: Organisation  # people's mediation: an alternative for the same category
    wang: User  # tour_refund specialist: the scorer's first choice
    li: User  # tour_contract: same domain, half the specialty credit
    zhao: User  # no specialty
    other: User  # a mediator of the other organisation
    party: User  # a disputant account, the actor of change requests


@pytest.fixture
async def world(db: None) -> World:
    tqo = await new_organisation(
        "TQO", track="administrative", categories=("tour_refund", "tour_contract")
    )
    pmc = await new_organisation("PMC", track="peoples", categories=("tour_refund",))
    wang = await new_mediator(
        "wang", tqo.id, email="wang@mediators.example.com", specialties=["tour_refund"]
    )
    li = await new_mediator("li", tqo.id, specialties=["tour_contract"])
    zhao = await new_mediator("zhao", tqo.id)
    other = await new_mediator("other", pmc.id, specialties=["tour_refund"])
    party = await do_register_disputant(
        identifier="13812345678", password=STAFF_PASSWORD, display_name="张三"
    )
    return World(tqo, pmc, wang, li, zhao, other, party)


async def new_case(settings: Settings, n: int, at: datetime = FILED, **overrides: Any) -> Case:
    return await file_and_consent(settings, at, **{**party_ids(n), **overrides})


async def deadline(case: Case, regime: Regime, status: DeadlineStatus | None = None) -> Any:
    rows = await CaseDeadline.filter(case_id=case.id, regime=regime.value).order_by("id")
    if status is not None:
        rows = [r for r in rows if r.status == status]
    assert len(rows) == 1, [(r.regime, r.status) for r in rows]
    return rows[0]


async def fresh(case: Case) -> Case:
    return await Case.get(id=case.id)


async def history(case: Case) -> list[tuple[int, str, str | None, str]]:
    rows = await MediatorAssignment.filter(case_id=case.id).order_by("id")
    return [
        (r.mediator_id, str(r.how), str(r.outcome) if r.outcome else None, r.reason)  # type: ignore[attr-defined]
        for r in rows
    ]


async def status_changes(case: Case) -> list[list[str]]:
    return [
        e.data["status"]
        for e in await TimelineEvent.filter(case_id=case.id, kind="status_changed").order_by("id")
    ]


async def open_cases(user: User) -> int:
    return (await open_case_counts([user.id]))[user.id]


async def assert_loads_match_cases() -> None:
    """The load the scorer sees equals the cases each mediator actually holds."""
    ids = [int(u) for u in await MediatorProfile.all().values_list("user_id", flat=True)]
    loads = await open_case_counts(ids)
    for user_id in ids:
        held = await Case.filter(mediator_id=user_id, status__in=HOLDING).count()
        assert loads[user_id] == held, (user_id, loads[user_id], held)


async def snapshot(case: Case) -> tuple[Any, ...]:
    """Everything a routing action could change about a case."""
    row = await fresh(case)
    deadlines = await CaseDeadline.filter(case_id=case.id).order_by("id")
    return (
        row.status,
        row.mediator_id,
        row.mediator_accepted_at,
        row.organisation_id,
        await history(case),
        [(d.regime, d.status, d.due_on, d.closed_at) for d in deadlines],
        await TimelineEvent.filter(case_id=case.id).count(),
        await ConflictDisclosure.filter(case_id=case.id).count(),
        await Notice.filter(case_id=case.id).count(),
        sorted(
            (
                await open_case_counts(
                    [int(u) for u in await MediatorProfile.all().values_list("user_id", flat=True)]
                )
            ).items()
        ),
    )


async def choose_jointly(case: Case, mediator: User, at: datetime) -> None:
    assert await do_choose_mediator(case, Side.APPLICANT, mediator.id, at) is False
    assert await do_choose_mediator(case, Side.RESPONDENT, mediator.id, at) is True


async def accept(mediator: User, case: Case, at: datetime) -> Case:
    return await do_mediator_answer(
        mediator, case, accept=True, has_tie=False, statement="", decline_reason="", now=at
    )


async def decline(mediator: User, case: Case, at: datetime, reason: str) -> Case:
    return await do_mediator_answer(
        mediator, case, accept=False, has_tie=False, statement="", decline_reason=reason, now=at
    )


async def staff(username: str, role: Role, organisation_id: int | None) -> User:
    return await do_create_staff(
        username=username,
        password=STAFF_PASSWORD,
        role=role,
        display_name=f"管理员 {username}",
        organisation_id=organisation_id,
    )


# --- consent and triage ------------------------------------------------------------------------


async def test_consent_routes_the_case_by_triage_and_opens_both_windows(
    world: World, settings: Settings
) -> None:
    case = await new_case(settings, 1)

    assert case.status == Status.ASSIGNING
    assert case.organisation_id == world.tqo.id
    assert case.mediator_id is None
    assert case.triage == {
        "track": "administrative",
        "organisation_id": world.tqo.id,
        "reasons": [
            {
                "code": "small_consumer_claim",
                "params": {"claim_amount": "3680.00", "limit": "50000"},
            },
            {"code": "tourism_quality_office", "params": {}},
            {
                "code": "category_match",
                "params": {"category": "tour_refund", "organisation": "TQO"},
            },
        ],
        "alternatives": [world.pmc.id],
    }
    assert await status_changes(case) == [
        ["submitted", "awaiting_consent"],
        ["awaiting_consent", "accepted"],
        ["accepted", "assigning"],
    ]
    # Art. 10: 2 working days to choose jointly, 3 to appoint; Sep 25-27 is a holiday.
    choice = await deadline(case, Regime.PARTY_CHOICE)
    assert (choice.status, choice.started_on, choice.due_on) == (
        DeadlineStatus.OPEN,
        date(2026, 9, 24),
        date(2026, 9, 29),
    )
    appointment = await deadline(case, Regime.APPOINTMENT)
    assert (appointment.status, appointment.started_on, appointment.due_on) == (
        DeadlineStatus.OPEN,
        date(2026, 9, 24),
        date(2026, 9, 30),
    )
    for row in (choice, appointment):
        engine = deadline_for(Regime(row.regime), row.started_on, official_calendar())
        assert (row.due_on, row.provisional) == (engine.due, False)
    invited = await Notice.filter(case_id=case.id, subject__startswith="请选择调解员").values_list(
        "channel", "recipient"
    )
    assert sorted(invited) == sorted(
        [
            (NoticeChannel.EMAIL, "zhangsan@example.com"),
            (NoticeChannel.SMS, "13812345678"),
            (NoticeChannel.EMAIL, "service@travel.example.com"),
            (NoticeChannel.SMS, "13900001111"),
        ]
    )


async def test_windows_count_from_the_shanghai_day_not_the_utc_day(
    world: World, settings: Settings
) -> None:
    # 2026-09-29 17:00 UTC is already Wednesday Sep 30 in Shanghai.
    late = datetime(2026, 9, 29, 17, 0, tzinfo=UTC)
    assert local_date(late) == date(2026, 9, 30)
    case = await new_case(settings, 1, at=late)

    choice = await deadline(case, Regime.PARTY_CHOICE)
    # Oct 1-7 is the National Day holiday: Oct 8 and 9 are the two working days.
    assert (choice.started_on, choice.due_on) == (date(2026, 9, 30), date(2026, 10, 9))


async def test_demo_cases_go_to_the_organisation_of_the_track_triage_recommends(
    db: None, settings: Settings
) -> None:
    await seed_demo(settings, FILED)
    orgs = {o.code: o for o in await Organisation.all()}
    routed = {}
    for invitation in await Invitation.all().order_by("id"):
        case = await Case.get(id=invitation.case_id)
        await do_answer_invitation(
            invitation, consent=True, reason="", respondent_user_id=None, now=FILED
        )
        routed[case.category] = case.id
    assert sorted(await do_route_accepted_cases(FILED)) == sorted(routed.values())
    assert await do_route_accepted_cases(FILED) == []

    refund = await Case.get(id=routed["tour_refund"])
    goods = await Case.get(id=routed["goods_quality"])
    shopping = await Case.get(id=routed["forced_shopping"])
    assert {c.status for c in (refund, goods, shopping)} == {Status.ASSIGNING}
    # A tourist's small complaint: the tourism quality office (administrative).
    assert refund.organisation_id == orgs["CN-TQO"].id
    assert [r["code"] for r in refund.triage["reasons"]] == [
        "small_consumer_claim",
        "tourism_quality_office",
        "category_match",
    ]
    assert refund.triage["alternatives"] == [orgs["CN-PMC-TOUR"].id]
    # An online consumer's small claim: the consumer council (industry).
    assert (goods.organisation_id, goods.triage["track"]) == (orgs["CN-CC"].id, "industry")
    assert [r["code"] for r in goods.triage["reasons"]] == [
        "small_consumer_claim",
        "industry_committee",
        "category_match",
    ]
    # Forced shopping: no administrative body takes it, so the people's mediation office does.
    assert (shopping.organisation_id, shopping.triage["track"]) == (
        orgs["CN-PMC-TOUR"].id,
        "peoples",
    )
    assert shopping.triage["reasons"][-1] == {
        "code": "fallback_other_track",
        "params": {
            "category": "forced_shopping",
            "organisation": "CN-PMC-TOUR",
            "preferred_track": "administrative",
            "track": "peoples",
        },
    }

    # Nobody chose in time: each case gets a mediator of its own organisation.
    assert sorted(await do_appoint_when_choice_window_closes(shanghai(9, 30))) == sorted(
        routed.values()
    )
    mediators = {u.username: u.id for u in await User.filter(role=Role.MEDIATOR)}
    assert (await fresh(refund)).mediator_id == mediators["mediator4"]
    assert (await fresh(goods)).mediator_id == mediators["mediator5"]
    # Two equal mediators at the people's mediation office: the lower user id wins.
    assert (await fresh(shopping)).mediator_id == mediators["mediator"]
    await assert_loads_match_cases()


# --- the parties' joint choice -----------------------------------------------------------------


async def test_both_sides_choosing_the_same_mediator_puts_the_case_to_them(
    world: World, settings: Settings
) -> None:
    case = await new_case(settings, 1)
    at = shanghai(9, 28)

    assert await do_choose_mediator(case, Side.APPLICANT, world.wang.id, at) is False
    assert (await fresh(case)).status == Status.ASSIGNING
    assert await MediatorAssignment.filter(case_id=case.id).count() == 0
    assert await do_choose_mediator(case, Side.RESPONDENT, world.wang.id, at) is True

    case = await fresh(case)
    assert (case.status, case.mediator_id) == (Status.AWAITING_MEDIATOR, world.wang.id)
    assert await history(case) == [(world.wang.id, "chosen", None, "joint_choice")]
    assignment = await MediatorAssignment.get(case_id=case.id)
    assert (assignment.explanation, assignment.created_at) == ([], at)
    choice = await deadline(case, Regime.PARTY_CHOICE)
    assert (choice.status, choice.closed_at) == (DeadlineStatus.MET, at)
    assert (await deadline(case, Regime.APPOINTMENT)).status == DeadlineStatus.MET
    # Art. 12: 3 working days to answer, Sep 29, Sep 30 and (after National Day) Oct 8.
    answer = await deadline(case, Regime.MEDIATOR_ANSWER)
    assert (answer.status, answer.started_on, answer.due_on) == (
        DeadlineStatus.OPEN,
        date(2026, 9, 28),
        date(2026, 10, 8),
    )
    assert await open_cases(world.wang) == 1
    told = await Notice.filter(case_id=case.id, recipient="wang@mediators.example.com")
    assert [n.subject for n in told] == [f"新的调解委派 New case to mediate: {case.number}"]
    chosen = await TimelineEvent.filter(case_id=case.id, kind="mediator_chosen").values_list(
        "data", flat=True
    )
    assert chosen == [
        {"side": "applicant", "mediator_id": world.wang.id},
        {"side": "respondent", "mediator_id": world.wang.id},
    ]
    # The window is closed now: nobody can choose again.
    with pytest.raises(CaseConflict, match="choice_window_closed"):
        await do_choose_mediator(case, Side.APPLICANT, world.li.id, at)


async def test_different_choices_leave_the_case_assigning_until_they_match(
    world: World, settings: Settings
) -> None:
    case = await new_case(settings, 1)
    at = shanghai(9, 28)

    assert await do_choose_mediator(case, Side.APPLICANT, world.wang.id, at) is False
    assert await do_choose_mediator(case, Side.RESPONDENT, world.li.id, at) is False
    case = await fresh(case)
    assert (case.status, case.mediator_id) == (Status.ASSIGNING, None)
    assert sorted(
        await MediatorChoice.filter(case_id=case.id).values_list("side", "mediator_id")
    ) == [
        ("applicant", world.wang.id),
        ("respondent", world.li.id),
    ]
    assert (await deadline(case, Regime.PARTY_CHOICE)).status == DeadlineStatus.OPEN
    assert await MediatorAssignment.filter(case_id=case.id).count() == 0

    # The applicant comes round to the respondent's choice: a joint choice after all.
    assert await do_choose_mediator(case, Side.APPLICANT, world.li.id, shanghai(9, 29)) is True
    assert (await fresh(case)).mediator_id == world.li.id
    assert await MediatorChoice.filter(case_id=case.id, side=Side.APPLICANT).count() == 1


async def test_choosing_after_the_window_or_off_the_roster_is_refused(
    world: World, settings: Settings
) -> None:
    case = await new_case(settings, 1)
    # The last minutes of the due day (Sep 29, Shanghai) still count.
    late = shanghai(9, 29, 23, 50)
    assert await do_choose_mediator(case, Side.APPLICANT, world.wang.id, late) is False
    before = await snapshot(case)

    with pytest.raises(CaseConflict, match="choice_window_closed"):
        await do_choose_mediator(case, Side.RESPONDENT, world.wang.id, shanghai(9, 30, 0, 10))
    with pytest.raises(AssignmentError, match="mediator_not_on_roster"):
        await do_choose_mediator(case, Side.RESPONDENT, world.other.id, shanghai(9, 29))

    assert await snapshot(case) == before
    assert await MediatorChoice.filter(case_id=case.id).count() == 1


# --- appointment -------------------------------------------------------------------------------


async def test_the_platform_appoints_the_best_candidate_when_the_window_closes(
    world: World, settings: Settings
) -> None:
    case = await new_case(settings, 1)

    # The due day itself is still the parties' (Sep 29 ends at 24:00 Shanghai).
    assert await do_appoint_when_choice_window_closes(shanghai(9, 29, 23, 0)) == []
    assert (await fresh(case)).status == Status.ASSIGNING

    at = shanghai(9, 30)
    assert await do_appoint_when_choice_window_closes(at) == [case.id]
    case = await fresh(case)
    assert (case.status, case.mediator_id) == (Status.AWAITING_MEDIATOR, world.wang.id)
    assert await history(case) == [(world.wang.id, "appointed", None, "")]
    assignment = await MediatorAssignment.get(case_id=case.id)
    assert assignment.explanation == [
        {
            "user_id": world.wang.id,
            "total": 0.925,
            "parts": {
                "specialty": 0.4,
                "language": 0.1,
                "load": 0.25,
                "region": 0.1,
                "record": 0.075,
            },
        },
        {
            "user_id": world.li.id,
            "total": 0.725,
            "parts": {
                "specialty": 0.2,
                "language": 0.1,
                "load": 0.25,
                "region": 0.1,
                "record": 0.075,
            },
        },
        {
            "user_id": world.zhao.id,
            "total": 0.525,
            "parts": {
                "specialty": 0.0,
                "language": 0.1,
                "load": 0.25,
                "region": 0.1,
                "record": 0.075,
            },
        },
    ]
    choice = await deadline(case, Regime.PARTY_CHOICE)
    assert (choice.status, choice.closed_at) == (DeadlineStatus.MISSED, at)
    assert (await deadline(case, Regime.APPOINTMENT)).status == DeadlineStatus.MET
    # Appointed on Sep 30: Oct 8, Oct 9 and the adjusted working Saturday Oct 10.
    answer = await deadline(case, Regime.MEDIATOR_ANSWER)
    assert (answer.started_on, answer.due_on) == (date(2026, 9, 30), date(2026, 10, 10))
    assert await status_changes(case) == [
        ["submitted", "awaiting_consent"],
        ["awaiting_consent", "accepted"],
        ["accepted", "assigning"],
        ["assigning", "awaiting_mediator"],
    ]

    # Nothing more to do on the next round.
    before = await snapshot(case)
    assert await do_appoint_when_choice_window_closes(shanghai(9, 30, 11)) == []
    assert await snapshot(case) == before
    await assert_loads_match_cases()


async def test_a_mediator_tied_to_the_respondent_never_gets_the_case(
    world: World, settings: Settings
) -> None:
    respondent_code = party_ids(1)["respondent_id_number"]
    # Declared ties are compared whatever the case of the check letter.
    await MediatorProfile.filter(user_id=world.wang.id).update(
        affiliations=[respondent_code.lower()]
    )
    case = await new_case(settings, 1)

    scoring_case, candidates = await candidates_for(case, date(2026, 9, 30))
    choice = rank_mediators(scoring_case, candidates)
    assert choice.excluded == (Exclusion(world.wang.id, "conflict_affiliation"),)

    assert await do_appoint_when_choice_window_closes(shanghai(9, 30)) == [case.id]
    assert (await fresh(case)).mediator_id == world.li.id
    await decline(world.li, case, shanghai(10, 8), "本周出差")
    assert (await fresh(case)).mediator_id == world.zhao.id
    await decline(world.zhao, case, shanghai(10, 8), "案件过多")

    case = await fresh(case)
    assert (case.status, case.mediator_id) == (Status.ASSIGNING, None)
    assert await MediatorAssignment.filter(case_id=case.id, mediator_id=world.wang.id).count() == 0
    event = await TimelineEvent.get(case_id=case.id, kind="no_mediator_available")
    assert event.data["excluded"] == [{"user_id": world.wang.id, "reason": "conflict_affiliation"}]
    assert await do_appoint_when_choice_window_closes(shanghai(10, 9)) == []
    assert (await fresh(case)).mediator_id is None
    await assert_loads_match_cases()


async def test_a_mediator_who_mediated_a_party_before_never_gets_the_case(
    world: World, settings: Settings
) -> None:
    earlier = await new_case(settings, 1)
    await choose_jointly(earlier, world.wang, shanghai(9, 28))
    await accept(world.wang, earlier, shanghai(9, 29))
    # The same tourist, against another travel agency.
    later = await new_case(
        settings,
        2,
        at=shanghai(10, 8),
        applicant_id_number=party_ids(1)["applicant_id_number"],
    )

    scoring_case, candidates = await candidates_for(later, date(2026, 10, 12))
    assert rank_mediators(scoring_case, candidates).excluded == (
        Exclusion(world.wang.id, "conflict_prior_involvement"),
    )
    assert await do_appoint_when_choice_window_closes(shanghai(10, 12)) == [later.id]
    assert (await fresh(later)).mediator_id == world.li.id
    await do_request_mediator_change(
        later, Side.APPLICANT, "沟通不畅", shanghai(10, 12), world.party.id
    )
    assert (await fresh(later)).mediator_id == world.zhao.id
    assert [m for m, *_ in await history(later)] == [world.li.id, world.zhao.id]
    await assert_loads_match_cases()


async def test_mediators_on_leave_or_at_capacity_are_passed_over(
    world: World, settings: Settings
) -> None:
    busy = await new_case(settings, 1)
    await choose_jointly(busy, world.li, shanghai(9, 28))
    await MediatorProfile.filter(user_id=world.li.id).update(capacity=1)
    # Wang is on leave over the appointment day; Zhao's leave ended the day before.
    await MediatorLeave.create(
        mediator=world.wang, starts_on=date(2026, 9, 29), ends_on=date(2026, 10, 9)
    )
    await MediatorLeave.create(
        mediator=world.zhao, starts_on=date(2026, 9, 1), ends_on=date(2026, 9, 29)
    )
    case = await new_case(settings, 2)

    scoring_case, candidates = await candidates_for(case, date(2026, 9, 30))
    assert rank_mediators(scoring_case, candidates).excluded == tuple(
        sorted(
            [Exclusion(world.wang.id, "on_leave"), Exclusion(world.li.id, "at_capacity")],
            key=lambda e: e.user_id,
        )
    )
    assert await do_appoint_when_choice_window_closes(shanghai(9, 30)) == [case.id]
    assert (await fresh(case)).mediator_id == world.zhao.id
    await assert_loads_match_cases()


# --- the mediator's answer ---------------------------------------------------------------------


async def test_accepting_without_a_tie_starts_the_30_day_clock(
    world: World, settings: Settings
) -> None:
    case = await new_case(settings, 1)
    await choose_jointly(case, world.wang, shanghai(9, 28))
    at = shanghai(10, 8)

    returned = await accept(world.wang, case, at)

    case = await fresh(case)
    assert returned.status == case.status == Status.IN_MEDIATION
    assert (case.mediator_id, case.mediator_accepted_at) == (world.wang.id, at)
    assert await history(case) == [(world.wang.id, "chosen", "accepted", "joint_choice")]
    disclosure = await ConflictDisclosure.get(case_id=case.id)
    assert (disclosure.mediator_id, disclosure.has_tie, disclosure.at) == (world.wang.id, False, at)  # type: ignore[attr-defined]
    answer = await deadline(case, Regime.MEDIATOR_ANSWER)
    assert (answer.status, answer.closed_at) == (DeadlineStatus.MET, at)
    # Art. 24: 30 days from the acceptance; Nov 7 is a Saturday, so the period ends Monday.
    clock = await deadline(case, Regime.ONLINE_MEDIATION)
    engine = deadline_for(Regime.ONLINE_MEDIATION, date(2026, 10, 8), official_calendar())
    assert (clock.status, clock.started_on, clock.due_on) == (
        DeadlineStatus.OPEN,
        date(2026, 10, 8),
        date(2026, 11, 9),
    )
    assert (engine.due, engine.rolled_from) == (date(2026, 11, 9), date(2026, 11, 7))
    assert await CaseDeadline.filter(case_id=case.id, regime="consumer_mediation").count() == 0
    assert await status_changes(case) == [
        ["submitted", "awaiting_consent"],
        ["awaiting_consent", "accepted"],
        ["accepted", "assigning"],
        ["assigning", "awaiting_mediator"],
        ["awaiting_mediator", "in_mediation"],
    ]
    kinds = await TimelineEvent.filter(case_id=case.id).values_list("kind", flat=True)
    assert "no_conflict_declared" in kinds
    begun = await Notice.filter(case_id=case.id, subject__startswith="调解员已接受委派").count()
    assert begun == 4  # both parties, by e-mail and SMS
    assert await open_cases(world.wang) == 1
    # Answering twice is refused.
    with pytest.raises(CaseConflict, match="case_changed_meanwhile"):
        await accept(world.wang, case, at)


async def test_an_internet_dispute_at_an_administrative_body_runs_on_45_working_days(
    world: World, settings: Settings
) -> None:
    samr = await new_organisation("SAMR", track="administrative", categories=("goods_quality",))
    qian = await new_mediator("qian", samr.id, specialties=["goods_quality"])
    case = await new_case(
        settings,
        1,
        domain="internet",
        category="goods_quality",
        respondent_name="杭州某某家电旗舰店",
    )
    # An online consumer claim would go to an industry committee; none takes the category.
    assert case.organisation_id == samr.id
    assert case.triage["track"] == "administrative"

    assert await do_appoint_when_choice_window_closes(shanghai(9, 30)) == [case.id]
    assert (await fresh(case)).mediator_id == qian.id
    await accept(qian, case, shanghai(10, 8))

    clock = await deadline(case, Regime.CONSUMER_MEDIATION)
    engine = deadline_for(Regime.CONSUMER_MEDIATION, date(2026, 10, 8), official_calendar())
    assert (clock.started_on, clock.due_on) == (date(2026, 10, 8), date(2026, 12, 9))
    assert clock.due_on == engine.due
    assert await CaseDeadline.filter(case_id=case.id, regime="online_mediation").count() == 0


async def test_disclosing_a_tie_steps_aside_and_the_case_goes_to_someone_else(
    world: World, settings: Settings
) -> None:
    case = await new_case(settings, 1)
    await choose_jointly(case, world.wang, shanghai(9, 28))
    before = await snapshot(case)
    with pytest.raises(AssignmentError, match="disclosure_statement_required"):
        await do_mediator_answer(
            world.wang,
            case,
            accept=True,
            has_tie=True,
            statement="  ",
            decline_reason="",
            now=shanghai(9, 29),
        )
    assert await snapshot(case) == before

    at = shanghai(9, 29)
    returned = await do_mediator_answer(
        world.wang,
        case,
        accept=True,
        has_tie=True,
        statement="申请人是我的表弟",
        decline_reason="",
        now=at,
    )

    case = await fresh(case)
    assert returned.status == case.status == Status.AWAITING_MEDIATOR
    assert case.mediator_id == world.li.id
    assert case.mediator_accepted_at is None
    assert await history(case) == [
        (world.wang.id, "chosen", "recused", "申请人是我的表弟"),
        (world.li.id, "appointed", None, ""),
    ]
    disclosure = await ConflictDisclosure.get(case_id=case.id)
    assert (disclosure.has_tie, disclosure.statement) == (True, "申请人是我的表弟")
    assert await CaseDeadline.filter(case_id=case.id, regime="online_mediation").count() == 0
    answers = await CaseDeadline.filter(case_id=case.id, regime="mediator_answer").order_by("id")
    assert [(d.status, d.started_on, d.due_on) for d in answers] == [
        (DeadlineStatus.MET, date(2026, 9, 28), date(2026, 10, 8)),
        (DeadlineStatus.OPEN, date(2026, 9, 29), date(2026, 10, 9)),
    ]
    assert (await open_cases(world.wang), await open_cases(world.li)) == (0, 1)
    kinds = await TimelineEvent.filter(case_id=case.id).values_list("kind", flat=True)
    assert "conflict_disclosed" in kinds
    assert await status_changes(case) == [
        ["submitted", "awaiting_consent"],
        ["awaiting_consent", "accepted"],
        ["accepted", "assigning"],
        ["assigning", "awaiting_mediator"],
        ["awaiting_mediator", "assigning"],
        ["assigning", "awaiting_mediator"],
    ]


async def test_declining_needs_reasons_and_the_decliner_is_not_asked_again(
    world: World, settings: Settings
) -> None:
    case = await new_case(settings, 1)
    await choose_jointly(case, world.wang, shanghai(9, 28))
    before = await snapshot(case)

    with pytest.raises(AssignmentError, match="decline_reason_required"):
        await decline(world.wang, case, shanghai(9, 29), " ")
    assert await snapshot(case) == before

    await decline(world.wang, case, shanghai(9, 29), "与申请人系同事关系以外的时间冲突")
    case = await fresh(case)
    assert (case.status, case.mediator_id) == (Status.AWAITING_MEDIATOR, world.li.id)
    assert await history(case) == [
        (world.wang.id, "chosen", "declined", "与申请人系同事关系以外的时间冲突"),
        (world.li.id, "appointed", None, ""),
    ]
    assignment = await MediatorAssignment.get(case_id=case.id, mediator_id=world.li.id)
    assert [e["user_id"] for e in assignment.explanation] == [world.li.id, world.zhao.id]

    await decline(world.li, case, shanghai(9, 30), "休假")
    case = await fresh(case)
    assert case.mediator_id == world.zhao.id
    assert [m for m, *_ in await history(case)] == [world.wang.id, world.li.id, world.zhao.id]
    await assert_loads_match_cases()


# --- changes and overrides ---------------------------------------------------------------------


async def test_a_party_asking_for_a_change_before_acceptance_gets_another_mediator(
    world: World, settings: Settings
) -> None:
    case = await new_case(settings, 1)
    await choose_jointly(case, world.wang, shanghai(9, 28))
    before = await snapshot(case)
    with pytest.raises(AssignmentError, match="change_reason_required"):
        await do_request_mediator_change(case, Side.APPLICANT, "", shanghai(9, 29), world.party.id)
    assert await snapshot(case) == before

    await do_request_mediator_change(
        case, Side.APPLICANT, "调解员曾代理对方", shanghai(9, 29), world.party.id
    )

    case = await fresh(case)
    assert (case.status, case.mediator_id) == (Status.AWAITING_MEDIATOR, world.li.id)
    assert await history(case) == [
        (world.wang.id, "chosen", "replaced", "调解员曾代理对方"),
        (world.li.id, "appointed", None, ""),
    ]
    answers = await CaseDeadline.filter(case_id=case.id, regime="mediator_answer").order_by("id")
    assert [d.status for d in answers] == [DeadlineStatus.CANCELLED, DeadlineStatus.OPEN]
    assert (await status_changes(case))[-2:] == [
        ["awaiting_mediator", "assigning"],
        ["assigning", "awaiting_mediator"],
    ]
    await assert_loads_match_cases()


async def test_a_party_asking_for_a_change_during_mediation_gets_another_mediator(
    world: World, settings: Settings
) -> None:
    case = await new_case(settings, 1)
    await choose_jointly(case, world.wang, shanghai(9, 28))
    await accept(world.wang, case, shanghai(9, 29))
    at = shanghai(10, 12)

    await do_request_mediator_change(case, Side.RESPONDENT, "调解员偏袒申请人", at, world.party.id)

    case = await fresh(case)
    assert (case.status, case.mediator_id) == (Status.AWAITING_MEDIATOR, world.li.id)
    # The replaced mediator's assignment is ended, so they are not put back on the case.
    assert await history(case) == [
        (world.wang.id, "chosen", "replaced", "调解员偏袒申请人"),
        (world.li.id, "appointed", None, ""),
    ]
    ended = await MediatorAssignment.get(case_id=case.id, mediator_id=world.wang.id)
    assert ended.ended_at == at
    clock = await deadline(case, Regime.ONLINE_MEDIATION)
    assert (clock.status, clock.closed_at) == (DeadlineStatus.CANCELLED, at)
    answer = await deadline(case, Regime.MEDIATOR_ANSWER, DeadlineStatus.OPEN)
    assert (answer.started_on, answer.due_on) == (date(2026, 10, 12), date(2026, 10, 15))
    assert (await open_cases(world.wang), await open_cases(world.li)) == (0, 1)
    assert (await status_changes(case))[-2:] == [
        ["in_mediation", "assigning"],
        ["assigning", "awaiting_mediator"],
    ]

    # A second change: neither replaced mediator comes back.
    await do_request_mediator_change(
        case, Side.APPLICANT, "仍不满意", shanghai(10, 13), world.party.id
    )
    assert (await fresh(case)).mediator_id == world.zhao.id
    await assert_loads_match_cases()


async def test_an_admin_override_needs_a_reason_and_the_case_s_own_organisation(
    world: World, settings: Settings
) -> None:
    own_admin = await staff("tqo_admin", Role.ORG_ADMIN, world.tqo.id)
    foreign_admin = await staff("pmc_admin", Role.ORG_ADMIN, world.pmc.id)
    platform_admin = await staff("platform", Role.PLATFORM_ADMIN, None)
    case = await new_case(settings, 1)
    await choose_jointly(case, world.wang, shanghai(9, 28))
    before = await snapshot(case)

    with pytest.raises(AssignmentError, match="override_reason_required"):
        await do_override_mediator(own_admin, case, world.zhao.id, "  ", shanghai(9, 29))
    with pytest.raises(CaseNotFound, match="case_not_found"):
        await do_override_mediator(foreign_admin, case, world.zhao.id, "调整", shanghai(9, 29))
    with pytest.raises(AssignmentError, match="mediator_not_on_roster"):
        await do_override_mediator(own_admin, case, world.other.id, "调整", shanghai(9, 29))
    assert await snapshot(case) == before

    await do_override_mediator(own_admin, case, world.zhao.id, "王调解员病假", shanghai(9, 29))
    case = await fresh(case)
    assert (case.status, case.mediator_id) == (Status.AWAITING_MEDIATOR, world.zhao.id)
    assert await history(case) == [
        (world.wang.id, "chosen", "replaced", "王调解员病假"),
        (world.zhao.id, "overridden", None, "王调解员病假"),
    ]
    changes = await TimelineEvent.filter(case_id=case.id, kind="status_changed").order_by("id")
    assert [(e.actor_id, e.actor_label) for e in changes[-2:]] == [  # type: ignore[attr-defined]
        (own_admin.id, "org_admin"),
        (own_admin.id, "org_admin"),
    ]
    assert changes[-1].data["how"] == "overridden"

    # A platform admin may override in any organisation, also during mediation.
    await accept(world.zhao, case, shanghai(9, 30))
    await do_override_mediator(platform_admin, case, world.li.id, "回避", shanghai(10, 8))
    case = await fresh(case)
    assert (case.status, case.mediator_id) == (Status.AWAITING_MEDIATOR, world.li.id)
    assert (await history(case))[-2:] == [
        (world.zhao.id, "overridden", "replaced", "回避"),
        (world.li.id, "overridden", None, "回避"),
    ]
    assert (await deadline(case, Regime.ONLINE_MEDIATION)).status == DeadlineStatus.CANCELLED
    await assert_loads_match_cases()


# --- the jobs ----------------------------------------------------------------------------------


async def test_a_mediator_who_does_not_answer_in_3_working_days_is_replaced(
    world: World, settings: Settings
) -> None:
    case = await new_case(settings, 1)
    await choose_jointly(case, world.wang, shanghai(9, 28))  # answer due Oct 8

    assert await do_reassign_unanswered(shanghai(10, 8, 23, 30)) == []
    assert (await fresh(case)).mediator_id == world.wang.id

    at = shanghai(10, 9, 9)
    assert await do_reassign_unanswered(at) == [case.id]
    case = await fresh(case)
    assert (case.status, case.mediator_id) == (Status.AWAITING_MEDIATOR, world.li.id)
    assert await history(case) == [
        (world.wang.id, "chosen", "no_answer", "no_answer"),
        (world.li.id, "appointed", None, ""),
    ]
    answers = await CaseDeadline.filter(case_id=case.id, regime="mediator_answer").order_by("id")
    # Li's 3 working days: Saturday Oct 10 (adjusted working day), Oct 12 and Oct 13.
    assert [(d.status, d.started_on, d.due_on) for d in answers] == [
        (DeadlineStatus.MISSED, date(2026, 9, 28), date(2026, 10, 8)),
        (DeadlineStatus.OPEN, date(2026, 10, 9), date(2026, 10, 13)),
    ]
    assert (await status_changes(case))[-2:] == [
        ["awaiting_mediator", "assigning"],
        ["assigning", "awaiting_mediator"],
    ]
    assert await do_reassign_unanswered(shanghai(10, 9, 10)) == []
    with pytest.raises(CaseConflict):
        await accept(world.wang, case, shanghai(10, 9, 11))
    await assert_loads_match_cases()


async def test_open_case_counters_follow_every_routing_step(
    world: World, settings: Settings
) -> None:
    admin = await staff("tqo_admin", Role.ORG_ADMIN, world.tqo.id)
    a, b, c, d = [await new_case(settings, n) for n in (1, 2, 3, 4)]
    wang, li, zhao = world.wang, world.li, world.zhao
    steps: list[tuple[Any, tuple[int, int, int]]] = [
        (lambda: choose_jointly(a, wang, shanghai(9, 28)), (1, 0, 0)),
        (lambda: choose_jointly(b, wang, shanghai(9, 28)), (2, 0, 0)),
        # c and d: Wang is still the best fit with 2 of 20 places taken.
        (lambda: do_appoint_when_choice_window_closes(shanghai(9, 30)), (4, 0, 0)),
        (lambda: accept(wang, a, shanghai(9, 30)), (4, 0, 0)),
        (lambda: decline(wang, b, shanghai(9, 30), "时间冲突"), (3, 1, 0)),
        (
            lambda: do_request_mediator_change(
                a, Side.APPLICANT, "沟通不畅", shanghai(10, 8), world.party.id
            ),
            (2, 2, 0),
        ),
        (lambda: do_override_mediator(admin, c, zhao.id, "平衡工作量", shanghai(10, 8)), (1, 2, 1)),
        (
            lambda: do_mediator_answer(
                zhao,
                c,
                accept=True,
                has_tie=True,
                statement="被申请人是我前雇主",
                decline_reason="",
                now=shanghai(10, 9),
            ),
            (1, 3, 0),
        ),
        (lambda: accept(li, a, shanghai(10, 9)), (1, 3, 0)),
        (lambda: accept(li, b, shanghai(10, 9)), (1, 3, 0)),
        # Wang (d) and Li (c) did not answer: d goes to Li; for c nobody is left.
        (lambda: do_reassign_unanswered(shanghai(10, 20)), (0, 3, 0)),
    ]
    for step, expected in steps:
        await step()
        assert (await open_cases(wang), await open_cases(li), await open_cases(zhao)) == expected
        await assert_loads_match_cases()
    assert [(x.status, x.mediator_id) for x in [await fresh(x) for x in (a, b, c, d)]] == [
        (Status.IN_MEDIATION, li.id),
        (Status.IN_MEDIATION, li.id),
        (Status.ASSIGNING, None),
        (Status.AWAITING_MEDIATOR, li.id),
    ]


async def test_with_nobody_free_the_case_waits_and_is_appointed_once_a_mediator_joins(
    world: World, settings: Settings
) -> None:
    empty = await new_organisation("EMPTY", track="administrative", categories=("scenic_spot",))
    case = await new_case(settings, 1, category="scenic_spot")
    assert case.organisation_id == empty.id

    assert await do_appoint_when_choice_window_closes(shanghai(9, 30)) == []
    assert await do_appoint_when_choice_window_closes(shanghai(9, 30, 11)) == []
    assert await do_appoint(case.id, shanghai(9, 30, 12)) is None
    case = await fresh(case)
    assert (case.status, case.mediator_id) == (Status.ASSIGNING, None)
    assert (await deadline(case, Regime.PARTY_CHOICE)).status == DeadlineStatus.MISSED
    # One event says so; the job's later rounds do not repeat it.
    events = await TimelineEvent.filter(case_id=case.id, kind="no_mediator_available")
    assert [(e.at, e.data["excluded"]) for e in events] == [(shanghai(9, 30), [])]

    sun = await new_mediator("sun", empty.id, specialties=["scenic_spot"])
    at = shanghai(10, 8)
    assert await do_appoint_when_choice_window_closes(at) == [case.id]
    case = await fresh(case)
    assert (case.status, case.mediator_id) == (Status.AWAITING_MEDIATOR, sun.id)
    assert await history(case) == [(sun.id, "appointed", None, "")]
    answer = await deadline(case, Regime.MEDIATOR_ANSWER)
    assert (answer.started_on, answer.due_on) == (date(2026, 10, 8), date(2026, 10, 12))
    assert await do_appoint_when_choice_window_closes(shanghai(10, 8, 11)) == []
    await assert_loads_match_cases()


async def test_jobs_run_twice_at_once_change_each_case_once(
    world: World, settings: Settings
) -> None:
    """Proves each job's lock on PostgreSQL only (SQLite runs one transaction at a time per
    process): in each round both runs are held inside the first case's critical section
    (`begin_routing` after the case row's lock, `appoint` after the roster's,
    `reassign_unanswered` after claiming the missed deadline), so without the lock both
    change that case, every time."""
    await MediatorProfile.filter(user_id__in=[world.wang.id, world.li.id]).update(capacity=2)
    cases = []
    for n in range(1, 5):
        case = await file_dispute(settings, filing_fields(**party_ids(n)), [], Filer(), FILED)
        invitation = await Invitation.get(case=case)
        await do_answer_invitation(
            invitation, consent=True, reason="", respondent_user_id=None, now=FILED
        )
        cases.append(case)
    ids = sorted(c.id for c in cases)

    with rendezvous("begin_routing"):
        first, second = await asyncio.gather(
            do_route_accepted_cases(FILED), do_route_accepted_cases(FILED)
        )
    assert sorted(first + second) == ids
    for case in cases:
        assert (await status_changes(case)).count(["accepted", "assigning"]) == 1
        assert await CaseDeadline.filter(case_id=case.id, regime="party_choice").count() == 1

    with rendezvous("appoint"):
        first, second = await asyncio.gather(
            do_appoint_when_choice_window_closes(shanghai(9, 30)),
            do_appoint_when_choice_window_closes(shanghai(9, 30)),
        )
    assert sorted(first + second) == ids
    for case in cases:
        assert await MediatorAssignment.filter(case_id=case.id).count() == 1
        assert (await fresh(case)).status == Status.AWAITING_MEDIATOR
    await assert_loads_match_cases()

    # Nobody answers: the next job rounds replace each mediator once.
    with rendezvous("reassign_unanswered"):
        first, second = await asyncio.gather(
            do_reassign_unanswered(shanghai(10, 13)), do_reassign_unanswered(shanghai(10, 13))
        )
    assert sorted(first + second) == ids
    for case in cases:
        outcomes = [outcome for _, _, outcome, _ in await history(case)]
        assert outcomes == ["no_answer", None]
        assert (await status_changes(case)).count(["awaiting_mediator", "assigning"]) == 1
    await assert_loads_match_cases()


async def test_two_appointments_at_once_never_overfill_a_mediator(
    world: World, settings: Settings
) -> None:
    """Proves the roster lock on PostgreSQL only: both appointments are held at the pause
    point after reading the roster, so without the lock both see Wang's last place free and
    both take it, every time. On SQLite the ORM runs one transaction at a time, so this
    passes with or without the lock (it still checks the outcome)."""
    # Wang is the only mediator free: Li and Zhao take nothing; Wang has one place left.
    await MediatorProfile.filter(user_id__in=[world.li.id, world.zhao.id]).update(capacity=0)
    await MediatorProfile.filter(user_id=world.wang.id).update(capacity=2)
    busy = await new_case(settings, 1)
    await choose_jointly(busy, world.wang, shanghai(9, 28))
    first, second = await new_case(settings, 2), await new_case(settings, 3)
    assert await open_cases(world.wang) == 1

    with rendezvous("appoint") as point:
        appointed = await asyncio.gather(
            do_appoint(first.id, shanghai(9, 30)), do_appoint(second.id, shanghai(9, 30))
        )
    assert point.arrived == 2
    assert sorted(appointed, key=lambda x: x is None) == [world.wang.id, None]
    assert await open_cases(world.wang) == 2
    waiting = [c for c in (first, second) if (await fresh(c)).status == Status.ASSIGNING]
    assert len(waiting) == 1
    assert await TimelineEvent.filter(case_id=waiting[0].id, kind="no_mediator_available").exists()
    await assert_loads_match_cases()


async def test_an_appointment_during_an_override_sees_the_place_the_override_took(
    world: World, settings: Settings
) -> None:
    """Proves the mediator-row lock in `_assign` on PostgreSQL only: the override is held
    after taking Wang's row (`assign`), the appointment after reading the roster
    (`appoint`), so without that lock the appointment counts Wang's open cases before the
    override commits and gives him one case too many, every time."""
    await MediatorProfile.filter(user_id__in=[world.li.id, world.zhao.id]).update(capacity=0)
    await MediatorProfile.filter(user_id=world.wang.id).update(capacity=2)
    busy = await new_case(settings, 1)
    await choose_jointly(busy, world.wang, shanghai(9, 28))
    overridden, appointed = await new_case(settings, 2), await new_case(settings, 3)
    admin = await staff("tqo_admin", Role.ORG_ADMIN, world.tqo.id)

    with rendezvous("assign", "appoint"):
        override = asyncio.create_task(
            do_override_mediator(admin, overridden, world.wang.id, "熟悉此类纠纷", shanghai(9, 29))
        )
        await asyncio.sleep(0.1)
        chosen = await do_appoint(appointed.id, shanghai(9, 29))
        await override
    # The override may go past capacity (a deliberate choice); the appointment may not.
    assert (await fresh(overridden)).mediator_id == world.wang.id
    assert chosen is None
    assert (await fresh(appointed)).status == Status.ASSIGNING
    assert await open_cases(world.wang) == 2
    await assert_loads_match_cases()


# --- deliberate choices respect conflicts of interest too ----------------------------------


async def test_parties_cannot_jointly_choose_a_conflicted_mediator(
    world: World, settings: Settings
) -> None:
    case = await new_case(settings, 41)
    respondent = await Party.get(case_id=case.id, side=Side.RESPONDENT)
    respondent_code = str(respondent.id_number)
    await MediatorProfile.filter(user_id=world.wang.id).update(affiliations=[respondent_code])
    before = await snapshot(case)

    with pytest.raises(AssignmentError) as refused:
        await do_choose_mediator(case, Side.APPLICANT, world.wang.id, FILED)

    assert refused.value.code == "mediator_conflicted"
    assert await snapshot(case) == before
    # A mediator without a conflict can still be chosen.
    assert await do_choose_mediator(case, Side.APPLICANT, world.li.id, FILED) is False


async def test_an_admin_override_cannot_appoint_a_conflicted_mediator_but_may_exceed_capacity(
    world: World, settings: Settings
) -> None:
    earlier = await new_case(settings, 42)
    await choose_jointly(earlier, world.wang, FILED)
    # The same applicant comes back: wang was put to their earlier case (prior involvement).
    again = await new_case(settings, 43, applicant_id_number=party_ids(42)["applicant_id_number"])
    admin = await do_create_staff(
        username="tqo_admin",
        password=STAFF_PASSWORD,
        role=Role.ORG_ADMIN,
        display_name="管理员",
        organisation_id=world.tqo.id,
    )
    before = await snapshot(again)
    with pytest.raises(AssignmentError) as refused:
        await do_override_mediator(admin, again, world.wang.id, "熟悉此类纠纷", FILED)
    assert refused.value.code == "mediator_conflicted"
    assert await snapshot(again) == before

    await MediatorProfile.filter(user_id=world.li.id).update(capacity=0)
    await do_override_mediator(admin, again, world.li.id, "专长匹配", FILED)
    assert (await fresh(again)).mediator_id == world.li.id
