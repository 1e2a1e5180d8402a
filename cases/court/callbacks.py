"""The court's decisions coming back: read a callback, apply it forward only, once.

`read_callback` (pure) reads the two forms docs/court-wire.md allows: a CloudEvent
(application/cloudevents+json) for every decision, and an ECF ReviewFilingCallbackMessage
(application/xml) for docketing and returning. `do_apply_court_decision` keeps the callback
once per webhook id and moves the filing, and through it the case, only forward
(`cases.court.filing_status`): a late, repeated or reordered callback is recorded and
changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from lxml import etree
from tortoise.exceptions import IntegrityError

from cases.court.filing_status import DECISIONS, case_move, moves_forward
from cases.journal import notify_parties, record_event, transition
from cases.models import Case, CourtCallback, CourtFiling, FilingKind, FilingStatus
from cases.pause import pause_point
from cases.status import Actor, Status
from cases.timeline import EventKind
from cases.transactions import atomic
from courtwire import ecf
from courtwire.case_numbers import CaseNumberError, parse_case_number
from realtime.text import JsonRefused, read_json

MAX_REASON = 5000
MAX_JSON_DEPTH = 8  # a CloudEvent's data is two levels deep
_TYPE_PREFIX = "cn.court.filing."
_TYPE_SUFFIX = ".v1"


class CallbackInvalid(ValueError):
    """A callback that cannot be read; `code` is stable (sent back in the 422)."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


@dataclass(frozen=True)
class CourtDecision:
    filing_id: str
    status: FilingStatus  # accepted | returned | docketed | confirmed | rejected
    decided_at: datetime
    event_type: str
    payload: dict[str, Any]
    court_case_number: str | None = None  # canonical form
    reason: str | None = None


def _media_type(content_type: str) -> str:
    return content_type.split(";", 1)[0].strip().lower()


def read_callback(content_type: str, body: bytes) -> CourtDecision:
    media_type = _media_type(content_type)
    if media_type in ("application/xml", "text/xml"):
        return _read_ecf(body)
    if media_type in ("application/cloudevents+json", "application/json"):
        return _read_cloudevent(body)
    raise CallbackInvalid("unsupported_media_type")


def _text(data: dict[str, Any], name: str) -> str | None:
    value = data.get(name)
    if value is None:
        return None
    if not isinstance(value, str):
        raise CallbackInvalid(f"bad_{name}")
    value = value.strip()
    return value or None


def _moment(value: str | None, name: str) -> datetime:
    if value is None:
        raise CallbackInvalid(f"missing_{name}")
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise CallbackInvalid(f"bad_{name}") from None
    if moment.tzinfo is None:
        raise CallbackInvalid(f"bad_{name}")
    return moment


def _decision(
    filing_id: str | None,
    status: str | None,
    decided_at: datetime,
    event_type: str,
    payload: dict[str, Any],
    court_case_number: str | None,
    reason: str | None,
) -> CourtDecision:
    if not filing_id:
        raise CallbackInvalid("missing_filing_id")
    try:
        state = FilingStatus(status or "")
    except ValueError:
        raise CallbackInvalid("unknown_status") from None
    if state not in DECISIONS:
        raise CallbackInvalid("unknown_status")
    if court_case_number is not None:
        try:
            court_case_number = str(parse_case_number(court_case_number))
        except CaseNumberError:
            raise CallbackInvalid("bad_court_case_number") from None
    if state == FilingStatus.DOCKETED and court_case_number is None:
        raise CallbackInvalid("docketed_without_court_case_number")
    if state in (FilingStatus.RETURNED, FilingStatus.REJECTED) and not reason:
        raise CallbackInvalid("reason_required")
    if reason is not None and len(reason) > MAX_REASON:
        raise CallbackInvalid("reason_too_long")
    return CourtDecision(
        filing_id=filing_id,
        status=state,
        decided_at=decided_at,
        event_type=event_type,
        payload=payload,
        court_case_number=court_case_number,
        reason=reason,
    )


def _read_cloudevent(body: bytes) -> CourtDecision:
    try:
        # The platform's one JSON reader: bounded depth and numbers, storable text only
        # (a signed body is trusted to come from the desk, not to be well formed).
        event = read_json(body, MAX_JSON_DEPTH)
    except JsonRefused as refused:
        raise CallbackInvalid(
            "not_json" if refused.code == "invalid_json" else refused.code
        ) from None
    if not isinstance(event, dict) or event.get("specversion") != "1.0":
        raise CallbackInvalid("not_a_cloudevent")
    data = event.get("data")
    event_type = event.get("type")
    if not isinstance(data, dict) or not isinstance(event_type, str):
        raise CallbackInvalid("not_a_cloudevent")
    status = _text(data, "status")
    # The type names the decision too; the two must agree.
    if event_type != f"{_TYPE_PREFIX}{status}{_TYPE_SUFFIX}":
        raise CallbackInvalid("type_does_not_match_status")
    filing_id = _text(data, "filing_id")
    if event.get("subject") not in (None, filing_id):
        raise CallbackInvalid("subject_does_not_match_filing")
    return _decision(
        filing_id,
        status,
        _moment(_text(data, "decided_at"), "decided_at"),
        event_type,
        event,
        _text(data, "court_case_number"),
        _text(data, "reason"),
    )


