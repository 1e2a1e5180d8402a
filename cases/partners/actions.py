"""The partner API's actions: checking a partner's key, idempotent filing (one or a batch),
the order snapshot kept with the case, attachments, the partner's list of its disputes and
the merchant's moves made by a partner the merchant delegated to.

A filing carries an idempotency key (the request's header, or each batch item's own). The key
is claimed in the same transaction that files the case, so a retried request (or two racing
copies) never creates a second case: the second sees the first's stored answer, or waits on
the unique index until it is committed.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from tortoise.exceptions import IntegrityError, OperationalError
from tortoise.expressions import Q, Subquery

from cases.access import Viewer
from cases.accounts.actions import partner_key_sha256
from cases.accounts.models import IdempotencyRecord, PartnerPlatform
from cases.actions import Filer, _add_evidence
from cases.duplicates.actions import Received
from cases.duplicates.models import CaseSource
from cases.errors import CaseError, CaseNotFound
from cases.filing import Filing, check_filing
from cases.intake import (
    FilingInvalid,
    Upload,
    check_uploads,
    file_dispute_reporting,
    file_disputes_together,
    store_uploads,
)
from cases.models import Case, Side, TimelineEvent
from cases.negotiation.models import Negotiation
from cases.partners.models import OrderSnapshot
from cases.partners.rules import (
    CheckedOrder,
    InboxQuery,
    ListQuery,
    Position,
    canonical_json,
    check_order,
    encode_cursor,
    sha256_hex,
)
from cases.pause import pause_point
from cases.rows import Row, insert_rows
from cases.settings import Settings
from cases.timeline import EventKind
from cases.transactions import atomic, locked_case

KEY_PREFIX_MAX = 16  # PartnerPlatform.key_prefix

log = logging.getLogger(__name__)


class PartnerError(CaseError):
    pass


class Unauthorised(PartnerError):
    status_code = 401


class IdempotencyConflict(PartnerError):
    status_code = 422


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


# What the shell says of a refused filing and of a timeline event, in the reader's language.
DescribeInvalid = Callable[[FilingInvalid], dict[str, Any]]
DescribeEvent = Callable[[TimelineEvent], dict[str, Any]]


def canonical_request(body: Mapping[str, Any]) -> str:
    return hashlib.sha256(canonical_json(body).encode()).hexdigest()


async def case_summary(
    case: Case, describe_event: DescribeEvent, reader: PartnerPlatform | None = None
) -> dict[str, Any]:
    """A dispute as its partner reads it: status, times, the order snapshot's digest, and
    its history (the status changes by code, and the whole timeline in words and codes).

    A partner whose filing was merged into another's case (one dispute, one number) reads
    its own reference and no other partner's order snapshot."""
    events = await TimelineEvent.filter(case=case).order_by("at", "id")
    snapshot = await order_snapshot_of(case, reader.id if reader else case.partner_id)
    reference = case.partner_reference
    if reader is not None and case.partner_id != reader.id:
        reference = await own_reference(case, reader)
    order = (
        order_answer(snapshot.order_number, snapshot.sha256, snapshot.received_at)
        if snapshot
        else None
    )
    return summary_of(case, events, order, reference, describe_event)


def order_answer(order_number: str, sha256: str, received_at: datetime) -> dict[str, Any]:
    """What an answer says of the order snapshot kept with the case."""
    return {"order_number": order_number, "sha256": sha256, "received_at": received_at.isoformat()}


def summary_of(
    case: Case,
    events: Sequence[TimelineEvent],
    order: dict[str, Any] | None,
    reference: str | None,
    describe_event: DescribeEvent,
) -> dict[str, Any]:
    """What `case_summary` answers, from the case's events (in order) and what it says of
    the order snapshot (`order_answer`)."""
    return {
        "case_number": case.number,
        "partner_reference": reference,
        "status": str(case.status),
        "created_at": case.created_at.isoformat(),
        "updated_at": case.updated_at.isoformat(),
        "respondent_reply_due": (
            case.respondent_reply_due.isoformat() if case.respondent_reply_due else None
        ),
        "closed_reason": case.closed_reason or None,
        "order": order,
        "history": [
            {"at": e.at.isoformat(), "from": e.data["status"][0], "to": e.data["status"][1]}
            for e in events
            if e.kind == EventKind.STATUS_CHANGED
        ],
        "timeline": [describe_event(e) for e in events],
    }


