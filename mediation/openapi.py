"""The partner API's OpenAPI 3.1 description, served at /api/v1/openapi.json."""

from __future__ import annotations

from typing import Any

from cases.categories import CATEGORIES
from cases.filing import LANGUAGES, REQUIRED_CONSENTS
from cases.status import Status

_party: dict[str, dict[str, Any]] = {
    "kind": {"type": "string"},
    "name": {"type": "string", "maxLength": 100},
    "id_number": {
        "type": "string",
        "description": "Resident ID number (GB 11643) for a person, unified social credit code "
        "(GB 32100) for an organisation, merchant or platform.",
    },
    "mobile": {"type": "string", "pattern": "^1[3-9][0-9]{9}$"},
    "email": {"type": "string", "format": "email"},
    "address": {"type": "string", "maxLength": 300, "description": "Service address."},
}


def _prefixed(prefix: str, kinds: list[str]) -> dict[str, Any]:
    props = {f"{prefix}_{k}": dict(v) for k, v in _party.items()}
    props[f"{prefix}_kind"]["enum"] = kinds
    return props


# The Idempotency-Key: visible ASCII, no space at either end (as the API checks it).
IDEMPOTENCY_KEY_PATTERN = "^[!-~]([ -~]*[!-~])?$"
IDEMPOTENCY_KEY_MAX = 255
CASE_NUMBER_MAX = 32  # cases.models.Case.number

# A filing the API accepts, shown in the description (and sent by schemathesis).
EXAMPLE_FILING: dict[str, Any] = {
    "partner_reference": "ORDER-20261105-0001",
    "domain": "tourism",
    "category": "tour_refund",
    "applicant_kind": "natural_person",
    "applicant_name": "张三",
    "applicant_id_number": "310105199003071236",
    "applicant_mobile": "13812345678",
    "applicant_email": "zhangsan@example.com",
    "applicant_address": "上海市长宁区愚园路100号",
    "respondent_kind": "merchant",
    "respondent_name": "上海某某国际旅行社有限公司",
    "respondent_id_number": "91310105MA1FL00004",
    "respondent_mobile": "13900001111",
    "respondent_address": "上海市长宁区延安西路200号",
    "claim_amount": "3680.00",
    "facts": "2026年10月报名参加云南六日游，出发前三天旅行社单方取消行程，至今未退还团费。",
    "requested_outcome": "退还全部团费3680元。",
    "consent_voluntary": True,
    "consent_service_address": True,
    "consent_false_mediation": True,
    "evidence": [],
}


def filing_properties() -> frozenset[str]:
    """The names of a filing's fields, as described (the API ignores any others)."""
    return frozenset(_filing_schema()["properties"])


