"""Generated bad input for the partner API v1's new doors (hypothesis): the order inside a
filing, batches, the list's query, negotiation moves and attachments. Every answer is one the
description documents, below 500, with a clear error for a refusal; what is refused stores
nothing, and a batch stores exactly the cases it reports as created."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from starlette.testclient import TestClient

from cases.accounts.actions import do_create_partner
from cases.models import Case, Evidence
from cases.partners.models import OrderSnapshot
from mediation.app import create_app
from mediation.settings import Settings
from tests.support.factories import api_filing_body, run

MAX_EXAMPLES = int(os.environ.get("FUZZ_MAX_EXAMPLES", "40"))
FUZZ = settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
NASTY = ["\ud800", "\x00", "\x1b", "\u202e", "长", "😀", "", " ", "0", "-1", "1e9", "T", "Z"]
texts = st.one_of(st.text(max_size=20), st.sampled_from(NASTY))
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.sampled_from([2**63, 10**40]) | texts,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(texts, inner, max_size=3),
    max_leaves=8,
)
ORDER_KEYS = ["order_number", "placed_at", "total_amount", "items", "booking", "chat_excerpt"]
GOOD_ORDER = {
    "order_number": "A-1",
    "placed_at": "2026-11-01T09:30:00+08:00",
    "total_amount": "10.00",
}
# An order near a valid one: some of its fields (or new ones) replaced by anything.
orders = st.one_of(
    json_values,
    st.dictionaries(st.sampled_from(ORDER_KEYS) | texts, json_values, max_size=4).map(
        lambda changed: {**GOOD_ORDER, **changed}
    ),
)


# Text a URL can carry (a lone surrogate has no UTF-8; the JSON bodies send it escaped).
url_texts = texts.filter(lambda t: not any(0xD800 <= ord(c) <= 0xDFFF for c in t))


def as_json(body: Any) -> bytes:
    return json.dumps(body).encode()  # ASCII: a lone surrogate travels as "\\ud800"


@pytest.fixture
def app_client(settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(settings, background_jobs=False)) as client:
        yield client


@pytest.fixture
def key(app_client: TestClient) -> str:
    async def create() -> str:
        return (await do_create_partner("某旅游平台"))[1]

    return app_client.portal.call(create)


async def _counts() -> tuple[int, int, int]:
    return await Case.all().count(), await OrderSnapshot.all().count(), await Evidence.all().count()


def _clear_error(response: Any) -> None:
    body = response.json()
    assert body["error"] and body["message"] and body["message"] != body["error"]


def test_a_generated_order_is_filed_or_refused_with_field_errors(
    app_client: TestClient, key: str
) -> None:
    seen = {"filed": 0, "refused": 0}
    count = [0]

    @FUZZ
    @given(order=orders)
    def attempt(order: Any) -> None:
        count[0] += 1
        before = run(app_client, _counts)
        body = {
            **api_filing_body(partner_reference=f"G-{count[0]}", evidence=[]),
            "order": order,
        }
        response = app_client.post(
            "/api/v1/disputes",
            content=as_json(body),
            headers={"Authorization": f"Bearer {key}", "Idempotency-Key": f"g-{count[0]}"},
        )
        assert response.status_code in (201, 400, 422), response.text[:300]
        after = run(app_client, _counts)
        if response.status_code == 201:
            seen["filed"] += 1
            assert after[:2] == (before[0] + 1, before[1] + 1)
        else:
            seen["refused"] += 1
            _clear_error(response)
            assert after == before

    attempt()
    assert seen["refused"] > 0  # the generator reaches the checks


def test_a_generated_batch_stores_exactly_what_it_reports(app_client: TestClient, key: str) -> None:
    count = [0]
    item = st.one_of(
        st.builds(
            lambda k, v: {"idempotency_key": k, "dispute": v},
            texts,
            st.just("valid") | json_values,
        ),
        st.dictionaries(texts, json_values, max_size=3),
    )

    @FUZZ
    @given(
        body=st.one_of(
            json_values, st.builds(lambda items: {"items": items}, st.lists(item, max_size=4))
        )
    )
    def attempt(body: Any) -> None:
        count[0] += 1
        if isinstance(body, dict) and isinstance(body.get("items"), list):
            for n, entry in enumerate(body["items"]):
                if isinstance(entry, dict) and entry.get("dispute") == "valid":
                    reference = f"GB-{count[0]}-{n}"
                    entry["dispute"] = api_filing_body(partner_reference=reference, evidence=[])
        before = run(app_client, _counts)[0]
        response = app_client.post(
            "/api/v1/disputes/batch",
            content=as_json(body),
            headers={"Authorization": f"Bearer {key}"},
        )
        assert response.status_code in (207, 400, 422), response.text[:300]
        after = run(app_client, _counts)[0]
        if response.status_code == 207:
            answer = response.json()
            assert after - before == answer["created"]
            assert len(answer["results"]) == len(body["items"])
            for result in answer["results"]:
                assert result["status"] in (200, 201, 400, 422)
                if result["status"] >= 400:
                    error = result["body"]
                    assert error["error"] and error["message"] != error["error"]
        else:
            _clear_error(response)
            assert after == before

    attempt()


def test_a_generated_list_query_is_answered_or_refused_clearly(
    app_client: TestClient, key: str
) -> None:
    names = st.sampled_from(["status", "updated_since", "cursor", "limit"]) | url_texts

    @FUZZ
    @given(params=st.dictionaries(names, url_texts, max_size=4))
    def attempt(params: dict[str, str]) -> None:
        response = app_client.get(
            "/api/v1/disputes", params=params, headers={"Authorization": f"Bearer {key}"}
        )
        assert response.status_code in (200, 400), response.text[:300]
        if response.status_code == 400:
            _clear_error(response)

    attempt()


def test_generated_attachments_are_added_or_refused_and_nothing_else(
    app_client: TestClient, key: str
) -> None:
    filed = app_client.post(
        "/api/v1/disputes",
        json=api_filing_body(evidence=[]),
        headers={"Authorization": f"Bearer {key}", "Idempotency-Key": "att-1"},
    )
    number = filed.json()["case_number"]

    @FUZZ
    @given(data=st.binary(max_size=64), filename=url_texts)
    def attempt(data: bytes, filename: str) -> None:
        before = run(app_client, _counts)[2]
        response = app_client.post(
            f"/api/v1/disputes/{number}/attachments",
            params={"filename": filename},
            content=data,
            headers={"Authorization": f"Bearer {key}"},
        )
        assert response.status_code in (200, 201, 400, 422), response.text[:300]
        after = run(app_client, _counts)[2]
        assert after - before == (1 if response.status_code == 201 else 0)
        if response.status_code >= 400:
            _clear_error(response)

    attempt()