def _order_invalid(
    fields: Mapping[str, str], uploads: Sequence[Upload], order_errors: dict[str, str]
) -> FilingInvalid:
    """Every error of a filing whose order is wrong (the fields' and files' too), so the
    partner can correct all of them at once."""
    _, field_errors = check_filing(fields)
    _, file_errors = check_uploads(uploads)
    return FilingInvalid({**field_errors, **order_errors}, file_errors)


async def do_partner_filing(
    settings: Settings,
    partner: PartnerPlatform,
    idempotency_key: str,
    body: Mapping[str, Any],
    fields: Mapping[str, str],
    uploads: Sequence[Upload],
    now: datetime,
    describe_invalid: DescribeInvalid,
    describe_event: DescribeEvent,
) -> ApiAnswer:
    """File one dispute for `partner` under its idempotency key: 201 filed, 422 refused
    (field errors; the refusal is kept for the key too), or the first answer replayed."""
    request_hash = canonical_request(body)
    order, order_errors, fields = _with_order(body, fields)
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
                if order_errors:
                    raise _order_invalid(fields, uploads, order_errors)
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
                    case = filed.case
                    # Each filing's order is kept as its partner gave it, a filing merged into
                    # an open case of the same dispute too (the case page shows them all).
                    if order is not None:
                        await OrderSnapshot.create(**_snapshot_row(case, partner, order, now))
                if filed.merged:
                    # One dispute, one number: 200, the open case's number as merged_into.
                    summary = await case_summary(case, describe_event, partner)
                    answer = ApiAnswer(200, {**summary, "merged_into": case.number})
                else:
                    answer = ApiAnswer(201, await case_summary(case, describe_event))
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
        return ApiAnswer(200, await case_summary(existing, describe_event), replayed=True)
    if stored.request_sha256 != request_hash:
        raise IdempotencyConflict("idempotency_key_reused")
    return ApiAnswer(stored.status_code, stored.response_body, replayed=True)


def _with_order(
    body: Mapping[str, Any], fields: Mapping[str, str]
) -> tuple[CheckedOrder | None, dict[str, str], Mapping[str, str]]:
    """The filing's order checked, its errors, and the filing's fields with the order's
    number (one dispute, one number: the filing's order number is the order's own)."""
    if "order" not in body:  # null is no order: the description says an object
        return None, {}, fields
    order, errors = check_order(body["order"])
    if order is None:
        return None, errors, fields
    return order, errors, {"order_number": order.order_number, **fields}


def _snapshot_row(case: Case, partner: PartnerPlatform, order: CheckedOrder, now: datetime) -> Row:
    """The order as the partner sent it, kept with the case (not yet written)."""
    return {
        "case_id": case.id,
        "partner_id": partner.id,
        "order_number": order.order_number,
        "canonical": order.canonical,
        "sha256": order.sha256,
        "received_at": now,
    }


@dataclass(frozen=True)
class BatchItem:
    """One item of a batch as the shell read it: its key and body, and either the filing's
    fields and files or the code of what is wrong with its shape (then nothing is filed)."""

    idempotency_key: str
    body: Mapping[str, Any]
    fields: Mapping[str, str]
    uploads: Sequence[Upload]
    refused: tuple[int, dict[str, Any]] | None = None


# Items of a batch filed at once (within the database pool's connections).
BATCH_FILINGS_AT_ONCE = 4


async def do_batch_filing(
    settings: Settings,
    partner: PartnerPlatform,
    items: Sequence[BatchItem],
    now: datetime,
    describe_invalid: DescribeInvalid,
    describe_error: Callable[[str], dict[str, Any]],
    describe_event: DescribeEvent,
) -> list[ApiAnswer]:
    """File each item as if it came alone (its own key): one item's refusal never undoes
    another's filing, and a batch sent again replays every item's first answer.

    The items that are plainly new (valid, no files, a key and a reference not seen before,
    no open case of the same dispute) are filed together, in one transaction with one
    statement per table (`file_disputes_together`); every other item, and all of them if
    that transaction fails (a copy of an item racing in another request), is filed on its
    own, several at once (each on its own connection), exactly as a single request would
    be. The answers keep the items' order."""
    answers: list[ApiAnswer | None] = [
        ApiAnswer(*item.refused) if item.refused is not None else None for item in items
    ]
    positions = [i for i, answer in enumerate(answers) if answer is None]
    offered = [Offered(partner, items[i], describe_event) for i in positions]
    for at, answer in (await file_together(settings, offered, now)).items():
        answers[positions[at]] = answer
    gate = asyncio.Semaphore(BATCH_FILINGS_AT_ONCE)

    async def file_one(item: BatchItem) -> ApiAnswer:
        async with gate:
            try:
                return await do_partner_filing(
                    settings,
                    partner,
                    item.idempotency_key,
                    item.body,
                    item.fields,
                    item.uploads,
                    now,
                    describe_invalid,
                    describe_event,
                )
            except IdempotencyConflict as conflict:
                return ApiAnswer(conflict.status_code, describe_error(conflict.code))

    alone = [i for i, answer in enumerate(answers) if answer is None]
    for index, answer in zip(
        alone, await asyncio.gather(*(file_one(items[i]) for i in alone)), strict=True
    ):
        answers[index] = answer
    return [answer for answer in answers if answer is not None]


