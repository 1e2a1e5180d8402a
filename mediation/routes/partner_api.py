"""The partner-platform JSON API v1 (OpenAPI described, mediation/openapi.py): file disputes
one by one or in batches, list and read them, attach files, read the order snapshot, and
answer first for merchants that delegated to the partner. Thin: the actions are in
cases.partners.actions and cases.negotiation.actions."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from cases.clock import utcnow
from cases.errors import CaseError, CaseNotFound
from cases.evidence_files import MAX_EVIDENCE_BYTES
from cases.filing import REQUIRED_CONSENTS
from cases.intake import FilingInvalid, Upload
from cases.models import TimelineEvent
from cases.negotiation import actions as negotiation
from cases.negotiation.actions import NegotiationError
from cases.negotiation.models import Negotiation, NegotiationMessage
from cases.partners.actions import (
    ApiAnswer,
    BatchItem,
    access_partner,
    access_partner_case,
    case_summary,
    delegated_negotiation,
    delegated_negotiations,
    do_attach,
    do_batch_filing,
    order_snapshot_of,
    own_reference,
    partner_cases,
    partner_viewer,
)
from cases.partners.gathering import do_gathered_filing
from cases.partners.rules import (
    MAX_BATCH_ITEMS,
    check_inbox_query,
    check_list_query,
    idempotency_key_error,
)
from mediation.openapi import filing_properties, openapi_document
from mediation.partners import rate_limit
from mediation.web import error_text, locale_of, settings_of, timeline_words_in
from realtime.text import JsonRefused, read_json

MAX_BODY = 40 * 1024 * 1024  # ten 20 MB files would not fit base64-encoded; partners batch
# A filing is an object of fields, a list of evidence objects and the order (an object with
# lists of objects: items, the chat excerpt); one more level lets a wrongly typed field deep
# inside get its own clear error. A batch wraps filings in a list of item objects.
MAX_JSON_DEPTH = 5
MAX_BATCH_DEPTH = MAX_JSON_DEPTH + 3
MAX_MOVE_DEPTH = 2  # a negotiation move: an object of plain values
MAX_FILENAME_PARAM = 200  # as described; the stored name is shortened further (evidence_files)


def api_error(request: Request, code: str, status: int, **extra: Any) -> JSONResponse:
    return JSONResponse({"error": code, "message": error_text(request, code), **extra}, status)


def error_body(request: Request) -> Callable[[str], dict[str, Any]]:
    return lambda code: {"error": code, "message": error_text(request, code)}


def describe_invalid(request: Request) -> Callable[[FilingInvalid], dict[str, Any]]:
    def describe(invalid: FilingInvalid) -> dict[str, Any]:
        return {
            "error": "invalid_input",
            "message": error_text(request, "invalid_input"),
            "fields": {
                name: {"code": code, "message": error_text(request, code)}
                for name, code in invalid.field_errors.items()
            },
            "files": [
                {"code": code, "filename": name, "message": error_text(request, code, name=name)}
                for code, name in invalid.file_errors
            ],
        }

    return describe


class _EventView:
    """A stored event as the record's words read it (no names: the partner sees roles)."""

    def __init__(self, event: TimelineEvent) -> None:
        self.kind = event.kind
        self.data = event.data
        self.actor_label = event.actor_label or ""
        self.actor_name = ""


def describe_event(request: Request) -> Callable[[TimelineEvent], dict[str, Any]]:
    locale = locale_of(request)

    def describe(event: TimelineEvent) -> dict[str, Any]:
        words = timeline_words_in(locale, _EventView(event))
        return {
            "at": event.at.isoformat(),
            "kind": event.kind,
            "what": words.what,
            "who": words.who or None,
            "details": list(words.details),
        }

    return describe


BOOLEAN_FIELDS = frozenset({"has_arbitration_clause", *REQUIRED_CONSENTS})
NOT_FORM_FIELDS = frozenset({"evidence", "order"})  # read apart from the form's fields


