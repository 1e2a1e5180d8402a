"""Routing's models: each mediator assignment of a case and its outcome, the parties' joint
choice of a mediator, and conflict disclosures; written only by cases.routing.assignment."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from tortoise import fields
from tortoise.models import Model

from cases.accounts.models import User
from cases.models import Case, Side


class AssignmentOutcome(StrEnum):
    CHOSEN = "chosen"  # chosen jointly by the parties (Art. 10)
    APPOINTED = "appointed"  # appointed by the platform's scorer
    OVERRIDDEN = "overridden"  # appointed by an admin, with a reason
    ACCEPTED = "accepted"
    DECLINED = "declined"  # Art. 12: declining needs reasons
    RECUSED = "recused"  # disclosed a tie (Art. 13)
    REPLACED = "replaced"  # a party asked for a change (Art. 14) or an admin reassigned
    NO_ANSWER = "no_answer"  # did not answer within 3 working days


class MediatorAssignment(Model):
    """Every mediator a case was put to, and how it ended: the history behind Case.mediator."""

    id = fields.IntField(primary_key=True)
    case: fields.ForeignKeyRelation[Case] = fields.ForeignKeyField(
        "models.Case", related_name="assignments", on_delete=fields.CASCADE
    )
    mediator: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="assignments", on_delete=fields.RESTRICT
    )
    how = fields.CharEnumField(AssignmentOutcome, max_length=16)
    outcome = fields.CharEnumField(AssignmentOutcome, max_length=16, null=True)
    reason = fields.TextField(default="")
    # The scorer's explanation (top candidates with their scores), shown to staff.
    explanation: fields.Field[list[Any]] = fields.JSONField(default=list)
    created_at = fields.DatetimeField()
    ended_at = fields.DatetimeField(null=True)

    class Meta:
        table = "mediator_assignment"
        indexes = (("case_id",), ("mediator_id",))


class MediatorChoice(Model):
    """A party's choice of mediator. Two matching choices make a joint choice (Art. 10)."""

    id = fields.IntField(primary_key=True)
    case: fields.ForeignKeyRelation[Case] = fields.ForeignKeyField(
        "models.Case", related_name="mediator_choices", on_delete=fields.CASCADE
    )
    side = fields.CharEnumField(Side, max_length=16)
    mediator: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="chosen_by", on_delete=fields.RESTRICT
    )
    at = fields.DatetimeField()

    class Meta:
        table = "mediator_choice"
        unique_together = (("case", "side"),)


class ConflictDisclosure(Model):
    """The mediator's answer to the disclosure question before accepting (Art. 13)."""

    id = fields.IntField(primary_key=True)
    case: fields.ForeignKeyRelation[Case] = fields.ForeignKeyField(
        "models.Case", related_name="disclosures", on_delete=fields.CASCADE
    )
    mediator: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="disclosures", on_delete=fields.RESTRICT
    )
    has_tie = fields.BooleanField()
    statement = fields.TextField(default="")
    at = fields.DatetimeField()

    class Meta:
        table = "conflict_disclosure"
        indexes = (("case_id",),)
