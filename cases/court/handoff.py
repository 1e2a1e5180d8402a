"""Sending filings to the court desk: queued in the action's transaction, sent by the relay.

`queue_filing` is called inside the transaction that changes the case (transfer requested,
confirmation applied for, a correction resubmitted): the case's state, the CourtFiling and its
OutboxMessage commit together or not at all. `deliver_due` is the relay's entry point for the
background jobs (`mediation.app.run_background_jobs`, `mediation jobs`): it sends due rows,
signed with the filing secret, and moves each delivered filing to RECEIVED with the desk's
receipt id (only forward: a decision may already have overtaken the receipt).
"""

from __future__ import annotations

import json
import logging
import uuid
from datetime import datetime, timedelta
from typing import Any, Protocol

import httpx

from cases.court.filing_status import earlier_than
from cases.court.records import (
    CourtSettings,
    FilingMessage,
    confirmation_precheck,
    filing_message,
    transfer_precheck,
)
from cases.models import (
    Case,
    CourtFiling,
    FilingKind,
    FilingStatus,
    OutboxMessage,
    OutboxStatus,
)
from courtwire import ecf
from courtwire.outbox import Relay, default_relay_id, replay

log = logging.getLogger("cases.court")

DESTINATION = "court"
FILINGS_PATH = "/api/v1/filings"
# One relay id per process: the admin page shows which process last held a row.
RELAY_ID = default_relay_id()


def new_filing_id() -> str:
    return str(uuid.uuid4())


async def queue_filing(
    filing: CourtFiling, case: Case, settings: CourtSettings, now: datetime
) -> OutboxMessage:
    """Build the filing's package (privilege-checked) and put it in the outbox.

    Call inside the action's transaction. Raises PrivilegeError (nothing is queued, the
    transaction rolls back) if privileged text would cross.
    """
    message = await filing_message(filing, case, settings, now)
    filing.payload_sha256 = message.sha256
    filing.status = FilingStatus.QUEUED
    filing.updated_at = now
    await filing.save(update_fields=["payload_sha256", "status", "updated_at"])
    return await OutboxMessage.create(
        msg_id=filing.filing_id,
        destination=DESTINATION,
        path=FILINGS_PATH,
        content_type=message.content_type,
        body=message.body,
        filing=filing,
        next_attempt_at=now,
        created_at=now,
    )


def receipt_id_of(response: httpx.Response) -> str | None:
    """The desk's receipt id: from the JSON receipt, or for ECF the MessageReceipt's time of
    receipt (ECF receipts carry no id of their own)."""
    content_type = response.headers.get("content-type", "")
    try:
        if "xml" in content_type:
            receipt = ecf.parse_message_receipt(response.content)
            return f"ecf:{receipt.received_at.isoformat()}"[:64]
        value = response.json().get("receipt_id")
    except (ValueError, AttributeError, ecf.EcfError):
        return None
    return str(value)[:64] if value else None


async def on_filing_delivered(row: Any, response: httpx.Response) -> None:
    """The relay's hook (in the transaction that marks the row delivered)."""
    if row.filing_id is None:
        return
    filing = await CourtFiling.get(id=row.filing_id)
    receipt_id = receipt_id_of(response)
    now = row.delivered_at
    moved = await CourtFiling.filter(
        id=filing.id, status__in=earlier_than(FilingKind(filing.kind), FilingStatus.RECEIVED)
    ).update(status=FilingStatus.RECEIVED, receipt_id=receipt_id, updated_at=now)
    if not moved:
        # A decision overtook the receipt: keep the decision, note the receipt.
        await CourtFiling.filter(id=filing.id, receipt_id__isnull=True).update(
            receipt_id=receipt_id
        )


class RelaySettings(CourtSettings, Protocol):
    """The relay's tuning, which a deployment may set (mediation.settings)."""

    @property
    def court_relay_timeout(self) -> float: ...
    @property
    def court_relay_lease_seconds(self) -> float: ...
    @property
    def court_relay_retry_base_seconds(self) -> float: ...


def court_relay(settings: RelaySettings, **options: Any) -> Relay:
    tuning: dict[str, Any] = {
        "timeout": settings.court_relay_timeout,
        "lease": timedelta(seconds=settings.court_relay_lease_seconds),
        "base_delay": timedelta(seconds=settings.court_relay_retry_base_seconds),
        "relay_id": RELAY_ID,
    }
    return Relay(
        OutboxMessage,
        destination=DESTINATION,
        base_url=settings.court_desk_url,
        secret=settings.court_filing_secret,
        on_delivered=on_filing_delivered,
        **{**tuning, **options},
    )


async def deliver_due(now: datetime, settings: RelaySettings, **options: Any) -> int:
    """Send the court filings that are due; returns how many the desk acknowledged."""
    return await court_relay(settings, **options).deliver_due(now)


async def dead_letters(limit: int = 200) -> list[OutboxMessage]:
    return (
        await OutboxMessage.filter(status=OutboxStatus.DEAD)
        .order_by("-created_at", "-id")
        .limit(limit)
        .prefetch_related("filing__case")
    )


async def waiting_letters(limit: int = 200) -> list[OutboxMessage]:
    """Rows still being retried (attempted at least once), for the same admin page."""
    return (
        await OutboxMessage.filter(status=OutboxStatus.PENDING, attempts__gt=0)
        .order_by("next_attempt_at", "id")
        .limit(limit)
        .prefetch_related("filing__case")
    )


async def replay_dead_letter(row_id: int, now: datetime) -> bool:
    return await replay(OutboxMessage, row_id, now)


def body_preview(row: OutboxMessage) -> str:
    """The start of the body as sent (pretty-printed when JSON), for the admin page."""
    if "json" in row.content_type:
        try:
            return json.dumps(json.loads(row.body), ensure_ascii=False, indent=2)[:2000]
        except ValueError:
            pass
    return row.body[:2000]


_CONFIRMATION_STATES = frozenset(
    {"settled", "confirmation_requested", "confirmed", "confirmation_rejected"}
)


async def export_filing(
    case_number: str, wire_format: str, settings: CourtSettings, now: datetime
) -> FilingMessage:
    """The body that would be sent for the case, for inspection (`mediation court export`).

    Uses the case's latest filing (its id, kind, applicants and pre-check) in the format
    asked for; a case with no filing yet gets a preview built as its next filing would be.
    Nothing is stored. Raises LookupError for an unknown case.
    """
    case = await Case.get_or_none(number=case_number)
    if case is None:
        raise LookupError(case_number)
    filing = await CourtFiling.filter(case=case).order_by("-id").first()
    if filing is None:
        if str(case.status) in _CONFIRMATION_STATES:
            kind = FilingKind.CONFIRMATION
            precheck = await confirmation_precheck(case, settings.secret_key, now)
            applicants = {"applicant": now.isoformat(), "respondent": now.isoformat()}
        else:
            kind = FilingKind.TRANSFER
            precheck = await transfer_precheck(case)
            applicants = {"applicant": now.isoformat()}
        filing = CourtFiling(
            filing_id=new_filing_id(),
            case_id=case.id,
            kind=kind,
            status=FilingStatus.QUEUED,
            applicants=applicants,
            precheck=precheck.as_json(),
            created_at=now,
            updated_at=now,
        )
    filing.wire_format = wire_format
    return await filing_message(filing, case, settings, now)
