"""The webhook events a partner platform may subscribe to, derived from the case's timeline.

Pure: which webhook events one timeline event means (`events_for`), each event's payload
(`payload_of`), their labels, and the OpenAPI 3.1 `webhooks` section (`webhooks_section`).
Imports only the vocabularies.

What a partner is told: the case number, its status, its own reference, and that something
happened. Never what was offered in negotiation (amounts, words: privileged like a caucus
concession, see cases.court.privilege), nor a party's identity data: the partner is the
merchant's platform and reads the details through its API where it may.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from types import MappingProxyType
from typing import Any

from cases.timeline import EventKind


def N_(message: str) -> str:
    """Mark a string for extraction (this module imports nothing of the shell)."""
    return message


# The event types, in the order the partner admin page lists them.
DISPUTE_FILED = "dispute.filed"
RESPONDENT_ANSWERED = "dispute.respondent_answered"
REMEDY_PROPOSED = "negotiation.remedy_proposed"
SETTLED_BY_NEGOTIATION = "negotiation.settled"
MEDIATOR_ASSIGNED = "mediation.mediator_assigned"
SESSION_SCHEDULED = "mediation.session_scheduled"
AGREEMENT_EFFECTIVE = "agreement.effective"
PERFORMANCE_DUE = "performance.due"
PERFORMANCE_OVERDUE = "performance.overdue"
MEDIATION_ENDED = "mediation.ended"
FILED_AT_COURT = "court.filed"
DOCKETED = "court.docketed"
# District governance staff told the platform of an early warning about it, its merchants or
# its kind of dispute (cases.warnings): not caused by a case's timeline, sent on request.
GOVERNANCE_ALERT = "governance.alert"
# Sent only on request from the partner admin page; nobody subscribes to it.
TEST_EVENT = "webhook.test"

EVENT_LABELS: Mapping[str, str] = MappingProxyType(
    {
        DISPUTE_FILED: N_("A dispute was filed"),
        RESPONDENT_ANSWERED: N_("The respondent answered (consent or the merchant's first answer)"),
        REMEDY_PROPOSED: N_("The merchant proposed a remedy"),
        SETTLED_BY_NEGOTIATION: N_("Settled by negotiation"),
        MEDIATOR_ASSIGNED: N_("A mediator took the case"),
        SESSION_SCHEDULED: N_("An online session was scheduled"),
        AGREEMENT_EFFECTIVE: N_("The mediation agreement took effect"),
        PERFORMANCE_DUE: N_("Performance of a term is due soon"),
        PERFORMANCE_OVERDUE: N_("Performance of a term is overdue"),
        MEDIATION_ENDED: N_("Mediation ended"),
        FILED_AT_COURT: N_("Filed at court"),
        DOCKETED: N_("Docketed by the court"),
        GOVERNANCE_ALERT: N_("District governance raised an early warning"),
        TEST_EVENT: N_("Test event"),
    }
)

# What a partner may subscribe to (everything but the test event).
SUBSCRIBABLE: tuple[str, ...] = tuple(t for t in EVENT_LABELS if t != TEST_EVENT)
# Subscribable events no timeline event causes: sent by a person's action.
NOT_FROM_TIMELINE = frozenset({GOVERNANCE_ALERT})

# The merchant's first answer in a negotiation: any of these, the first time.
MERCHANT_ANSWERS = frozenset(
    {EventKind.REMEDY_PROPOSED, EventKind.MERCHANT_ASKED, EventKind.MERCHANT_DECLINED}
)
_MEDIATION_ENDINGS = frozenset({"settled", "failed", "withdrawn", "timed_out"})
_CONSENT_ANSWERS = {"accepted": "consented", "refused": "refused"}
_COURT_DECISIONS = frozenset({"confirmed", "confirmation_rejected"})


@dataclass(frozen=True)
class Derived:
    """One webhook event a timeline event means, with the event's own data fields."""

    type: str
    data: Mapping[str, Any]
    # Told only to the merchant's platform, not to the partner that filed the case (which
    # heard of it already): the filing as the merchant's platform learns of it, when the
    # dispute is sent to the merchant to answer first.
    merchant_platform_only: bool = False