def fields_and_uploads(body: Any) -> tuple[dict[str, str], list[Upload]] | str:
    """The filing's fields as the web form would send them, and its files; or the error
    code of what is wrong with the request's shape (its strings were checked on reading).

    Types are as the OpenAPI description says (booleans for the consents and the
    arbitration clause, text for every other field, no other fields), so that what the
    description refuses the API refuses too. The order is checked by the action."""
    if not isinstance(body, dict):
        return "invalid_json"
    described = filing_properties()
    fields: dict[str, str] = {}
    for key, value in body.items():
        if key not in described:
            return "unknown_field"
        if key in NOT_FORM_FIELDS:
            continue
        if key in BOOLEAN_FIELDS:
            if not isinstance(value, bool):
                return "invalid_field_type"
            fields[key] = "on" if value else ""
        elif isinstance(value, str):
            fields[key] = value
        else:
            return "invalid_field_type"
    evidence = body.get("evidence", [])
    if not isinstance(evidence, list):
        return "invalid_evidence"
    uploads = []
    for item in evidence:
        if not isinstance(item, dict) or not set(item) <= {"filename", "content_base64"}:
            return "invalid_evidence"
        content, filename = item.get("content_base64"), item.get("filename")
        if not isinstance(content, str) or not isinstance(filename, str):
            return "invalid_evidence"
        try:
            data = base64.b64decode(content, validate=True)
        except (binascii.Error, ValueError):
            return "evidence_not_base64"
        uploads.append(Upload(filename, data))
    return fields, uploads


def _shape_status(code: str) -> int:
    # The right shape with content that is not base64 is a field error (the description
    # says "string"; no JSON Schema pattern says "base64" for every reader alike).
    return 422 if code in {"evidence_not_base64", "bad_text"} else 400


async def partner_of(request: Request) -> Any:
    """The partner whose key the request carries, within its rate limit (429 otherwise)."""
    partner = await access_partner(request.headers.get("authorization"))
    await rate_limit(request, partner.key_prefix)
    return partner


async def _json_body(request: Request, depth: int) -> Any | JSONResponse:
    raw = await request.body()
    if len(raw) > MAX_BODY:
        return api_error(request, "request_too_large", 413)
    try:
        return read_json(raw, depth)
    except JsonRefused as refused:
        # Text that may not be stored is a field error in substance (422); anything that
        # is not a readable JSON document at all is a malformed request (400).
        return api_error(request, refused.code, 422 if refused.code == "bad_text" else 400)


def _answer(answer: ApiAnswer) -> JSONResponse:
    headers = {"Idempotent-Replayed": "true"} if answer.replayed else {}
    return JSONResponse(answer.body, answer.status_code, headers=headers)


async def create_dispute(request: Request) -> Response:
    partner = await partner_of(request)
    key = request.headers.get("idempotency-key", "")
    if (key_error := idempotency_key_error(key)) is not None:
        return api_error(request, key_error, 400)
    body = await _json_body(request, MAX_JSON_DEPTH)
    if isinstance(body, JSONResponse):
        return body
    parsed = fields_and_uploads(body)
    if isinstance(parsed, str):
        return api_error(request, parsed, _shape_status(parsed))
    fields, uploads = parsed
    answer = await do_gathered_filing(
        request.app.state.filing_gathering,
        settings_of(request),
        partner,
        key,
        body,
        fields,
        uploads,
        utcnow(),
        describe_invalid(request),
        describe_event(request),
    )
    return _answer(answer)


