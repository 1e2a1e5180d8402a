"""Scheduling live sessions, who may join them, calendar files, and the transcript (笔录)."""

from __future__ import annotations

import asyncio
import hashlib
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from tortoise.expressions import F

from cases.accounts.models import User
from cases.clock import SHANGHAI
from cases.errors import CaseConflict, CaseError, CaseNotFound
from cases.journal import notify_parties, record_event
from cases.models import Case, Evidence, Party
from cases.sessions.models import MediationSession, SessionMode, SessionStatus, Transcript
from cases.status import Status
from cases.timeline import EventKind
from cases.transactions import atomic
from realtime.models import RoomMessage
from realtime.protocol import (
    CAUCUS_PREFIX,
    JOINT,
    FrameError,
    Kind,
    Participant,
    Post,
    may_see,
)
from realtime.text import repaired

OPENS_BEFORE = timedelta(minutes=10)  # the room opens a few minutes before the time
STAYS_OPEN_AFTER = timedelta(hours=3)  # after the planned end, unless ended earlier


class SessionError(CaseError):
    status_code = 422


def opens_at(session: MediationSession) -> datetime:
    return session.starts_at - OPENS_BEFORE


def closes_at(session: MediationSession) -> datetime:
    return session.starts_at + timedelta(minutes=session.duration_minutes) + STAYS_OPEN_AFTER


def is_open(session: MediationSession, now: datetime) -> bool:
    return session.status == SessionStatus.SCHEDULED and opens_at(session) <= now <= closes_at(
        session
    )


async def _mediator_case(mediator: User, case: Case) -> Case:
    if case.mediator_id != mediator.id:
        raise CaseNotFound("case_not_found")
    if case.status != Status.IN_MEDIATION:
        raise CaseConflict("case_not_in_mediation")
    return case


def _check_time(starts_at: datetime, duration: int, now: datetime) -> None:
    if starts_at <= now:
        raise SessionError("session_in_past")
    if starts_at > now + timedelta(days=180):
        raise SessionError("session_too_far")
    if not 15 <= duration <= 480:
        raise SessionError("session_duration_invalid")


async def do_schedule_session(
    mediator: User,
    case: Case,
    starts_at: datetime,
    mode: SessionMode,
    duration_minutes: int,
    now: datetime,
) -> MediationSession:
    await _mediator_case(mediator, case)
    _check_time(starts_at, duration_minutes, now)
    async with atomic():
        session = await MediationSession.create(
            case=case,
            starts_at=starts_at,
            duration_minutes=duration_minutes,
            mode=mode,
            scheduled_by=mediator,
            created_at=now,
        )
        await record_event(
            case,
            EventKind.SESSION_SCHEDULED,
            now,
            actor_id=mediator.id,
            session_id=session.id,
            starts_at=starts_at.isoformat(),
            mode=mode.value,
        )
        local = starts_at.astimezone(SHANGHAI)
        await notify_parties(
            case,
            f"在线调解安排 Online mediation session: {case.number}",
            f"案件 {case.number} 的在线调解定于 {local:%Y-%m-%d %H:%M}（北京时间）进行，"
            f"方式：{'同时调解' if mode == SessionMode.JOINT else '背对背调解'}。"
            f"请提前登录平台，在案件页面进入调解室，并可下载日历文件。\n"
            f"Case {case.number}: an online mediation session is scheduled for "
            f"{local:%Y-%m-%d %H:%M} (Beijing time). Sign in and join from the case page.",
            now,
        )
    return session


async def do_reschedule_session(
    mediator: User, session: MediationSession, starts_at: datetime, reason: str, now: datetime
) -> MediationSession:
    case = await Case.get(id=session.case_id)
    await _mediator_case(mediator, case)
    if session.status != SessionStatus.SCHEDULED:
        raise CaseConflict("session_not_scheduled")
    if not reason.strip():
        raise SessionError("reschedule_reason_required")
    _check_time(starts_at, session.duration_minutes, now)
    async with atomic():
        before = session.starts_at
        session.starts_at = starts_at
        # A new revision of the calendar event: clients replace what they hold only when its
        # SEQUENCE grows (RFC 5545 3.8.7.4). Counted in the database, under the row's update.
        await MediationSession.filter(id=session.id).update(
            starts_at=starts_at, sequence=F("sequence") + 1
        )
        await session.refresh_from_db(fields=["sequence"])
        await record_event(
            case,
            EventKind.SESSION_RESCHEDULED,
            now,
            actor_id=mediator.id,
            session_id=session.id,
            starts_at=[before.isoformat(), starts_at.isoformat()],
            reason=reason,
        )
        local = starts_at.astimezone(SHANGHAI)
        await notify_parties(
            case,
            f"调解时间变更 Session rescheduled: {case.number}",
            f"案件 {case.number} 的在线调解改期至 {local:%Y-%m-%d %H:%M}（北京时间）。"
            f"原因：{reason}\n"
            f"Case {case.number}: the session moved to {local:%Y-%m-%d %H:%M} (Beijing time).",
            now,
        )
    return session


