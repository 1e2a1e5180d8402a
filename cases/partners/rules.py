"""The partner API's pure rules: the order snapshot a filing carries (its shape, limits and
digest), the list's cursor and filters, the batch's limits and the per-key token bucket.

Nothing here reads the database or the clock; the table tests in tests/cases/partners/
hold every rule.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from cases.identity import is_valid_uscc, normalise_uscc
from cases.negotiation.rules import NegotiationState
from cases.status import Status

# --- the batch -----------------------------------------------------------------------------

MAX_BATCH_ITEMS = 500
IDEMPOTENCY_KEY_MAX = 255
IDEMPOTENCY_KEY_PATTERN = "^[!-~]([ -~]*[!-~])?$"
_IDEMPOTENCY_KEY = re.compile(IDEMPOTENCY_KEY_PATTERN)


def idempotency_key_error(key: object) -> str | None:
    """The error code of an idempotency key (header or batch item), None when it is fine."""
    if not isinstance(key, str) or not key:
        return "idempotency_key_required"
    if len(key) > IDEMPOTENCY_KEY_MAX or not _IDEMPOTENCY_KEY.fullmatch(key):
        return "idempotency_key_invalid"
    return None


# --- the order snapshot ("evidence at the source") ------------------------------------------

ORDER_NUMBER_MAX = 64  # as the filing's order_number
MAX_ORDER_ITEMS = 100
MAX_CHAT_LINES = 200
MAX_ORDER_BYTES = 256 * 1024  # the canonical JSON of one snapshot
SHORT_TEXT = 200
LONG_TEXT = 5000
CHAT_TEXT = 2000
MAX_QUANTITY = 100_000
MAX_TRAVELLERS = 100
MAX_AMOUNT = Decimal("999999999999.99")
CHAT_SPEAKERS = ("customer", "merchant", "platform")

# Each object of the snapshot: its fields, each with its kind and whether it is required.
# Kinds: "text:<max>", "amount", "time", "uscc", "count:<max>", or a nested object/list name.
_SHAPES: dict[str, dict[str, tuple[str, bool]]] = {
    "order": {
        "order_number": (f"text:{ORDER_NUMBER_MAX}", True),
        "placed_at": ("time", True),
        "paid_at": ("time", False),
        "currency": ("currency", False),
        "total_amount": ("amount", True),
        "paid_amount": ("amount", False),
        "merchant_name": (f"text:{SHORT_TEXT}", False),
        "merchant_uscc": ("uscc", False),
        "items": ("list:item", False),
        "booking": ("object:booking", False),
        "chat_excerpt": ("list:chat", False),
    },
    "item": {
        "name": (f"text:{SHORT_TEXT}", True),
        "sku": (f"text:{ORDER_NUMBER_MAX}", False),
        "quantity": (f"count:{MAX_QUANTITY}", True),
        "unit_price": ("amount", False),
        "amount": ("amount", True),
    },
    "booking": {
        "reference": (f"text:{ORDER_NUMBER_MAX}", False),
        "product": (f"text:{SHORT_TEXT}", True),
        "departure_at": ("time", False),
        "return_at": ("time", False),
        "travellers": (f"count:{MAX_TRAVELLERS}", False),
        "itinerary": (f"text:{LONG_TEXT}", False),
    },
    "chat": {
        "at": ("time", True),
        "speaker": ("speaker", True),
        "text": (f"text:{CHAT_TEXT}", True),
    },
}
_LIST_LIMITS = {"item": MAX_ORDER_ITEMS, "chat": MAX_CHAT_LINES}
_AMOUNT = re.compile(r"^(0|[1-9][0-9]{0,11})(\.[0-9]{1,2})?$")


def shape_of(name: str) -> Mapping[str, tuple[str, bool]]:
    """One object's fields of the snapshot (the OpenAPI description is built from these)."""
    return _SHAPES[name]