def _batch_item(request: Request, item: Any) -> BatchItem:
    """One item of a batch: what the filing action needs, or its refusal (an item of the
    wrong shape is refused alone, with the status a single request would get)."""
    key = item.get("idempotency_key") if isinstance(item, dict) else None
    shown_key = key if isinstance(key, str) else ""
    if not isinstance(item, dict) or not set(item) <= {"idempotency_key", "dispute"}:
        return BatchItem(shown_key, {}, {}, [], (400, error_body(request)("batch_invalid")))
    if (key_error := idempotency_key_error(key)) is not None:
        return BatchItem(shown_key, {}, {}, [], (400, error_body(request)(key_error)))
    body = item.get("dispute")
    parsed = fields_and_uploads(body)
    if isinstance(parsed, str):
        status = _shape_status(parsed)
        return BatchItem(shown_key, {}, {}, [], (status, error_body(request)(parsed)))
    assert isinstance(body, dict)
    return BatchItem(shown_key, body, parsed[0], parsed[1])


async def create_disputes_in_batch(request: Request) -> Response:
    """Up to 500 filings, each with its own key; 207 with a result per item, in order."""
    partner = await partner_of(request)
    body = await _json_body(request, MAX_BATCH_DEPTH)
    if isinstance(body, JSONResponse):
        return body
    items = body.get("items") if isinstance(body, dict) else None
    if (
        not isinstance(body, dict)
        or set(body) != {"items"}
        or not isinstance(items, list)
        or not 1 <= len(items) <= MAX_BATCH_ITEMS
        or not all(isinstance(item, dict) for item in items)
    ):
        return api_error(request, "batch_invalid", 400)
    batch = [_batch_item(request, item) for item in items]
    answers = await do_batch_filing(
        settings_of(request),
        partner,
        batch,
        utcnow(),
        describe_invalid(request),
        error_body(request),
        describe_event(request),
    )
    results = [
        {
            "index": index,
            "idempotency_key": item.idempotency_key,
            "status": answer.status_code,
            "replayed": answer.replayed,
            "body": answer.body,
        }
        for index, (item, answer) in enumerate(zip(batch, answers, strict=True))
    ]
    created = sum(1 for a in answers if a.status_code == 201 and not a.replayed)
    replayed = sum(1 for a in answers if a.replayed and a.status_code < 300)
    return JSONResponse(
        {
            "created": created,
            "replayed": replayed,
            "refused": len(answers) - created - replayed,
            "results": results,
        },
        207,
    )


def _list_item(case: Any, reference: str | None) -> dict[str, Any]:
    return {
        "case_number": case.number,
        "partner_reference": reference,
        "status": str(case.status),
        "created_at": case.created_at.isoformat(),
        "updated_at": case.updated_at.isoformat(),
    }


async def list_disputes(request: Request) -> Response:
    partner = await partner_of(request)
    query, error = check_list_query(request.query_params)
    if query is None:
        return api_error(request, error or "invalid_input", 400)
    cases, cursor = await partner_cases(partner, query)
    # A case another partner opened, that this one's filing was merged into: its own reference.
    data = [
        _list_item(
            c,
            c.partner_reference if c.partner_id == partner.id else await own_reference(c, partner),
        )
        for c in cases
    ]
    return JSONResponse({"data": data, "next_cursor": cursor})


async def dispute_status(request: Request) -> Response:
    partner = await partner_of(request)
    case = await access_partner_case(partner, request.path_params["number"])
    return JSONResponse(await case_summary(case, describe_event(request), partner))


async def dispute_order(request: Request) -> Response:
    """The order snapshot exactly as received (its canonical JSON), its digest and time."""
    partner = await partner_of(request)
    case = await access_partner_case(partner, request.path_params["number"])
    snapshot = await order_snapshot_of(case, partner.id)
    if snapshot is None:
        return api_error(request, "no_order_snapshot", 404)
    return JSONResponse(
        {
            "case_number": case.number,
            "order": read_json(snapshot.canonical, 64),
            "canonical_json": snapshot.canonical,
            "sha256": snapshot.sha256,
            "received_at": snapshot.received_at.isoformat(),
        }
    )


