"""The partner API's OpenAPI 3.1 description, served at /api/v1/openapi.json."""

from __future__ import annotations

from typing import Any

from cases.analytics.figures import Dimension, Grain
from cases.categories import CATEGORIES
from cases.filing import LANGUAGES, REQUIRED_CONSENTS
from cases.negotiation.rules import MessageKind, NegotiationState, RemedyKind
from cases.partners.rules import (
    CHAT_SPEAKERS,
    IDEMPOTENCY_KEY_MAX,
    IDEMPOTENCY_KEY_PATTERN,
    MAX_BATCH_ITEMS,
    MAX_CHAT_LINES,
    MAX_ORDER_ITEMS,
    MAX_PAGE,
    shape_of,
)
from cases.status import Status
from cases.webhooks.catalogue import webhooks_section

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


# The order snapshot's value kinds (cases.partners.rules) as JSON Schema.
_AMOUNT_SCHEMA = {
    "type": "string",
    "pattern": "^(0|[1-9][0-9]{0,11})(\\.[0-9]{1,2})?$",
    "description": "CNY as text, at most two decimals.",
    "examples": ["3680.00"],
}


def _kind_schema(kind: str) -> dict[str, Any]:
    if kind.startswith("text:"):
        return {"type": "string", "minLength": 1, "maxLength": int(kind[5:])}
    if kind.startswith("count:"):
        return {"type": "integer", "minimum": 1, "maximum": int(kind[6:])}
    if kind == "amount":
        return dict(_AMOUNT_SCHEMA)
    if kind == "time":
        return {"type": "string", "format": "date-time", "description": "ISO 8601 with offset."}
    if kind == "uscc":
        return {"type": "string", "description": "Unified social credit code (GB 32100)."}
    if kind == "currency":
        return {"type": "string", "const": "CNY"}
    if kind == "speaker":
        return {"type": "string", "enum": list(CHAT_SPEAKERS)}
    if kind.startswith("object:"):
        return {"$ref": f"#/components/schemas/{_SHAPE_SCHEMAS[kind[7:]]}"}
    if kind.startswith("list:"):
        part = kind[5:]
        return {
            "type": "array",
            "maxItems": {"item": MAX_ORDER_ITEMS, "chat": MAX_CHAT_LINES}[part],
            "items": {"$ref": f"#/components/schemas/{_SHAPE_SCHEMAS[part]}"},
        }
    raise AssertionError(kind)


_SHAPE_SCHEMAS = {"order": "Order", "item": "OrderItem", "booking": "Booking", "chat": "ChatLine"}


def _shape_schema(name: str, description: str) -> dict[str, Any]:
    shape = shape_of(name)
    return {
        "type": "object",
        "description": description,
        "additionalProperties": False,
        "required": [k for k, (_, required) in shape.items() if required],
        "properties": {k: _kind_schema(kind) for k, (kind, _) in shape.items()},
    }


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
            "order": {
                "$ref": "#/components/schemas/Order",
            },
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


def webhook_descriptions() -> dict[str, Any]:
    """The `webhooks` section: the events sent to partners, one entry per event type with
    its payload (the catalogue in cases.webhooks is their one home)."""
    return webhooks_section()


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _path_number() -> dict[str, Any]:
    return {
        "name": "case_number",
        "in": "path",
        "required": True,
        "schema": {"type": "string", "minLength": 1, "maxLength": CASE_NUMBER_MAX},
    }


def _idempotency_header(required: bool) -> dict[str, Any]:
    return {
        "name": "Idempotency-Key",
        "in": "header",
        "required": required,
        "description": "Visible ASCII, no space at either end.",
        "schema": {
            "type": "string",
            "minLength": 1,
            "maxLength": IDEMPOTENCY_KEY_MAX,
            "pattern": IDEMPOTENCY_KEY_PATTERN,
        },
        "example": "order-20261105-0001-try",
    }


