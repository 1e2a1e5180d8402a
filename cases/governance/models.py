"""The log of every view of figures: who (an account, a partner platform through the API,
or the public), which view, with which filter, and when.

Written only by `cases.governance.actions.log_figure_view`.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from tortoise import fields
from tortoise.models import Model

from cases.accounts.models import PartnerPlatform, User


class Audience(StrEnum):
    """Whose view it was: it decides what the figures may show."""

    GOVERNANCE = "governance"  # district staff and platform admins: the whole district
    ORGANISATION = "organisation"  # an organisation's admin: their own organisation
    PARTNER = "partner"  # a partner platform through the API: its own figures
    PUBLIC = "public"  # the open statistics page: suppressed


class FigureView(Model):
    id = fields.IntField(primary_key=True)
    user: fields.ForeignKeyNullableRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="figure_views", null=True, on_delete=fields.SET_NULL
    )
    partner: fields.ForeignKeyNullableRelation[PartnerPlatform] = fields.ForeignKeyField(
        "models.PartnerPlatform", related_name="figure_views", null=True, on_delete=fields.SET_NULL
    )
    audience = fields.CharEnumField(Audience, max_length=16)
    # Which view: volume, ranking, funnel, compliance, workload, scorecards, cases (a
    # drill-down), export, statistics, api.
    view = fields.CharField(max_length=40)
    # The filter as given (Beijing dates as YYYY-MM-DD, ids, vocabulary values), with the
    # view's own choices (grain, dimension, key, format).
    filters: fields.Field[dict[str, Any]] = fields.JSONField(default=dict)
    viewed_at = fields.DatetimeField()
    user_id: int | None
    partner_id: int | None

    class Meta:
        table = "figure_view"
        indexes = (("viewed_at",), ("user_id", "viewed_at"))
