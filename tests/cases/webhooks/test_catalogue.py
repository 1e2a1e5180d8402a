"""Which webhook events a timeline event means, and the OpenAPI description of each (pure)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from cases.timeline import EventKind
from cases.webhooks import catalogue as c

CASES: list[tuple[str, dict[str, Any], bool, list[tuple[str, dict[str, Any]]]]] = [
    ("filed", {}, False, [(c.DISPUTE_FILED, {})]),
    (
        "status_changed",
        {"status": ["awaiting_consent", "accepted"]},
        False,
        [(c.RESPONDENT_ANSWERED, {"answer": "consented"})],
    ),
    (
        "status_changed",
        {"status": ["awaiting_consent", "refused"]},
        False,
        [(c.RESPONDENT_ANSWERED, {"answer": "refused"})],
    ),
    ("status_changed", {"status": ["awaiting_consent", "no_response"]}, False, []),
    ("status_changed", {"status": ["accepted", "assigning"]}, False, []),
    (
        "status_changed",
        {"status": ["awaiting_mediator", "in_mediation"]},
        False,
        [(c.MEDIATOR_ASSIGNED, {})],
    ),
    (
        "status_changed",
        {"status": ["in_mediation", "failed"]},
        False,
        [(c.MEDIATION_ENDED, {"outcome": "failed"})],
    ),
    (
        "status_changed",
        {"status": ["in_mediation", "settled"]},
        False,
        [(c.MEDIATION_ENDED, {"outcome": "settled"})],
    ),
    ("status_changed", {"status": ["in_mediation", "assigning"]}, False, []),
    ("status_changed", {"status": ["transferred", "docketed"]}, False, [(c.DOCKETED, {})]),
    ("status_changed", {"status": "broken"}, False, []),
    (
        "remedy_proposed",
        {"remedy_kind": "refund"},
        False,
        [(c.RESPONDENT_ANSWERED, {"answer": "remedy_proposed"}), (c.REMEDY_PROPOSED, {})],
    ),
    ("remedy_proposed", {}, True, [(c.REMEDY_PROPOSED, {})]),
    (
        "merchant_asked",
        {},
        False,
        [(c.RESPONDENT_ANSWERED, {"answer": "question_asked"})],
    ),
    ("merchant_asked", {}, True, []),
    ("merchant_declined", {}, False, [(c.RESPONDENT_ANSWERED, {"answer": "declined"})]),
    ("remedy_accepted", {}, False, [(c.SETTLED_BY_NEGOTIATION, {})]),
    (
        "session_scheduled",
        {"starts_at": "2026-12-04T02:00:00+00:00"},
        False,
        [(c.SESSION_SCHEDULED, {"starts_at": "2026-12-04T02:00:00+00:00"})],
    ),
    (
        "session_rescheduled",
        {"starts_at": ["2026-12-04T02:00:00+00:00", "2026-12-05T02:00:00+00:00"]},
        False,
        [(c.SESSION_SCHEDULED, {"starts_at": "2026-12-05T02:00:00+00:00"})],
    ),
    ("agreement_effective", {"version": 2}, False, [(c.AGREEMENT_EFFECTIVE, {})]),
    (
        "court_filing_created",
        {"filing_kind": "transfer"},
        False,
        [(c.FILED_AT_COURT, {"filing_kind": "transfer"})],
    ),
    (
        "performance_reminded",
        {"term": 2, "due_on": "2026-12-10", "reminder": "due_soon"},
        False,
        [(c.PERFORMANCE_DUE, {"term": 2, "due_on": "2026-12-10"})],
    ),
    (
        "performance_reminded",
        {"term": 1, "due_on": "2026-12-01", "reminder": "overdue"},
        False,
        [(c.PERFORMANCE_OVERDUE, {"term": 1, "due_on": "2026-12-01"})],
    ),
    ("evidence_added", {}, False, []),
    ("negotiation_opened", {}, False, [(c.DISPUTE_FILED, {})]),
    ("negotiation_replied", {}, False, []),
    ("no_such_kind", {}, False, []),
]


@pytest.mark.parametrize(("kind", "data", "before", "expected"), CASES)
def test_events_for(
    kind: str, data: dict[str, Any], before: bool, expected: list[tuple[str, dict[str, Any]]]
) -> None:
    found = c.events_for(kind, data, merchant_answered_before=before)
    assert [(d.type, dict(d.data)) for d in found] == expected


def test_no_remedy_detail_ever_reaches_a_payload() -> None:
    data = {"remedy_kind": "refund", "amount": "3680.00", "conditions": "原路退回"}
    for derived in c.events_for("remedy_proposed", data):
        payload = c.payload_of(
            derived.type,
            datetime(2026, 12, 3, tzinfo=UTC),
            "CNM-1",
            "awaiting_merchant",
            None,
            derived.data,
        )
        text = repr(payload)
        assert "3680" not in text and "refund" not in text and "原路退回" not in text


def test_every_kind_the_catalogue_names_is_registered() -> None:
    assert set(EventKind) >= c.MERCHANT_ANSWERS


def test_the_openapi_section_has_one_entry_per_event_with_its_schema() -> None:
    section = c.webhooks_section()
    assert set(section) == set(c.EVENT_LABELS)
    assert set(c.SUBSCRIBABLE) == set(c.EVENT_LABELS) - {c.TEST_EVENT}
    for event_type, entry in section.items():
        schema = entry["post"]["requestBody"]["content"]["application/json"]["schema"]
        assert schema["properties"]["type"]["const"] == event_type
        names = {p["name"] for p in entry["post"]["parameters"]}
        assert names == {"webhook-id", "webhook-timestamp", "webhook-signature"}