def events_for(
    kind: str, data: Mapping[str, Any], *, merchant_answered_before: bool = False
) -> list[Derived]:
    """The webhook events a timeline event of `kind` with `data` means (often none).

    `merchant_answered_before`: whether the merchant had answered this negotiation before
    (the caller looks; only the first answer is "the respondent answered").
    """
    try:
        event = EventKind(kind)
    except ValueError:
        return []
    found: list[Derived] = []
    if event is EventKind.FILED:
        found.append(Derived(DISPUTE_FILED, {}))
    elif event is EventKind.NEGOTIATION_OPENED:
        found.append(Derived(DISPUTE_FILED, {}, merchant_platform_only=True))
    elif event is EventKind.STATUS_CHANGED:
        change = data.get("status")
        if isinstance(change, list | tuple) and len(change) == 2:
            source, target = str(change[0]), str(change[1])
            if source == "awaiting_consent" and target in _CONSENT_ANSWERS:
                found.append(Derived(RESPONDENT_ANSWERED, {"answer": _CONSENT_ANSWERS[target]}))
            if target == "in_mediation" and source == "awaiting_mediator":
                found.append(Derived(MEDIATOR_ASSIGNED, {}))
            if source == "in_mediation" and target in _MEDIATION_ENDINGS:
                found.append(Derived(MEDIATION_ENDED, {"outcome": target}))
            if target == "docketed":
                found.append(Derived(DOCKETED, {}))
    elif event in MERCHANT_ANSWERS:
        if not merchant_answered_before:
            answer = {
                EventKind.REMEDY_PROPOSED: "remedy_proposed",
                EventKind.MERCHANT_ASKED: "question_asked",
                EventKind.MERCHANT_DECLINED: "declined",
            }[event]
            found.append(Derived(RESPONDENT_ANSWERED, {"answer": answer}))
        if event is EventKind.REMEDY_PROPOSED:
            # That a remedy was proposed, never which or how much (privileged).
            found.append(Derived(REMEDY_PROPOSED, {}))
    elif event is EventKind.REMEDY_ACCEPTED:
        found.append(Derived(SETTLED_BY_NEGOTIATION, {}))
    elif event in (EventKind.SESSION_SCHEDULED, EventKind.SESSION_RESCHEDULED):
        starts = data.get("starts_at")
        if isinstance(starts, list | tuple) and starts:  # rescheduled: [before, after]
            starts = starts[-1]
        found.append(Derived(SESSION_SCHEDULED, {"starts_at": str(starts)} if starts else {}))
    elif event is EventKind.AGREEMENT_EFFECTIVE:
        found.append(Derived(AGREEMENT_EFFECTIVE, {}))
    elif event is EventKind.PERFORMANCE_REMINDED:
        reminder = data.get("reminder")
        facts = {"term": data.get("term"), "due_on": str(data.get("due_on") or "")}
        if reminder == "due_soon":
            found.append(Derived(PERFORMANCE_DUE, facts))
        elif reminder == "overdue":
            found.append(Derived(PERFORMANCE_OVERDUE, facts))
    elif event is EventKind.COURT_FILING_CREATED:
        filing_kind = data.get("filing_kind")
        found.append(Derived(FILED_AT_COURT, {"filing_kind": str(filing_kind or "")}))
    return found


def payload_of(
    event_type: str,
    at: datetime,
    number: str,
    status: str,
    partner_reference: str | None,
    data: Mapping[str, Any],
) -> dict[str, Any]:
    """The Standard Webhooks payload: type, timestamp (ISO 8601, for machines) and data."""
    return {
        "type": event_type,
        "timestamp": at.isoformat(),
        "data": {
            "number": number,
            "status": status,
            "partner_reference": partner_reference,
            **dict(data),
        },
    }


def alert_payload(
    at: datetime,
    alert: int,
    rule: str,
    subject: str,
    week: str,
    figures: Mapping[str, Any],
    message: str,
) -> dict[str, Any]:
    """An early warning told to a partner platform: which rule fired for what (a merchant's
    or platform's business name, or a category: never a party's identity), the week, the
    headline figures, and the governance staff's message."""
    return {
        "type": GOVERNANCE_ALERT,
        "timestamp": at.isoformat(),
        "data": {
            "alert": alert,
            "rule": rule,
            "subject": subject,
            "week": week,
            "figures": {k: v for k, v in figures.items() if isinstance(v, int | float)},
            "message": message,
        },
    }


def test_payload(at: datetime, partner_name: str) -> dict[str, Any]:
    return {"type": TEST_EVENT, "timestamp": at.isoformat(), "data": {"partner": partner_name}}


# --- OpenAPI 3.1 ------------------------------------------------------------------------------