async def attach(request: Request) -> Response:
    """One file per request, its bytes as the body and its name in `filename`; 201 when
    added, 200 when the dispute already had this content."""
    partner = await partner_of(request)
    case = await access_partner_case(partner, request.path_params["number"])
    filename = request.query_params.get("filename", "")
    if not filename or len(filename) > MAX_FILENAME_PARAM:
        return api_error(request, "filename_required", 400)  # not as the description says
    if not filename.strip():
        # As described (1 to 200 characters) but nothing a person could read: a field error.
        return api_error(request, "filename_required", 422)
    data = await request.body()
    if len(data) > MAX_EVIDENCE_BYTES:
        return api_error(request, "request_too_large", 413)
    try:
        attached = await do_attach(
            settings_of(request), partner, case.number, Upload(filename, data), utcnow()
        )
    except FilingInvalid as invalid:
        return JSONResponse(describe_invalid(request)(invalid), 422)
    return JSONResponse(
        {
            "case_number": case.number,
            "filename": attached.filename,
            "media_type": attached.media_type,
            "size": attached.size,
            "sha256": attached.sha256,
            "already_attached": attached.repeated,
        },
        200 if attached.repeated else 201,
    )


# --- answering first for a delegating merchant ----------------------------------------------


def _message(message: NegotiationMessage) -> dict[str, Any]:
    return {
        "id": message.id,
        "kind": str(message.kind),
        "side": message.side,
        "thread_id": message.thread_id,
        "text": message.text or None,
        "remedy_kind": message.remedy_kind or None,
        "amount": str(message.amount) if message.amount is not None else None,
        "conditions": message.conditions or None,
        "perform_by": message.perform_by.isoformat() if message.perform_by else None,
        "proposal_state": str(message.proposal_state) if message.proposal_state else None,
        "by_partner": message.author_partner_id is not None,
        "created_at": message.created_at.isoformat(),
    }


async def _negotiation_answer(partner: Any, number: str, status: int = 200) -> JSONResponse:
    found = await delegated_negotiation(partner, number)
    found = await Negotiation.get(id=found.id)  # read afresh after a move
    case = await found.case
    return JSONResponse(
        {
            "case_number": case.number,
            "case_status": str(case.status),
            "state": str(found.state),
            "due_on": found.due_on.isoformat() if found.due_on else None,
            "messages": [_message(m) for m in await negotiation.thread_of(found)],
        },
        status,
    )


async def negotiation_inbox(request: Request) -> Response:
    """The negotiations of the merchants that delegated their first answer to this partner."""
    partner = await partner_of(request)
    query, error = check_inbox_query(request.query_params)
    if query is None:
        return api_error(request, error or "invalid_input", 400)
    found, cursor = await delegated_negotiations(partner, query)
    return JSONResponse(
        {
            "data": [
                {
                    "case_number": n.case.number,
                    "case_status": str(n.case.status),
                    "merchant_uscc": n.merchant.uscc,
                    "merchant_name": n.merchant.name,
                    "state": str(n.state),
                    "started_at": n.started_at.isoformat(),
                    "due_on": n.due_on.isoformat() if n.due_on else None,
                    "first_answer_at": (
                        n.first_answer_at.isoformat() if n.first_answer_at else None
                    ),
                }
                for n in found
            ],
            "next_cursor": cursor,
        }
    )


async def read_negotiation(request: Request) -> Response:
    partner = await partner_of(request)
    return await _negotiation_answer(partner, request.path_params["number"])


MOVES: dict[str, frozenset[str]] = {
    "propose": frozenset({"kind", "amount", "conditions", "perform_by"}),
    "ask": frozenset({"text"}),
    "reply": frozenset({"thread_id", "text"}),
    "decline": frozenset({"reason"}),
}
MOVE_REQUIRED: dict[str, frozenset[str]] = {
    "propose": frozenset({"kind", "perform_by"}),
    "ask": frozenset({"text"}),
    "reply": frozenset({"thread_id", "text"}),
    "decline": frozenset({"reason"}),
}