async def do_record_no_show(
    mediator: User, session: MediationSession, side: str, now: datetime
) -> None:
    case = await Case.get(id=session.case_id)
    await _mediator_case(mediator, case)
    if side not in ("applicant", "respondent"):
        raise SessionError("choose_one")
    if now < session.starts_at:
        raise SessionError("session_not_started")
    async with atomic():
        if side not in session.no_shows:
            session.no_shows = [*session.no_shows, side]
            await session.save(update_fields=["no_shows"])
        await record_event(
            case,
            EventKind.SESSION_NO_SHOW,
            now,
            actor_id=mediator.id,
            session_id=session.id,
            side=side,
        )


async def do_end_session(session_id: int, now: datetime) -> None:
    """Called when the mediator ends the session in the room; idempotent."""
    session = await MediationSession.get_or_none(id=session_id, status=SessionStatus.SCHEDULED)
    if session is None:
        return
    async with atomic():
        changed = await MediationSession.filter(
            id=session_id, status=SessionStatus.SCHEDULED
        ).update(status=SessionStatus.ENDED, ended_at=now)
        if changed:
            case = await Case.get(id=session.case_id)
            await record_event(
                case, EventKind.SESSION_ENDED, now, actor_label="mediator", session_id=session_id
            )
            await make_transcript(session, now)


# --- who is in the room ------------------------------------------------------------------------


@dataclass(frozen=True)
class Roster:
    """A session and who may be in its room: the case's status, its mediator, and each
    party's side by user, read in one go for everyone."""

    session: MediationSession
    case_status: str
    mediator_id: int | None
    sides: dict[int, str]

    def participant(self, user: User, now: datetime) -> Participant | None:
        """The user as a participant of the session, or None if they are not one (or the
        room is not open)."""
        if not is_open(self.session, now) or self.case_status != Status.IN_MEDIATION:
            return None
        if user.id == self.mediator_id:
            return Participant(user.id, user.display_name, is_mediator=True, side=None)
        side = self.sides.get(user.id)
        if side is None:
            return None
        return Participant(user.id, user.display_name, is_mediator=False, side=side)


async def roster_of(session: MediationSession) -> Roster:
    case = await Case.get(id=session.case_id)
    sides = await Party.filter(case_id=case.id, user_id__isnull=False).values_list(
        "user_id", "side"
    )
    return Roster(
        session, str(case.status), case.mediator_id, {int(u): str(side) for u, side in sides}
    )


async def participant_of(
    user: User, session: MediationSession, now: datetime
) -> Participant | None:
    """The user as a participant of the session, or None if they are not one (or the room
    is not open)."""
    if not is_open(session, now):
        return None
    return (await roster_of(session)).participant(user, now)


def starting_room(mode: SessionMode | str, participant: Participant) -> str:
    """The room a participant's page opens on. In a back-to-back session (背对背, Art. 16)
    the mediator meets each side alone, so a party starts in their own caucus: nothing they
    write before the mediator brings everyone together reaches the other side. Everyone
    else, and everyone in a joint session, starts in the joint room."""
    if mode == SessionMode.BACK_TO_BACK and not participant.is_mediator and participant.side:
        return f"{CAUCUS_PREFIX}{participant.side}"
    return JOINT


class RosterCache:
    """Rosters as the room's WebSocket asks for them, on every connection: after a network
    blip every participant of every session comes back within a second or two, so a
    session's roster is read once for all of them and kept `seconds`; a change of the
    case's mediator, parties or status reaches the room's door at most that late. (The room
    itself bars a removed participant, and an ended session, at once.) One per app."""

    def __init__(self, seconds: float = 2.0) -> None:
        self.seconds = seconds
        self._entries: dict[int, tuple[float, asyncio.Future[Roster | None]]] = {}

    async def get(self, session_id: int) -> Roster | None:
        """The session's roster (None if there is no such session)."""
        now = time.monotonic()
        entry = self._entries.get(session_id)
        if entry is None or now - entry[0] >= self.seconds:
            if len(self._entries) >= 10_000:  # bounded: old entries are worth nothing
                self._entries.clear()
            # One read for everyone asking meanwhile, not one each.
            entry = (now, asyncio.ensure_future(self._read(session_id)))
            self._entries[session_id] = entry
        try:
            return await asyncio.shield(entry[1])
        except Exception:
            if self._entries.get(session_id) is entry:
                del self._entries[session_id]  # not kept: the next one reads again
            raise

    @staticmethod
    async def _read(session_id: int) -> Roster | None:
        session = await MediationSession.get_or_none(id=session_id)
        return await roster_of(session) if session is not None else None