def _json(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _filing_schema() -> dict[str, Any]:
    return {
        "type": "object",
        "additionalProperties": False,
        "required": [
            "domain",
            "category",
            "applicant_kind",
            "applicant_name",
            "applicant_id_number",
            "applicant_mobile",
            "applicant_address",
            "respondent_kind",
            "respondent_name",
            "claim_amount",
            "facts",
            "requested_outcome",
            *REQUIRED_CONSENTS,
        ],
        "properties": {
            "partner_reference": {
                "type": "string",
                "maxLength": 100,
                "description": "The partner's own order or ticket number; unique per partner.",
            },
            "order_number": {
                "type": "string",
                "maxLength": 64,
                "description": (
                    "The order the dispute is about. A filing of the same applicant against "
                    "the same respondent with the same order number as an open case (or the "
                    "same credit code and similar facts within 90 days) is merged into that "
                    "case: 200 with `merged_into`, its number."
                ),
            },
            "domain": {"type": "string", "enum": ["tourism", "internet"]},
            "category": {"type": "string", "enum": [c.code for c in CATEGORIES]},
            **_prefixed("applicant", ["natural_person", "organisation"]),
            **_prefixed("respondent", ["merchant", "platform", "natural_person", "organisation"]),
            "claim_amount": {
                "type": "string",
                "description": "CNY, positive, at most two decimals.",
                "examples": ["1280.50"],
            },
            "facts": {"type": "string", "minLength": 10, "maxLength": 5000},
            "requested_outcome": {"type": "string", "maxLength": 2000},
            "language": {
                "type": "string",
                "enum": list(LANGUAGES),
                "default": "zh",
                "description": "The language the mediation is held in.",
            },
            "has_arbitration_clause": {
                "type": "boolean",
                "default": False,
                "description": "The parties' contract has an arbitration clause.",
            },
            **{c: {"type": "boolean", "const": True} for c in REQUIRED_CONSENTS},
            "evidence": {
                "type": "array",
                "maxItems": 10,
                "items": {
                    "type": "object",
                    "required": ["filename", "content_base64"],
                    "properties": {
                        "filename": {"type": "string"},
                        "content_base64": {"type": "string", "contentEncoding": "base64"},
                    },
                    "additionalProperties": False,
                },
            },
        },
    }


def openapi_document(base_url: str) -> dict[str, Any]:
    error = {"$ref": "#/components/schemas/Error"}
    unauthorised = _json(error, "No valid API key.")
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Changning online mediation platform: partner API",
            "version": "1.0.0",
            "description": (
                "Partner platforms (e-commerce, food delivery, travel booking) push disputes in "
                "and read their status. Authenticate with `Authorization: Bearer <api key>`. "
                "Every POST needs an `Idempotency-Key` header: a retried request with the same "
                "key and body returns the first answer (with `Idempotent-Replayed: true`) and "
                "never files a second case; the same key with another body is rejected (422). "
                "Messages follow `Accept-Language` (zh-CN by default, en on request)."
            ),
        },
        "servers": [{"url": base_url}],
        "components": {
            "securitySchemes": {"apiKey": {"type": "http", "scheme": "bearer"}},
            "schemas": {
                "Error": {
                    "type": "object",
                    "required": ["error", "message"],
                    "properties": {
                        "error": {"type": "string"},
                        "message": {"type": "string"},
                        "fields": {"type": "object"},
                        "files": {"type": "array"},
                    },
                },
                "DisputeFiling": _filing_schema(),
                "DisputeStatus": {
                    "type": "object",
                    "properties": {
                        "case_number": {"type": "string", "examples": ["CNM-2026-I-00012"]},
                        "partner_reference": {"type": ["string", "null"]},
                        "status": {"type": "string", "enum": [s.value for s in Status]},
                        "created_at": {"type": "string", "format": "date-time"},
                        "respondent_reply_due": {"type": ["string", "null"]},
                        "closed_reason": {"type": ["string", "null"]},
                        "history": {"type": "array", "items": {"type": "object"}},
                        "merged_into": {
                            "type": "string",
                            "description": (
                                "Only when this filing was merged into an open case of the "
                                "same dispute (one dispute, one number): that case's number, "
                                "the same as case_number. partner_reference is this "
                                "filing's own."
                            ),
                        },
                    },
                },
            },
        },
        "security": [{"apiKey": []}],
        "paths": {
            "/api/v1/disputes": {
                "post": {
                    "operationId": "fileDispute",
                    "summary": "File a dispute on behalf of a user of the partner platform",
                    "parameters": [
                        {
                            "name": "Idempotency-Key",
                            "in": "header",
                            "required": True,
                            "description": "Visible ASCII, no space at either end.",
                            "schema": {
                                "type": "string",
                                "minLength": 1,
                                "maxLength": IDEMPOTENCY_KEY_MAX,
                                "pattern": IDEMPOTENCY_KEY_PATTERN,
                            },
                            "example": "order-20261105-0001-try",
                        }
                    ],
                    "requestBody": {
                        "required": True,
                        "content": {
                            "application/json": {
                                "schema": {"$ref": "#/components/schemas/DisputeFiling"},
                                "example": EXAMPLE_FILING,
                            }
                        },
                    },
                    "responses": {
                        "201": {
                            **_json(
                                {"$ref": "#/components/schemas/DisputeStatus"},
                                "Filed; the respondent has been invited.",
                            ),
                            "links": {
                                "readStatus": {
                                    "operationId": "readDispute",
                                    "parameters": {"case_number": "$response.body#/case_number"},
                                }
                            },
                        },
                        "200": {
                            **_json(
                                {"$ref": "#/components/schemas/DisputeStatus"},
                                "Replayed: this key, or this partner reference, was filed "
                                "before; the first answer is returned (with the "
                                "Idempotent-Replayed header). Or merged: the same dispute "
                                "has an open case, to which this filing was added (its "
                                "source and evidence): `merged_into` names it.",
                            ),
                            "headers": {
                                "Idempotent-Replayed": {
                                    "description": "Always `true` on a replay.",
                                    "schema": {"type": "string", "enum": ["true"]},
                                }
                            },
                        },
                        "400": _json(
                            error,
                            "A missing or malformed Idempotency-Key; a body that is not a JSON "
                            "object, is nested too deeply, holds a number with too many digits, "
                            "a field of the wrong type or not described, or evidence that is "
                            "not a list of objects with a file name and content.",
                        ),
                        "401": unauthorised,
                        "413": _json(error, "The request body is too large."),
                        "422": _json(
                            error,
                            "Field errors (including checks the schema cannot express, such "
                            "as the check digit of an ID number, evidence content that is not "
                            "base64, or text holding control characters or lone surrogates), "
                            "or a reused idempotency key.",
                        ),
                    },
                }
            },
            "/api/v1/disputes/{case_number}": {
                "get": {
                    "operationId": "readDispute",
                    "summary": "Read the status of a dispute this partner filed",
                    "parameters": [
                        {
                            "name": "case_number",
                            "in": "path",
                            "required": True,
                            "schema": {
                                "type": "string",
                                "minLength": 1,
                                "maxLength": CASE_NUMBER_MAX,
                            },
                        }
                    ],
                    "responses": {
                        "200": _json(
                            {"$ref": "#/components/schemas/DisputeStatus"},
                            "The dispute's status and history.",
                        ),
                        "401": unauthorised,
                        "404": _json(error, "No such case filed by this partner."),
                    },
                }
            },
        },
    }
