"""Table tests of the partner API's pure rules: the order snapshot, the cursor and the list's
filters, idempotency keys and the token bucket."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime

import pytest

from cases.partners.rules import (
    Bucket,
    Position,
    check_inbox_query,
    check_list_query,
    check_order,
    decode_cursor,
    encode_cursor,
    idempotency_key_error,
    retry_after_seconds,
    take_token,
)
from cases.status import Status
from tests.support.factories import uscc

ORDER = {"order_number": " A-1 ", "placed_at": "2026-11-01T09:30:00+08:00", "total_amount": "10"}


def test_a_minimal_order_is_kept_as_received_with_its_canonical_digest() -> None:
    checked, errors = check_order({**ORDER, "merchant_uscc": uscc().lower()})

    assert errors == {}
    assert checked is not None
    assert checked.order_number == "A-1"
    assert checked.merchant_uscc == uscc()
    assert checked.canonical.startswith('{"merchant_uscc":')  # keys sorted
    assert " " not in checked.canonical.replace(" A-1 ", "")  # no spaces added
    assert checked.sha256 == hashlib.sha256(checked.canonical.encode()).hexdigest()


@pytest.mark.parametrize(
    ("change", "where", "code"),
    [
        ({"total_amount": "1.234"}, "order.total_amount", "amount_invalid"),
        ({"total_amount": "01"}, "order.total_amount", "amount_invalid"),
        ({"total_amount": "1000000000000"}, "order.total_amount", "amount_invalid"),
        ({"placed_at": "2026-11-01"}, "order.placed_at", "time_invalid"),
        ({"placed_at": "2026-11-01T09:30:00"}, "order.placed_at", "time_invalid"),
        ({"order_number": "   "}, "order.order_number", "required"),
        ({"items": {}}, "order.items", "invalid_field_type"),
        ({"items": ["x"]}, "order.items.0", "invalid_field_type"),
        (
            {"booking": {"product": "x", "travellers": 101}},
            "order.booking.travellers",
            "count_invalid",
        ),
        ({"booking": {}}, "order.booking.product", "required"),
    ],
)
def test_order_errors_are_keyed_by_path(change: dict[str, object], where: str, code: str) -> None:
    checked, errors = check_order({**ORDER, **change})

    assert checked is None
    assert errors[where] == code


def test_an_order_over_256_kb_is_refused() -> None:
    chat = [{"at": "2026-11-01T09:30:00+08:00", "speaker": "customer", "text": "字" * 2000}] * 200
    assert check_order({**ORDER, "chat_excerpt": chat}) == (None, {"order": "order_too_large"})


def test_a_cursor_round_trips_and_a_foreign_one_is_refused() -> None:
    position = Position(datetime(2026, 12, 3, 8, 0, 0, 123456, tzinfo=UTC), 42)

    assert decode_cursor(encode_cursor(position)) == position
    for foreign in ("", "!!!", "WzEsMl0", "WyIyMDI2LTEyLTAzIiwgMV0", "x" * 201):
        assert decode_cursor(foreign) is None


@pytest.mark.parametrize(
    ("params", "error"),
    [
        ({}, None),
        ({"status": "refused,accepted"}, None),
        ({"status": "refused, accepted"}, "status_invalid"),
        ({"status": ""}, "status_invalid"),
        ({"status": "refused,"}, "status_invalid"),
        ({"status": "REFUSED"}, "status_invalid"),
        ({"limit": "200"}, None),
        ({"limit": "-1"}, "limit_invalid"),
        ({"updated_since": "2026-12-03T08:00:00Z"}, None),
        ({"cursor": ""}, "cursor_invalid"),
    ],
)
def test_list_queries(params: dict[str, str], error: str | None) -> None:
    query, code = check_list_query(params)

    assert code == error
    if params.get("status") == "refused,accepted":
        assert query is not None and query.statuses == {Status.REFUSED, Status.ACCEPTED}


@pytest.mark.parametrize(
    ("key", "error"),
    [
        ("k", None),
        ("a b", None),
        ("", "idempotency_key_required"),
        (None, "idempotency_key_required"),
        (7, "idempotency_key_required"),
        (" k", "idempotency_key_invalid"),
        ("k\t", "idempotency_key_invalid"),
        ("键", "idempotency_key_invalid"),
        ("k" * 256, "idempotency_key_invalid"),
    ],
)
def test_idempotency_keys(key: object, error: str | None) -> None:
    assert idempotency_key_error(key) == error


def test_the_bucket_allows_its_burst_then_refuses_until_it_refills() -> None:
    bucket = None
    for _ in range(3):
        bucket, wait = take_token(bucket, 100.0, rate=2.0, burst=3)
        assert wait == 0
    bucket, wait = take_token(bucket, 100.0, rate=2.0, burst=3)
    assert wait == pytest.approx(0.5)
    assert retry_after_seconds(wait) == 1
    bucket, wait = take_token(bucket, 100.5, rate=2.0, burst=3)
    assert wait == 0
    # Idle for long: never more than the burst.
    assert take_token(Bucket(0, 0.0), 1000.0, rate=2.0, burst=3)[0].tokens == 2
    # A clock that goes back adds nothing.
    assert take_token(Bucket(0.5, 10.0), 5.0, rate=2.0, burst=3)[1] == pytest.approx(0.25)


@pytest.mark.parametrize(
    ("params", "error"),
    [
        ({}, None),
        ({"state": "open,declined"}, None),
        ({"state": "open,"}, "state_invalid"),
        ({"state": "OPEN"}, "state_invalid"),
        ({"cursor": "nope"}, "cursor_invalid"),
        ({"limit": "201"}, "limit_invalid"),
    ],
)
def test_inbox_queries(params: dict[str, str], error: str | None) -> None:
    assert check_inbox_query(params)[1] == error