def canonical_json(value: Any) -> str:
    """The canonical text of a JSON value: keys sorted, no spaces, UTF-8 kept as is. The
    snapshot's digest is of this text, so a partner can recompute it from what it sent."""
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def sha256_hex(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


# RFC 3339 (the OpenAPI `date-time`): "t"/"z" in either case, any digits of a second's
# fraction (Python keeps six).
_RFC3339 = re.compile(
    r"^(\d{4}-\d{2}-\d{2})[Tt ](\d{2}:\d{2}:\d{2})(?:\.(\d+))?([Zz]|[+-]\d{2}:\d{2})$"
)


def read_time(value: object) -> datetime | None:
    """An ISO 8601 / RFC 3339 date-time with its offset (a time without one says no moment)."""
    if not isinstance(value, str) or len(value) > 40:
        return None
    match = _RFC3339.fullmatch(value)
    if match is None:
        return None
    day, clock, fraction, offset = match.groups()
    fraction = f".{(fraction + '000000')[:6]}" if fraction else ""
    offset = "+00:00" if offset in ("Z", "z") else offset
    try:
        return datetime.fromisoformat(f"{day}T{clock}{fraction}{offset}")
    except ValueError:
        return None


def read_amount(value: object) -> Decimal | None:
    if not isinstance(value, str) or not _AMOUNT.fullmatch(value):
        return None
    try:
        amount = Decimal(value)
    except InvalidOperation:  # pragma: no cover - the pattern admits only decimals
        return None
    return amount if amount <= MAX_AMOUNT else None


def _check_value(kind: str, value: object) -> str | None:
    if kind.startswith("text:"):
        if not isinstance(value, str):
            return "invalid_field_type"
        if not value.strip():
            return "required"
        return "too_long" if len(value) > int(kind[5:]) else None
    if kind.startswith("count:"):
        if not isinstance(value, int) or isinstance(value, bool):
            return "invalid_field_type"
        return None if 1 <= value <= int(kind[6:]) else "count_invalid"
    if kind == "amount":
        if not isinstance(value, str):
            return "invalid_field_type"
        return None if read_amount(value) is not None else "amount_invalid"
    if kind == "time":
        if not isinstance(value, str):
            return "invalid_field_type"
        return None if read_time(value) is not None else "time_invalid"
    if kind == "uscc":
        if not isinstance(value, str):
            return "invalid_field_type"
        return None if is_valid_uscc(normalise_uscc(value)) else "uscc_invalid"
    if kind == "currency":
        return None if value == "CNY" else "currency_invalid"
    if kind == "speaker":
        return None if value in CHAT_SPEAKERS else "choose_one"
    raise AssertionError(kind)  # pragma: no cover - every kind is handled above


def _check_object(name: str, value: object, path: str, errors: dict[str, str]) -> None:
    if not isinstance(value, dict):
        errors[path] = "invalid_field_type"
        return
    shape = _SHAPES[name]
    for key in value:
        if key not in shape:
            errors[f"{path}.{key}"] = "unknown_field"
    for key, (kind, required) in shape.items():
        where = f"{path}.{key}"
        if key not in value or value[key] is None:
            if required:
                errors[where] = "required"
            continue
        item = value[key]
        if kind.startswith("object:"):
            _check_object(kind[7:], item, where, errors)
        elif kind.startswith("list:"):
            part = kind[5:]
            if not isinstance(item, list):
                errors[where] = "invalid_field_type"
            elif len(item) > _LIST_LIMITS[part]:
                errors[where] = "too_many"
            else:
                for index, element in enumerate(item):
                    _check_object(part, element, f"{where}.{index}", errors)
        elif (error := _check_value(kind, item)) is not None:
            errors[where] = error


@dataclass(frozen=True)
class CheckedOrder:
    """An order as the platform provided it: the canonical text, its digest, the number."""

    canonical: str
    sha256: str
    order_number: str
    merchant_uscc: str | None


def check_order(value: object) -> tuple[CheckedOrder | None, dict[str, str]]:
    """The snapshot of a filing's `order`, or its field errors keyed by path
    ("order.items.0.amount"). The snapshot keeps the order exactly as received (only its
    canonical form is computed), so the case page can show it as the platform provided it."""
    errors: dict[str, str] = {}
    _check_object("order", value, "order", errors)
    if errors:
        return None, errors
    assert isinstance(value, dict)
    canonical = canonical_json(value)
    if len(canonical.encode()) > MAX_ORDER_BYTES:
        return None, {"order": "order_too_large"}
    uscc = value.get("merchant_uscc")
    return (
        CheckedOrder(
            canonical=canonical,
            sha256=sha256_hex(canonical),
            order_number=value["order_number"].strip(),
            merchant_uscc=normalise_uscc(uscc) if isinstance(uscc, str) else None,
        ),
        {},
    )


# --- the list: cursor and filters -----------------------------------------------------------

DEFAULT_PAGE = 50
MAX_PAGE = 200


@dataclass(frozen=True)
class Position:
    """Where a page ended: the list runs by (updated_at, id), oldest change first, so a case
    changed while a partner pages through moves to the end and is seen again, never missed."""

    updated_at: datetime
    case_id: int


def encode_cursor(position: Position) -> str:
    raw = json.dumps([position.updated_at.isoformat(), position.case_id], separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> Position | None:
    """The position an opaque cursor names, or None when it is not one of ours."""
    if not cursor or len(cursor) > 200:
        return None
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        value = json.loads(raw)
    except (binascii.Error, ValueError):
        return None
    if (
        not isinstance(value, list)
        or len(value) != 2
        or not isinstance(value[1], int)
        or isinstance(value[1], bool)
        or not 0 < value[1] < 2**63
    ):
        return None
    moment = read_time(value[0])
    return Position(moment, value[1]) if moment is not None else None


@dataclass(frozen=True)
class ListQuery:
    statuses: frozenset[Status]
    updated_since: datetime | None
    after: Position | None
    limit: int


def check_list_query(params: Mapping[str, str]) -> tuple[ListQuery | None, str | None]:
    """The list's query from its parameters (status: one or several, comma separated;
    updated_since; cursor; limit), or the code of the first wrong one."""
    statuses: set[Status] = set()
    if "status" in params:
        for value in params["status"].split(","):
            try:
                statuses.add(Status(value))  # an empty or spaced part names no status
            except ValueError:
                return None, "status_invalid"
    since = None
    if "updated_since" in params:
        since = read_time(params["updated_since"])
        if since is None:
            return None, "updated_since_invalid"
    after = None
    if "cursor" in params:
        after = decode_cursor(params["cursor"])
        if after is None:
            return None, "cursor_invalid"
    limit = DEFAULT_PAGE
    if "limit" in params:
        text = params["limit"]
        if not text.isascii() or not text.isdigit() or not 1 <= int(text) <= MAX_PAGE:
            return None, "limit_invalid"
        limit = int(text)
    return ListQuery(frozenset(statuses), since, after, limit), None


@dataclass(frozen=True)
class InboxQuery:
    """The delegate's inbox: negotiations by when they started (then id), oldest first."""

    states: frozenset[NegotiationState]
    after: Position | None
    limit: int


def _limit(params: Mapping[str, str]) -> int | None:
    if "limit" not in params:
        return DEFAULT_PAGE
    text = params["limit"]
    if not text.isascii() or not text.isdigit() or not 1 <= int(text) <= MAX_PAGE:
        return None
    return int(text)


def check_inbox_query(params: Mapping[str, str]) -> tuple[InboxQuery | None, str | None]:
    """The inbox's query (state: one or several, comma separated; cursor; limit), or the
    code of the first wrong parameter."""
    states: set[NegotiationState] = set()
    if "state" in params:
        for value in params["state"].split(","):
            try:
                states.add(NegotiationState(value))
            except ValueError:
                return None, "state_invalid"
    after = None
    if "cursor" in params:
        after = decode_cursor(params["cursor"])
        if after is None:
            return None, "cursor_invalid"
    limit = _limit(params)
    if limit is None:
        return None, "limit_invalid"
    return InboxQuery(frozenset(states), after, limit), None


# --- the per-key rate limit: a token bucket -------------------------------------------------


@dataclass(frozen=True)
class Bucket:
    tokens: float
    at: float  # seconds, on whatever monotonic clock the caller uses


def take_token(
    bucket: Bucket | None, now: float, rate: float, burst: float
) -> tuple[Bucket, float]:
    """Take one token: the bucket after, and 0 when it was allowed or else the seconds until
    a token will be there. The bucket fills at `rate` per second up to `burst`."""
    if bucket is None:
        tokens = burst
    else:
        tokens = min(burst, bucket.tokens + max(0.0, now - bucket.at) * rate)
    if tokens >= 1:
        return Bucket(tokens - 1, now), 0.0
    return Bucket(tokens, now), (1 - tokens) / rate


def retry_after_seconds(wait: float) -> int:
    """Retry-After is whole seconds: never 0 for a refusal (a client would retry at once)."""
    return max(1, math.ceil(wait))
