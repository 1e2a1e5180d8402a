"""Deadline records of cases: extension, pause and resume, the time-out job, reminders and the
due-work list, on the real 2026 calendar.

The main case: the mediator accepts on Thursday 2026-10-08, so the 30-day limit (Art. 24) ends
on Saturday Nov 7 and rolls to Monday 2026-11-09.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

import pytest

from cases.accounts.models import User
from cases.clock import SHANGHAI
from cases.deadlines.actions import (
    DeadlineError,
    DueItem,
    do_extend_deadline,
    do_pause_deadline,
    do_resume_deadline,
    do_send_deadline_reminders,
    due_work,
)
from cases.deadlines.calendar_cn import official_calendar
from cases.deadlines.models import CaseDeadline, DeadlineStatus
from cases.deadlines.rules import Extension, Pause, Regime, Unit, deadline_for
from cases.endings.actions import do_time_out_overdue_mediations
from cases.errors import CaseConflict
from cases.models import Case, Notice, NoticeChannel, Party, Side, TimelineEvent
from cases.routing.assignment import do_choose_mediator, do_mediator_answer
from cases.routing.roster import open_case_counts
from cases.status import Status
from mediation.settings import Settings
from tests.support.concurrency import rendezvous
from tests.support.factories import (
    cheap_password_hashing,
    file_and_consent,
    new_mediator,
    new_organisation,
    party_ids,
)

ONLINE = Regime.ONLINE_MEDIATION
MEDIATOR_EMAIL = "wang@mediators.example.com"


def shanghai(month: int, day: int, hour: int = 10, minute: int = 0, year: int = 2026) -> datetime:
    """A moment given in Shanghai local time, as the UTC datetime actions receive."""
    return datetime(year, month, day, hour, minute, tzinfo=SHANGHAI).astimezone(UTC)


@pytest.fixture(autouse=True)
def _fast_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    cheap_password_hashing(monkeypatch)


@dataclass
class World:
    settings: Settings
    wang: User


@pytest.fixture
async def world(db: None, settings: Settings) -> World:
    org = await new_organisation("TQO", track="administrative", categories=("tour_refund",))
    wang = await new_mediator("wang", org.id, email=MEDIATOR_EMAIL, specialties=["tour_refund"])
    return World(settings, wang)


async def assigned(world: World, n: int) -> Case:
    """Case `n`, filed on 2026-09-24 and put to Wang by both parties on Sep 28."""
    case = await file_and_consent(world.settings, shanghai(9, 24), **party_ids(n))
    for side in (Side.APPLICANT, Side.RESPONDENT):
        await do_choose_mediator(case, side, world.wang.id, shanghai(9, 28))
    return await Case.get(id=case.id)


async def in_mediation(world: World, n: int, accepted: datetime | None = None) -> Case:
    case = await assigned(world, n)
    return await do_mediator_answer(
        world.wang,
        case,
        accept=True,
        has_tie=False,
        statement="",
        decline_reason="",
        now=accepted or shanghai(10, 8),
    )


async def clock(case: Case) -> CaseDeadline:
    return await CaseDeadline.get(case_id=case.id, regime=ONLINE.value)


async def row_state(case: Case) -> tuple[Any, ...]:
    row = await clock(case)
    return (
        row.status,
        row.due_on,
        row.provisional,
        row.pauses,
        row.extensions,
        await TimelineEvent.filter(case_id=case.id).count(),
    )


async def events(case: Case, kind: str) -> list[TimelineEvent]:
    return await TimelineEvent.filter(case_id=case.id, kind=kind).order_by("id")


# --- extension, pause, resume ------------------------------------------------------------------


async def test_the_mediation_clock_starts_at_acceptance(world: World) -> None:
    case = await in_mediation(world, 1)
    row = await clock(case)
    assert (row.status, row.started_on, row.due_on, row.provisional) == (
        DeadlineStatus.OPEN,
        date(2026, 10, 8),
        date(2026, 11, 9),
        False,
    )
    assert row.due_on == deadline_for(ONLINE, row.started_on, official_calendar()).due


async def test_an_extension_by_consent_moves_the_due_date_and_is_on_the_timeline(
    world: World,
) -> None:
    case = await in_mediation(world, 1)
    at = shanghai(11, 2)

    row = await do_extend_deadline(
        case, ONLINE, 15, Unit.CALENDAR_DAYS, "双方同意延长", at, world.wang.id
    )

    # 30 + 15 days from Oct 8: Sunday Nov 22, rolled to Monday Nov 23.
    assert row.due_on == date(2026, 11, 23)
    stored = await clock(case)
    assert (stored.due_on, stored.status) == (date(2026, 11, 23), DeadlineStatus.OPEN)
    assert stored.extensions == [{"days": 15, "unit": "calendar_days", "reason": "双方同意延长"}]
    engine = deadline_for(
        ONLINE,
        date(2026, 10, 8),
        official_calendar(),
        extensions=[Extension(15, Unit.CALENDAR_DAYS, "双方同意延长")],
    )
    assert (engine.due, engine.rolled_from) == (date(2026, 11, 23), date(2026, 11, 22))
    [event] = await events(case, "deadline_extended")
    assert (event.at, event.actor_id) == (at, world.wang.id)  # type: ignore[attr-defined]
    assert event.data == {
        "regime": "online_mediation",
        "days": 15,
        "unit": "calendar_days",
        "reason": "双方同意延长",
        "due_on": ["2026-11-09", "2026-11-23"],
    }

    # A second extension in working days runs on from the extended calendar-day end.
    row = await do_extend_deadline(
        case, ONLINE, 2, Unit.WORKING_DAYS, "补充材料", at, world.wang.id
    )
    assert row.due_on == date(2026, 11, 25)
    assert (await events(case, "deadline_extended"))[-1].data["due_on"] == [
        "2026-11-23",
        "2026-11-25",
    ]


async def test_an_invalid_extension_changes_nothing(world: World) -> None:
    case = await in_mediation(world, 1)
    before = await row_state(case)
    at = shanghai(11, 2)

    with pytest.raises(DeadlineError, match="extension_reason_required"):
        await do_extend_deadline(case, ONLINE, 15, Unit.CALENDAR_DAYS, " ", at, world.wang.id)
    with pytest.raises(DeadlineError, match="extension_days_invalid"):
        await do_extend_deadline(case, ONLINE, 0, Unit.CALENDAR_DAYS, "同意", at, world.wang.id)
    with pytest.raises(CaseConflict, match="no_open_deadline"):
        await do_extend_deadline(
            case, Regime.CONSUMER_MEDIATION, 5, Unit.CALENDAR_DAYS, "同意", at, world.wang.id
        )

    assert await row_state(case) == before


async def test_a_pause_freezes_the_clock_and_resuming_recomputes_it(world: World) -> None:
    case = await in_mediation(world, 1)

    row = await do_pause_deadline(
        case, ONLINE, date(2026, 10, 20), "委托司法鉴定", shanghai(10, 20), world.wang.id
    )
    assert (row.due_on, row.status) == (None, DeadlineStatus.OPEN)
    stored = await clock(case)
    assert stored.due_on is None
    assert stored.pauses == [{"start": "2026-10-20", "end": None, "reason": "委托司法鉴定"}]
    [paused] = await events(case, "deadline_paused")
    assert paused.data == {
        "regime": "online_mediation",
        "start": "2026-10-20",
        "reason": "委托司法鉴定",
    }
    with pytest.raises(CaseConflict, match="deadline_already_paused"):
        await do_pause_deadline(
            case, ONLINE, date(2026, 10, 21), "再次鉴定", shanghai(10, 21), None
        )
    with pytest.raises(DeadlineError, match="pause_end_before_start"):
        await do_resume_deadline(case, ONLINE, date(2026, 10, 19), shanghai(10, 30), None)

    row = await do_resume_deadline(
        case, ONLINE, date(2026, 10, 29), shanghai(10, 30), world.wang.id
    )
    # Oct 20-29 (10 days) do not count: Nov 9 becomes Nov 17 (Art. 26).
    assert row.due_on == date(2026, 11, 17)
    assert (await clock(case)).pauses == [
        {"start": "2026-10-20", "end": "2026-10-29", "reason": "委托司法鉴定"}
    ]
    engine = deadline_for(
        ONLINE,
        date(2026, 10, 8),
        official_calendar(),
        pauses=[Pause(date(2026, 10, 20), date(2026, 10, 29), "委托司法鉴定")],
    )
    assert (engine.due, engine.paused_days) == (date(2026, 11, 17), 10)
    [resumed] = await events(case, "deadline_resumed")
    assert resumed.data == {
        "regime": "online_mediation",
        "end": "2026-10-29",
        "due_on": "2026-11-17",
    }
    with pytest.raises(CaseConflict, match="deadline_not_paused"):
        await do_resume_deadline(case, ONLINE, date(2026, 10, 30), shanghai(10, 30), None)


async def test_a_pause_without_a_reason_changes_nothing(world: World) -> None:
    case = await in_mediation(world, 1)
    before = await row_state(case)

    with pytest.raises(DeadlineError, match="pause_reason_required"):
        await do_pause_deadline(case, ONLINE, date(2026, 10, 20), "  ", shanghai(10, 20), None)

    assert await row_state(case) == before
    assert (await clock(case)).due_on == date(2026, 11, 9)


# --- the time-out job --------------------------------------------------------------------------


async def test_an_overdue_mediation_times_out_and_everyone_is_told(world: World) -> None:
    case = await in_mediation(world, 1)
    notices_before = await Notice.filter(case_id=case.id).count()

    # The due day runs to 24:00 Shanghai.
    assert await do_time_out_overdue_mediations(shanghai(11, 9, 23, 30)) == []
    assert (await Case.get(id=case.id)).status == Status.IN_MEDIATION

    at = shanghai(11, 10, 0, 30)
    assert await do_time_out_overdue_mediations(at) == [case.number]

    case = await Case.get(id=case.id)
    assert (case.status, case.closed_reason) == (Status.TIMED_OUT, "mediation_time_limit")
    row = await clock(case)
    assert (row.status, row.closed_at) == (DeadlineStatus.MISSED, at)
    change = (await events(case, "status_changed"))[-1]
    assert change.data == {
        "status": ["in_mediation", "timed_out"],
        "regime": "online_mediation",
    }
    told = await Notice.filter(case_id=case.id, subject__startswith="调解期限届满").values_list(
        "channel", "recipient"
    )
    assert sorted(told) == sorted(
        [
            (NoticeChannel.EMAIL, "zhangsan@example.com"),
            (NoticeChannel.SMS, "13812345678"),
            (NoticeChannel.EMAIL, "service@travel.example.com"),
            (NoticeChannel.SMS, "13900001111"),
            (NoticeChannel.EMAIL, MEDIATOR_EMAIL),
        ]
    )
    assert await Notice.filter(case_id=case.id).count() == notices_before + 5
    assert await do_time_out_overdue_mediations(shanghai(11, 11)) == []


async def test_an_extended_mediation_is_not_timed_out_before_its_new_end(world: World) -> None:
    case = await in_mediation(world, 1)
    await do_extend_deadline(
        case, ONLINE, 15, Unit.CALENDAR_DAYS, "双方同意延长", shanghai(11, 2), world.wang.id
    )

    assert await do_time_out_overdue_mediations(shanghai(11, 10)) == []
    assert await do_time_out_overdue_mediations(shanghai(11, 23, 23)) == []
    assert (await Case.get(id=case.id)).status == Status.IN_MEDIATION
    assert (await clock(case)).status == DeadlineStatus.OPEN

    assert await do_time_out_overdue_mediations(shanghai(11, 24)) == [case.number]
    assert (await Case.get(id=case.id)).status == Status.TIMED_OUT


async def test_a_paused_mediation_is_never_timed_out(world: World) -> None:
    case = await in_mediation(world, 1)
    await do_pause_deadline(
        case, ONLINE, date(2026, 10, 20), "委托司法鉴定", shanghai(10, 20), None
    )

    for moment in (shanghai(11, 10), shanghai(12, 31), shanghai(6, 1, year=2027)):
        assert await do_time_out_overdue_mediations(moment) == []
    assert (await Case.get(id=case.id)).status == Status.IN_MEDIATION
    row = await clock(case)
    assert (row.status, row.due_on) == (DeadlineStatus.OPEN, None)
    assert await Notice.filter(case_id=case.id, subject__startswith="调解期限届满").count() == 0


async def test_the_time_out_job_run_twice_at_once_ends_each_case_once(world: World) -> None:
    """Proves the missed-deadline claim on PostgreSQL only (SQLite runs one transaction at a
    time per process): both runs are held inside the first case's transaction after the
    claim (`time_out`), so without it both end that case, every time."""
    first_case = await in_mediation(world, 1)
    second_case = await in_mediation(world, 2)

    with rendezvous("time_out"):
        results = await asyncio.gather(
            do_time_out_overdue_mediations(shanghai(11, 10)),
            do_time_out_overdue_mediations(shanghai(11, 10)),
        )

    assert sorted(results[0] + results[1]) == sorted([first_case.number, second_case.number])
    for case in (first_case, second_case):
        changes = [e.data["status"] for e in await events(case, "status_changed")]
        assert changes.count(["in_mediation", "timed_out"]) == 1
        told = await Notice.filter(case_id=case.id, subject__startswith="调解期限届满").count()
        assert told == 5


async def test_a_timed_out_case_no_longer_counts_towards_the_mediators_load(
    world: World,
) -> None:
    case = await in_mediation(world, 1)
    assert await open_case_counts([world.wang.id]) == {world.wang.id: 1}

    assert await do_time_out_overdue_mediations(shanghai(11, 10)) == [case.number]

    assert await open_case_counts([world.wang.id]) == {world.wang.id: 0}


# --- reminders ---------------------------------------------------------------------------------


async def reminders_to_wang(case: Case) -> list[Notice]:
    return await Notice.filter(
        case_id=case.id, recipient=MEDIATOR_EMAIL, subject__startswith="期限提醒"
    )


async def test_the_mediator_is_reminded_once_when_one_working_day_is_left(world: World) -> None:
    case = await in_mediation(world, 1)  # due Monday Nov 9

    # Thursday Nov 5: two working days left (Friday and Monday): too early.
    assert await do_send_deadline_reminders(shanghai(11, 5, 18)) == 0
    assert await reminders_to_wang(case) == []
    assert (await clock(case)).reminded_at is None

    at = shanghai(11, 6, 9)  # Friday: only Monday is left
    assert await do_send_deadline_reminders(at) == 1
    [notice] = await reminders_to_wang(case)
    assert notice.channel == NoticeChannel.EMAIL
    assert notice.subject == f"期限提醒 Deadline reminder: {case.number}"
    assert "2026年11月9日" in notice.body and "UTC" not in notice.body
    assert (await clock(case)).reminded_at == at

    # Not again: later the same day, over the weekend, or on the due day.
    for moment in (shanghai(11, 6, 17), shanghai(11, 8), shanghai(11, 9)):
        assert await do_send_deadline_reminders(moment) == 0
    assert len(await reminders_to_wang(case)) == 1


async def test_reminders_run_twice_at_once_are_sent_once(world: World) -> None:
    """Proves the reminder's claim (a conditional update, committed at once) on SQLite and
    PostgreSQL alike: both runs are held after reading the deadline as not yet reminded,
    just before the claim (`deadline_reminder`), so without the claim both remind, every
    time."""
    case = await in_mediation(world, 1)

    with rendezvous("deadline_reminder"):
        sent = await asyncio.gather(
            do_send_deadline_reminders(shanghai(11, 6)),
            do_send_deadline_reminders(shanghai(11, 6)),
        )

    assert sorted(sent) == [0, 1]
    assert len(await reminders_to_wang(case)) == 1


async def test_a_paused_deadline_gets_no_reminder(world: World) -> None:
    case = await in_mediation(world, 1)
    await do_pause_deadline(
        case, ONLINE, date(2026, 10, 20), "委托司法鉴定", shanghai(10, 20), None
    )

    assert await do_send_deadline_reminders(shanghai(11, 6)) == 0
    assert await reminders_to_wang(case) == []


# --- due work ----------------------------------------------------------------------------------


async def test_due_work_lists_the_soonest_first_paused_last_and_flags_overdue(
    world: World,
) -> None:
    on_time = await in_mediation(world, 1)  # due Nov 9
    extended = await in_mediation(world, 2)
    await do_extend_deadline(
        extended, ONLINE, 15, Unit.CALENDAR_DAYS, "同意", shanghai(11, 2), None
    )
    paused = await in_mediation(world, 3)
    await do_pause_deadline(paused, ONLINE, date(2026, 10, 20), "鉴定", shanghai(10, 20), None)
    unanswered = await assigned(world, 4)  # the mediator's answer was due Oct 8
    fresh = await file_and_consent(world.settings, shanghai(11, 10), **party_ids(5))
    today = date(2026, 11, 10)

    items = await due_work(None, today)

    assert items == [
        DueItem(
            unanswered.number,
            "awaiting_mediator",
            "mediator_answer",
            date(2026, 10, 8),
            False,
            True,
            None,
        ),
        DueItem(
            on_time.number, "in_mediation", "online_mediation", date(2026, 11, 9), False, True, None
        ),
        DueItem(fresh.number, "assigning", "party_choice", date(2026, 11, 12), False, False, 2),
        DueItem(fresh.number, "assigning", "appointment", date(2026, 11, 13), False, False, 3),
        DueItem(
            extended.number, "in_mediation", "online_mediation", date(2026, 11, 23), False, False, 9
        ),
        DueItem(paused.number, "in_mediation", "online_mediation", None, False, False, None),
    ]
    # Only the cases asked for, and nothing when none are asked for.
    assert [i.case_number for i in await due_work([paused.id, on_time.id], today)] == [
        on_time.number,
        paused.number,
    ]
    assert await due_work([], today) == []
    # A deadline due today is not overdue and has no working day left.
    [item] = await due_work([on_time.id], date(2026, 11, 9))
    assert (item.overdue, item.working_days_left) == (False, 0)


async def test_the_parties_are_reminded_of_their_choice_window_and_nobody_of_the_appointment(
    world: World,
) -> None:
    # Consent on Tuesday Nov 17: the 2-working-day choice window ends Thursday Nov 19.
    case = await file_and_consent(world.settings, shanghai(11, 17), **party_ids(7))
    parties = await Party.filter(case_id=case.id).values_list("email", flat=True)
    before = await Notice.filter(case_id=case.id, subject__startswith="期限提醒").count()
    assert before == 0

    # Still Tuesday: two working days left, too early.
    assert await do_send_deadline_reminders(shanghai(11, 17, 18)) == 0
    # Wednesday Nov 18: one working day (Thursday) left in the window.
    assert await do_send_deadline_reminders(shanghai(11, 18)) == 1
    reminded = await Notice.filter(case_id=case.id, subject__startswith="期限提醒")
    assert {n.recipient for n in reminded if n.channel == NoticeChannel.EMAIL} == set(parties)
    assert all("2026年11月19日" in n.body for n in reminded)
    appointment = await CaseDeadline.get(case_id=case.id, regime=Regime.APPOINTMENT.value)
    assert appointment.reminded_at is None