def _read_ecf(body: bytes) -> CourtDecision:
    try:
        result = ecf.parse_review_callback(body, schema=_callback_schema())
    except ecf.EcfError as error:
        raise CallbackInvalid(f"ecf_{error.reason}") from None
    except ValueError:  # a bad docket id in an otherwise readable message
        raise CallbackInvalid("bad_court_case_number") from None
    # ECF's review answers "accepted" (docketed under a case number) or "rejected"
    # (returned for correction, 补正); the court's other decisions come as CloudEvents.
    status = "docketed" if result.status == "accepted" else "returned"
    payload = {
        "ecf": "ReviewFilingCallbackMessage",
        "filing_id": result.filing_id,
        "status": status,
        "case_tracking_id": result.case_tracking_id,
        "court_case_number": result.case_docket_id,
        "reason": result.reason,
        "decided_at": result.reviewed_at.isoformat(),
    }
    return _decision(
        result.filing_id,
        status,
        result.reviewed_at,
        f"ecf.review_filing_callback.{status}",
        payload,
        result.case_docket_id,
        result.reason,
    )


def _callback_schema() -> etree.XMLSchema | None:
    try:
        return ecf.review_callback_validator()
    except FileNotFoundError:
        return None


# --- applying ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Applied:
    known: bool  # the filing exists (else 404, nothing stored)
    applied: bool  # it moved the filing forward (False: late, repeated or out of order)


_SUBJECTS = {
    FilingStatus.ACCEPTED: "法院已接收审查 The court is reviewing the filing",
    FilingStatus.DOCKETED: "法院已立案 The court docketed the case",
    FilingStatus.RETURNED: "法院退回补正 The court returned the filing for correction",
    FilingStatus.CONFIRMED: "法院裁定确认调解协议有效 Judicial confirmation granted",
    FilingStatus.REJECTED: "法院裁定驳回司法确认申请 Judicial confirmation refused",
}
_BODIES = {
    FilingStatus.ACCEPTED: "法院已接收您的材料并进行审查。",
    FilingStatus.DOCKETED: "法院已立案，案号：{number}。",
    FilingStatus.RETURNED: "法院要求补正材料，理由：{reason}。请登录平台查看并补正后重新提交。",
    FilingStatus.CONFIRMED: "法院已裁定确认调解协议有效{number_note}。",
    FilingStatus.REJECTED: "法院已裁定驳回司法确认申请，理由：{reason}。",
}


async def do_apply_court_decision(
    webhook_id: str, decision: CourtDecision, now: datetime
) -> Applied:
    """Keep the callback once and apply it forward only, in one transaction."""
    filing = await CourtFiling.get_or_none(filing_id=decision.filing_id)
    if filing is None:
        return Applied(known=False, applied=False)
    try:
        async with atomic():
            callback = await CourtCallback.create(
                webhook_id=webhook_id,
                filing=filing,
                event_type=decision.event_type,
                payload=decision.payload,
                applied=False,
                received_at=now,
            )
            await pause_point("court_callback")  # kept (the webhook id claimed), not applied
            applied = await _apply(filing.id, decision, now)
            if applied:
                callback.applied = True
                await callback.save(update_fields=["applied"])
    except IntegrityError:
        # The same webhook id again (a retry, or two deliveries racing): kept once.
        return Applied(known=True, applied=False)
    return Applied(known=True, applied=applied)


async def _apply(filing_pk: int, decision: CourtDecision, now: datetime) -> bool:
    filing = await CourtFiling.get(id=filing_pk)
    kind = FilingKind(filing.kind)
    current = FilingStatus(filing.status)
    if not moves_forward(kind, current, decision.status):
        return False
    changes: dict[str, Any] = {"status": decision.status, "updated_at": now}
    if decision.court_case_number:
        changes["court_case_number"] = decision.court_case_number
    if decision.reason:
        changes["court_reason"] = decision.reason
    if decision.status != FilingStatus.ACCEPTED:
        changes["decided_at"] = decision.decided_at
    # Conditional on the state read: of two decisions racing, one moves it.
    moved = await CourtFiling.filter(id=filing.id, status=current).update(**changes)
    if not moved:
        return False
    case = await Case.get(id=filing.case_id)
    data: dict[str, Any] = {
        "filing_id": filing.filing_id,
        "court_status": decision.status.value,
        "court_case_number": decision.court_case_number,
        "reason": decision.reason,
    }
    move = case_move(kind, decision.status)
    # Only the case's latest filing moves the case (a decision on a filing that a correction
    # replaced is recorded on that filing alone).
    latest = await CourtFiling.filter(case_id=case.id).order_by("-id").first()
    if move is not None and latest is not None and latest.id == filing.id:
        source, target = move
        if Status(case.status) == source:
            await transition(case, target, Actor.COURT, now, actor_label="court", **data)
        else:
            await record_event(case, EventKind.COURT_DECISION, now, actor_label="court", **data)
    else:
        await record_event(case, EventKind.COURT_DECISION, now, actor_label="court", **data)
    number_note = f"，案号：{decision.court_case_number}" if decision.court_case_number else ""
    body = _BODIES[decision.status].format(
        number=decision.court_case_number or "",
        reason=decision.reason or "",
        number_note=number_note,
    )
    await notify_parties(
        case,
        f"{_SUBJECTS[decision.status]}: {case.number}",
        f"案件 {case.number}：{body}\n",
        now,
    )
    return True
