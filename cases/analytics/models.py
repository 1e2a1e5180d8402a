"""The figures' tables: events waiting to be folded in, each case's facts, the rollups, and
the roll-up job's state (its lease and watermark).

Written only by `cases.analytics.actions` (and the journal's hook there, which queues a
`FigurePending` row per timeline event in the event's own transaction). Dimension columns
are never NULL (0 or "" for none): they are keys of the rollups' unique indexes.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from tortoise import fields
from tortoise.models import Model

from cases.journal import RecordedEvent, on_events_recorded
from cases.rows import insert_rows


class FigurePending(Model):
    """A timeline event not yet folded into the figures (its case is recomputed)."""

    id = fields.BigIntField(primary_key=True)
    case_id = fields.IntField()
    kind = fields.CharField(max_length=40)
    at = fields.DatetimeField()

    class Meta:
        table = "figure_pending"


class FigureState(Model):
    """The roll-up job's one row: who holds the lease and until when, and how far it got."""

    id = fields.IntField(primary_key=True)
    holder = fields.CharField(max_length=64, default="")
    lease_until = fields.DatetimeField(null=True)
    # The last pending row folded in (rows are folded in id order, then deleted).
    watermark = fields.BigIntField(default=0)
    folded_at = fields.DatetimeField(null=True)
    recounted_at = fields.DatetimeField(null=True)

    class Meta:
        table = "figure_state"


class CaseFact(Model):
    """One case as the figures see it, derived from its record (`cases.analytics.rules`)."""

    id = fields.IntField(primary_key=True)
    case_id = fields.IntField(unique=True)
    number = fields.CharField(max_length=32)
    filed_at = fields.DatetimeField()
    day = fields.DateField()
    domain = fields.CharField(max_length=16)
    category = fields.CharField(max_length=40)
    status = fields.CharField(max_length=32)
    partner_id = fields.IntField()
    platform = fields.CharField(max_length=250)
    platform_label = fields.CharField(max_length=200)
    merchant_id = fields.IntField()
    organisation_id = fields.IntField()
    track = fields.CharField(max_length=20)
    district = fields.CharField(max_length=50)
    respondent_kind = fields.CharField(max_length=20)
    respondent_key = fields.CharField(max_length=200)
    respondent_label = fields.CharField(max_length=200)
    mediator_id = fields.IntField()
    outcome = fields.CharField(max_length=12)
    # Days from filing to each stage of the funnel reached (None: not reached).
    d_answered = fields.FloatField(null=True)
    d_merchant_settled = fields.FloatField(null=True)
    d_assigned = fields.FloatField(null=True)
    d_settled = fields.FloatField(null=True)
    d_failed = fields.FloatField(null=True)
    d_withdrawn = fields.FloatField(null=True)
    d_timed_out = fields.FloatField(null=True)
    d_to_court = fields.FloatField(null=True)
    d_court_done = fields.FloatField(null=True)
    asked = fields.BooleanField(default=False)
    counted = fields.BooleanField(default=False)
    answered = fields.BooleanField(default=False)
    answer_hours = fields.FloatField(null=True)
    merchant_settled = fields.BooleanField(default=False)
    performance_known = fields.BooleanField(default=False)
    performed_on_time = fields.BooleanField(default=False)
    # [regime, met, days overdue] of each deadline met or missed.
    deadlines: fields.Field[list[Any]] = fields.JSONField(default=list)

    class Meta:
        table = "case_fact"
        indexes = (
            ("day",),
            ("filed_at",),
            ("partner_id", "day"),
            ("merchant_id", "day"),
            ("organisation_id", "day"),
            ("respondent_key", "filed_at"),
        )