async def enrich_post(session_id: int, participant: Participant, post: Post) -> Post:
    """Evidence shown in the room must already be on the case; its name and hash travel."""
    if post.kind is not Kind.EVIDENCE:
        return post
    session = await MediationSession.get(id=session_id)
    evidence = await Evidence.get_or_none(id=post.body["evidence_id"], case_id=session.case_id)
    if evidence is None:
        raise FrameError("evidence_not_on_case", post.client_id)
    body = {
        "evidence_id": evidence.id,
        "filename": evidence.filename,
        "sha256": evidence.sha256,
        "media_type": evidence.media_type,
    }
    return Post(post.room, post.client_id, post.kind, body, post.concession)


# --- calendar and transcript -------------------------------------------------------------------


def ics_for(session: MediationSession, case_number: str, url: str, now: datetime) -> str:
    """An iCalendar event (RFC 5545) for the session, in UTC.

    The UID stays the session's; SEQUENCE is its revision (bumped by each reschedule), so a
    calendar that imported it before replaces the old time with the new one; DTSTAMP is when
    this copy was made (`now`). A cancelled session is sent as a cancellation (METHOD:CANCEL,
    STATUS:CANCELLED) one revision past its last schedule, which removes it from calendars.
    """

    def stamp(moment: datetime) -> str:
        return moment.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")

    end = session.starts_at + timedelta(minutes=session.duration_minutes)
    cancelled = session.status == SessionStatus.CANCELLED
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//Changning Online Mediation//Sessions//ZH",
        "CALSCALE:GREGORIAN",
        "METHOD:CANCEL" if cancelled else "METHOD:PUBLISH",
        "BEGIN:VEVENT",
        f"UID:session-{session.id}@mediation.changning.example",
        f"SEQUENCE:{session.sequence + (1 if cancelled else 0)}",
        f"DTSTAMP:{stamp(now)}",
        "STATUS:CANCELLED" if cancelled else "STATUS:CONFIRMED",
        f"DTSTART:{stamp(session.starts_at)}",
        f"DTEND:{stamp(end)}",
        f"SUMMARY:{_ics_text(f'在线调解 {case_number}')}",
        f"DESCRIPTION:{_ics_text(f'Online mediation session for case {case_number}: {url}')}",
        f"URL:{url}",
        "BEGIN:VALARM",
        "TRIGGER:-PT30M",
        "ACTION:DISPLAY",
        "DESCRIPTION:在线调解即将开始",
        "END:VALARM",
        "END:VEVENT",
        "END:VCALENDAR",
    ]
    return "\r\n".join(_fold(line) for line in lines) + "\r\n"


def _ics_text(value: str) -> str:
    return value.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,").replace("\n", "\\n")


def _fold(line: str) -> str:
    # RFC 5545 3.1: lines longer than 75 octets are folded (without splitting a character).
    out, current = [], ""
    for char in line:
        if len((current + char).encode()) > 75:
            out.append(current)
            current = " " + char
        else:
            current += char
    out.append(current)
    return "\r\n".join(out)


@dataclass(frozen=True)
class TranscriptLine:
    at: str
    who: str
    text: str


KIND_LABELS = {
    Kind.MESSAGE.value: "",
    Kind.NOTE.value: "【调解员记录】",
    Kind.OFFER.value: "【方案】",
    Kind.OFFER_RESPONSE.value: "【答复】",
    Kind.EVIDENCE.value: "【出示证据】",
    Kind.CONTROL.value: "【调解室】",
    Kind.AGREEMENT.value: "【调解协议】",
}
AGREEMENT_STATUS_ZH = {
    "draft": "草稿",
    "signing": "提交签署",
    "effective": "已生效",
    "superseded": "已被取代",
    "withdrawn": "已撤回",
}


