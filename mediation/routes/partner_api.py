"""The partner-platform JSON API: push a dispute in and read its status (OpenAPI described)."""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from cases.errors import CaseError
from mediation.intake import FilingInvalid, Upload
from mediation.openapi import openapi_document
from mediation.partners import access_partner, access_partner_case, case_summary, do_partner_filing
from mediation.web import error_text, settings_of, utcnow

MAX_BODY = 40 * 1024 * 1024  # ten 20 MB files would not fit base64-encoded; partners batch


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


def _fields_and_uploads(body: dict[str, Any]) -> tuple[dict[str, str], list[Upload]] | None:
    fields: dict[str, str] = {}
    for key, value in body.items():
        if key == "evidence":
            continue
        if isinstance(value, bool):
            fields[key] = "on" if value else ""
        elif isinstance(value, (str, int, float)):
            fields[key] = str(value)
        elif value is not None:
            return None
    uploads = []
    for item in body.get("evidence") or []:
        if not isinstance(item, dict):
            return None
        try:
            data = base64.b64decode(item.get("content_base64", ""), validate=True)
        except (binascii.Error, ValueError):
            return None
        uploads.append(Upload(str(item.get("filename", "")), data))
    return fields, uploads


async def create_dispute(request: Request) -> Response:
    partner = await access_partner(request.headers.get("authorization"))
    key = request.headers.get("idempotency-key", "").strip()
    if not key or len(key) > 255:
        return api_error(request, "idempotency_key_required", 400)
    raw = await request.body()
    if len(raw) > MAX_BODY:
        return api_error(request, "request_too_large", 413)
    try:
        body = json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError):
        return api_error(request, "invalid_json", 400)
    parsed = _fields_and_uploads(body) if isinstance(body, dict) else None
    if parsed is None:
        return api_error(request, "invalid_json", 400)
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
    Route("/api/v1/disputes/{number}", dispute_status),
    Route("/api/v1/openapi.json", openapi),
]
