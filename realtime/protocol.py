"""The live room protocol: parsing client frames and the rules of who may use which room.

Pure: no I/O. A session has one joint room and one caucus room per party ("caucus:<side>").
Each room has its own gap-free sequence, so a participant who may not see a caucus never
sees a hole in the numbers of the rooms they do see, and resuming is per room. For the same
reason every message of a room is visible to every reader of that room: a party's
concession, which only the mediator and that party may see, is kept in that party's caucus
(exactly its audience), never in the joint room, where it would leave a hole in the other
party's numbers and so tell them that a concession was made.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import Any

from realtime.text import JsonRefused, is_storable, read_json

MAX_FRAME_BYTES = 16 * 1024
MAX_TEXT_CHARS = 4000
MAX_AMOUNT = Decimal("100000000.00")
# Ids in frames are looked up in 32-bit integer columns (PostgreSQL refuses anything larger
# in a query, SQLite anything past 2**63); sequence numbers are held to the same bound, far
# above any room's. No valid frame nests deeper than a resume's three levels.
MAX_ID = 2**31 - 1
MAX_DEPTH = 8

JOINT = "joint"
CAUCUS_PREFIX = "caucus:"
SIDES = ("applicant", "respondent")
ROOMS = (JOINT, *(f"{CAUCUS_PREFIX}{side}" for side in SIDES))


class CloseCode:
    """WebSocket close codes (4000-4999 are the application's own)."""

    NORMAL = 1000
    TOO_LARGE = 1009
    UNAUTHORISED = 4401
    NOT_A_PARTICIPANT = 4403
    REMOVED = 4404
    HEARTBEAT_TIMEOUT = 4408
    SLOW_CONSUMER = 4409
    SESSION_ENDED = 4410


class Kind(StrEnum):
    """Durable things said in a room."""

    MESSAGE = "message"
    OFFER = "offer"
    OFFER_RESPONSE = "offer_response"
    EVIDENCE = "evidence"  # showing evidence already on the case
    NOTE = "note"  # the mediator's notes for the transcript (joint room only)
    CONTROL = "control"  # the mediator's room actions, kept so the record shows them
    # A version of the mediation agreement, posted by the platform itself (Hub.announce),
    # never by a client.
    AGREEMENT = "agreement"


# Kinds only the platform posts: a client frame of one of these is refused.
PLATFORM_KINDS = frozenset({Kind.AGREEMENT.value})


class OfferResponse(StrEnum):
    ACCEPT = "accept"
    REJECT = "reject"
    COUNTER = "counter"


class Control(StrEnum):
    OPEN_CAUCUS = "open_caucus"
    CLOSE_CAUCUS = "close_caucus"
    MUTE = "mute"
    UNMUTE = "unmute"
    REMOVE = "remove"
    END = "end"


@dataclass(frozen=True)
class Participant:
    """Who is connected: a user, their role in this session, and their side if a party."""

    user_id: int
    name: str
    is_mediator: bool
    side: str | None  # "applicant" | "respondent" for parties


def may_read(participant: Participant, room: str) -> bool:
    """The joint room is everyone's; a caucus is the mediator's and that party's only
    (online mediation rules Art. 16 back-to-back sessions; Art. 18 privilege)."""
    if room == JOINT:
        return True
    if not room.startswith(CAUCUS_PREFIX) or room not in ROOMS:
        return False
    return participant.is_mediator or room == f"{CAUCUS_PREFIX}{participant.side}"


def may_see(participant: Participant, room: str, concession: bool, sender_side: str | None) -> bool:
    """A message marked as a concession is privileged (Art. 18): only the mediator and the
    party who made it ever receive it, even in the joint room."""
    if not may_read(participant, room):
        return False
    return not concession or participant.is_mediator or participant.side == sender_side


def concession_room(participant: Participant) -> str:
    """Where a party's concession is kept: its own caucus, whose readers (the mediator and
    that party) are exactly who may see it. The mediator makes no concessions: a message
    only the mediator could see would leave a hole in every party's numbers."""
    if participant.is_mediator or participant.side not in SIDES:
        raise FrameError("concession_party_only")
    return f"{CAUCUS_PREFIX}{participant.side}"


def readable_rooms(participant: Participant) -> tuple[str, ...]:
    return tuple(room for room in ROOMS if may_read(participant, room))


class FrameError(Exception):
    """A frame that cannot be accepted; changes nothing. `code` is stable and translated."""

    def __init__(self, code: str, ref: str | None = None) -> None:
        super().__init__(code)
        self.code, self.ref = code, ref


@dataclass(frozen=True)
class Resume:
    """What the client has: per room, the epoch it saw and the last sequence it holds."""

    positions: dict[str, tuple[str, int]] = field(default_factory=dict)


@dataclass(frozen=True)
class Post:
    """Something durable to say in a room; `client_id` makes a resend idempotent."""

    room: str
    client_id: str
    kind: Kind
    body: dict[str, Any]
    concession: bool = False


@dataclass(frozen=True)
class Typing:
    room: str


@dataclass(frozen=True)
class Ping:
    pass


@dataclass(frozen=True)
class ControlRequest:
    client_id: str
    action: Control
    side: str | None
    user_id: int | None


Frame = Resume | Post | Typing | Ping | ControlRequest


def _text(body: dict[str, Any], name: str, *, required: bool, ref: str | None) -> str:
    value = body.get(name, "")
    if not isinstance(value, str):
        raise FrameError("bad_field", ref)
    value = value.strip()
    if required and not value:
        raise FrameError("empty_message", ref)
    if len(value) > MAX_TEXT_CHARS:
        raise FrameError("message_too_long", ref)
    return value


def _amount(value: Any, ref: str | None) -> str:
    try:
        amount = Decimal(str(value))
    except InvalidOperation:
        raise FrameError("bad_amount", ref) from None
    if not amount.is_finite() or amount < 0 or amount > MAX_AMOUNT:
        raise FrameError("bad_amount", ref)
    if amount != amount.quantize(Decimal("0.01")):
        raise FrameError("bad_amount", ref)
    return str(amount.quantize(Decimal("0.01")))


def _answer_by(value: Any, ref: str | None) -> str | None:
    """An offer's deadline to answer: optional; an ISO 8601 time with its offset (the page
    sends Beijing time, "+08:00"), kept as written so every reader shows the same moment."""
    if value is None or value == "":
        return None
    if not isinstance(value, str) or len(value) > 40:
        raise FrameError("bad_answer_by", ref)
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise FrameError("bad_answer_by", ref) from None
    if moment.tzinfo is None:
        raise FrameError("bad_answer_by", ref)
    return moment.isoformat(timespec="minutes")


def parse_frame(raw: str | bytes, participant: Participant) -> Frame:
    """Parse and check one client frame against what this participant may do.

    Raises FrameError with a stable code; nothing is stored for a bad frame."""
    # The limit is in bytes: a text frame arrives as str, where one character can be 4 bytes.
    size = len(raw.encode("utf-8", "surrogatepass")) if isinstance(raw, str) else len(raw)
    if size > MAX_FRAME_BYTES:
        raise FrameError("frame_too_large")
    data = check_frame_input(raw)
    kind = data.get("type")
    ref = data.get("client_id") if isinstance(data.get("client_id"), str) else None
    if kind == "ping":
        return Ping()
    if kind == "resume":
        return _parse_resume(data)
    if kind == "typing":
        room = _room(data, participant, ref)
        return Typing(room)
    if kind == "control":
        return _parse_control(data, participant, ref)
    if kind in ("message", "offer", "offer_response", "evidence", "note"):
        return _parse_post(data, participant, ref)
    if kind in PLATFORM_KINDS:
        raise FrameError("platform_only", ref)
    raise FrameError("unknown_type", ref)


def check_frame_input(raw: str | bytes) -> dict[str, Any]:
    """Decode a frame and refuse what could never be stored or sent back: not JSON, not an
    object, nested too deep, a number too long to read (all "not_json"), or a string that is
    not storable text ("bad_text": a lone surrogate such as "\\ud800", NUL, control
    characters; see realtime.text).

    Kept apart from the rules of what a participant may do, so that it is the one place a
    frame's raw input is judged."""
    try:
        data = read_json(raw, MAX_DEPTH)
    except JsonRefused as refused:
        if refused.code == "bad_text":
            raise FrameError("bad_text", _ref_of_bad(raw)) from None
        raise FrameError("not_json") from None
    if not isinstance(data, dict):
        raise FrameError("not_an_object")
    return data


def _ref_of_bad(raw: str | bytes) -> str | None:
    """The client_id of a frame refused for its text, if that id itself is fine, so the
    client can tell which of its messages was refused (and stop resending it)."""
    data = json.loads(raw)  # it did parse: only a string in it was refused
    client_id = data.get("client_id") if isinstance(data, dict) else None
    return client_id if isinstance(client_id, str) and is_storable(client_id) else None


def _id(value: Any) -> bool:
    """An id or sequence number that fits the columns it is looked up in."""
    return isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= MAX_ID


def _room(data: dict[str, Any], participant: Participant, ref: str | None) -> str:
    room = data.get("room")
    if not isinstance(room, str) or room not in ROOMS:
        raise FrameError("unknown_room", ref)
    if not may_read(participant, room):
        raise FrameError("room_forbidden", ref)
    return room


def _client_id(data: dict[str, Any]) -> str:
    client_id = data.get("client_id")
    if not isinstance(client_id, str) or not 8 <= len(client_id) <= 64:
        raise FrameError("bad_client_id")
    return client_id


def _parse_resume(data: dict[str, Any]) -> Resume:
    rooms = data.get("rooms", {})
    if not isinstance(rooms, dict):
        raise FrameError("bad_resume")
    positions: dict[str, tuple[str, int]] = {}
    for room, position in rooms.items():
        if room not in ROOMS or not isinstance(position, dict):
            raise FrameError("bad_resume")
        epoch, seq = position.get("epoch", ""), position.get("seq", 0)
        if not isinstance(epoch, str) or not isinstance(seq, int) or isinstance(seq, bool):
            raise FrameError("bad_resume")
        if seq < 0 or seq > MAX_ID:
            raise FrameError("bad_resume")
        positions[room] = (epoch, seq)
    return Resume(positions)


def _parse_post(data: dict[str, Any], participant: Participant, ref: str | None) -> Post:
    client_id = _client_id(data)
    room = _room(data, participant, client_id)
    kind = Kind(data["type"])
    body: dict[str, Any]
    concession = data.get("concession", False)
    if not isinstance(concession, bool):
        raise FrameError("bad_field", client_id)
    if kind is Kind.MESSAGE:
        body = {"text": _text(data, "text", required=True, ref=client_id)}
    elif kind is Kind.NOTE:
        if not participant.is_mediator or room != JOINT:
            raise FrameError("mediator_only", client_id)
        body = {"text": _text(data, "text", required=True, ref=client_id)}
    elif kind is Kind.OFFER:
        body = {
            "amount": _amount(data.get("amount"), client_id),
            "text": _text(data, "text", required=False, ref=client_id),
        }
        if (answer_by := _answer_by(data.get("answer_by"), client_id)) is not None:
            body["answer_by"] = answer_by
    elif kind is Kind.OFFER_RESPONSE:
        offer_seq = data.get("offer_seq")
        response = data.get("response")
        if not _id(offer_seq):
            raise FrameError("bad_offer_reference", client_id)
        if not isinstance(response, str) or response not in {r.value for r in OfferResponse}:
            raise FrameError("bad_field", client_id)
        body = {
            "offer_seq": offer_seq,
            "response": response,
            "text": _text(data, "text", required=False, ref=client_id),
        }
        if response == OfferResponse.COUNTER:
            body["amount"] = _amount(data.get("amount"), client_id)
            if (answer_by := _answer_by(data.get("answer_by"), client_id)) is not None:
                body["answer_by"] = answer_by
    else:  # evidence
        evidence_id = data.get("evidence_id")
        if not _id(evidence_id):
            raise FrameError("bad_field", client_id)
        body = {"evidence_id": evidence_id}
    if concession:
        # Posted in the joint room or its own caucus alike, it is kept in the caucus.
        try:
            room = concession_room(participant)
        except FrameError as error:
            raise FrameError(error.code, client_id) from None
    return Post(room=room, client_id=client_id, kind=kind, body=body, concession=concession)


def _parse_control(
    data: dict[str, Any], participant: Participant, ref: str | None
) -> ControlRequest:
    client_id = _client_id(data)
    if not participant.is_mediator:
        raise FrameError("mediator_only", client_id)
    try:
        action = Control(str(data.get("action")))
    except ValueError:
        raise FrameError("bad_field", client_id) from None
    side = data.get("side")
    if action in (Control.OPEN_CAUCUS, Control.CLOSE_CAUCUS) and side not in SIDES:
        raise FrameError("bad_field", client_id)
    user_id = data.get("user_id")
    if action in (Control.MUTE, Control.UNMUTE, Control.REMOVE) and not _id(user_id):
        raise FrameError("bad_field", client_id)
    return ControlRequest(
        client_id,
        action,
        side if isinstance(side, str) else None,
        user_id if isinstance(user_id, int) else None,
    )
