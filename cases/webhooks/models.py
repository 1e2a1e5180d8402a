"""The webhooks' models: a partner platform's administrators, its endpoints, and each
delivery (a row of the webhooks' outbox, sent by `courtwire.outbox.Relay`).

The one writer of deliveries caused by the case's events is registered with the journal here
(`queue_deliveries`), where the models are defined, because every process that uses the ORM
loads this module: an event recorded anywhere, by any process, queues its webhooks in its own
transaction. It needs only these models, the pure catalogue and the journal, so no circle.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from tortoise import fields
from tortoise.models import Model

from cases.accounts.models import PartnerPlatform, User
from cases.duplicates.models import CaseSource
from cases.journal import RecordedEvent, on_events_recorded
from cases.models import Case, OutboxStatus, TimelineEvent
from cases.negotiation.models import Negotiation
from cases.rows import Row, insert_rows
from cases.webhooks.catalogue import MERCHANT_ANSWERS, Derived, events_for, payload_of

# The relay's destination for every webhook row (the URL is the endpoint's).
DESTINATION = "partner"
CONTENT_TYPE = "application/json"


class PartnerMember(Model):
    """An account (role `partner_admin`) that administers one partner platform's webhooks."""

    id = fields.IntField(primary_key=True)
    user: fields.OneToOneRelation[User] = fields.OneToOneField(
        "models.User", related_name="partner_membership", on_delete=fields.CASCADE
    )
    partner: fields.ForeignKeyRelation[PartnerPlatform] = fields.ForeignKeyField(
        "models.PartnerPlatform", related_name="members", on_delete=fields.CASCADE
    )
    created_at = fields.DatetimeField()
    user_id: int
    partner_id: int

    class Meta:
        table = "partner_member"


class WebhookEndpoint(Model):
    """Where a partner wants its events, which ones, and the secret(s) that sign them.

    While a secret is rotated, the one it replaced stays valid until
    `previous_secret_until` and both sign every request (the Standard Webhooks way: several
    space-separated signatures), so the partner can switch its receiver at its own pace."""

    id = fields.IntField(primary_key=True)
    partner: fields.ForeignKeyRelation[PartnerPlatform] = fields.ForeignKeyField(
        "models.PartnerPlatform", related_name="webhook_endpoints", on_delete=fields.CASCADE
    )
    url = fields.CharField(max_length=500)
    description = fields.CharField(max_length=200, default="")
    events: fields.Field[list[str]] = fields.JSONField(default=list)
    is_active = fields.BooleanField(default=True)
    secret = fields.CharField(max_length=100)
    previous_secret = fields.CharField(max_length=100, default="")
    previous_secret_until = fields.DatetimeField(null=True)
    created_at = fields.DatetimeField()
    updated_at = fields.DatetimeField()
    partner_id: int

    class Meta:
        table = "webhook_endpoint"
        indexes = (("partner_id", "is_active"),)

    def signing_secrets(self, now: datetime) -> list[str]:
        """The secrets that sign a request sent at `now`: the current one, and the one it
        replaced while its grace period lasts."""
        secrets = [self.secret]
        if (
            self.previous_secret
            and self.previous_secret_until is not None
            and now < self.previous_secret_until
        ):
            secrets.append(self.previous_secret)
        return secrets


class WebhookDelivery(Model):
    """One event for one endpoint: written in the transaction of the timeline event that
    caused it, delivered by the relay at least once. `msg_id` is the `webhook-id` the
    receiver deduplicates by; the fields below it are the relay's (see courtwire.outbox)."""

    id = fields.BigIntField(primary_key=True)
    msg_id = fields.CharField(max_length=64, unique=True)
    endpoint: fields.ForeignKeyRelation[WebhookEndpoint] = fields.ForeignKeyField(
        "models.WebhookEndpoint", related_name="deliveries", on_delete=fields.CASCADE
    )
    partner: fields.ForeignKeyRelation[PartnerPlatform] = fields.ForeignKeyField(
        "models.PartnerPlatform", related_name="webhook_deliveries", on_delete=fields.CASCADE
    )
    case: fields.ForeignKeyNullableRelation[Case] = fields.ForeignKeyField(
        "models.Case", related_name="webhook_deliveries", null=True, on_delete=fields.CASCADE
    )
    event_type = fields.CharField(max_length=60)
    destination = fields.CharField(max_length=40, default=DESTINATION)
    path = fields.CharField(max_length=200, default="")  # the endpoint's URL is the whole URL
    content_type = fields.CharField(max_length=80, default=CONTENT_TYPE)
    body = fields.TextField()
    status = fields.CharEnumField(OutboxStatus, max_length=12, default=OutboxStatus.PENDING)
    attempts = fields.IntField(default=0)
    next_attempt_at = fields.DatetimeField()
    claimed_until = fields.DatetimeField(null=True)
    claimed_by = fields.CharField(max_length=64, default="")
    last_error = fields.TextField(default="")
    last_status_code = fields.IntField(null=True)
    response: fields.Field[dict[str, Any]] = fields.JSONField(default=dict)
    created_at = fields.DatetimeField()
    delivered_at = fields.DatetimeField(null=True)
    endpoint_id: int
    partner_id: int
    case_id: int | None

    class Meta:
        table = "webhook_delivery"
        indexes = (("status", "next_attempt_at"), ("endpoint_id", "created_at"))


