"""Scheduling live sessions over HTTP: from the case page, in Beijing time, with notices to the
parties and a calendar file; refusals come back translated and change nothing.

The routes read the real clock, so times are chosen relative to now.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from starlette.testclient import TestClient

from cases.accounts.models import User
from cases.clock import say_time
from cases.models import Case, Notice, TimelineEvent
from cases.sessions.models import MediationSession
from cases.status import Status
from mediation.settings import Settings
from tests.support.factories import (
    STAFF_PASSWORD,
    cheap_password_hashing,
    csrf_of,
    file_and_consent,
    new_mediator,
    new_organisation,
    register,
    run,
    switch_to,
)

SHANGHAI = ZoneInfo("Asia/Shanghai")
APPLICANT = ("13812345678", "applicant pass 1")
RESPONDENT = ("13900001111", "respondent pass 1")
OUTSIDER = ("13700002222", "outsider pass 1")
MEDIATOR = ("med_sessions", STAFF_PASSWORD)


@pytest.fixture(autouse=True)
def _fast_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    cheap_password_hashing(monkeypatch)


@dataclass(frozen=True)
class World:
    number: str
    case_id: int


@pytest.fixture
def world(client: TestClient, settings: Settings) -> World:
    register(client, *APPLICANT, "张三")
    client.cookies.clear()
    register(client, *RESPONDENT, "某旅行社")
    client.cookies.clear()
    register(client, *OUTSIDER, "李四")
    client.cookies.clear()

    async def build() -> World:
        applicant = await User.get(mobile=APPLICANT[0])
        respondent = await User.get(mobile=RESPONDENT[0])
        org = await new_organisation("SESSORG", categories=("tour_refund",))
        mediator = await new_mediator(MEDIATOR[0], org.id, specialties=["tour_refund"])
        case = await file_and_consent(
            settings,
            datetime.now(UTC),
            filer_user_id=applicant.id,
            respondent_user_id=respondent.id,
        )
        await Case.filter(id=case.id).update(
            status=Status.IN_MEDIATION, mediator_id=mediator.id, organisation_id=org.id
        )
        return World(case.number, case.id)

    return run(client, build)


def local(moment: datetime) -> str:
    """What a datetime-local field sends: Beijing wall time, to the minute."""
    return moment.astimezone(SHANGHAI).strftime("%Y-%m-%dT%H:%M")


def schedule(client: TestClient, world: World, starts_at: str, **fields: str) -> Any:
    token = csrf_of(client, f"/cases/{world.number}")
    return client.post(
        f"/cases/{world.number}/sessions",
        data={"csrf_token": token, "starts_at": starts_at, "mode": "joint", **fields},
        follow_redirects=False,
    )


def counts(client: TestClient, world: World) -> dict[str, int]:
    async def count() -> dict[str, int]:
        return {
            "sessions": await MediationSession.filter(case_id=world.case_id).count(),
            "notices": await Notice.filter(case_id=world.case_id).count(),
            "events": await TimelineEvent.filter(case_id=world.case_id).count(),
        }

    return run(client, count)


def test_the_mediator_schedules_from_the_case_page_and_the_parties_are_told(
    client: TestClient, world: World
) -> None:
    switch_to(client, *MEDIATOR)
    page = client.get(f"/cases/{world.number}")
    assert f'action="/cases/{world.number}/sessions"' in page.text
    before = counts(client, world)
    starts = (datetime.now(UTC) + timedelta(days=3)).replace(second=0, microsecond=0)
    answer = schedule(client, world, local(starts), duration="90")
    assert answer.status_code == 303, answer.text[:2000]
    assert answer.headers["location"] == f"/cases/{world.number}#sessions"

    session = run(client, MediationSession.get, case_id=world.case_id)
    # Beijing wall time in, the same instant stored.
    assert session.starts_at == starts
    assert session.duration_minutes == 90 and session.status == "scheduled"
    after = counts(client, world)
    assert after["sessions"] == before["sessions"] + 1
    notices = run(
        client,
        Notice.filter(case_id=world.case_id, subject__contains="Online mediation session").all,
    )
    # Each party by each channel it gave (the filing has a mobile and an e-mail for both).
    assert len(notices) == 4 == after["notices"] - before["notices"]
    wall = say_time(starts, "zh_CN")  # 2026年12月8日 20:28: Beijing time, as records write it
    assert all(f"{wall}（北京时间）" in notice.body for notice in notices)
    event = run(client, TimelineEvent.get, case_id=world.case_id, kind="session_scheduled")
    assert event.data["session_id"] == session.id
    # The parties see it on their case page.
    switch_to(client, *APPLICANT)
    assert f"/sessions/{session.id}/calendar.ics" in client.get(f"/cases/{world.number}").text


def test_the_calendar_file_is_valid_icalendar_for_the_parties_only(
    client: TestClient, world: World
) -> None:
    switch_to(client, *MEDIATOR)
    starts = (datetime.now(UTC) + timedelta(days=2)).replace(second=0, microsecond=0)
    assert schedule(client, world, local(starts)).status_code == 303
    session = run(client, MediationSession.get, case_id=world.case_id)

    switch_to(client, *RESPONDENT)
    answer = client.get(f"/sessions/{session.id}/calendar.ics")
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/calendar")
    raw = answer.content
    assert raw.startswith(b"BEGIN:VCALENDAR\r\n") and raw.endswith(b"END:VCALENDAR\r\n")
    physical = raw[: -len(b"\r\n")].split(b"\r\n")
    assert all(b"\n" not in line and b"\r" not in line for line in physical)  # CRLF only
    assert all(len(line) <= 75 for line in physical), [len(line) for line in physical]
    for line in physical:
        line.decode("utf-8")  # folding never splits a character
    assert any(line.startswith(b" ") for line in physical), "nothing long enough to fold?"
    lines = raw.decode("utf-8").replace("\r\n ", "").split("\r\n")[:-1]  # unfold
    assert lines.count("BEGIN:VEVENT") == 1 and lines.count("END:VEVENT") == 1
    event = lines[lines.index("BEGIN:VEVENT") : lines.index("BEGIN:VALARM")]
    fields = dict(line.split(":", 1) for line in lines[:3] + event)
    assert fields["VERSION"] == "2.0" and fields["PRODID"]
    assert fields["DTSTART"] == starts.strftime("%Y%m%dT%H%M%SZ")
    assert fields["DTEND"] == (starts + timedelta(minutes=60)).strftime("%Y%m%dT%H%M%SZ")
    assert fields["UID"] == f"session-{session.id}@mediation.changning.example"
    assert "METHOD:PUBLISH" in lines
    assert (fields["SEQUENCE"], fields["STATUS"]) == ("0", "CONFIRMED")
    stamped = datetime.strptime(fields["DTSTAMP"], "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
    assert abs(stamped - datetime.now(UTC)) < timedelta(minutes=1)  # when this copy was made
    assert world.number in fields["SUMMARY"]
    assert f"/sessions/{session.id}" in fields["DESCRIPTION"]

    switch_to(client, *OUTSIDER)
    assert client.get(f"/sessions/{session.id}/calendar.ics").status_code == 404
    assert client.get("/sessions/999999/calendar.ics").status_code == 404


@pytest.mark.parametrize(
    ("moment", "duration", "message"),
    [
        (timedelta(hours=-1), "60", "调解时间必须晚于当前时间。"),
        (timedelta(days=200), "60", "调解最多只能安排在180天以内。"),
        (timedelta(days=1), "5", "调解时长应在15至480分钟之间。"),
        (timedelta(days=1), "600", "调解时长应在15至480分钟之间。"),
    ],
)
def test_a_refused_schedule_is_explained_in_chinese_and_creates_nothing(
    client: TestClient, world: World, moment: timedelta, duration: str, message: str
) -> None:
    switch_to(client, *MEDIATOR)
    before = counts(client, world)
    answer = schedule(client, world, local(datetime.now(UTC) + moment), duration=duration)
    assert answer.status_code == 422
    assert message in answer.text
    assert counts(client, world) == before


def test_not_a_date_is_refused(client: TestClient, world: World) -> None:
    switch_to(client, *MEDIATOR)
    before = counts(client, world)
    assert schedule(client, world, "next tuesday").status_code == 422
    assert counts(client, world) == before


def test_a_party_cannot_schedule(client: TestClient, world: World) -> None:
    switch_to(client, *APPLICANT)
    before = counts(client, world)
    answer = schedule(client, world, local(datetime.now(UTC) + timedelta(days=1)))
    assert answer.status_code == 403
    assert counts(client, world) == before


def test_rescheduling_needs_a_reason_and_is_recorded(client: TestClient, world: World) -> None:
    switch_to(client, *MEDIATOR)
    first = (datetime.now(UTC) + timedelta(days=2)).replace(second=0, microsecond=0)
    assert schedule(client, world, local(first)).status_code == 303
    session = run(client, MediationSession.get, case_id=world.case_id)
    later = first + timedelta(days=1, hours=2)
    before = counts(client, world)

    token = csrf_of(client, f"/cases/{world.number}")
    answer = client.post(
        f"/sessions/{session.id}/reschedule",
        data={"csrf_token": token, "starts_at": local(later), "reason": "  "},
        follow_redirects=False,
    )
    assert answer.status_code == 422
    assert "调整调解时间请说明原因。" in answer.text
    assert counts(client, world) == before
    assert run(client, MediationSession.get, id=session.id).starts_at == first

    answer = client.post(
        f"/sessions/{session.id}/reschedule",
        data={"csrf_token": token, "starts_at": local(later), "reason": "申请人出差"},
        follow_redirects=False,
    )
    assert answer.status_code == 303, answer.text[:2000]
    assert run(client, MediationSession.get, id=session.id).starts_at == later
    event = run(client, TimelineEvent.get, case_id=world.case_id, kind="session_rescheduled")
    assert event.data["reason"] == "申请人出差"
    assert [datetime.fromisoformat(t) for t in event.data["starts_at"]] == [first, later]
    notices = run(
        client, Notice.filter(case_id=world.case_id, subject__contains="Session rescheduled").all
    )
    assert len(notices) == 4 and all("申请人出差" in n.body for n in notices)


def ics_fields(client: TestClient, session_id: int) -> dict[str, str]:
    raw = client.get(f"/sessions/{session_id}/calendar.ics").content.decode("utf-8")
    lines = raw.replace("\r\n ", "").split("\r\n")[:-1]
    event = lines[: lines.index("BEGIN:VALARM")]
    return dict(line.split(":", 1) for line in event)


def test_a_rescheduled_sessions_calendar_file_replaces_the_old_one(
    client: TestClient, world: World
) -> None:
    """Same UID, a higher SEQUENCE and a fresh DTSTAMP: calendar clients take the new time
    (with the same SEQUENCE they kept the old one)."""
    switch_to(client, *MEDIATOR)
    first = (datetime.now(UTC) + timedelta(days=2)).replace(second=0, microsecond=0)
    assert schedule(client, world, local(first)).status_code == 303
    session = run(client, MediationSession.get, case_id=world.case_id)
    switch_to(client, *APPLICANT)
    before = ics_fields(client, session.id)
    sequences = [before["SEQUENCE"]]
    for days in (1, 3):
        switch_to(client, *MEDIATOR)
        token = csrf_of(client, f"/cases/{world.number}")
        later = first + timedelta(days=days)
        answer = client.post(
            f"/sessions/{session.id}/reschedule",
            data={"csrf_token": token, "starts_at": local(later), "reason": "申请人出差"},
            follow_redirects=False,
        )
        assert answer.status_code == 303
        switch_to(client, *APPLICANT)
        after = ics_fields(client, session.id)
        assert after["UID"] == before["UID"]
        assert after["DTSTART"] == later.strftime("%Y%m%dT%H%M%SZ")
        sequences.append(after["SEQUENCE"])
    assert sequences == ["0", "1", "2"]
    assert run(client, MediationSession.get, id=session.id).sequence == 2


def test_a_cancelled_session_is_sent_as_a_cancellation() -> None:
    from cases.sessions.actions import ics_for
    from cases.sessions.models import SessionStatus

    now = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
    session = MediationSession(
        id=7,
        starts_at=now + timedelta(days=1),
        duration_minutes=60,
        status=SessionStatus.CANCELLED,
        sequence=2,
        created_at=now - timedelta(days=3),
    )
    text = ics_for(session, "CNM-2026-T-00001", "https://mediation.example/sessions/7", now)
    lines = text.replace("\r\n ", "").split("\r\n")
    assert "METHOD:CANCEL" in lines and "STATUS:CANCELLED" in lines
    assert "SEQUENCE:3" in lines  # one revision past the last schedule
    assert "DTSTAMP:20261201T080000Z" in lines
    assert "UID:session-7@mediation.changning.example" in lines


def test_a_no_show_is_recorded_on_the_timeline_once_the_session_has_started(
    client: TestClient, world: World
) -> None:
    switch_to(client, *MEDIATOR)
    starts = datetime.now(UTC) + timedelta(hours=1)
    assert schedule(client, world, local(starts)).status_code == 303
    session = run(client, MediationSession.get, case_id=world.case_id)
    token = csrf_of(client, f"/cases/{world.number}")

    def no_show(side: str) -> Any:
        return client.post(
            f"/sessions/{session.id}/no-show",
            data={"csrf_token": token, "side": side},
            follow_redirects=False,
        )

    answer = no_show("respondent")
    assert answer.status_code == 422
    assert "调解尚未开始。" in answer.text
    # Now it has started (ten minutes ago).
    run(
        client,
        MediationSession.filter(id=session.id).update,
        starts_at=datetime.now(UTC) - timedelta(minutes=10),
    )
    assert no_show("nobody").status_code == 422
    assert no_show("respondent").status_code == 303
    assert run(client, MediationSession.get, id=session.id).no_shows == ["respondent"]
    events = run(client, TimelineEvent.filter(case_id=world.case_id, kind="session_no_show").all)
    assert [(e.data["side"], e.data["session_id"]) for e in events] == [("respondent", session.id)]
    assert events[0].actor_id == run(client, User.get, username=MEDIATOR[0]).id
    # The timeline on the case page shows it.
    page = client.get(f"/cases/{world.number}")
    timeline = re.search(r"session_no_show|未到场|no-show", page.text, re.IGNORECASE)
    assert timeline, "the no-show is not on the case page"


def test_a_party_cannot_reschedule_or_record_a_no_show(client: TestClient, world: World) -> None:
    switch_to(client, *MEDIATOR)
    starts = datetime.now(UTC) + timedelta(days=1)
    assert schedule(client, world, local(starts)).status_code == 303
    session = run(client, MediationSession.get, case_id=world.case_id)
    switch_to(client, *RESPONDENT)
    token = csrf_of(client, f"/cases/{world.number}")
    before = counts(client, world)
    for action, data in (
        ("reschedule", {"starts_at": local(starts + timedelta(days=1)), "reason": "x"}),
        ("no-show", {"side": "applicant"}),
    ):
        answer = client.post(
            f"/sessions/{session.id}/{action}",
            data={"csrf_token": token, **data},
            follow_redirects=False,
        )
        assert answer.status_code == 403, action
    assert counts(client, world) == before