_EXTRA_FIELDS: Mapping[str, Mapping[str, Any]] = {
    RESPONDENT_ANSWERED: {
        "answer": {
            "type": "string",
            "enum": ["consented", "refused", "remedy_proposed", "question_asked", "declined"],
        }
    },
    MEDIATION_ENDED: {
        "outcome": {"type": "string", "enum": sorted(_MEDIATION_ENDINGS)},
    },
    SESSION_SCHEDULED: {"starts_at": {"type": "string", "format": "date-time"}},
    FILED_AT_COURT: {"filing_kind": {"type": "string"}},
    PERFORMANCE_DUE: {
        "term": {"type": "integer", "description": "The agreement's term number."},
        "due_on": {"type": "string", "format": "date"},
    },
    PERFORMANCE_OVERDUE: {
        "term": {"type": "integer", "description": "The agreement's term number."},
        "due_on": {"type": "string", "format": "date"},
    },
}

_SIGNATURE_HEADERS: Sequence[dict[str, Any]] = (
    {
        "name": "webhook-id",
        "in": "header",
        "required": True,
        "description": "The delivery's id: the same on every retry (deduplicate by it).",
        "schema": {"type": "string"},
    },
    {
        "name": "webhook-timestamp",
        "in": "header",
        "required": True,
        "description": "Seconds since the epoch when this attempt was signed.",
        "schema": {"type": "string", "pattern": "^[0-9]+$"},
    },
    {
        "name": "webhook-signature",
        "in": "header",
        "required": True,
        "description": (
            "Standard Webhooks: space-separated `v1,<base64 HMAC-SHA256>` of "
            "`{id}.{timestamp}.{body}`; during a secret rotation both the new and the old "
            "secret sign."
        ),
        "schema": {"type": "string"},
    },
)


_ALERT_DATA: Mapping[str, Any] = MappingProxyType(
    {
        "type": "object",
        "required": ["alert", "rule", "subject", "week", "figures", "message"],
        "properties": {
            "alert": {"type": "integer", "description": "The alert's number on the platform."},
            "rule": {"type": "string", "enum": ["surge", "response_rate", "burst"]},
            "subject": {
                "type": "string",
                "description": "What the alert is about: a merchant, platform or category.",
            },
            "week": {"type": "string", "examples": ["2026-W49"], "description": "ISO week."},
            "figures": {
                "type": "object",
                "description": (
                    "The figures that fired the rule, e.g. last_7_days, median_week, ratio "
                    "(surge), answered, asked, rate (response rate), filings (burst)."
                ),
                "additionalProperties": {"type": ["number", "null"]},
            },
            "message": {"type": "string", "description": "Governance staff's words."},
        },
        "additionalProperties": False,
    }
)


def _schema(event_type: str) -> dict[str, Any]:
    if event_type == GOVERNANCE_ALERT:
        data: dict[str, Any] = dict(_ALERT_DATA)
    elif event_type == TEST_EVENT:
        data = {
            "type": "object",
            "required": ["partner"],
            "properties": {"partner": {"type": "string"}},
            "additionalProperties": False,
        }
    else:
        data = {
            "type": "object",
            "required": ["number", "status", "partner_reference"],
            "properties": {
                "number": {"type": "string", "examples": ["CNM-2026-T-00001"]},
                "status": {"type": "string"},
                "partner_reference": {"type": ["string", "null"]},
                **_EXTRA_FIELDS.get(event_type, {}),
            },
            # Nothing else is ever told (no remedy, amount or identity data).
            "additionalProperties": False,
        }
    return {
        "type": "object",
        "required": ["type", "timestamp", "data"],
        "properties": {
            "type": {"type": "string", "const": event_type},
            "timestamp": {"type": "string", "format": "date-time"},
            "data": data,
        },
    }


def webhooks_section() -> dict[str, Any]:
    """The OpenAPI 3.1 `webhooks` object: one entry per event type with its payload schema."""
    section: dict[str, Any] = {}
    for event_type, label in EVENT_LABELS.items():
        section[event_type] = {
            "post": {
                "summary": label,
                "operationId": "webhook_" + event_type.replace(".", "_"),
                "parameters": list(_SIGNATURE_HEADERS),
                "requestBody": {
                    "required": True,
                    "content": {"application/json": {"schema": _schema(event_type)}},
                },
                "responses": {
                    "2XX": {"description": "Received: the delivery is not sent again."},
                    "default": {
                        "description": (
                            "Not received: sent again later with back-off (a 4xx other than "
                            "408, 425 and 429 stops the retries: a dead letter, replayable "
                            "from the partner admin page)."
                        )
                    },
                },
            }
        }
    return section