class _Counters(Model):
    filed = fields.IntField(default=0)
    st_answered = fields.IntField(default=0)
    st_merchant_settled = fields.IntField(default=0)
    st_assigned = fields.IntField(default=0)
    st_settled = fields.IntField(default=0)
    st_failed = fields.IntField(default=0)
    st_withdrawn = fields.IntField(default=0)
    st_timed_out = fields.IntField(default=0)
    st_to_court = fields.IntField(default=0)
    st_court_done = fields.IntField(default=0)
    open_n = fields.IntField(default=0)
    settled_n = fields.IntField(default=0)
    failed_n = fields.IntField(default=0)
    asked = fields.IntField(default=0)
    counted = fields.IntField(default=0)
    answered = fields.IntField(default=0)
    m_settled = fields.IntField(default=0)
    perf_known = fields.IntField(default=0)
    perf_on_time = fields.IntField(default=0)

    class Meta:
        abstract = True


class FigureByCategory(_Counters):
    """Filings and their stages per day, domain and category."""

    id = fields.BigIntField(primary_key=True)
    day = fields.DateField()
    domain = fields.CharField(max_length=16)
    category = fields.CharField(max_length=40)

    class Meta:
        table = "figure_by_category"
        unique_together = (("day", "domain", "category"),)


class FigureByCategoryMonth(_Counters):
    """The monthly twin of figure_by_category (day: the month's first day)."""

    id = fields.BigIntField(primary_key=True)
    day = fields.DateField()
    domain = fields.CharField(max_length=16)
    category = fields.CharField(max_length=40)

    class Meta:
        table = "figure_by_category_month"
        unique_together = (("day", "domain", "category"),)


class FigureByKind(_Counters):
    """Per day, by the respondent's kind and the applicant's district."""

    id = fields.BigIntField(primary_key=True)
    day = fields.DateField()
    domain = fields.CharField(max_length=16)
    category = fields.CharField(max_length=40)
    respondent_kind = fields.CharField(max_length=20)
    district = fields.CharField(max_length=50)

    class Meta:
        table = "figure_by_kind"
        unique_together = (("day", "domain", "category", "respondent_kind", "district"),)
        indexes = (
            (
                "respondent_kind",
                "day",
            ),
            (
                "district",
                "day",
            ),
        )


class FigureByKindMonth(_Counters):
    """The monthly twin of figure_by_kind (day: the month's first day)."""

    id = fields.BigIntField(primary_key=True)
    day = fields.DateField()
    domain = fields.CharField(max_length=16)
    category = fields.CharField(max_length=40)
    respondent_kind = fields.CharField(max_length=20)
    district = fields.CharField(max_length=50)

    class Meta:
        table = "figure_by_kind_month"
        unique_together = (("day", "domain", "category", "respondent_kind", "district"),)
        indexes = (
            (
                "respondent_kind",
                "day",
            ),
            (
                "district",
                "day",
            ),
        )


class FigureByPartner(_Counters):
    """Per day, by the partner platform a case came through (or the platform named)."""

    id = fields.BigIntField(primary_key=True)
    day = fields.DateField()
    domain = fields.CharField(max_length=16)
    category = fields.CharField(max_length=40)
    partner_id = fields.IntField()
    platform = fields.CharField(max_length=250)

    class Meta:
        table = "figure_by_partner"
        unique_together = (("day", "domain", "category", "partner_id", "platform"),)
        indexes = (
            (
                "partner_id",
                "day",
            ),
            (
                "platform",
                "day",
            ),
        )


class FigureByPartnerMonth(_Counters):
    """The monthly twin of figure_by_partner (day: the month's first day)."""

    id = fields.BigIntField(primary_key=True)
    day = fields.DateField()
    domain = fields.CharField(max_length=16)
    category = fields.CharField(max_length=40)
    partner_id = fields.IntField()
    platform = fields.CharField(max_length=250)

    class Meta:
        table = "figure_by_partner_month"
        unique_together = (("day", "domain", "category", "partner_id", "platform"),)
        indexes = (
            (
                "partner_id",
                "day",
            ),
            (
                "platform",
                "day",
            ),
        )


