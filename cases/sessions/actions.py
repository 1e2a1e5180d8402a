"""Scheduling live sessions, who may join them, calendar files, and the transcript (笔录)."""

from __future__ import annotations

import asyncio
import hashlib
import time
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

from tortoise.expressions import F

from cases.accounts.models import User
from cases.clock import SHANGHAI, say_time
from cases.errors import CaseConflict, CaseError, CaseNotFound
from cases.journal import notify_parties, record_event
from cases.models import Case, Evidence, Party
from cases.sessions.models import MediationSession, SessionMode, SessionStatus, Transcript
from cases.status import Status
from cases.timeline import (
    ACTOR_LABELS,
    N_,
    SESSION_MODE_LABELS,
    EventKind,
    Reader,
    name_without_title,
    say_amount,
)
from cases.transactions import atomic
from courtwire.words import SIDE_WORDS
from realtime.models import RoomMessage
from realtime.protocol import (
    CAUCUS_PREFIX,
    JOINT,
    Control,
    FrameError,
    Kind,
    OfferResponse,
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
            f"案件 {case.number} 的在线调解定于 {say_time(local, 'zh_CN')}（北京时间）进行，"
            f"方式：{'同时调解' if mode == SessionMode.JOINT else '背对背调解'}。"
            f"请提前登录平台，在案件页面进入调解室，并可下载日历文件。\n"
            f"Case {case.number}: an online mediation session is scheduled for "
            f"{say_time(local, 'en')} (Beijing time). Sign in and join from the case page.",
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
            f"案件 {case.number} 的在线调解改期至 {say_time(local, 'zh_CN')}（北京时间）。"
            f"原因：{reason}\n"
            f"Case {case.number}: the session moved to {say_time(local, 'en')} (Beijing time).",
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


async def do_end_session(session_id: int, now: datetime, *, reader: Reader) -> None:
    """Called when the mediator ends the session in the room; idempotent. The transcript is
    made in `reader`'s words (the record's language)."""
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
            await make_transcript(session, now, reader=reader)


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


# The transcript (笔录) is a record the parties confirm and a court may read: every line in
# words, in Beijing time as official records write it. The words are English message ids,
# said in the reader's language (cases.timeline.Reader); the stored transcript is made in
# Chinese, the record's language (the shell passes its Chinese reader). Codes a room stores
# (a control's "open_caucus", an answer's "counter") never appear; an offer answered is
# restated with its amount and conditions.
_CONTROL_WORDS = {
    Control.OPEN_CAUCUS.value: N_("The mediator asks the %(side)s into a private conversation."),
    Control.CLOSE_CAUCUS.value: N_("The mediator ends the private conversation with the %(side)s."),
    Control.MUTE.value: N_("The mediator mutes %(name)s."),
    Control.UNMUTE.value: N_("The mediator lets %(name)s speak again."),
    Control.REMOVE.value: N_("The mediator removes %(name)s from the room."),
    Control.END.value: N_("The mediator ends the session."),
}
_ANSWER_WORDS = {
    OfferResponse.ACCEPT.value: N_("Accepts the offer made by %(who)s: %(offer)s."),
    OfferResponse.REJECT.value: N_("Rejects the offer made by %(who)s: %(offer)s."),
    OfferResponse.COUNTER.value: N_(
        "Answers the offer made by %(who)s (%(offer)s) with a counter-offer: %(amount)s."
    ),
}
_ANSWER_UNKNOWN_OFFER = {
    OfferResponse.ACCEPT.value: N_("Accepts an earlier offer."),
    OfferResponse.REJECT.value: N_("Rejects an earlier offer."),
    OfferResponse.COUNTER.value: N_("Makes a counter-offer: %(amount)s."),
}


def _speaker(row: RoomMessage, reader: Reader) -> str:
    if row.sender_id is None and not row.sender_name:
        return reader.say(N_("The platform"))  # the platform's own have no sender
    name = name_without_title(repaired(row.sender_name))
    role = reader.word(ACTOR_LABELS, row.sender_side or "mediator")
    return f"{role} {name}".strip()


def _offer_words(body: dict[str, object], reader: Reader) -> str:
    amount = say_amount(body.get("amount", ""), reader.locale)
    conditions = str(body.get("text", "")).strip()
    if conditions:
        return reader.fmt(
            N_("%(amount)s, on these conditions: %(conditions)s"),
            amount=amount,
            conditions=conditions.rstrip("。."),
        )
    return amount


def _line_text(row: RoomMessage, offers: dict[int, RoomMessage], reader: Reader) -> str:
    body = row.body
    if row.kind == Kind.OFFER.value:
        return reader.fmt(N_("Makes an offer: %(offer)s."), offer=_offer_words(body, reader))
    if row.kind == Kind.OFFER_RESPONSE.value:
        answer = str(body.get("response", ""))
        offer = offers.get(int(str(body.get("offer_seq") or 0)))
        # A counter-offer is restated like an offer (its amount and conditions); an answer's
        # words to an acceptance or a refusal are remarks.
        counter = _offer_words(body, reader)
        if offer is not None and answer in _ANSWER_WORDS:
            text = reader.fmt(
                _ANSWER_WORDS[answer],
                who=_speaker(offer, reader),
                offer=_offer_words(offer.body, reader),
                amount=counter,
            )
        else:
            message = _ANSWER_UNKNOWN_OFFER.get(answer, N_("Answers an offer."))
            text = reader.fmt(message, amount=counter)
        remark = str(body.get("text", "")).strip()
        if remark and answer != OfferResponse.COUNTER.value:
            space = "" if reader.locale.startswith("zh") else " "
            text += space + reader.fmt(N_("Remarks: %(text)s"), text=remark)
        return text
    if row.kind == Kind.EVIDENCE.value:
        return reader.fmt(
            N_("Shows the evidence “%(name)s” (on the case file)."), name=body.get("filename", "")
        )
    if row.kind == Kind.CONTROL.value:
        words = _CONTROL_WORDS.get(str(body.get("action", "")))
        if words is None:
            return ""
        user_id = body.get("user_id")
        name = reader.names.get(user_id, "") if isinstance(user_id, int) else ""
        return reader.fmt(
            words,
            side=reader.word(SIDE_WORDS, body.get("side", "")),
            name=name_without_title(name) or reader.say(N_("a participant")),
        )
    if row.kind == Kind.AGREEMENT.value:
        status = reader.word(reader.labels.get("agreement_status", {}), body.get("status", ""))
        return reader.fmt(
            N_("Version %(n)s of the mediation agreement: %(status)s."),
            n=body.get("version", ""),
            status=status,
        )
    if row.kind == Kind.NOTE.value:
        return reader.fmt(N_("Mediator's note: %(text)s"), text=body.get("text", ""))
    return str(body.get("text", ""))


def transcript_lines(rows: list[RoomMessage], reader: Reader) -> list[TranscriptLine]:
    """The joint room only, never a caucus or a concession (Art. 18), in the reader's words."""
    joint = [row for row in rows if row.room == JOINT and not row.concession]
    offers = {int(row.seq): row for row in joint if row.kind == Kind.OFFER.value}
    lines = []
    for row in joint:
        text = _line_text(row, offers, reader).strip()
        if not text:
            continue
        lines.append(
            TranscriptLine(
                say_time(row.created_at, reader.locale, seconds=True),
                _speaker(row, reader),
                # repaired: a bad string stored before the doors checked must not stop the
                # transcript from being made (it could not be encoded or stored)
                repaired(text),
            )
        )
    return lines


def transcript_text(header: TranscriptHeader, rows: list[RoomMessage], reader: Reader) -> str:
    """The whole transcript: its heading, then one line per thing said in the joint room."""
    zh = reader.locale.startswith("zh")
    colon = "：" if zh else ": "
    head = [
        reader.say(N_("Online mediation transcript")),
        reader.fmt(N_("Case number: %(number)s"), number=header.case_number),
        reader.fmt(
            N_("Session time: %(time)s (Beijing time)"),
            time=say_time(header.starts_at, reader.locale),
        ),
        reader.fmt(N_("Mode: %(mode)s"), mode=reader.word(SESSION_MODE_LABELS, header.mode)),
    ]
    if header.mediator_name:
        head.append(
            reader.fmt(N_("Mediator: %(name)s"), name=name_without_title(header.mediator_name))
        )
    body = [f"[{line.at}] {line.who}{colon}{line.text}" for line in transcript_lines(rows, reader)]
    return "\n".join([*head, "", *body]) + "\n"


@dataclass(frozen=True)
class TranscriptHeader:
    case_number: str
    starts_at: datetime
    mode: str
    mediator_name: str


async def make_transcript(
    session: MediationSession, now: datetime, *, reader: Reader
) -> Transcript:
    """The session's transcript, made once, in the words of `reader` (the record's language:
    the shell passes its Chinese reader)."""
    existing = await Transcript.get_or_none(session=session)
    if existing is not None:
        return existing
    case = await Case.get(id=session.case_id)
    rows = list(await RoomMessage.filter(session_id=session.id, room=JOINT).order_by("seq"))
    user_ids = {
        int(row.body["user_id"])
        for row in rows
        if row.kind == Kind.CONTROL.value and isinstance(row.body.get("user_id"), int)
    }
    mediator = await User.get_or_none(id=case.mediator_id) if case.mediator_id else None
    names = dict(await User.filter(id__in=user_ids).values_list("id", "display_name"))
    reader = replace(reader, names={**reader.names, **{int(k): str(v) for k, v in names.items()}})
    header = TranscriptHeader(
        case.number,
        session.starts_at,
        str(session.mode),
        mediator.display_name if mediator else "",
    )
    text = transcript_text(header, rows, reader)
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
    answer_by: datetime | None = None  # an offer's time to answer, if its maker set one
    # The offer a response answers, as this viewer saw it (None when they could not see it).
    answered_who: str | None = None
    answered_amount: str | None = None


def _answer_by_of(body: dict[str, object]) -> datetime | None:
    try:
        return datetime.fromisoformat(str(body["answer_by"])) if body.get("answer_by") else None
    except ValueError:
        return None


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
    lines: list[OfferLine] = []
    for row in rows:
        if not may_see(viewer, row.room, row.concession, row.sender_side):
            continue
        refers_to = row.body.get("offer_seq")
        answered = next(
            (line for line in lines if line.seq == refers_to and line.room == row.room), None
        )
        lines.append(
            OfferLine(
                at=row.created_at,
                room=row.room,
                who=row.sender_name,
                kind=row.kind,
                amount=row.body.get("amount"),
                response=row.body.get("response"),
                refers_to=refers_to,
                seq=row.seq,
                text=str(row.body.get("text", "")),
                answer_by=_answer_by_of(row.body),
                answered_who=answered.who if answered else None,
                answered_amount=answered.amount if answered else None,
            )
        )
    return lines


async def viewer_as_participant(user: User, case: Case, handles: bool) -> Participant | None:
    """How the offer history should filter for this viewer: staff handling the case see as
    the mediator does; a party sees as that party; anyone else sees nothing."""
    if handles:
        return Participant(user.id, user.display_name, is_mediator=True, side=None)
    party = await Party.get_or_none(case=case, user_id=user.id)
    if party is None:
        return None
    return Participant(user.id, user.display_name, is_mediator=False, side=str(party.side))
