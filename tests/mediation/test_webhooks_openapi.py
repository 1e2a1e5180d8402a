"""The webhooks' OpenAPI 3.1 section: valid inside the partner API's document (where the lead
wires it), and every payload the platform sends fits the schema it publishes."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from cases.webhooks import catalogue as c
from mediation.openapi import openapi_document
from tests.support.required import required_module

# A timeline event per webhook event type, with the data its action records.
TIMELINE: list[tuple[str, dict[str, Any]]] = [
    ("filed", {}),
    ("negotiation_opened", {"merchant": "上海某某商家", "due_on": "2026-11-16"}),
    ("status_changed", {"status": ["awaiting_consent", "accepted"]}),
    ("status_changed", {"status": ["awaiting_consent", "refused"]}),
    ("merchant_asked", {}),
    ("merchant_declined", {"reason": "不同意"}),
    ("remedy_proposed", {"remedy": "refund"}),
    ("remedy_accepted", {}),
    ("status_changed", {"status": ["awaiting_mediator", "in_mediation"]}),
    ("session_scheduled", {"starts_at": "2026-12-04T02:00:00+00:00", "mode": "joint"}),
    ("agreement_effective", {"version": 1}),
    ("performance_reminded", {"term": 1, "due_on": "2026-12-03", "reminder": "due_soon"}),
    ("performance_reminded", {"term": 1, "due_on": "2026-12-03", "reminder": "overdue"}),
    ("status_changed", {"status": ["in_mediation", "failed"]}),
    ("court_filing_created", {"filing_id": "f-1", "filing_kind": "transfer"}),
    ("status_changed", {"status": ["transferred", "docketed"]}),
]


def test_the_section_validates_in_the_partner_api_document() -> None:
    validator = required_module("openapi_spec_validator")
    document = openapi_document("http://testserver")
    document["webhooks"] = c.webhooks_section()
    validator.validate(document, cls=validator.OpenAPIV31SpecValidator)


def test_the_timeline_reaches_every_subscribable_event() -> None:
    types = {d.type for kind, data in TIMELINE for d in c.events_for(kind, data)}
    assert types == set(c.SUBSCRIBABLE) - c.NOT_FROM_TIMELINE


@given(
    reference=st.one_of(st.none(), st.text(min_size=1, max_size=100)),
    status=st.sampled_from(["submitted", "awaiting_merchant", "in_mediation", "docketed"]),
)
def test_every_payload_fits_its_published_schema(reference: str | None, status: str) -> None:
    jsonschema = required_module("jsonschema")
    section = c.webhooks_section()
    at = datetime(2026, 12, 3, 12, tzinfo=UTC)
    payloads = [
        c.payload_of(d.type, at, "CNM-2026-I-00001", status, reference, d.data)
        for kind, data in TIMELINE
        for d in c.events_for(kind, data)
    ]
    payloads.append(c.test_payload(at, "携程演示"))
    figures = {"last_7_days": 12, "median_week": 1.5, "ratio": None, "daily": [["x", 1]]}
    payloads.append(c.alert_payload(at, 3, "surge", "某旅行社", "2026-W49", figures, "请核查"))
    for payload in payloads:
        schema = section[payload["type"]]["post"]["requestBody"]["content"]["application/json"]
        jsonschema.validate(payload, schema["schema"], cls=jsonschema.Draft202012Validator)