def new_msg_id() -> str:
    return f"msg_{uuid.uuid4().hex}"


def encode(payload: dict[str, Any]) -> str:
    # Compact and as written: the body is signed as these exact bytes.
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":"))


async def queue_event(
    endpoint: WebhookEndpoint,
    event_type: str,
    payload: dict[str, Any],
    now: datetime,
    case: Case | None = None,
) -> WebhookDelivery:
    """A delivery row for one endpoint (inside the caller's transaction)."""
    return await WebhookDelivery.create(
        msg_id=new_msg_id(),
        endpoint_id=endpoint.id,
        partner_id=endpoint.partner_id,
        case=case,
        event_type=event_type,
        body=encode(payload),
        next_attempt_at=now,
        created_at=now,
    )


async def partners_of(case: Case) -> set[int]:
    """The partner platforms a case concerns (see `partners_of_cases`)."""
    return (await partners_of_cases([case]))[case.id]


async def partners_of_cases(cases: Sequence[Case]) -> dict[int, set[int]]:
    """The partner platforms each case concerns, by case id: the one that filed it, those
    whose filings of the same dispute were merged into it (one dispute, one number), the one
    that vouched for its merchant (the merchant's platform) and the one its merchant
    delegated answering to. Two queries however many cases."""
    partners = {c.id: {c.partner_id} if c.partner_id is not None else set() for c in cases}
    ids = list(partners)
    merchants: list[Any] = await Negotiation.filter(case_id__in=ids).values_list(
        "case_id", "merchant__vouched_by_id", "merchant__delegated_to_id"
    )
    merged: list[Any] = await CaseSource.filter(
        case_id__in=ids, merged=True, partner_id__isnull=False
    ).values_list("case_id", "partner_id")
    for case_id, *platforms in [*merchants, *merged]:
        partners[case_id].update(int(p) for p in platforms if p is not None)
    return partners


@on_events_recorded
async def queue_deliveries(recorded: Sequence[RecordedEvent]) -> None:
    """The journal's hook: queue each webhook event the timeline events mean to every active
    endpoint of each case's partners subscribed to it, in the events' transaction (a handful
    of queries for a whole batch of filings)."""
    meant: list[tuple[Case, TimelineEvent, list[Derived]]] = []
    for case, event in recorded:
        data = event.data if isinstance(event.data, dict) else {}
        before = True
        if event.kind in MERCHANT_ANSWERS:
            before = await TimelineEvent.filter(
                case_id=case.id, kind__in=[k.value for k in MERCHANT_ANSWERS], id__lt=event.id
            ).exists()
        derived = events_for(event.kind, data, merchant_answered_before=before)
        if derived:
            meant.append((case, event, derived))
    if not meant:
        return
    partners = await partners_of_cases(list({case.id: case for case, _, _ in meant}.values()))
    concerned = set().union(*partners.values())
    if not concerned:
        return
    endpoints = await WebhookEndpoint.filter(
        partner_id__in=concerned, is_active=True, partner__is_active=True
    ).order_by("id")
    deliveries = [
        delivery
        for case, event, derived in meant
        for endpoint in endpoints
        if endpoint.partner_id in partners[case.id]
        for delivery in _deliveries(case, event, derived, endpoint)
    ]
    await insert_rows(WebhookDelivery, deliveries)


def _deliveries(
    case: Case, event: TimelineEvent, derived: Sequence[Derived], endpoint: WebhookEndpoint
) -> list[Row]:
    """The rows for one endpoint of one case's partners (not yet written)."""
    rows: list[Row] = []
    for item in derived:
        if item.type not in endpoint.events:
            continue
        if item.merchant_platform_only and endpoint.partner_id == case.partner_id:
            continue
        # A partner's own reference, told only to the partner that filed the case.
        reference = case.partner_reference if endpoint.partner_id == case.partner_id else None
        payload = payload_of(
            item.type, event.at, case.number, str(case.status), reference, item.data
        )
        rows.append(
            {
                "msg_id": new_msg_id(),
                "endpoint_id": endpoint.id,
                "partner_id": endpoint.partner_id,
                "case_id": case.id,
                "event_type": item.type,
                "body": encode(payload),
                "next_attempt_at": event.at,
                "created_at": event.at,
            }
        )
    return rows
