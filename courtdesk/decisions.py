"""The clerks' decisions, the only writers of a filing's status.

Each decision is one transaction: the filing's row is locked and checked, changed, a
Decision is recorded, and the callback that tells the platform is written to the outbox. So
a decision the platform never hears of, or a callback for a decision that did not happen,
cannot exist. Docketing allocates the court case number (案号) in the same transaction: the
counter's row lock orders concurrent docketings, and a docketing that fails rolls its serial
back with it, so serials have no gaps.

What may follow what:
    received  -> accepted | returned | docketed
    accepted  -> returned | docketed
    docketed  -> confirmed | rejected            (judicial-confirmation filings only)
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import datetime

from tortoise.expressions import F
from tortoise.transactions import in_transaction

from cases.clock import SHANGHAI
from cases.pause import pause_point
from courtdesk import wire
from courtdesk.errors import DeskError
from courtdesk.models import (
    Clerk,
    Decision,
    DecisionAction,
    DocketCounter,
    Filing,
    FilingKind,
    FilingStatus,
    OutboxMessage,
)
from courtwire.case_numbers import (
    CHANGNING_COURT,
    FIRST_INSTANCE_CIVIL,
    PRE_LITIGATION_CONFIRMATION,
    PRE_LITIGATION_MEDIATION,
    CourtCaseNumber,
    parse_case_number,
    type_code_for,
)

# The type codes a clerk may docket under (SPC table of case types, 2018; 诉前调确 since 2022).
TYPE_CODES = (FIRST_INSTANCE_CIVIL, PRE_LITIGATION_CONFIRMATION, PRE_LITIGATION_MEDIATION)
REASON_MAX = 1000

OPEN = (FilingStatus.RECEIVED, FilingStatus.ACCEPTED)
_FROM: dict[DecisionAction, tuple[FilingStatus, ...]] = {
    DecisionAction.ACCEPTED: (FilingStatus.RECEIVED,),
    DecisionAction.RETURNED: OPEN,
    DecisionAction.DOCKETED: OPEN,
    DecisionAction.CONFIRMED: (FilingStatus.DOCKETED,),
    DecisionAction.REJECTED: (FilingStatus.DOCKETED,),
}


def default_type_code(kind: str) -> str:
    """A transfer to litigation is docketed as 民初, a confirmation application as 诉前调确."""
    return type_code_for(kind)


def allowed_actions(filing: Filing) -> list[DecisionAction]:
    """What a clerk may decide on this filing now (the page offers only these)."""
    actions = [action for action, sources in _FROM.items() if filing.status in sources]
    if filing.kind != FilingKind.CONFIRMATION:
        actions = [
            a for a in actions if a not in (DecisionAction.CONFIRMED, DecisionAction.REJECTED)
        ]
    return actions


def _reason(text: str) -> str:
    reason = text.strip()
    if not reason:
        raise DeskError("reason_required", 400)
    if len(reason) > REASON_MAX:
        raise DeskError("reason_too_long", 400, limit=REASON_MAX)
    return reason


async def accept(
    filing_id: str, clerk: Clerk, now: datetime, *, callback_id: str | None = None
) -> Decision:
    return await _decide(filing_id, clerk, DecisionAction.ACCEPTED, now, callback_id=callback_id)


async def return_for_correction(
    filing_id: str, clerk: Clerk, reason: str, now: datetime, *, callback_id: str | None = None
) -> Decision:
    """Return a filing for correction (补正); the platform corrects it with a new filing."""
    return await _decide(
        filing_id,
        clerk,
        DecisionAction.RETURNED,
        now,
        reason=_reason(reason),
        callback_id=callback_id,
    )


async def docket(
    filing_id: str, clerk: Clerk, type_code: str, now: datetime, *, callback_id: str | None = None
) -> Decision:
    """Docket a filing under the next court case number of this year and type."""
    if type_code not in TYPE_CODES:
        raise DeskError("unknown_type_code", 400)
    return await _decide(
        filing_id, clerk, DecisionAction.DOCKETED, now, type_code=type_code, callback_id=callback_id
    )


async def confirm(
    filing_id: str, clerk: Clerk, now: datetime, *, callback_id: str | None = None
) -> Decision:
    """Grant judicial confirmation of a docketed application."""
    return await _decide(filing_id, clerk, DecisionAction.CONFIRMED, now, callback_id=callback_id)


async def reject(
    filing_id: str, clerk: Clerk, reason: str, now: datetime, *, callback_id: str | None = None
) -> Decision:
    """Refuse judicial confirmation of a docketed application (Civil Procedure
    interpretation Art. 358), with the reason."""
    return await _decide(
        filing_id,
        clerk,
        DecisionAction.REJECTED,
        now,
        reason=_reason(reason),
        callback_id=callback_id,
    )


async def accept_many(
    filing_ids: Iterable[str], clerk: Clerk, now: datetime
) -> tuple[list[str], list[tuple[str, DeskError]]]:
    """Accept each filing in its own transaction; one that cannot be accepted (another clerk
    got there first) does not hold back the rest. Returns (accepted, refused)."""
    accepted: list[str] = []
    refused: list[tuple[str, DeskError]] = []
    for filing_id in dict.fromkeys(filing_ids):  # each once, in the order given
        try:
            await accept(filing_id, clerk, now)
        except DeskError as error:
            refused.append((filing_id, error))
        else:
            accepted.append(filing_id)
    return accepted, refused


async def _decide(
    filing_id: str,
    clerk: Clerk,
    action: DecisionAction,
    now: datetime,
    *,
    reason: str = "",
    type_code: str | None = None,
    callback_id: str | None = None,
) -> Decision:
    callback_id = callback_id or str(uuid.uuid4())
    async with in_transaction():
        # Locked for the transaction on PostgreSQL (SQLite runs one write transaction at a
        # time): a second clerk deciding the same filing waits, then sees this decision.
        filing = await Filing.filter(filing_id=filing_id).select_for_update().first()
        if filing is None:
            raise DeskError("filing_not_found", 404)
        _check_allowed(filing, action)
        await pause_point("desk_decision")  # where the concurrency test holds a clerk
        from_status = filing.status
        to_status = FilingStatus(action.value)
        changes: dict[str, object] = {"status": to_status, "updated_at": now, "decided_at": now}
        if reason:
            changes["reason"] = reason
        # Conditional, as a second guard: only from the state that was checked.
        updated = await Filing.filter(id=filing.id, status=from_status).update(**changes)
        if updated != 1:
            raise DeskError("filing_changed_meanwhile")
        court_case_number = None
        if action == DecisionAction.DOCKETED:
            assert type_code is not None
            number = await _next_case_number(now, type_code)
            court_case_number = str(number)
            await Filing.filter(id=filing.id).update(
                court_case_number=court_case_number,
                docket_year=number.year,
                docket_type=number.type_code,
                docket_serial=number.serial,
            )
        elif filing.court_case_number:
            court_case_number = filing.court_case_number  # a confirmation decision names it
        decision = await Decision.create(
            filing=filing,
            action=action,
            from_status=from_status,
            clerk=clerk,
            reason=reason,
            court_case_number=court_case_number,
            callback_id=callback_id,
            at=now,
        )
        content_type, body = wire.callback(
            wire.CallbackFacts(
                callback_id=callback_id,
                filing_id=filing.filing_id,
                case_number=filing.case_number,
                status=action.value,
                decided_at=now,
                court_case_number=court_case_number,
                reason=reason or None,
            ),
            filing.wire_format,
        )
        await OutboxMessage.create(
            msg_id=callback_id,
            destination="platform",
            path=wire.CALLBACK_PATH,
            content_type=content_type,
            body=body.decode("utf-8"),
            filing=filing,
            next_attempt_at=now,
            created_at=now,
        )
    return decision


def _check_allowed(filing: Filing, action: DecisionAction) -> None:
    if action in (DecisionAction.CONFIRMED, DecisionAction.REJECTED):
        if filing.kind != FilingKind.CONFIRMATION:
            raise DeskError("not_a_confirmation", 400)
        if filing.status in OPEN:
            raise DeskError("confirmation_needs_docket")
    if filing.status in _FROM[action]:
        return
    if filing.status == FilingStatus.DOCKETED and action in (
        DecisionAction.DOCKETED,
        DecisionAction.ACCEPTED,
        DecisionAction.RETURNED,
    ):
        raise DeskError("already_docketed", number=filing.court_case_number or "")
    if filing.status == FilingStatus.ACCEPTED and action == DecisionAction.ACCEPTED:
        raise DeskError("already_accepted")
    raise DeskError("already_decided")


async def _next_case_number(now: datetime, type_code: str) -> CourtCaseNumber:
    """The next 案号 of the docketing year (Shanghai time) and type. Inside the decision's
    transaction only: the UPDATE's row lock makes concurrent docketings take turns, and a
    rollback returns the serial."""
    year = now.astimezone(SHANGHAI).year
    await DocketCounter.bulk_create(
        [DocketCounter(year=year, type_code=type_code, last_serial=0)], ignore_conflicts=True
    )
    await DocketCounter.filter(year=year, type_code=type_code).update(
        last_serial=F("last_serial") + 1
    )
    counter = await DocketCounter.get(year=year, type_code=type_code)
    number = CourtCaseNumber(year, CHANGNING_COURT, type_code, counter.last_serial)
    # Formatted and read back by the one module that knows the official format.
    if parse_case_number(str(number)) != number:
        raise DeskError("case_number_format", 500)
    return number