@dataclass(frozen=True)
class Offered:
    """A filing offered to be filed together with others: a batch's item, or a single
    request gathered with others that arrived at the same time (`FilingGathering`). Each
    keeps its own partner and its own reader's words for the answer."""

    partner: PartnerPlatform
    item: BatchItem
    describe_event: DescribeEvent


@dataclass(frozen=True)
class _Plain:
    """An offered filing that can be filed together with others."""

    at: int
    offered: Offered
    filing: Filing
    order: CheckedOrder | None
    filer: Filer

    @property
    def key(self) -> tuple[int, str]:
        return (self.offered.partner.id, self.offered.item.idempotency_key)

    @property
    def reference(self) -> tuple[int, str] | None:
        reference = self.filer.partner_reference
        return None if reference is None else (self.offered.partner.id, reference)


def _ready(item: BatchItem) -> tuple[Filing, CheckedOrder | None, str | None] | None:
    """A filing's checked fields, order and reference, or None when it must be filed alone:
    refused (its answer names every error), or with files."""
    if item.refused is not None or item.uploads:
        return None
    order, order_errors, fields = _with_order(item.body, item.fields)
    filing, _ = check_filing(fields)
    if filing is None or order_errors:
        return None
    return filing, order, fields.get("partner_reference") or None


def could_be_filed_together(item: BatchItem) -> bool:
    """Whether a single request is worth gathering with others (the checks are made again
    where the filings are filed)."""
    return _ready(item) is not None


def _plain(at: int, offered: Offered) -> _Plain | None:
    ready = _ready(offered.item)
    if ready is None:
        return None
    filing, order, reference = ready
    partner = offered.partner
    filer = Filer(partner_id=partner.id, partner_name=partner.name, partner_reference=reference)
    return _Plain(at, offered, filing, order, filer)


