"""How a mediation ends without agreement.

The mediator ends mediation as failed, withdrawn (a party's withdrawal, recorded) or timed
out, with the record of online mediation rules Art. 21 (the undisputed facts, why it failed,
conduct that raised the other side's costs), and the parties are told their other routes
(People's Mediation Law Art. 26). A time-out by the system job
(`do_time_out_overdue_mediations`) leaves an EndRecord the mediator completes. Also who acts
on a case's ending and its court steps (`access_as_mediator`, `access_as_party`).

Each action checks first, then writes in one transaction: the case's state, the record, the
deadline closed, the timeline and the notices.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from cases.access import Viewer
from cases.actions import access_case
from cases.clock import local_date
from cases.deadlines.actions import claim_missed, do_close_deadline, overdue_deadlines
from cases.deadlines.models import CaseDeadline, DeadlineStatus
from cases.deadlines.rules import Regime
from cases.endings.models import EndRecord
from cases.errors import CaseConflict, CaseError
from cases.journal import notify_parties, record_event, transition
from cases.models import (
    Case,
    Party,
    Side,
)
from cases.pause import pause_point
from cases.status import Actor, Status
from cases.timeline import EventKind
from cases.transactions import atomic

ENDINGS = (Status.FAILED, Status.WITHDRAWN, Status.TIMED_OUT)


# People's Mediation Law Art. 26: on failure the parties are told they may protect their
# rights through arbitration, administrative or judicial routes.
OTHER_ROUTES = ("litigation", "arbitration", "administrative")


# Whose record can still be completed or corrected by the mediator (before it has gone).
_RECORD_EDITABLE = frozenset(
    {Status.FAILED, Status.TIMED_OUT, Status.WITHDRAWN, Status.RETURNED_FOR_CORRECTION}
)


_MEDIATION_REGIMES = (Regime.ONLINE_MEDIATION, Regime.CONSUMER_MEDIATION)


class NotAllowed(CaseError):
    """Someone who may see the case but may not do this (the mediator filing for a party)."""

    status_code = 403


class OutcomeInvalid(CaseError):
    """A form with mistakes: `field_errors` maps each field to an error code."""

    status_code = 422

    def __init__(self, field_errors: Mapping[str, str]) -> None:
        super().__init__("form_has_errors")
        self.field_errors = dict(field_errors)


async def _side_of(viewer: Viewer, case: Case) -> str | None:
    party = await Party.filter(case=case, user_id=viewer.user_id).order_by("id").first()
    return str(party.side) if party is not None else None


async def access_as_mediator(viewer: Viewer, number: str) -> Case:
    """The case, for its own mediator; 404 for whoever may not see it, 403 for others who may."""
    case, _ = await access_case(viewer, number)
    if viewer.role != "mediator" or case.mediator_id != viewer.user_id:
        raise NotAllowed("forbidden")
    return case


async def access_as_party(viewer: Viewer, number: str) -> tuple[Case, str]:
    case, _ = await access_case(viewer, number)
    side = await _side_of(viewer, case) if viewer.role == "disputant" else None
    if side is None:
        raise NotAllowed("forbidden")
    return case, side


@dataclass(frozen=True)
class EndRecordInput:
    ending: Status
    undisputed_facts: str
    reasons_for_failure: str
    cost_raising_conduct: str
    withdrawn_by: str | None  # the side that withdrew (withdrawn only)


def check_end_record(values: Mapping[str, str], ending: Status | None = None) -> EndRecordInput:
    """Read the end-of-mediation form; raises OutcomeInvalid with every mistake at once.

    A failure or time-out needs the undisputed facts and why it failed (Art. 21); the conduct
    that raised costs may be "none". A withdrawal needs the side that withdrew.
    """
    errors: dict[str, str] = {}
    if ending is None:
        try:
            ending = Status(values.get("ending", ""))
        except ValueError:
            ending = None
        if ending not in ENDINGS:
            errors["ending"] = "choose_one"
    texts = {}
    for name in ("undisputed_facts", "reasons_for_failure", "cost_raising_conduct"):
        text = values.get(name, "").strip()
        if len(text) > TEXT_MAX:
            errors[name] = "too_long"
        texts[name] = text
    withdrawn_by = values.get("withdrawn_by", "").strip() or None
    if ending == Status.WITHDRAWN:
        if withdrawn_by not in SIDES:
            errors["withdrawn_by"] = "choose_one"
    else:
        withdrawn_by = None
        for name in ("undisputed_facts", "reasons_for_failure"):
            if not texts[name] and name not in errors:
                errors[name] = "required"
    if errors or ending is None:
        raise OutcomeInvalid(errors)
    return EndRecordInput(ending=ending, withdrawn_by=withdrawn_by, **texts)


_ENDING_WORDS = {
    Status.FAILED: ("调解不成，调解终结", "mediation failed"),
    Status.WITHDRAWN: ("当事人撤回调解申请，调解终结", "a party withdrew"),
    Status.TIMED_OUT: ("调解期限届满，调解终结", "the time limit was reached"),
}


def _other_routes_notice(case: Case, ending: Status) -> tuple[str, str]:
    zh, en = _ENDING_WORDS[ending]
    subject = f"调解终结 Mediation ended: {case.number}"
    transfer_zh = (
        "申请人可以在平台上申请将案件转至上海市长宁区人民法院立案，"
        if ending != Status.WITHDRAWN
        else ""
    )
    body = (
        f"案件 {case.number}：{zh}。\n"
        f"根据《中华人民共和国人民调解法》第二十六条，您可以依法通过诉讼、仲裁、行政等途径"
        f"维护自己的权利。{transfer_zh}也可以自行向有管辖权的人民法院起诉或申请仲裁。\n"
        f"Case {case.number}: {en}; mediation has ended. You may protect your rights through "
        f"litigation, arbitration or administrative routes (People's Mediation Law Art. 26)."
    )
    return subject, body


async def do_end_mediation(
    viewer: Viewer, number: str, values: Mapping[str, str], now: datetime
) -> Case:
    """The mediator ends a mediation in progress, with the Art. 21 record, or completes the
    record of one already ended (a time-out by the system, or a correction the court asked
    for) while it has not yet gone to the court."""
    case = await access_as_mediator(viewer, number)
    status = Status(case.status)
    if status == Status.IN_MEDIATION:
        entry = check_end_record(values)
        return await _end(case, entry, viewer, now)
    if status in _RECORD_EDITABLE:
        existing = await EndRecord.get_or_none(case=case)
        if existing is None:
            raise CaseConflict("mediation_not_in_progress")
        entry = check_end_record(values, Status(existing.ending))
        async with atomic():
            changed = await EndRecord.filter(id=existing.id).update(
                undisputed_facts=entry.undisputed_facts,
                reasons_for_failure=entry.reasons_for_failure,
                cost_raising_conduct=entry.cost_raising_conduct,
                recorded_by_id=viewer.user_id,
            )
            if changed:
                await record_event(
                    case, EventKind.END_RECORD_COMPLETED, now, actor_id=viewer.user_id
                )
        return case
    raise CaseConflict("mediation_not_in_progress")


async def _end(case: Case, entry: EndRecordInput, viewer: Viewer, now: datetime) -> Case:
    async with atomic():
        data: dict[str, Any] = {}
        if entry.withdrawn_by:
            data["withdrawn_by"] = entry.withdrawn_by
        await transition(case, entry.ending, Actor.MEDIATOR, now, actor_id=viewer.user_id, **data)
        await EndRecord.create(
            case=case,
            ending=entry.ending,
            undisputed_facts=entry.undisputed_facts,
            reasons_for_failure=entry.reasons_for_failure,
            cost_raising_conduct=entry.cost_raising_conduct,
            other_routes=list(OTHER_ROUTES),
            recorded_by_id=viewer.user_id,
            created_at=now,
        )
        deadline_status = (
            DeadlineStatus.CANCELLED if entry.ending == Status.WITHDRAWN else DeadlineStatus.MET
        )
        for regime in _MEDIATION_REGIMES:
            await do_close_deadline(case, regime, deadline_status, now)
        subject, body = _other_routes_notice(case, entry.ending)
        await notify_parties(case, subject, body, now)
    return case


async def record_time_out(case: Case, now: datetime) -> None:
    """Called by the time-out job in its transaction: an EndRecord for the mediator to
    complete (the system knows the mediation ended, not what was undisputed or why)."""
    await EndRecord.get_or_create(
        case=case,
        defaults={
            "ending": Status.TIMED_OUT,
            "other_routes": list(OTHER_ROUTES),
            "created_at": now,
        },
    )


async def do_time_out_overdue_mediations(now: datetime) -> list[str]:
    """End mediations whose time limit passed without an extension (Art. 24, 25)."""
    today = local_date(now)
    ended: list[str] = []
    regimes = (Regime.ONLINE_MEDIATION, Regime.CONSUMER_MEDIATION)
    for deadline_id, _ in await overdue_deadlines(regimes, today):
        async with atomic():
            if not await claim_missed(deadline_id, today, now):
                continue
            row = await CaseDeadline.get(id=deadline_id).prefetch_related("case")
            case = row.case
            if case.status != Status.IN_MEDIATION:
                continue
            await pause_point("time_out")
            case.closed_reason = "mediation_time_limit"
            await case.save(update_fields=["closed_reason"])
            await transition(case, Status.TIMED_OUT, Actor.SYSTEM, now, regime=row.regime)
            # The Art. 21 record, for the mediator to complete.
            await record_time_out(case, now)
            await notify_parties(
                case,
                f"调解期限届满 Mediation time limit reached: {case.number}",
                f"案件 {case.number}：调解期限已届满且未经当事人同意延长，调解终结。"
                f"您可以依法通过诉讼、仲裁等其他途径解决纠纷，或申请将案件移送法院。\n"
                f"Case {case.number}: the mediation time limit passed without an agreed "
                f"extension, so mediation has ended. You may go to court or arbitration.",
                now,
                also_mediator=True,
            )
            ended.append(case.number)
    return ended


TEXT_MAX = 5000


SIDES = (Side.APPLICANT.value, Side.RESPONDENT.value)
