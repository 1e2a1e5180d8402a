"""The deadline records of cases (table case_deadline), written only by cases.deadlines.actions."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from tortoise import fields
from tortoise.models import Model

from cases.models import Case


class DeadlineStatus(StrEnum):
    OPEN = "open"
    MET = "met"
    MISSED = "missed"
    CANCELLED = "cancelled"


class CaseDeadline(Model):
    """A running time limit of a case. The due date is always recomputed by the pure engine
    (cases.deadlines.rules) from the start, pauses and extensions kept here."""

    id = fields.IntField(primary_key=True)
    case: fields.ForeignKeyRelation[Case] = fields.ForeignKeyField(
        "models.Case", related_name="deadlines", on_delete=fields.CASCADE
    )
    regime = fields.CharField(max_length=40)
    started_on = fields.DateField()
    # A length other than the regime's own, where the rule lets a party set it within limits
    # (a merchant's answer time, cases.negotiation); None: the regime's length.
    length = fields.IntField(null=True)
    due_on = fields.DateField(null=True)  # None while an open pause freezes it
    provisional = fields.BooleanField(default=False)
    status = fields.CharEnumField(DeadlineStatus, max_length=12, default=DeadlineStatus.OPEN)
    pauses: fields.Field[list[dict[str, Any]]] = fields.JSONField(default=list)
    extensions: fields.Field[list[dict[str, Any]]] = fields.JSONField(default=list)
    reminded_at = fields.DatetimeField(null=True)
    closed_at = fields.DatetimeField(null=True)
    created_at = fields.DatetimeField()

    class Meta:
        table = "case_deadline"
        indexes = (("status", "due_on"), ("case_id", "regime", "status"))
