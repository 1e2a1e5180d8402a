"""What a partner platform provides beyond the filing itself: the order it sold, kept as the
platform sent it (evidence at the source).

Written only by `cases.partners.actions`.
"""

from __future__ import annotations

from tortoise import fields
from tortoise.models import Model

from cases.accounts.models import PartnerPlatform
from cases.models import Case


class OrderSnapshot(Model):
    """The order behind a dispute as the partner platform provided it: the canonical JSON
    as received, its SHA-256 and when the platform received it. Never edited afterwards.

    One per filing, so a case may hold several: a filing merged into an open case of the
    same dispute (one dispute, one number) brings its own order along."""

    id = fields.IntField(primary_key=True)
    case: fields.ForeignKeyRelation[Case] = fields.ForeignKeyField(
        "models.Case", related_name="order_snapshots", on_delete=fields.CASCADE
    )
    partner: fields.ForeignKeyRelation[PartnerPlatform] = fields.ForeignKeyField(
        "models.PartnerPlatform", related_name="order_snapshots", on_delete=fields.RESTRICT
    )
    order_number = fields.CharField(max_length=64)
    canonical = fields.TextField()
    sha256 = fields.CharField(max_length=64)
    received_at = fields.DatetimeField()
    case_id: int
    partner_id: int

    class Meta:
        table = "order_snapshot"
        indexes = (("case_id", "received_at"),)
