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


def openapi_document(base_url: str) -> dict[str, Any]:
    error = {"$ref": "#/components/schemas/Error"}
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
                "DisputeFiling": {
                    "type": "object",
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
                            "description": "The partner's own order or ticket number; "
                            "unique per partner.",
                        },
                        "domain": {"type": "string", "enum": ["tourism", "internet"]},
                        "category": {"type": "string", "enum": [c.code for c in CATEGORIES]},
                        **_prefixed("applicant", ["natural_person", "organisation"]),
                        **_prefixed(
                            "respondent", ["merchant", "platform", "natural_person", "organisation"]
                        ),
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
                                    "content_base64": {"type": "string"},
                                },
                            },
                        },
                    },
                },
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
                    },
                },
            },
        },
        "security": [{"apiKey": []}],
        "paths": {
            "/api/v1/disputes": {
                "post": {
                    "summary": "File a dispute on behalf of a user of the partner platform",
                    "parameters": [
                        {
                            "name": "Idempotency-Key",
                            "in": "header",
                            "required": True,
                            "schema": {"type": "string", "maxLength": 255},
                        }
                    ],
                    "requestBody": {
                        "required": True,
                        "content": {
                            "application/json": {
                                "schema": {"$ref": "#/components/schemas/DisputeFiling"}
                            }
                        },
                    },
                    "responses": {
                        "201": {
                            "description": "Filed; the respondent has been invited.",
                            "content": {
                                "application/json": {
                                    "schema": {"$ref": "#/components/schemas/DisputeStatus"}
                                }
                            },
                        },
                        "200": {"description": "Replayed: this partner reference was filed."},
                        "400": {
                            "description": "Missing key or malformed JSON.",
                            "content": {"application/json": {"schema": error}},
                        },
                        "401": {
                            "description": "No valid API key.",
                            "content": {"application/json": {"schema": error}},
                        },
                        "422": {
                            "description": "Field errors, or a reused idempotency key.",
                            "content": {"application/json": {"schema": error}},
                        },
                    },
                }
            },
            "/api/v1/disputes/{case_number}": {
                "get": {
                    "summary": "Read the status of a dispute this partner filed",
                    "parameters": [
                        {
                            "name": "case_number",
                            "in": "path",
                            "required": True,
                            "schema": {"type": "string"},
                        }
                    ],
                    "responses": {
                        "200": {
                            "description": "The dispute's status and history.",
                            "content": {
                                "application/json": {
                                    "schema": {"$ref": "#/components/schemas/DisputeStatus"}
                                }
                            },
                        },
                        "404": {
                            "description": "No such case filed by this partner.",
                            "content": {"application/json": {"schema": error}},
                        },
                    },
                }
            },
        },
    }
