"""The record of an ended mediation (table end_record): what Art. 21 lets the court know."""

from __future__ import annotations

from tortoise import fields
from tortoise.models import Model

from cases.accounts.models import User
from cases.models import Case
from cases.status import Status


class EndRecord(Model):
    """The mediator's record when mediation ends without agreement (online mediation rules
    Art. 21), and the other routes the parties were told of (People's Mediation Law Art. 26).
    Only the three Art. 21 fields may cross to a court."""

    id = fields.IntField(primary_key=True)
    case: fields.OneToOneRelation[Case] = fields.OneToOneField(
        "models.Case", related_name="end_record", on_delete=fields.CASCADE
    )
    ending = fields.CharEnumField(Status, max_length=32)  # failed | withdrawn | timed_out
    undisputed_facts = fields.TextField(default="")
    reasons_for_failure = fields.TextField(default="")
    cost_raising_conduct = fields.TextField(default="")
    # The routes named in the notice to the parties (litigation, arbitration, ...).
    other_routes: fields.Field[list[str]] = fields.JSONField(default=list)
    recorded_by: fields.ForeignKeyNullableRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="end_records", null=True, on_delete=fields.RESTRICT
    )
    created_at = fields.DatetimeField()
    case_id: int
    recorded_by_id: int | None

    class Meta:
        table = "end_record"