_TIME = {"type": "string", "format": "date-time"}
_NULLABLE_TIME = {"type": ["string", "null"], "format": "date-time"}
_TEXT = {"type": "string", "minLength": 1, "maxLength": 2000}


_DATE = {"type": "string", "format": "date", "pattern": "^[0-9]{4}-[0-9]{2}-[0-9]{2}$"}


def _figures_schema() -> dict[str, Any]:
    count = {"type": "integer", "minimum": 0}
    share = {"type": ["number", "null"], "minimum": 0}
    return {
        "type": "object",
        "required": ["start", "end", "grain", "by", "volume", "funnel"],
        "properties": {
            "start": {"type": "string", "format": "date"},
            "end": {"type": "string", "format": "date"},
            "grain": {"type": "string", "enum": [g.value for g in Grain]},
            "by": {"type": ["string", "null"], "enum": [*(d.value for d in Dimension), None]},
            "volume": {
                "type": "array",
                "description": "Disputes filed per period (its first day) and key of the "
                "dimension (empty without one).",
                "items": {
                    "type": "object",
                    "required": ["period", "key", "label", "count"],
                    "properties": {
                        "period": {"type": "string", "format": "date"},
                        "key": {"type": "string"},
                        "label": {"type": "string"},
                        "count": count,
                    },
                },
            },
            "funnel": {
                "type": "array",
                "description": "Each stage from filing to outcome: how many disputes "
                "reached it, their share of those filed, the median days it took.",
                "items": {
                    "type": "object",
                    "required": ["stage", "label", "count", "rate", "median_days"],
                    "properties": {
                        "stage": {"type": "string"},
                        "label": {"type": "string"},
                        "count": count,
                        "rate": share,
                        "median_days": share,
                    },
                },
            },
        },
    }


