"""The privilege filter: what of a case may cross to a court, and a check that nothing else did.

Online mediation rules of the people's courts (2021) Art. 18: facts a party conceded in order
to reach a deal cannot be used against it in later litigation. Art. 21: when mediation fails,
the record states the basic undisputed facts, why it failed, and conduct that raised the
other side's costs, and those materials go on to online filing. So the package for a court
is built by *allowing* named fields, never by removing known-bad ones: the live rooms (joint,
caucus, offers, concessions, notes) contribute nothing at all, and the timeline keeps only
status changes and filing/evidence events, each with a fixed set of fields.

`assert_privileged_absent` is the second, independent line: it looks for privileged text in
every string of a finished package, so a later change to the builder (or to a package on
its way out) cannot leak it silently. Delivery calls it before anything is sent.

Pure: no I/O, no ORM, no clock.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from cases.timeline import EventKind, event_kind
from courtwire.package import (
    CourtEvidence,
    CourtPackage,
    CourtParty,
    CourtTimelineEvent,
    FailureRecord,
    SignedAgreement,
)

CAUCUS_PREFIX = "caucus:"  # the rooms "caucus:applicant" and "caucus:respondent" (realtime)

# Strings shorter than this are too common ("同意", "好的", "ok") to be evidence of a leak.
MIN_PRIVILEGED_LENGTH = 4

# The timeline events that may cross, with the data fields each may carry. Anything else an
# event holds (a free-text reason, ids of sessions or mediators) stays behind.
_TIMELINE_FIELDS: dict[EventKind, tuple[str, ...]] = {
    EventKind.FILED: ("number", "category", "claim_amount"),
    EventKind.EVIDENCE_ADDED: ("filename", "sha256"),
    EventKind.STATUS_CHANGED: ("from", "to"),
}

# Room body fields that hold codes or references to the case's own evidence, not anything a
# party said: an offer response's "accept", a control's "open_caucus", an evidence item's
# name and hash (the evidence list crosses anyway). Every other string in a privileged body
# counts as privileged, so a field added to the protocol later is covered by default.
_NON_TEXT_BODY_FIELDS = frozenset(
    {"response", "action", "side", "evidence_id", "filename", "sha256", "media_type"}
)


# --- the case as the platform holds it ------------------------------------------------------


@dataclass(frozen=True)
class TimelineEntry:
    kind: EventKind | str  # a registered kind (cases.timeline); the filter refuses any other
    at: str  # ISO 8601
    data: Mapping[str, object]


@dataclass(frozen=True)
class RoomMessage:
    """One durable item from a live room, as `realtime` stores it."""

    room: str  # joint | caucus:applicant | caucus:respondent
    kind: str  # message | offer | offer_response | evidence | note | control
    body: Mapping[str, object]
    concession: bool
    sender_side: str | None  # None for the mediator


@dataclass(frozen=True)
class NegotiationEntry:
    """One step of the merchant's negotiation before mediation (先行协商): a remedy proposed
    (its amount and conditions), a question or reply, a decline, an answer. All of it is
    privileged like a caucus concession: what was offered to settle never reaches a court."""

    kind: str  # proposal | question | reply | decline | accept | refuse
    side: str  # merchant | consumer
    text: str = ""
    remedy_kind: str = ""
    amount: str | None = None  # a Decimal as a string
    conditions: str = ""


@dataclass(frozen=True)
class CaseRecordForCourt:
    """Everything the platform holds about a case that a court handoff could draw on."""

    case_number: str
    category: str
    claim_amount: str  # a Decimal as a string, e.g. "3000.00"
    facts: str  # the applicant's statement of facts (Art. 8)
    requested_outcome: str
    parties: tuple[CourtParty, ...]
    evidence: tuple[CourtEvidence, ...]
    timeline: tuple[TimelineEntry, ...]
    room_messages: tuple[RoomMessage, ...]
    failure: FailureRecord | None = None
    agreement: SignedAgreement | None = None
    negotiation: tuple[NegotiationEntry, ...] = ()


# --- the filter (what crosses is courtwire.package) ----------------------------------------


class PrivilegeError(Exception):
    """A package holds privileged text (Art. 18); `found` lists what, for the log only."""

    def __init__(self, found: list[str]) -> None:
        super().__init__(f"privileged content in court package ({len(found)} item(s))")
        self.found = found


def filter_for_court(record: CaseRecordForCourt) -> CourtPackage:
    """Build the court package from a case record, taking only what may cross."""
    return CourtPackage(
        case_number=record.case_number,
        category=record.category,
        claim_amount=_check_amount(record.claim_amount),
        facts=record.facts,
        requested_outcome=record.requested_outcome,
        parties=record.parties,
        evidence=record.evidence,
        failure=record.failure,
        agreement=record.agreement,
        timeline=tuple(
            event for entry in record.timeline if (event := _court_event(entry)) is not None
        ),
    )


def _check_amount(value: str) -> str:
    try:
        amount = Decimal(value)
    except InvalidOperation:
        raise ValueError(f"claim amount is not a decimal: {value!r}") from None
    if not amount.is_finite() or amount < 0:
        raise ValueError(f"claim amount out of range: {value!r}")
    return value


def _court_event(entry: TimelineEntry) -> CourtTimelineEvent | None:
    # An unregistered kind is an error, never silently dropped or passed on (ValueError).
    kind = event_kind(entry.kind)
    fields = _TIMELINE_FIELDS.get(kind)
    if fields is None:
        return None
    data = dict(entry.data)
    if entry.kind == EventKind.STATUS_CHANGED:
        # The journal stores the change as status=[from, to].
        status = data.get("status")
        if isinstance(status, list | tuple) and len(status) == 2:
            data = {"from": status[0], "to": status[1]}
    kept = {name: str(data[name]) for name in fields if name in data}
    return CourtTimelineEvent(kind=kind.value, at=entry.at, data=kept)


# --- the belt-and-braces check --------------------------------------------------------------


def privileged_strings(record: CaseRecordForCourt) -> set[str]:
    """Every piece of privileged text in the record that could identify a leak.

    Privileged: anything said in a caucus (Art. 16 back-to-back sessions are confidential to
    that party), anything marked as a concession (Art. 18), and every offer and response to an
    offer, with its amount and terms, in any room (proposals made to reach a deal are Art. 18
    material too), and everything said in the merchant's negotiation before mediation
    (先行协商: remedies with their amounts and conditions, questions, replies, reasons).
    Each text counts whole and clause by clause, so a leak of one clause of a longer message
    is still found.
    """
    found: set[str] = set()
    for entry in record.negotiation:
        if entry.amount is not None:
            found.update(_amount_forms(entry.amount))
        for text in (entry.text, entry.conditions):
            if text:
                found.update(_text_forms(text))
    for message in record.room_messages:
        if not _is_privileged(message):
            continue
        for key, value in message.body.items():
            if key in _NON_TEXT_BODY_FIELDS:
                continue
            if key == "amount":
                found.update(_amount_forms(value))
            elif isinstance(value, str):
                found.update(_text_forms(value))
    return {text for text in found if len(text) >= MIN_PRIVILEGED_LENGTH}


def _is_privileged(message: RoomMessage) -> bool:
    return (
        message.room.startswith(CAUCUS_PREFIX)
        or message.concession
        or message.kind in ("offer", "offer_response")
    )


# Sentence and clause ends: a leak of one clause of a longer message is still a leak. An ASCII
# comma before a digit is a thousands separator ("2,999.00"), not a clause end.
_CLAUSE_END = re.compile(r"(?:[。！？；，!?;\n]|,(?!\d))+")


def _text_forms(text: str) -> set[str]:
    forms = {text.strip()}
    forms.update(part.strip() for part in _CLAUSE_END.split(text))
    return forms


def _amount_forms(value: object) -> set[str]:
    """An amount as it would be written: "2999.00" and "2,999.00"."""
    try:
        amount = Decimal(str(value))
    except InvalidOperation:
        return {str(value)}
    if not amount.is_finite():
        return {str(value)}
    return {str(value), f"{amount:.2f}", f"{amount:,.2f}"}


def _public_sources(record: CaseRecordForCourt) -> list[str]:
    """Text that reached the court legitimately, independent of anything said in mediation.

    A privileged string that also occurs here is not a leak where it shows up: an offer of the
    full claim repeats the claim amount; an accepted offer's terms are in the signed agreement,
    which the court must see for judicial confirmation (Civil Procedure interpretation Art.
    354). The failure record is *not* a source: the mediator writes it after the sessions,
    which is exactly where a concession could slip in.
    """
    sources = [record.case_number, record.category, record.claim_amount]
    sources += [record.facts, record.requested_outcome]
    for party in record.parties:
        sources += [party.name, party.kind, party.id_number or "", party.service_address]
    for item in record.evidence:
        sources += [item.filename, item.sha256, item.media_type]
    if record.agreement is not None:
        sources.append(record.agreement.text)
    for entry in record.timeline:
        event = _court_event(entry)
        if event is not None:
            sources += list(event.data.values())
    return sources


def assert_privileged_absent(package: CourtPackage, record: CaseRecordForCourt) -> None:
    """Raise PrivilegeError if any privileged text of `record` appears anywhere in `package`.

    Walks every string in the package (all fields, nested, keys and values) and looks for each
    privileged string (`privileged_strings`) of at least MIN_PRIVILEGED_LENGTH characters as a
    substring, except those that also occur in the record's public sources. The agreement must
    also be exactly the record's signed one: it is the one place where agreed terms may appear.
    """
    if package.agreement != record.agreement:
        raise PrivilegeError(["agreement differs from the signed agreement"])
    sources = _public_sources(record)
    suspects = sorted(
        text for text in privileged_strings(record) if not any(text in source for source in sources)
    )
    strings = list(_strings_in(package))
    found = [text for text in suspects if any(text in string for string in strings)]
    if found:
        raise PrivilegeError(found)


def _strings_in(value: object) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif dataclasses.is_dataclass(value) and not isinstance(value, type):
        for field in dataclasses.fields(value):
            yield from _strings_in(getattr(value, field.name))
    elif isinstance(value, Mapping):
        for key, item in value.items():
            yield from _strings_in(key)
            yield from _strings_in(item)
    elif isinstance(value, list | tuple | set | frozenset):
        for item in value:
            yield from _strings_in(item)
    elif value is not None and not isinstance(value, bool | int | Decimal):
        # Anything else would be walked by nothing: refuse rather than let it pass unchecked.
        raise TypeError(f"cannot check a {type(value).__name__} for privileged text")