async def file_together(
    settings: Settings, offered: Sequence[Offered], now: datetime
) -> dict[int, ApiAnswer]:
    """File the plainly new filings among `offered` together, in one transaction with one
    statement per table; their answers by position in `offered`. None is answered for a
    filing that must be filed alone: refused, with files, a key or reference seen before or
    repeated among the offered, an open case of the same dispute, or all of them when fewer
    than two are plain or the transaction fails (a racing copy took a key, reference or
    pair first: nothing of it is kept)."""
    plain: list[_Plain] = []
    keys: set[tuple[int, str]] = set()
    references: set[tuple[int, str]] = set()
    for at, one in enumerate(offered):
        candidate = _plain(at, one)
        if candidate is None or candidate.key in keys or candidate.reference in references:
            continue
        keys.add(candidate.key)
        if candidate.reference is not None:
            references.add(candidate.reference)
        plain.append(candidate)
    if len(plain) < 2:
        return {}
    partner_ids = sorted({p.offered.partner.id for p in plain})
    # Keys and references seen before are replayed (or refused) by the one-by-one path.
    seen_keys = set(
        await IdempotencyRecord.filter(
            partner_id__in=partner_ids, key__in=sorted({key for _, key in keys})
        ).values_list("partner_id", "key")
    )
    seen_references = (
        set(
            await Case.filter(
                partner_id__in=partner_ids,
                partner_reference__in=sorted({reference for _, reference in references}),
            ).values_list("partner_id", "partner_reference")
        )
        if references
        else set()
    )
    plain = [p for p in plain if p.key not in seen_keys and p.reference not in seen_references]
    if len(plain) < 2:
        return {}
    # Keys are claimed in one order by every request, so two requests sharing keys never
    # wait on each other in a circle.
    plain.sort(key=lambda p: p.key)
    try:
        async with atomic():
            await insert_rows(
                IdempotencyRecord,
                [
                    {
                        "partner_id": p.offered.partner.id,
                        "key": p.offered.item.idempotency_key,
                        "request_sha256": canonical_request(p.offered.item.body),
                        "status_code": 0,
                        "response_body": {},
                        "created_at": now,
                    }
                    for p in plain
                ],
            )
            await pause_point("partner_batch")
            cases = await file_disputes_together(
                settings,
                [(p.filing, Received(p.filer, now, p.offered.item.idempotency_key)) for p in plain],
                now,
            )
            filed = [(p, case) for p, case in zip(plain, cases, strict=True) if case is not None]
            unfiled = [p for p, case in zip(plain, cases, strict=True) if case is None]
            if unfiled:
                # Filed alone after this commits: the key is claimed again there.
                await IdempotencyRecord.filter(_keys_matching([p.key for p in unfiled])).delete()
            snapshots = {
                case.id: _snapshot_row(case, p.offered.partner, p.order, now)
                for p, case in filed
                if p.order is not None
            }
            await insert_rows(OrderSnapshot, list(snapshots.values()))
            events: dict[int, list[TimelineEvent]] = {}
            for event in await TimelineEvent.filter(
                case_id__in=[case.id for _, case in filed]
            ).order_by("case_id", "at", "id"):
                events.setdefault(event.case_id, []).append(event)
            answers = {
                p.key: ApiAnswer(
                    201,
                    summary_of(
                        case,
                        events.get(case.id, []),
                        _order_of(snapshots.get(case.id)),
                        case.partner_reference,
                        p.offered.describe_event,
                    ),
                )
                for p, case in filed
            }
            records = await IdempotencyRecord.filter(_keys_matching(list(answers)))
            for record in records:
                answer = answers[(record.partner_id, record.key)]
                record.status_code = answer.status_code
                record.response_body = answer.body
            await IdempotencyRecord.bulk_update(records, fields=["status_code", "response_body"])
    except OperationalError as error:
        # A copy of an item in another request got its key, reference or pair first (or
        # PostgreSQL broke a wait between the two): nothing of this transaction was kept,
        # and every item is filed alone, where such a copy is answered as it should be.
        log.info("%d filings filed one by one: %s", len(plain), error)
        return {}
    return {p.at: answers[p.key] for p, _ in filed}


def _order_of(snapshot: Row | None) -> dict[str, Any] | None:
    if snapshot is None:
        return None
    return order_answer(snapshot["order_number"], snapshot["sha256"], snapshot["received_at"])


def _keys_matching(keys: Sequence[tuple[int, str]]) -> Q:
    """The idempotency records of these (partner, key) pairs."""
    by_partner: dict[int, list[str]] = {}
    for partner_id, key in keys:
        by_partner.setdefault(partner_id, []).append(key)
    return Q(
        *(Q(partner_id=partner_id, key__in=sorted(k)) for partner_id, k in by_partner.items()),
        join_type=Q.OR,
    )


async def access_partner_case(partner: PartnerPlatform, number: str) -> Case:
    """A case this partner filed, or one its filing of the same dispute was merged into;
    CaseNotFound for any other (never another's data)."""
    case = await Case.get_or_none(number=number)
    if case is None or (
        case.partner_id != partner.id
        and not await CaseSource.exists(case_id=case.id, partner_id=partner.id)
    ):
        raise CaseNotFound("case_not_found")
    return case


async def partner_cases(
    partner: PartnerPlatform, query: ListQuery
) -> tuple[list[Case], str | None]:
    """One page of the partner's disputes, oldest change first, and the cursor of the next
    page (None on the last). A partner's disputes are those it filed and those its filings
    were merged into."""
    merged_into = CaseSource.filter(partner_id=partner.id, merged=True).values("case_id")
    cases = Case.filter(Q(partner=partner) | Q(id__in=Subquery(merged_into)))
    if query.statuses:
        cases = cases.filter(status__in=sorted(query.statuses))
    if query.updated_since is not None:
        cases = cases.filter(updated_at__gte=query.updated_since)
    if query.after is not None:
        at, after_id = query.after.updated_at, query.after.case_id
        cases = cases.filter(Q(updated_at__gt=at) | Q(updated_at=at, id__gt=after_id))
    page = await cases.order_by("updated_at", "id").limit(query.limit + 1)
    if len(page) <= query.limit:
        return page, None
    page = page[: query.limit]
    last = page[-1]
    return page, encode_cursor(Position(last.updated_at, last.id))


