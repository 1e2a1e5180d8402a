"""The model of performance: each term of an effective agreement with its time limit."""

from __future__ import annotations

from enum import StrEnum

from tortoise import fields
from tortoise.models import Model

from cases.agreements.models import AgreementVersion
from cases.models import Case


class PerformanceStatus(StrEnum):
    OPEN = "open"
    PERFORMED = "performed"  # the obliged party says it is done
    CONFIRMED = "confirmed"  # the other side confirms it
    DISPUTED = "disputed"  # the other side says it was not done


class PerformanceItem(Model):
    """A term of an effective agreement with its time limit of performance: a deadline the
    parties mark and the mediator watches."""

    id = fields.IntField(primary_key=True)
    version: fields.ForeignKeyRelation[AgreementVersion] = fields.ForeignKeyField(
        "models.AgreementVersion", related_name="performance", on_delete=fields.CASCADE
    )
    case: fields.ForeignKeyRelation[Case] = fields.ForeignKeyField(
        "models.Case", related_name="performance", on_delete=fields.CASCADE
    )
    term_number = fields.IntField()
    obligor_side = fields.CharField(max_length=16)  # applicant | respondent
    description = fields.TextField()
    due_on = fields.DateField()
    status = fields.CharEnumField(PerformanceStatus, max_length=12, default=PerformanceStatus.OPEN)
    performed_at = fields.DatetimeField(null=True)
    performed_note = fields.TextField(default="")
    answered_at = fields.DatetimeField(null=True)
    answer_note = fields.TextField(default="")
    reminded_at = fields.DatetimeField(null=True)
    version_id: int
    case_id: int

    class Meta:
        table = "performance_item"
        indexes = (("case_id",), ("status", "due_on"))
