"""The models of one dispute, one number: every source a case was filed through, the links
staff see between a case and an open one it may repeat, and the row each filing of an
applicant against a respondent locks (so two channels filing the same dispute at once are
served one after the other).

Written only by `cases.duplicates.actions` (through `cases.intake`).
"""

from __future__ import annotations

from tortoise import fields
from tortoise.models import Model

from cases.accounts.models import PartnerPlatform, User
from cases.models import Case, Source


class CaseSource(Model):
    """One filing of a case's dispute: the one that opened the case, and each later one
    (from the web or any partner) merged into it instead of opening another case."""

    id = fields.IntField(primary_key=True)
    case: fields.ForeignKeyRelation[Case] = fields.ForeignKeyField(
        "models.Case", related_name="sources", on_delete=fields.CASCADE
    )
    channel = fields.CharEnumField(Source, max_length=16)
    partner: fields.ForeignKeyNullableRelation[PartnerPlatform] = fields.ForeignKeyField(
        "models.PartnerPlatform", related_name="case_sources", null=True, on_delete=fields.RESTRICT
    )
    filed_by: fields.ForeignKeyNullableRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="case_sources", null=True, on_delete=fields.RESTRICT
    )
    partner_reference = fields.CharField(max_length=100, null=True)
    idempotency_key = fields.CharField(max_length=255, null=True)
    order_number = fields.CharField(max_length=64, null=True)
    # False for the filing that opened the case, True for one merged into it.
    merged = fields.BooleanField(default=False)
    # Why a merged filing was found to be this dispute (cases.duplicates.rules.MatchReason).
    reason = fields.CharField(max_length=40, default="")
    # What a merged filing said (its claim, facts, what it asked for), for staff: the case
    # keeps its own, and the parties' record does not change under them.
    filed_claim: fields.Field[dict[str, str]] = fields.JSONField(default=dict)
    received_at = fields.DatetimeField()
    case_id: int
    partner_id: int | None
    filed_by_id: int | None

    class Meta:
        table = "case_source"
        indexes = (("case_id",), ("partner_id", "partner_reference"))


class DuplicateLink(Model):
    """A case its applicant filed although an open case looked like the same dispute (they
    were told, and chose to file anyway), or whose likeness they could not be told of: staff
    handling either case see the link."""

    id = fields.IntField(primary_key=True)
    case: fields.ForeignKeyRelation[Case] = fields.ForeignKeyField(
        "models.Case", related_name="duplicate_links", on_delete=fields.CASCADE
    )
    possible_duplicate_of: fields.ForeignKeyRelation[Case] = fields.ForeignKeyField(
        "models.Case", related_name="duplicate_links_to", on_delete=fields.CASCADE
    )
    reason = fields.CharField(max_length=40)
    similarity = fields.FloatField()
    # Whether the applicant saw the notice and chose to file anyway.
    applicant_told = fields.BooleanField(default=False)
    created_at = fields.DatetimeField()
    case_id: int
    possible_duplicate_of_id: int

    class Meta:
        table = "duplicate_link"
        unique_together = (("case", "possible_duplicate_of"),)
        indexes = (("possible_duplicate_of_id",),)


class DisputeLock(Model):
    """One row per applicant-and-respondent pair (by `DisputeKey.digest`): every filing of
    the pair locks it before looking for an open case, so of two channels filing the same
    dispute at once the second sees the first's case and is merged into it."""

    id = fields.IntField(primary_key=True)
    key = fields.CharField(max_length=64, unique=True)
    touched_at = fields.DatetimeField()

    class Meta:
        table = "dispute_lock"