async def order_snapshot_of(case: Case, partner_id: int | None) -> OrderSnapshot | None:
    """The order this partner provided with its (first) filing of the case."""
    return (
        await OrderSnapshot.filter(case_id=case.id, partner_id=partner_id)
        .order_by("received_at", "id")
        .first()
    )


async def order_snapshots(case: Case) -> list[OrderSnapshot]:
    """Every order provided for the case, oldest first, with its partner."""
    return (
        await OrderSnapshot.filter(case_id=case.id)
        .order_by("received_at", "id")
        .prefetch_related("partner")
    )


async def own_reference(case: Case, partner: PartnerPlatform) -> str | None:
    """The reference a partner gave its filing merged into `case`."""
    source = await CaseSource.filter(case_id=case.id, partner_id=partner.id).first()
    return source.partner_reference if source is not None else None


@dataclass(frozen=True)
class Attached:
    filename: str
    media_type: str
    size: int
    sha256: str
    repeated: bool  # the case already had this content: nothing was added


async def do_attach(
    settings: Settings, partner: PartnerPlatform, number: str, upload: Upload, now: datetime
) -> Attached:
    """Add one file to a dispute the partner filed, checked like a web upload (sniffed
    content, allowed types, size and image limits): the applicant's evidence, with the
    partner named as who added it. The same content again adds nothing (one content, one
    evidence item), so a retried upload is harmless."""
    case = await access_partner_case(partner, number)
    accepted, errors = check_uploads([upload])
    if errors:
        code, name = errors[0]
        raise FilingInvalid({}, [(code, name)])
    stored = store_uploads(settings, accepted)
    async with atomic():
        # The case row's lock: two uploads of one file at once are served one at a time.
        locked = await locked_case(case.id)
        added, _ = await _add_evidence(
            locked, Side.APPLICANT, stored, now, None, actor_label=f"partner:{partner.name}"
        )
    item = stored[0]
    return Attached(item.filename, item.media_type, item.size, item.sha256, not added)


# --- answering first for merchants that delegated to the partner ----------------------------


def partner_viewer(partner: PartnerPlatform) -> Viewer:
    """The partner as it acts in a negotiation: no user of the platform (user id 0 is
    nobody's), only the merchant's side where the merchant delegated to it."""
    return Viewer(user_id=0, role="partner", partner_id=partner.id)


async def delegated_negotiation(partner: PartnerPlatform, number: str) -> Negotiation:
    """The negotiation of a dispute against a merchant that delegated to this partner;
    CaseNotFound for any other case (the partner learns nothing of it)."""
    negotiation = await Negotiation.filter(
        case__number=number, merchant__delegated_to_id=partner.id
    ).first()
    if negotiation is None:
        raise CaseNotFound("case_not_found")
    return negotiation


async def delegated_negotiations(
    partner: PartnerPlatform, query: InboxQuery
) -> tuple[list[Negotiation], str | None]:
    """One page of the negotiations of merchants that delegated to this partner (its inbox
    as first responder), oldest first, and the next page's cursor (None on the last)."""
    found = Negotiation.filter(merchant__delegated_to_id=partner.id)
    if query.states:
        found = found.filter(state__in=sorted(query.states))
    if query.after is not None:
        at, after_id = query.after.updated_at, query.after.case_id
        found = found.filter(Q(started_at__gt=at) | Q(started_at=at, id__gt=after_id))
    page = (
        await found.order_by("started_at", "id")
        .limit(query.limit + 1)
        .prefetch_related("case", "merchant")
    )
    if len(page) <= query.limit:
        return page, None
    page = page[: query.limit]
    last = page[-1]
    return page, encode_cursor(Position(last.started_at, last.id))


async def active_partners() -> list[PartnerPlatform]:
    """The partner platforms a merchant may let answer first for it."""
    return await PartnerPlatform.filter(is_active=True).order_by("name")


def snapshot_digest_matches(snapshot: OrderSnapshot) -> bool:
    """The stored text still has the digest taken on receipt."""
    return sha256_hex(snapshot.canonical) == snapshot.sha256