class FigureByOrganisation(_Counters):
    """Per day, by organisation, track and mediator."""

    id = fields.BigIntField(primary_key=True)
    day = fields.DateField()
    domain = fields.CharField(max_length=16)
    category = fields.CharField(max_length=40)
    organisation_id = fields.IntField()
    track = fields.CharField(max_length=20)
    mediator_id = fields.IntField()

    class Meta:
        table = "figure_by_organisation"
        unique_together = (
            ("day", "domain", "category", "organisation_id", "track", "mediator_id"),
        )
        indexes = (
            (
                "organisation_id",
                "day",
            ),
            (
                "track",
                "day",
            ),
        )


class FigureByOrganisationMonth(_Counters):
    """The monthly twin of figure_by_organisation (day: the month's first day)."""

    id = fields.BigIntField(primary_key=True)
    day = fields.DateField()
    domain = fields.CharField(max_length=16)
    category = fields.CharField(max_length=40)
    organisation_id = fields.IntField()
    track = fields.CharField(max_length=20)
    mediator_id = fields.IntField()

    class Meta:
        table = "figure_by_organisation_month"
        unique_together = (
            ("day", "domain", "category", "organisation_id", "track", "mediator_id"),
        )
        indexes = (
            (
                "organisation_id",
                "day",
            ),
            (
                "track",
                "day",
            ),
        )


class FigureByMerchant(_Counters):
    """Per day, by enrolled merchant."""

    id = fields.BigIntField(primary_key=True)
    day = fields.DateField()
    domain = fields.CharField(max_length=16)
    category = fields.CharField(max_length=40)
    merchant_id = fields.IntField()
    partner_id = fields.IntField()

    class Meta:
        table = "figure_by_merchant"
        unique_together = (("day", "domain", "category", "merchant_id", "partner_id"),)
        indexes = (
            (
                "merchant_id",
                "day",
            ),
        )


class FigureByMerchantMonth(_Counters):
    """The monthly twin of figure_by_merchant (day: the month's first day)."""

    id = fields.BigIntField(primary_key=True)
    day = fields.DateField()
    domain = fields.CharField(max_length=16)
    category = fields.CharField(max_length=40)
    merchant_id = fields.IntField()
    partner_id = fields.IntField()

    class Meta:
        table = "figure_by_merchant_month"
        unique_together = (("day", "domain", "category", "merchant_id", "partner_id"),)
        indexes = (
            (
                "merchant_id",
                "day",
            ),
        )


class FigureAll(_Counters):
    """Per day, by every dimension (what no leaner table answers)."""

    id = fields.BigIntField(primary_key=True)
    day = fields.DateField()
    domain = fields.CharField(max_length=16)
    category = fields.CharField(max_length=40)
    partner_id = fields.IntField()
    platform = fields.CharField(max_length=250)
    merchant_id = fields.IntField()
    organisation_id = fields.IntField()
    track = fields.CharField(max_length=20)
    district = fields.CharField(max_length=50)
    respondent_kind = fields.CharField(max_length=20)
    mediator_id = fields.IntField()

    class Meta:
        table = "figure_all"
        unique_together = (
            (
                "day",
                "domain",
                "category",
                "partner_id",
                "platform",
                "merchant_id",
                "organisation_id",
                "track",
                "district",
                "respondent_kind",
                "mediator_id",
            ),
        )
        indexes = (
            (
                "partner_id",
                "day",
            ),
            (
                "merchant_id",
                "day",
            ),
            (
                "organisation_id",
                "day",
            ),
        )


