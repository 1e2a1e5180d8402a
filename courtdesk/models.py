"""The desk's own records (its own database, Tortoise app label "desk").

A filing is kept as received (the exact body and the receipt that answered it, so a retry
gets the same receipt) plus the package read from it. Every clerk decision is a Decision row
and an OutboxMessage row written in one transaction with the filing's change: the platform
learns of a decision only through that outbox.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from tortoise import fields
from tortoise.models import Model


class Clerk(Model):
    """A court clerk who signs in to the desk (立案庭书记员)."""

    id = fields.IntField(primary_key=True)
    username = fields.CharField(max_length=64, unique=True)
    display_name = fields.CharField(max_length=100)
    password_hash = fields.CharField(max_length=200)
    active = fields.BooleanField(default=True)
    # Part of the signed cookie: raising it ends every session of the clerk.
    session_generation = fields.IntField(default=0)
    failed_sign_ins = fields.IntField(default=0)
    locked_until = fields.DatetimeField(null=True)
    created_at = fields.DatetimeField()

    class Meta:
        table = "desk_clerk"


class FilingKind(StrEnum):
    TRANSFER = "transfer"  # transfer to litigation after failed mediation (转立案)
    CONFIRMATION = "confirmation"  # application for judicial confirmation (司法确认)


class WireFormat(StrEnum):
    JSON = "json"  # CloudEvents structured mode
    ECF = "ecf"  # OASIS ECF 4.01 CoreFilingMessage


class FilingStatus(StrEnum):
    """received, then accepted (optional), then returned or docketed; a docketed
    confirmation is then confirmed or rejected."""

    RECEIVED = "received"
    ACCEPTED = "accepted"
    RETURNED = "returned"
    DOCKETED = "docketed"
    CONFIRMED = "confirmed"
    REJECTED = "rejected"


class Filing(Model):
    """One filing as the platform sent it and as the court has handled it."""

    id = fields.IntField(primary_key=True)
    # The webhook-id (CloudEvents id, ECF message id): the idempotency key.
    filing_id = fields.CharField(max_length=64, unique=True)
    kind = fields.CharEnumField(FilingKind, max_length=16)
    wire_format = fields.CharEnumField(WireFormat, max_length=8)
    status = fields.CharEnumField(FilingStatus, max_length=16, default=FilingStatus.RECEIVED)
    case_number = fields.CharField(max_length=64)  # the platform's number, not a court 案号
    category = fields.CharField(max_length=64, default="")
    applicant_names = fields.CharField(max_length=300, default="")
    respondent_names = fields.CharField(max_length=300, default="")
    corrects = fields.CharField(max_length=64, null=True)  # the returned filing it corrects
    # The package read from the body (docs/court-wire.md data shape, for either format).
    package: fields.Field[dict[str, Any]] = fields.JSONField(default=dict)
    content_type = fields.CharField(max_length=80)
    body = fields.TextField()  # exactly as received (UTF-8)
    body_sha256 = fields.CharField(max_length=64)
    receipt_id = fields.CharField(max_length=64, unique=True)
    receipt_content_type = fields.CharField(max_length=80)
    receipt_body = fields.TextField()  # the answer, repeated to a retry byte for byte
    received_at = fields.DatetimeField()
    # Docketing: the 案号 and its parts (the serial counted by DocketCounter).
    court_case_number = fields.CharField(max_length=64, null=True, unique=True)
    docket_year = fields.IntField(null=True)
    docket_type = fields.CharField(max_length=16, null=True)
    docket_serial = fields.IntField(null=True)
    reason = fields.TextField(default="")  # of the return or the rejection
    decided_at = fields.DatetimeField(null=True)
    updated_at = fields.DatetimeField()

    class Meta:
        table = "desk_filing"
        indexes = (("status", "received_at"), ("kind", "status"))


class DecisionAction(StrEnum):
    ACCEPTED = "accepted"
    RETURNED = "returned"
    DOCKETED = "docketed"
    CONFIRMED = "confirmed"
    REJECTED = "rejected"


class Decision(Model):
    """One clerk decision on a filing, in order: the filing's history."""

    id = fields.IntField(primary_key=True)
    filing: fields.ForeignKeyRelation[Filing] = fields.ForeignKeyField(
        "desk.Filing", related_name="decisions", on_delete=fields.CASCADE
    )
    action = fields.CharEnumField(DecisionAction, max_length=16)
    from_status = fields.CharEnumField(FilingStatus, max_length=16)
    clerk: fields.ForeignKeyRelation[Clerk] = fields.ForeignKeyField(
        "desk.Clerk", related_name="decisions", on_delete=fields.RESTRICT
    )
    reason = fields.TextField(default="")
    court_case_number = fields.CharField(max_length=64, null=True)
    callback_id = fields.CharField(max_length=64, unique=True)  # the outbox row's msg_id
    at = fields.DatetimeField()
    filing_id: int
    clerk_id: int

    class Meta:
        table = "desk_decision"
        indexes = (("filing_id", "at"),)


class DocketCounter(Model):
    """The last serial given per year and type code (案号 serials are gap-free)."""

    id = fields.IntField(primary_key=True)
    year = fields.IntField()
    type_code = fields.CharField(max_length=16)
    last_serial = fields.IntField(default=0)

    class Meta:
        table = "desk_docket_counter"
        unique_together = (("year", "type_code"),)


class OutboxStatus(StrEnum):
    PENDING = "pending"
    DELIVERED = "delivered"
    DEAD = "dead"  # gave up after the last attempt


class OutboxMessage(Model):
    """A callback to the platform, written in the decision's transaction and delivered (at
    least once) by the relay. `msg_id` is the webhook-id the platform keeps once."""

    id = fields.BigIntField(primary_key=True)
    msg_id = fields.CharField(max_length=64, unique=True)
    destination = fields.CharField(max_length=40)  # "platform"
    path = fields.CharField(max_length=200)  # appended to PLATFORM_URL
    content_type = fields.CharField(max_length=80)
    body = fields.TextField()
    filing: fields.ForeignKeyNullableRelation[Filing] = fields.ForeignKeyField(
        "desk.Filing", related_name="outbox", null=True, on_delete=fields.CASCADE
    )
    status = fields.CharEnumField(OutboxStatus, max_length=12, default=OutboxStatus.PENDING)
    attempts = fields.IntField(default=0)
    next_attempt_at = fields.DatetimeField()
    # A relay claims a row until this time, so two relays never send it at once.
    claimed_until = fields.DatetimeField(null=True)
    claimed_by = fields.CharField(max_length=64, default="")
    last_error = fields.TextField(default="")
    last_status_code = fields.IntField(null=True)
    response: fields.Field[dict[str, Any]] = fields.JSONField(default=dict)
    created_at = fields.DatetimeField()
    delivered_at = fields.DatetimeField(null=True)
    filing_id: int | None

    class Meta:
        table = "desk_outbox_message"
        indexes = (("status", "next_attempt_at"),)
