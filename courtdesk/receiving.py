"""Receiving a filing: signature, then idempotency, then the package, then one insert.

Nothing is stored unless the signature, the timestamp and the whole package are good. The
filing id (webhook-id) is the idempotency key: the same id with the same bytes gets the very
receipt it got the first time (the platform's relay retries until it hears one), the same id
with other bytes is refused. The unique index decides between two identical requests that
arrive at once; the loser answers with the winner's receipt.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from lxml import etree
from tortoise.exceptions import IntegrityError

from cases.pause import pause_point
from courtdesk import wire
from courtdesk.models import Filing, FilingKind, FilingStatus, WireFormat
from courtwire import ecf, signing


@dataclass(frozen=True)
class Answer:
    status: int
    content_type: str
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)


def _error(status: int, code: str, **extra: object) -> Answer:
    return Answer(status, "application/json", wire.json_bytes({"error": code, **extra}))


def _schema() -> etree.XMLSchema:
    return ecf.core_filing_validator()


async def receive_filing(
    *,
    secret: str,
    headers: Mapping[str, str],
    content_type: str,
    body: bytes,
    now: datetime,
) -> Answer:
    try:
        signing.verify(secret, headers, body, now=int(now.timestamp()))
    except signing.SignatureError as refused:
        return _error(401, refused.code)
    webhook_id = {k.lower(): v for k, v in headers.items()}[signing.ID_HEADER]
    body_sha256 = hashlib.sha256(body).hexdigest()

    # A retry needs no second reading of the package: the first one was taken.
    existing = await Filing.get_or_none(filing_id=webhook_id)
    if existing is not None:
        return _repeat(existing, body_sha256)

    if not (wire.is_json_type(content_type) or wire.is_xml_type(content_type)):
        return _error(415, "unsupported_media_type")
    try:
        if wire.is_json_type(content_type):
            read = wire.read_cloudevent(body, webhook_id)
        else:
            read = wire.read_core_filing(body, webhook_id, _schema())
        text = body.decode("utf-8")  # the desk keeps bodies as UTF-8 text
    except wire.InvalidPackage as invalid:
        return _error(422, "invalid_package", details=invalid.details)
    except UnicodeDecodeError:
        return _error(422, "invalid_package", details=[{"field": "body", "error": "not_utf8"}])

    receipt_id = str(uuid.uuid4())
    receipt_type, receipt_body = wire.receipt(read.wire_format, receipt_id, webhook_id, now)
    package = read.package
    await pause_point("desk_receive")  # checked as new, not yet stored (cases.pause)
    try:
        await Filing.create(
            filing_id=webhook_id,
            kind=FilingKind(read.kind),
            wire_format=WireFormat(read.wire_format),
            status=FilingStatus.RECEIVED,
            case_number=str(package["case_number"])[:64],
            category=str(package["category"])[:64],
            applicant_names=_names(package, "applicant"),
            respondent_names=_names(package, "respondent"),
            corrects=package.get("corrects"),
            package=package,
            content_type=wire.media_type_of(content_type),
            body=text,
            body_sha256=body_sha256,
            receipt_id=receipt_id,
            receipt_content_type=receipt_type,
            receipt_body=receipt_body.decode("utf-8"),
            received_at=now,
            updated_at=now,
        )
    except IntegrityError:
        # The same id arrived at the same moment and was stored first.
        winner = await Filing.get_or_none(filing_id=webhook_id)
        if winner is None:
            raise
        return _repeat(winner, body_sha256)
    return Answer(201, receipt_type, receipt_body)


def _repeat(filing: Filing, body_sha256: str) -> Answer:
    if filing.body_sha256 != body_sha256:
        return _error(409, "filing_id_reused")
    return Answer(200, filing.receipt_content_type, filing.receipt_body.encode("utf-8"))


def _names(package: Mapping[str, object], side: str) -> str:
    parties = package.get("parties")
    names = [
        str(party.get("name"))
        for party in (parties if isinstance(parties, list) else [])
        if isinstance(party, dict) and party.get("side") == side
    ]
    joined = "、".join(names)
    return joined if len(joined) <= 300 else joined[:299] + "…"