class FigureAllMonth(_Counters):
    """The monthly twin of figure_all (day: the month's first day)."""

    id = fields.BigIntField(primary_key=True)
    day = fields.DateField()
    domain = fields.CharField(max_length=16)
    category = fields.CharField(max_length=40)
    partner_id = fields.IntField()
    platform = fields.CharField(max_length=250)
    merchant_id = fields.IntField()
    organisation_id = fields.IntField()
    track = fields.CharField(max_length=20)
    district = fields.CharField(max_length=50)
    respondent_kind = fields.CharField(max_length=20)
    mediator_id = fields.IntField()

    class Meta:
        table = "figure_all_month"
        unique_together = (
            (
                "day",
                "domain",
                "category",
                "partner_id",
                "platform",
                "merchant_id",
                "organisation_id",
                "track",
                "district",
                "respondent_kind",
                "mediator_id",
            ),
        )
        indexes = (
            (
                "partner_id",
                "day",
            ),
            (
                "merchant_id",
                "day",
            ),
            (
                "organisation_id",
                "day",
            ),
        )


class FigureStageDays(Model):
    """How many cases reached a stage after so many whole days, per filing day."""

    id = fields.BigIntField(primary_key=True)
    day = fields.DateField()
    domain = fields.CharField(max_length=16)
    category = fields.CharField(max_length=40)
    stage = fields.CharField(max_length=20)
    days = fields.IntField()
    n = fields.IntField(default=0)

    class Meta:
        table = "figure_stage_days"
        unique_together = (("day", "domain", "category", "stage", "days"),)


class FigureStageDaysMonth(Model):
    """The monthly twin of figure_stage_days (day: the month's first day)."""

    id = fields.BigIntField(primary_key=True)
    day = fields.DateField()
    domain = fields.CharField(max_length=16)
    category = fields.CharField(max_length=40)
    stage = fields.CharField(max_length=20)
    days = fields.IntField()
    n = fields.IntField(default=0)

    class Meta:
        table = "figure_stage_days_month"
        unique_together = (("day", "domain", "category", "stage", "days"),)


class FigureDeadline(Model):
    """Deadlines met and missed (with the days overdue), per filing day, regime and filter."""

    id = fields.BigIntField(primary_key=True)
    day = fields.DateField()
    domain = fields.CharField(max_length=16)
    category = fields.CharField(max_length=40)
    partner_id = fields.IntField()
    organisation_id = fields.IntField()
    track = fields.CharField(max_length=20)
    regime = fields.CharField(max_length=40)
    overdue_days = fields.IntField()
    total = fields.IntField(default=0)
    met = fields.IntField(default=0)

    class Meta:
        table = "figure_deadline"
        unique_together = (
            (
                "day",
                "domain",
                "category",
                "partner_id",
                "organisation_id",
                "track",
                "regime",
                "overdue_days",
            ),
        )
        indexes = (
            (
                "organisation_id",
                "day",
            ),
        )


class FigureDeadlineMonth(Model):
    """The monthly twin of figure_deadline (day: the month's first day)."""

    id = fields.BigIntField(primary_key=True)
    day = fields.DateField()
    domain = fields.CharField(max_length=16)
    category = fields.CharField(max_length=40)
    partner_id = fields.IntField()
    organisation_id = fields.IntField()
    track = fields.CharField(max_length=20)
    regime = fields.CharField(max_length=40)
    overdue_days = fields.IntField()
    total = fields.IntField(default=0)
    met = fields.IntField(default=0)

    class Meta:
        table = "figure_deadline_month"
        unique_together = (
            (
                "day",
                "domain",
                "category",
                "partner_id",
                "organisation_id",
                "track",
                "regime",
                "overdue_days",
            ),
        )
        indexes = (
            (
                "organisation_id",
                "day",
            ),
        )


@on_events_recorded
async def queue_for_figures(recorded: Sequence[RecordedEvent]) -> None:
    """The journal's hook: one pending row per event, in the events' transaction (one
    statement for the whole batch); `cases.analytics.actions.roll_up_due` folds them in."""
    await insert_rows(
        FigurePending,
        [{"case_id": case.id, "kind": event.kind, "at": event.at} for case, event in recorded],
    )
