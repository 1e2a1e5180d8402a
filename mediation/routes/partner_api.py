"""The partner-platform JSON API: push a dispute in and read its status (OpenAPI described)."""

from __future__ import annotations

import base64
import binascii
import re
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from cases.clock import utcnow
from cases.errors import CaseError
from cases.filing import REQUIRED_CONSENTS
from cases.intake import FilingInvalid, Upload
from mediation.openapi import (
    IDEMPOTENCY_KEY_MAX,
    IDEMPOTENCY_KEY_PATTERN,
    filing_properties,
    openapi_document,
)
from mediation.partners import access_partner, access_partner_case, case_summary, do_partner_filing
from mediation.web import error_text, settings_of
from realtime.text import JsonRefused, read_json

MAX_BODY = 40 * 1024 * 1024  # ten 20 MB files would not fit base64-encoded; partners batch
# A filing is an object of fields and a list of evidence objects; one more level lets a
# wrongly typed field inside an evidence object get its own clear error.
MAX_JSON_DEPTH = 4
IDEMPOTENCY_KEY = re.compile(IDEMPOTENCY_KEY_PATTERN)


def api_error(request: Request, code: str, status: int, **extra: Any) -> JSONResponse:
    return JSONResponse({"error": code, "message": error_text(request, code), **extra}, status)


def describe_invalid(request: Request) -> Any:
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


BOOLEAN_FIELDS = frozenset({"has_arbitration_clause", *REQUIRED_CONSENTS})


def fields_and_uploads(body: Any) -> tuple[dict[str, str], list[Upload]] | str:
    """The filing's fields as the web form would send them, and its files; or the error
    code of what is wrong with the request's shape (its strings were checked on reading).

    Types are as the OpenAPI description says (booleans for the consents and the
    arbitration clause, text for every other field, no other fields), so that what the
    description refuses the API refuses too."""
    if not isinstance(body, dict):
        return "invalid_json"
    described = filing_properties()
    fields: dict[str, str] = {}
    for key, value in body.items():
        if key not in described:
            return "unknown_field"
        if key == "evidence":
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


async def create_dispute(request: Request) -> Response:
    partner = await access_partner(request.headers.get("authorization"))
    key = request.headers.get("idempotency-key", "")
    if not key:
        return api_error(request, "idempotency_key_required", 400)
    if len(key) > IDEMPOTENCY_KEY_MAX or not IDEMPOTENCY_KEY.fullmatch(key):
        return api_error(request, "idempotency_key_invalid", 400)
    raw = await request.body()
    if len(raw) > MAX_BODY:
        return api_error(request, "request_too_large", 413)
    try:
        body = read_json(raw, MAX_JSON_DEPTH)
    except JsonRefused as refused:
        # Text that may not be stored is a field error in substance (422); anything that
        # is not a readable JSON document at all is a malformed request (400).
        return api_error(request, refused.code, 422 if refused.code == "bad_text" else 400)
    parsed = fields_and_uploads(body)
    if isinstance(parsed, str):
        # The right shape with content that is not base64 is a field error (the description
        # says "string"; no JSON Schema pattern says "base64" for every reader alike).
        return api_error(request, parsed, 422 if parsed == "evidence_not_base64" else 400)
    fields, uploads = parsed
    answer = await do_partner_filing(
        settings_of(request),
        partner,
        key,
        body,
        fields,
        uploads,
        utcnow(),
        describe_invalid(request),
    )
    headers = {"Idempotent-Replayed": "true"} if answer.replayed else {}
    return JSONResponse(answer.body, answer.status_code, headers=headers)


async def dispute_status(request: Request) -> Response:
    partner = await access_partner(request.headers.get("authorization"))
    case = await access_partner_case(partner, request.path_params["number"])
    return JSONResponse(await case_summary(case))


async def openapi(request: Request) -> Response:
    return JSONResponse(openapi_document(settings_of(request).base_url))


def api_exception(request: Request, error: CaseError) -> JSONResponse:
    return api_error(request, error.code, error.status_code)


routes = [
    Route("/api/v1/disputes", create_dispute, methods=["POST"]),
    Route("/api/v1/disputes/{number:case}", dispute_status),
    Route("/api/v1/openapi.json", openapi),
]