def _schemas() -> dict[str, Any]:
    event = {
        "type": "object",
        "required": ["at", "kind", "what", "who", "details"],
        "properties": {
            "at": _TIME,
            "kind": {"type": "string", "description": "The event's code."},
            "what": {"type": "string", "description": "What happened, in words."},
            "who": {"type": ["string", "null"], "description": "Who acted, in words."},
            "details": {"type": "array", "items": {"type": "string"}},
        },
    }
    message = {
        "type": "object",
        "required": ["id", "kind", "side", "created_at"],
        "properties": {
            "id": {"type": "integer"},
            "kind": {"type": "string", "enum": [k.value for k in MessageKind]},
            "side": {"type": "string", "enum": ["merchant", "consumer"]},
            "thread_id": {"type": ["integer", "null"]},
            "text": {"type": ["string", "null"]},
            "remedy_kind": {"type": ["string", "null"]},
            "amount": {"type": ["string", "null"]},
            "conditions": {"type": ["string", "null"]},
            "perform_by": {"type": ["string", "null"], "format": "date"},
            "proposal_state": {"type": ["string", "null"]},
            "by_partner": {"type": "boolean"},
            "created_at": _TIME,
        },
    }
    return {
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
        "Figures": _figures_schema(),
        "DisputeFiling": _filing_schema(),
        "Order": _shape_schema(
            "order",
            "The order behind the dispute, as the platform holds it: kept as a snapshot with "
            "the SHA-256 of its canonical JSON (keys sorted, no spaces, UTF-8 as is) and the "
            "time of receipt, and shown on the case page as the platform provided it. Its "
            "order_number becomes the filing's order number. Anything wrong inside it is a "
            "422 field error keyed by its path (order.items.0.amount).",
        ),
        "OrderItem": _shape_schema("item", "One line of the order."),
        "Booking": _shape_schema("booking", "A travel booking and its itinerary."),
        "ChatLine": _shape_schema(
            "chat", "One line of the customer-service chat, as the platform kept it."
        ),
        "TimelineEvent": event,
        "DisputeStatus": {
            "type": "object",
            "required": ["case_number", "status", "created_at", "updated_at", "history"],
            "properties": {
                "case_number": {"type": "string", "examples": ["CNM-2026-I-00012"]},
                "partner_reference": {"type": ["string", "null"]},
                "status": {"type": "string", "enum": [s.value for s in Status]},
                "created_at": _TIME,
                "updated_at": _TIME,
                "respondent_reply_due": _NULLABLE_TIME,
                "closed_reason": {"type": ["string", "null"]},
                "order": {
                    "type": ["object", "null"],
                    "properties": {
                        "order_number": {"type": "string"},
                        "sha256": {"type": "string", "pattern": "^[0-9a-f]{64}$"},
                        "received_at": _TIME,
                    },
                },
                "history": {
                    "type": "array",
                    "description": "The status changes, by code.",
                    "items": {
                        "type": "object",
                        "properties": {
                            "at": _TIME,
                            "from": {"type": "string"},
                            "to": {"type": "string"},
                        },
                    },
                },
                "timeline": {
                    "type": "array",
                    "description": "Every event of the case, in words and codes.",
                    "items": _ref("TimelineEvent"),
                },
                "merged_into": {
                    "type": "string",
                    "description": (
                        "Only in the answer to a filing merged into an open case of the same "
                        "dispute (one dispute, one number): that case's number, the same as "
                        "case_number. partner_reference and order are this filing's own."
                    ),
                },
            },
        },
        "DisputeListItem": {
            "type": "object",
            "required": ["case_number", "status", "created_at", "updated_at"],
            "properties": {
                "case_number": {"type": "string"},
                "partner_reference": {"type": ["string", "null"]},
                "status": {"type": "string", "enum": [s.value for s in Status]},
                "created_at": _TIME,
                "updated_at": _TIME,
            },
        },
        "DisputePage": {
            "type": "object",
            "required": ["data", "next_cursor"],
            "properties": {
                "data": {"type": "array", "items": _ref("DisputeListItem")},
                "next_cursor": {
                    "type": ["string", "null"],
                    "description": "Pass as `cursor` for the next page; null on the last.",
                },
            },
        },
        "Batch": {
            "type": "object",
            "additionalProperties": False,
            "required": ["items"],
            "properties": {
                "items": {
                    "type": "array",
                    "minItems": 1,
                    "maxItems": MAX_BATCH_ITEMS,
                    # Each item is checked on its own (partial success), so its content is
                    # not part of the request's schema: a wrong item gets its own result.
                    "items": {
                        "type": "object",
                        "description": "`idempotency_key` (as the Idempotency-Key header: "
                        "1 to 255 visible ASCII characters, no space at either end) and "
                        "`dispute` (a DisputeFiling). An item missing either, or with another "
                        "field, gets a 400 result; a dispute with field errors a 422 result.",
                        "examples": [
                            {"idempotency_key": "batch-1-0001", "dispute": EXAMPLE_FILING}
                        ],
                    },
                },
            },
        },
        "BatchResult": {
            "type": "object",
            "required": ["created", "replayed", "refused", "results"],
            "properties": {
                "created": {"type": "integer", "minimum": 0},
                "replayed": {"type": "integer", "minimum": 0},
                "refused": {"type": "integer", "minimum": 0},
                "results": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "required": ["index", "idempotency_key", "status", "replayed", "body"],
                        "properties": {
                            "index": {"type": "integer", "minimum": 0},
                            "idempotency_key": {"type": "string"},
                            "status": {"type": "integer", "enum": [200, 201, 400, 422]},
                            "replayed": {"type": "boolean"},
                            "body": {
                                "description": "DisputeStatus for 200/201, Error otherwise.",
                                "oneOf": [_ref("DisputeStatus"), _ref("Error")],
                            },
                        },
                    },
                },
            },
        },
        "OrderSnapshot": {
            "type": "object",
            "required": ["case_number", "order", "canonical_json", "sha256", "received_at"],
            "properties": {
                "case_number": {"type": "string"},
                "order": _ref("Order"),
                "canonical_json": {
                    "type": "string",
                    "description": "The order as received, in canonical form; its SHA-256 "
                    "is `sha256`.",
                },
                "sha256": {"type": "string", "pattern": "^[0-9a-f]{64}$"},
                "received_at": _TIME,
            },
        },
        "Attachment": {
            "type": "object",
            "required": ["case_number", "filename", "media_type", "size", "sha256"],
            "properties": {
                "case_number": {"type": "string"},
                "filename": {"type": "string"},
                "media_type": {"type": "string"},
                "size": {"type": "integer"},
                "sha256": {"type": "string", "pattern": "^[0-9a-f]{64}$"},
                "already_attached": {"type": "boolean"},
            },
        },
        "NegotiationMessage": message,
        "NegotiationListItem": {
            "type": "object",
            "required": [
                "case_number",
                "case_status",
                "merchant_uscc",
                "merchant_name",
                "state",
                "started_at",
                "due_on",
                "first_answer_at",
            ],
            "properties": {
                "case_number": {"type": "string"},
                "case_status": {"type": "string", "enum": [s.value for s in Status]},
                "merchant_uscc": {"type": "string"},
                "merchant_name": {"type": "string"},
                "state": {"type": "string", "enum": [s.value for s in NegotiationState]},
                "started_at": _TIME,
                "due_on": {"type": ["string", "null"], "format": "date"},
                "first_answer_at": _NULLABLE_TIME,
            },
        },
        "NegotiationPage": {
            "type": "object",
            "required": ["data", "next_cursor"],
            "properties": {
                "data": {"type": "array", "items": _ref("NegotiationListItem")},
                "next_cursor": {
                    "type": ["string", "null"],
                    "description": "Pass as `cursor` for the next page; null on the last.",
                },
            },
        },
        "Negotiation": {
            "type": "object",
            "required": ["case_number", "case_status", "state", "due_on", "messages"],
            "properties": {
                "case_number": {"type": "string"},
                "case_status": {"type": "string", "enum": [s.value for s in Status]},
                "state": {"type": "string", "enum": [s.value for s in NegotiationState]},
                "due_on": {"type": ["string", "null"], "format": "date"},
                "messages": {"type": "array", "items": _ref("NegotiationMessage")},
            },
        },
        "Propose": {
            "type": "object",
            "additionalProperties": False,
            "required": ["kind", "perform_by"],
            "properties": {
                "kind": {"type": "string", "enum": [k.value for k in RemedyKind]},
                "amount": {
                    "type": "string",
                    "description": "CNY; required for a refund or compensation.",
                },
                "conditions": {"type": "string", "maxLength": 2000},
                "perform_by": {
                    "type": "string",
                    "format": "date",
                    "description": "From today to at most 90 days ahead.",
                },
            },
        },
        "Ask": {
            "type": "object",
            "additionalProperties": False,
            "required": ["text"],
            "properties": {"text": _TEXT},
        },
        "Reply": {
            "type": "object",
            "additionalProperties": False,
            "required": ["thread_id", "text"],
            "properties": {
                "thread_id": {"type": "integer", "description": "The question's message id."},
                "text": _TEXT,
            },
        },
        "Decline": {
            "type": "object",
            "additionalProperties": False,
            "required": ["reason"],
            "properties": {"reason": _TEXT},
        },
    }


