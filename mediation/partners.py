"""Partner platforms pushing disputes by API: checking their keys (issued by
`cases.accounts.actions.do_create_partner`), and idempotent filing.

A request carries an Idempotency-Key. The key is claimed in the same transaction that files
the case, so a retried request (or two racing copies) never creates a second case: the
second sees the first's stored answer, or waits on the unique index until it is committed.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from tortoise.exceptions import IntegrityError

from cases.accounts.actions import partner_key_sha256
from cases.accounts.models import IdempotencyRecord, PartnerPlatform
from cases.actions import Filer
from cases.errors import CaseError, CaseNotFound
from cases.intake import FilingInvalid, Upload, file_dispute_reporting
from cases.models import Case, TimelineEvent
from cases.pause import pause_point
from cases.timeline import EventKind
from cases.transactions import atomic
from mediation.settings import Settings

KEY_PREFIX_MAX = 16  # PartnerPlatform.key_prefix


class PartnerError(CaseError):
    pass


class Unauthorised(PartnerError):
    status_code = 401


class IdempotencyConflict(PartnerError):
    status_code = 422


def _sha256(value: str | bytes) -> str:
    return hashlib.sha256(value.encode() if isinstance(value, str) else value).hexdigest()


async def access_partner(authorization: str | None) -> PartnerPlatform:
    scheme, _, key = (authorization or "").partition(" ")
    prefix = key.split(".", 1)[0]
    # A prefix longer than the column is no key of ours (and the ORM refuses to look it up).
    if scheme.lower() != "bearer" or "." not in key or len(prefix) > KEY_PREFIX_MAX:
        raise Unauthorised("unauthorised")
    partner = await PartnerPlatform.get_or_none(key_prefix=prefix, is_active=True)
    # Compare digests in constant time; a missing partner costs the same as a wrong key.
    expected = partner.key_sha256 if partner else "0" * 64
    if not hmac.compare_digest(expected, partner_key_sha256(key)) or partner is None:
        raise Unauthorised("unauthorised")
    return partner


@dataclass(frozen=True)
class ApiAnswer:
    status_code: int
    body: dict[str, Any]
    replayed: bool = False


def canonical_request(body: Mapping[str, Any]) -> str:
    return _sha256(json.dumps(body, sort_keys=True, ensure_ascii=False, separators=(",", ":")))


async def case_summary(case: Case) -> dict[str, Any]:
    events = await TimelineEvent.filter(case=case, kind=EventKind.STATUS_CHANGED).order_by(
        "at", "id"
    )
    return {
        "case_number": case.number,
        "partner_reference": case.partner_reference,
        "status": str(case.status),
        "created_at": case.created_at.isoformat(),
        "respondent_reply_due": (
            case.respondent_reply_due.isoformat() if case.respondent_reply_due else None
        ),
        "closed_reason": case.closed_reason or None,
        "history": [
            {"at": e.at.isoformat(), "from": e.data["status"][0], "to": e.data["status"][1]}
            for e in events
        ],
    }


async def merged_summary(case: Case, fields: Mapping[str, str]) -> dict[str, Any]:
    """The answer to a filing merged into an open case of the same dispute (one dispute,
    one number: cases.duplicates): 200, the case's number as `merged_into` (and
    `case_number`), this filing's own reference (not the case's, which may be another
    source's), and the case as it stands."""
    return {
        **await case_summary(case),
        "partner_reference": fields.get("partner_reference") or None,
        "merged_into": case.number,
    }


async def do_partner_filing(
    settings: Settings,
    partner: PartnerPlatform,
    idempotency_key: str,
    body: Mapping[str, Any],
    fields: Mapping[str, str],
    uploads: Sequence[Upload],
    now: datetime,
    describe_invalid: Callable[[FilingInvalid], dict[str, Any]],
) -> ApiAnswer:
    request_hash = canonical_request(body)
    try:
        async with atomic():
            record = await IdempotencyRecord.create(
                partner=partner,
                key=idempotency_key,
                request_sha256=request_hash,
                status_code=0,
                response_body={},
            )
            # The key is claimed (the unique index holds a second request here until this
            # one commits): where the concurrency tests hold a request (cases.pause).
            await pause_point("partner_filing")
            try:
                async with atomic():  # a savepoint: an invalid filing leaves no rows
                    filed = await file_dispute_reporting(
                        settings,
                        fields,
                        uploads,
                        Filer(
                            partner_id=partner.id,
                            partner_name=partner.name,
                            partner_reference=fields.get("partner_reference") or None,
                        ),
                        now,
                        keep_good_files=False,  # an API client resends its files anyway
                        idempotency_key=idempotency_key,
                    )
                answer = (
                    ApiAnswer(200, await merged_summary(filed.case, fields))
                    if filed.merged
                    else ApiAnswer(201, await case_summary(filed.case))
                )
            except FilingInvalid as invalid:
                answer = ApiAnswer(422, describe_invalid(invalid))
            record.status_code = answer.status_code
            record.response_body = answer.body
            await record.save(update_fields=["status_code", "response_body"])
            return answer
    except IntegrityError as error:
        conflict = error
    # The key (or the partner's reference) was used before: replay the stored answer.
    stored = await IdempotencyRecord.get_or_none(partner=partner, key=idempotency_key)
    if stored is None:
        reference = fields.get("partner_reference") or None
        # Without a reference there is nothing to replay (a NULL reference matches no case).
        existing = (
            await Case.get_or_none(partner=partner, partner_reference=reference)
            if reference
            else None
        )
        if existing is None:
            raise conflict
        return ApiAnswer(200, await case_summary(existing), replayed=True)
    if stored.request_sha256 != request_hash:
        raise IdempotencyConflict("idempotency_key_reused")
    return ApiAnswer(stored.status_code, stored.response_body, replayed=True)


async def access_partner_case(partner: PartnerPlatform, number: str) -> Case:
    case = await Case.get_or_none(number=number, partner=partner)
    if case is None:
        raise CaseNotFound("case_not_found")
    return case