def transcript_lines(rows: list[RoomMessage]) -> list[TranscriptLine]:
    """The joint room only, never a caucus or a concession (Art. 18)."""
    lines = []
    for row in rows:
        if row.room != JOINT or row.concession:
            continue
        body = row.body
        if row.kind == Kind.OFFER.value:
            text = f"¥{body['amount']} {body.get('text', '')}".strip()
        elif row.kind == Kind.OFFER_RESPONSE.value:
            parts = [f"#{body['offer_seq']}", body["response"], body.get("amount", "")]
            text = " ".join([*parts, body.get("text", "")])
        elif row.kind == Kind.EVIDENCE.value:
            text = f"{body.get('filename', '')} (SHA-256 {body.get('sha256', '')})"
        elif row.kind == Kind.CONTROL.value:
            text = str(body.get("action", ""))
        elif row.kind == Kind.AGREEMENT.value:
            status = AGREEMENT_STATUS_ZH.get(str(body.get("status")), str(body.get("status")))
            text = f"第{body.get('version')}版 {status} (SHA-256 {body.get('sha256', '')})"
        else:
            text = str(body.get("text", ""))
        local = row.created_at.astimezone(SHANGHAI)
        lines.append(
            TranscriptLine(
                f"{local:%Y-%m-%d %H:%M:%S}",
                repaired(row.sender_name) or "平台",  # the platform's own have no sender
                # repaired: a bad string stored before the doors checked must not stop the
                # transcript from being made (it could not be encoded or stored)
                repaired(f"{KIND_LABELS.get(row.kind, '')}{text.strip()}"),
            )
        )
    return lines


async def make_transcript(session: MediationSession, now: datetime) -> Transcript:
    existing = await Transcript.get_or_none(session=session)
    if existing is not None:
        return existing
    case = await Case.get(id=session.case_id)
    rows = await RoomMessage.filter(session_id=session.id, room=JOINT).order_by("seq")
    header = [
        "在线调解笔录",
        f"案件编号：{case.number}",
        f"调解时间：{session.starts_at.astimezone(SHANGHAI):%Y-%m-%d %H:%M}（北京时间）",
        f"调解方式：{'同时调解' if session.mode == SessionMode.JOINT else '背对背调解'}",
        "",
    ]
    body = [f"[{line.at}] {line.who}：{line.text}" for line in transcript_lines(list(rows))]
    text = "\n".join(header + body) + "\n"
    transcript = await Transcript.create(
        session=session,
        text=text,
        sha256=hashlib.sha256(text.encode()).hexdigest(),
        created_at=now,
    )
    await record_event(
        case,
        EventKind.TRANSCRIPT_MADE,
        now,
        actor_label="system",
        session_id=session.id,
        sha256=transcript.sha256,
    )
    return transcript


async def do_confirm_transcript(
    user: User, transcript: Transcript, side: str, now: datetime
) -> Transcript:
    async with atomic():
        if side not in transcript.confirmations:
            transcript.confirmations = {**transcript.confirmations, side: now.isoformat()}
            await transcript.save(update_fields=["confirmations"])
            session = await MediationSession.get(id=transcript.session_id)  # type: ignore[attr-defined]
            case = await Case.get(id=session.case_id)
            await record_event(
                case,
                EventKind.TRANSCRIPT_CONFIRMED,
                now,
                actor_id=user.id,
                side=side,
                sha256=transcript.sha256,
            )
    return transcript


@dataclass(frozen=True)
class OfferLine:
    at: datetime
    room: str
    who: str
    kind: str
    amount: str | None
    response: str | None
    refers_to: int | None
    seq: int
    text: str


async def offer_history(case: Case, viewer: Participant | None) -> list[OfferLine]:
    """The offers made in the case's sessions, as this viewer may see them: a party sees the
    joint room's and its own caucus's, never the other side's caucus or concessions (Art. 18)."""
    if viewer is None:
        return []
    session_ids = await MediationSession.filter(case=case).values_list("id", flat=True)
    rows = await RoomMessage.filter(
        session_id__in=list(session_ids),
        kind__in=[Kind.OFFER.value, Kind.OFFER_RESPONSE.value],
    ).order_by("created_at", "id")
    return [
        OfferLine(
            at=row.created_at,
            room=row.room,
            who=row.sender_name,
            kind=row.kind,
            amount=row.body.get("amount"),
            response=row.body.get("response"),
            refers_to=row.body.get("offer_seq"),
            seq=row.seq,
            text=str(row.body.get("text", "")),
        )
        for row in rows
        if may_see(viewer, row.room, row.concession, row.sender_side)
    ]


async def viewer_as_participant(user: User, case: Case, handles: bool) -> Participant | None:
    """How the offer history should filter for this viewer: staff handling the case see as
    the mediator does; a party sees as that party; anyone else sees nothing."""
    if handles:
        return Participant(user.id, user.display_name, is_mediator=True, side=None)
    party = await Party.get_or_none(case=case, user_id=user.id)
    if party is None:
        return None
    return Participant(user.id, user.display_name, is_mediator=False, side=str(party.side))
