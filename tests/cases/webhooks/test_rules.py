"""What a partner may set on an endpoint (pure table tests)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cases.webhooks.catalogue import DISPUTE_FILED, SUBSCRIBABLE, TEST_EVENT
from cases.webhooks.rules import check_endpoint

OK = [DISPUTE_FILED]


@pytest.mark.parametrize(
    ("url", "events", "allow_http", "errors"),
    [
        ("https://hooks.partner.example.com/mediation", OK, False, {}),
        ("http://hooks.partner.example.com/x", OK, False, {"url": "webhook_url_invalid"}),
        ("http://127.0.0.1:9000/hook", OK, True, {}),
        ("https://127.0.0.1/hook", OK, False, {"url": "webhook_url_invalid"}),
        ("https://10.1.2.3/hook", OK, False, {"url": "webhook_url_invalid"}),
        ("https://localhost/hook", OK, False, {"url": "webhook_url_invalid"}),
        ("https://user:pw@hooks.example.com/", OK, False, {"url": "webhook_url_invalid"}),
        ("https://hooks.example.com/#x", OK, False, {"url": "webhook_url_invalid"}),
        ("ftp://hooks.example.com/", OK, True, {"url": "webhook_url_invalid"}),
        ("", OK, False, {"url": "required"}),
        ("https://hooks.example.com/" + "a" * 500, OK, False, {"url": "too_long"}),
        ("https://hooks.example.com/", [], False, {"events": "webhook_events_required"}),
        ("https://hooks.example.com/", [TEST_EVENT], False, {"events": "webhook_event_unknown"}),
        ("https://hooks.example.com/", ["x.y"], False, {"events": "webhook_event_unknown"}),
    ],
)
def test_check_endpoint(
    url: str, events: list[str], allow_http: bool, errors: dict[str, str]
) -> None:
    fields, found = check_endpoint(url, events, allow_http=allow_http)
    assert found == errors
    assert (fields is None) == bool(errors)


@given(st.lists(st.sampled_from(SUBSCRIBABLE), min_size=1))
def test_chosen_events_are_kept_once_in_order(events: list[str]) -> None:
    fields, errors = check_endpoint("https://hooks.example.com/", events)
    assert not errors and fields is not None
    assert list(fields.events) == list(dict.fromkeys(events))