def openapi_document(base_url: str) -> dict[str, Any]:
    error = _ref("Error")

    def err(description: str) -> dict[str, Any]:
        return _json(error, description)

    unauthorised = err("No valid API key.")
    limited = {
        **err("Over this key's rate limit."),
        "headers": {
            "Retry-After": {
                "description": "Seconds to wait before the next request.",
                "schema": {"type": "integer", "minimum": 1},
            }
        },
    }
    no_case = err("No such case filed by this partner (or none it may see).")
    common = {"401": unauthorised, "429": limited}
    move_errors = {
        **common,
        "400": err("A body that is not a JSON object, a field not described or of the wrong type."),
        "404": err(
            "No such case against a merchant that delegated to this partner; no such question."
        ),
        "409": err("The negotiation has ended, its time passed, or the move is not possible now."),
        "413": err("The request body is too large."),
        "422": err("Field errors (the remedy, the text), keyed by field."),
    }

    def move(operation_id: str, summary: str, schema: str) -> dict[str, Any]:
        return {
            "post": {
                "operationId": operation_id,
                "summary": summary,
                "parameters": [_path_number()],
                "requestBody": {
                    "required": True,
                    "content": {"application/json": {"schema": _ref(schema)}},
                },
                "responses": {
                    "201": _json(_ref("Negotiation"), "Done: the negotiation as it now stands."),
                    **move_errors,
                },
            }
        }

    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Changning online mediation platform: partner API",
            "version": "1.0.0",
            "description": (
                "Partner platforms (e-commerce, food delivery, travel booking) push disputes in "
                "(one by one or in batches of up to 500), with the order behind each as "
                "evidence at the source, read their status and history, attach files, and "
                "answer first for merchants that delegated to them. Authenticate with "
                "`Authorization: Bearer <api key>`. Every filing carries an idempotency key "
                "(the `Idempotency-Key` header, or each batch item's `idempotency_key`; both "
                "share one namespace per partner): a retried filing with the same key and body "
                "returns the first answer (with `Idempotent-Replayed: true`) and never files a "
                "second case; the same key with another body is rejected (422). Each API key "
                "has a request budget (a token bucket); over it, requests get 429 with "
                "`Retry-After`. Messages follow `Accept-Language` (zh-CN by default, en on "
                "request)."
            ),
        },
        "servers": [{"url": base_url}],
        "components": {
            "securitySchemes": {"apiKey": {"type": "http", "scheme": "bearer"}},
            "schemas": _schemas(),
        },
        "security": [{"apiKey": []}],
        "webhooks": webhook_descriptions(),
        "paths": {
            "/api/v1/disputes": {
                "get": {
                    "operationId": "listDisputes",
                    "summary": "List this partner's disputes, oldest change first",
                    "description": "Ordered by `updated_at` (filing, then each change of "
                    "status), then case: a dispute that changes while you page through comes "
                    "again later (never missed). Keep the last page's `updated_at` for "
                    "`updated_since` next time.",
                    "parameters": [
                        {
                            "name": "status",
                            "in": "query",
                            "description": "One status, or several separated by commas.",
                            "style": "form",
                            "explode": False,
                            "schema": {
                                "type": "array",
                                "minItems": 1,
                                "items": {"type": "string", "enum": [s.value for s in Status]},
                            },
                        },
                        {
                            "name": "updated_since",
                            "in": "query",
                            "description": "Only disputes changed at or after this time.",
                            "schema": _TIME,
                        },
                        {
                            "name": "cursor",
                            "in": "query",
                            "description": "The previous page's `next_cursor` (opaque).",
                            "schema": {"type": "string", "maxLength": 200},
                        },
                        {
                            "name": "limit",
                            "in": "query",
                            "schema": {"type": "integer", "minimum": 1, "maximum": MAX_PAGE},
                        },
                    ],
                    "responses": {
                        "200": _json(_ref("DisputePage"), "One page of disputes."),
                        "400": err(
                            "A status not listed, a time, cursor or limit not valid (a cursor "
                            "is valid only as this API gave it out)."
                        ),
                        **common,
                    },
                },
                "post": {
                    "operationId": "fileDispute",
                    "summary": "File a dispute on behalf of a user of the partner platform",
                    "parameters": [_idempotency_header(True)],
                    "requestBody": {
                        "required": True,
                        "content": {
                            "application/json": {
                                "schema": _ref("DisputeFiling"),
                                "example": EXAMPLE_FILING,
                            }
                        },
                    },
                    "responses": {
                        "201": {
                            **_json(
                                _ref("DisputeStatus"),
                                "Filed; the respondent has been invited (or the merchant "
                                "asked to answer first).",
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
                                _ref("DisputeStatus"),
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
                        "400": err(
                            "A missing or malformed Idempotency-Key; a body that is not a JSON "
                            "object, is nested too deeply, holds a number with too many digits, "
                            "a field of the wrong type or not described, or evidence that is "
                            "not a list of objects with a file name and content."
                        ),
                        **common,
                        "413": err("The request body is too large."),
                        "422": err(
                            "Field errors (including checks the schema cannot express, such "
                            "as the check digit of an ID number, evidence content that is not "
                            "base64, anything wrong inside the order, or text holding control "
                            "characters or lone surrogates), or a reused idempotency key."
                        ),
                    },
                },
            },
            "/api/v1/disputes/batch": {
                "post": {
                    "operationId": "fileDisputesInBatch",
                    "summary": "File up to 500 disputes, each with its own idempotency key",
                    "description": "Each item is filed on its own (partial success): the "
                    "answer is 207 with a result per item, in order, each with the status a "
                    "single filing would get (201 filed, 200 replayed, 400 malformed item, "
                    "422 field errors or a reused key) and its body. Sending a batch again "
                    "replays every filed item.",
                    "requestBody": {
                        "required": True,
                        "content": {
                            "application/json": {
                                "schema": _ref("Batch"),
                                "example": {
                                    "items": [
                                        {
                                            "idempotency_key": "batch-1-0001",
                                            "dispute": EXAMPLE_FILING,
                                        }
                                    ]
                                },
                            }
                        },
                    },
                    "responses": {
                        "207": _json(_ref("BatchResult"), "A result per item."),
                        "400": err(
                            "Not an object with `items`, a list of 1 to 500 entries; not JSON, "
                            "nested too deeply, or a number with too many digits."
                        ),
                        **common,
                        "413": err("The request body is too large."),
                        "422": err("Text that may not be stored (control characters)."),
                    },
                }
            },
            "/api/v1/disputes/{case_number}": {
                "get": {
                    "operationId": "readDispute",
                    "summary": "Read a dispute this partner filed, with its history",
                    "parameters": [_path_number()],
                    "responses": {
                        "200": _json(_ref("DisputeStatus"), "The dispute and its history."),
                        **common,
                        "404": no_case,
                    },
                }
            },
            "/api/v1/disputes/{case_number}/order": {
                "get": {
                    "operationId": "readOrderSnapshot",
                    "summary": "The order snapshot as received, with its SHA-256",
                    "parameters": [_path_number()],
                    "responses": {
                        "200": _json(_ref("OrderSnapshot"), "The snapshot."),
                        **common,
                        "404": err("No such case of this partner, or it has no order."),
                    },
                }
            },
            "/api/v1/disputes/{case_number}/attachments": {
                "post": {
                    "operationId": "attachFile",
                    "summary": "Attach one file to a dispute this partner filed",
                    "description": "The body is the file's bytes. Its type is read from its "
                    "content (PDF, JPEG, PNG, ... as on the web form), at most 20 MB, images "
                    "within their pixel limit. The same content again adds nothing (200).",
                    "parameters": [
                        _path_number(),
                        {
                            "name": "filename",
                            "in": "query",
                            "required": True,
                            "schema": {"type": "string", "minLength": 1, "maxLength": 200},
                        },
                    ],
                    "requestBody": {
                        "required": True,
                        "content": {
                            "application/octet-stream": {
                                "schema": {"type": "string", "format": "binary"}
                            }
                        },
                    },
                    "responses": {
                        "201": _json(_ref("Attachment"), "Attached as the applicant's evidence."),
                        "200": _json(_ref("Attachment"), "The dispute already had this content."),
                        "400": err("No file name, or one longer than 200 characters."),
                        **common,
                        "404": no_case,
                        "413": err("The file is larger than 20 MB."),
                        "422": err(
                            "The file was refused: its type, content, size, image dimensions "
                            "or name."
                        ),
                    },
                }
            },
            "/api/v1/negotiations": {
                "get": {
                    "operationId": "listNegotiations",
                    "summary": "The negotiations of the merchants that delegated their first "
                    "answer to this partner (its inbox as first responder), oldest first",
                    "parameters": [
                        {
                            "name": "state",
                            "in": "query",
                            "description": "One state, or several separated by commas.",
                            "style": "form",
                            "explode": False,
                            "schema": {
                                "type": "array",
                                "minItems": 1,
                                "items": {
                                    "type": "string",
                                    "enum": [s.value for s in NegotiationState],
                                },
                            },
                        },
                        {
                            "name": "cursor",
                            "in": "query",
                            "description": "The previous page's `next_cursor` (opaque).",
                            "schema": {"type": "string", "maxLength": 200},
                        },
                        {
                            "name": "limit",
                            "in": "query",
                            "schema": {"type": "integer", "minimum": 1, "maximum": MAX_PAGE},
                        },
                    ],
                    "responses": {
                        "200": _json(_ref("NegotiationPage"), "One page of negotiations."),
                        "400": err(
                            "A state not listed, a cursor or limit not valid (a cursor is "
                            "valid only as this API gave it out)."
                        ),
                        **common,
                    },
                }
            },
            "/api/v1/disputes/{case_number}/negotiation": {
                "get": {
                    "operationId": "readNegotiation",
                    "summary": "Read the negotiation of a dispute against a merchant that "
                    "delegated its first answer to this partner",
                    "parameters": [_path_number()],
                    "responses": {
                        "200": _json(_ref("Negotiation"), "The negotiation and its thread."),
                        **common,
                        "404": err(
                            "No such case against a merchant that delegated to this partner."
                        ),
                    },
                }
            },
            "/api/v1/figures": {
                "get": {
                    "operationId": "readFigures",
                    "summary": "This partner's own figures: disputes filed through it over "
                    "time, and how far they went",
                    "description": "Counts only, of the disputes this partner filed (no party "
                    "is named). Dates are Beijing dates, inclusive; the period ends today at "
                    "the latest and covers at most three years (a longer one is shortened "
                    "from its start; a start after the end is swapped with it). Without "
                    "dates: the last 182 days.",
                    "parameters": [
                        {
                            "name": "start",
                            "in": "query",
                            "description": "The first day (YYYY-MM-DD).",
                            "schema": _DATE,
                        },
                        {
                            "name": "end",
                            "in": "query",
                            "description": "The last day (YYYY-MM-DD).",
                            "schema": _DATE,
                        },
                        {
                            "name": "grain",
                            "in": "query",
                            "description": "Periods of the volume: day, week (from Monday) "
                            "or month. Default: week.",
                            "schema": {"type": "string", "enum": [g.value for g in Grain]},
                        },
                        {
                            "name": "by",
                            "in": "query",
                            "description": "Split the volume by this dimension (none: "
                            "one total per period).",
                            "schema": {"type": "string", "enum": [d.value for d in Dimension]},
                        },
                    ],
                    "responses": {
                        "200": _json(_ref("Figures"), "The figures."),
                        "400": err("A date, grain or dimension not valid."),
                        **common,
                    },
                }
            },
            "/api/v1/disputes/{case_number}/negotiation/propose": move(
                "proposeRemedy", "Propose a remedy for the merchant", "Propose"
            ),
            "/api/v1/disputes/{case_number}/negotiation/ask": move(
                "askConsumer", "Ask the consumer a question for the merchant", "Ask"
            ),
            "/api/v1/disputes/{case_number}/negotiation/reply": move(
                "replyInThread", "Reply in a question's thread for the merchant", "Reply"
            ),
            "/api/v1/disputes/{case_number}/negotiation/decline": move(
                "declineToSettle",
                "Decline to settle directly for the merchant: on to mediation",
                "Decline",
            ),
        },
    }