async def negotiation_move(request: Request) -> Response:
    """A merchant's move made by the partner it delegated to: the same actions as the
    merchant's portal (propose, ask, reply, decline), recorded as the partner's."""
    partner = await partner_of(request)
    number = request.path_params["number"]
    move = request.url.path.rsplit("/", 1)[1]
    await delegated_negotiation(partner, number)  # 404 before reading anything else
    body = await _json_body(request, MAX_MOVE_DEPTH)
    if isinstance(body, JSONResponse):
        return body
    if not isinstance(body, dict):
        return api_error(request, "invalid_json", 400)
    if not set(body) <= MOVES[move]:
        return api_error(request, "unknown_field", 400)
    if not MOVE_REQUIRED[move] <= set(body):
        missing = sorted(MOVE_REQUIRED[move] - set(body))
        return api_error(
            request,
            "invalid_input",
            422,
            fields={
                n: {"code": "required", "message": error_text(request, "required")} for n in missing
            },
        )
    texts = {n: v for n, v in body.items() if n != "thread_id"}
    thread_id = body.get("thread_id")
    if any(not isinstance(v, str) for v in texts.values()) or (
        move == "reply" and (not isinstance(thread_id, int) or isinstance(thread_id, bool))
    ):
        return api_error(request, "invalid_field_type", 400)
    viewer = partner_viewer(partner)
    now = utcnow()
    try:
        if move == "propose":
            await negotiation.do_propose(
                viewer,
                number,
                kind=body["kind"],
                amount=body.get("amount", ""),
                conditions=body.get("conditions", ""),
                perform_by=body["perform_by"],
                now=now,
            )
        elif move == "ask":
            await negotiation.do_ask(viewer, number, body["text"], now)
        elif move == "reply":
            assert isinstance(thread_id, int)
            if not 0 < thread_id < 2**31:
                raise CaseNotFound("thread_not_found")
            await negotiation.do_reply(viewer, number, thread_id, body["text"], now)
        else:
            await negotiation.do_decline(viewer, number, body["reason"], now)
    except NegotiationError as refused:
        return api_error(
            request,
            refused.code,
            422,
            fields={
                n: {"code": c, "message": error_text(request, c)}
                for n, c in refused.field_errors.items()
            },
        )
    return await _negotiation_answer(partner, number, 201)


async def disputes(request: Request) -> Response:
    """One route for the collection, so a 405 names both of its methods (`Allow`)."""
    if request.method == "POST":
        return await create_dispute(request)
    return await list_disputes(request)


async def openapi(request: Request) -> Response:
    return JSONResponse(openapi_document(settings_of(request).base_url))


def api_exception(request: Request, error: CaseError) -> JSONResponse:
    answer = api_error(request, error.code, error.status_code)
    retry_after = getattr(error, "retry_after", None)
    if retry_after is not None:
        answer.headers["Retry-After"] = str(retry_after)
    return answer


routes = [
    Route("/api/v1/disputes", disputes, methods=["GET", "POST"]),
    Route("/api/v1/disputes/batch", create_disputes_in_batch, methods=["POST"]),
    Route("/api/v1/disputes/{number:case}", dispute_status, methods=["GET"]),
    Route("/api/v1/disputes/{number:case}/order", dispute_order, methods=["GET"]),
    Route("/api/v1/disputes/{number:case}/attachments", attach, methods=["POST"]),
    Route("/api/v1/disputes/{number:case}/negotiation", read_negotiation, methods=["GET"]),
    *(
        Route(
            f"/api/v1/disputes/{{number:case}}/negotiation/{move}",
            negotiation_move,
            methods=["POST"],
        )
        for move in MOVES
    ),
    Route("/api/v1/negotiations", negotiation_inbox, methods=["GET"]),
    Route("/api/v1/openapi.json", openapi),
]
