"""Early warnings' models: alerts, their notes, suggestion letters and monthly reports.

(No semicolons in model docstrings: Tortoise splits the table comment at them.)
"""

from __future__ import annotations

from typing import Any

from tortoise import fields
from tortoise.models import Model

from cases.accounts.models import PartnerPlatform, User
from cases.warnings.rules import AlertState


class LetterKind:
    """A suggestion letter's kind (a vocabulary value each)."""

    GOVERNANCE = "governance"  # 诉源治理建议书, from the justice bureau or the mediation body
    JUDICIAL = "judicial"  # 司法建议, from the court

    ALL = (GOVERNANCE, JUDICIAL)


class LetterState:
    DRAFT = "draft"
    ISSUED = "issued"


class Alert(Model):
    """A rule that fired for one subject in one week: raised once (`fingerprint` is unique
    per rule, subject and ISO week), then acknowledged and resolved by governance staff."""

    id = fields.IntField(primary_key=True)
    fingerprint = fields.CharField(max_length=64, unique=True)
    rule = fields.CharField(max_length=20)
    scope = fields.CharField(max_length=20)
    subject_key = fields.CharField(max_length=200)
    subject_label = fields.CharField(max_length=200)
    week = fields.CharField(max_length=10)
    parameters: fields.Field[dict[str, Any]] = fields.JSONField(default=dict)
    figures: fields.Field[dict[str, Any]] = fields.JSONField(default=dict)
    state = fields.CharEnumField(AlertState, max_length=16, default=AlertState.NEW)
    raised_at = fields.DatetimeField()
    updated_at = fields.DatetimeField()
    partner_notified_at = fields.DatetimeField(null=True)
    regulator_notified_at = fields.DatetimeField(null=True)

    notes: fields.ReverseRelation[AlertNote]
    letters: fields.ReverseRelation[SuggestionLetter]

    class Meta:
        table = "governance_alert"
        indexes = (("state", "raised_at"), ("rule", "raised_at"))


class AlertNote(Model):
    """Who did what to an alert and when: a note, a state change, a notification, a letter."""

    id = fields.IntField(primary_key=True)
    alert: fields.ForeignKeyRelation[Alert] = fields.ForeignKeyField(
        "models.Alert", related_name="notes", on_delete=fields.CASCADE
    )
    author: fields.ForeignKeyNullableRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="alert_notes", null=True, on_delete=fields.SET_NULL
    )
    action = fields.CharField(max_length=30)  # note, acknowledge, resolve, reopen, notified_*
    state_from = fields.CharField(max_length=16, default="")
    state_to = fields.CharField(max_length=16, default="")
    text = fields.TextField(default="")
    at = fields.DatetimeField()
    alert_id: int
    author_id: int | None

    class Meta:
        table = "governance_alert_note"
        indexes = (("alert_id", "at"),)


class SuggestionLetter(Model):
    """A governance suggestion (诉源治理建议书) or a judicial suggestion (司法建议) drafted
    from an alert, edited while a draft, then issued once as a PDF whose SHA-256 is kept."""

    id = fields.IntField(primary_key=True)
    alert: fields.ForeignKeyRelation[Alert] = fields.ForeignKeyField(
        "models.Alert", related_name="letters", on_delete=fields.RESTRICT
    )
    kind = fields.CharField(max_length=16)
    addressee = fields.CharField(max_length=200)
    title = fields.CharField(max_length=200)
    body = fields.TextField()
    state = fields.CharField(max_length=8, default=LetterState.DRAFT)
    partner: fields.ForeignKeyNullableRelation[PartnerPlatform] = fields.ForeignKeyField(
        "models.PartnerPlatform",
        related_name="suggestion_letters",
        null=True,
        on_delete=fields.SET_NULL,
    )
    created_by: fields.ForeignKeyNullableRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="letters_drafted", null=True, on_delete=fields.SET_NULL
    )
    created_at = fields.DatetimeField()
    updated_at = fields.DatetimeField()
    issued_by: fields.ForeignKeyNullableRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="letters_issued", null=True, on_delete=fields.SET_NULL
    )
    issued_at = fields.DatetimeField(null=True)
    pdf_path = fields.CharField(max_length=300, default="")
    pdf_sha256 = fields.CharField(max_length=64, default="")
    pdf_size = fields.IntField(default=0)
    alert_id: int
    partner_id: int | None
    created_by_id: int | None
    issued_by_id: int | None

    class Meta:
        table = "governance_letter"
        indexes = (("alert_id",),)


class MonthlyReport(Model):
    """The district's monthly report PDF: one per month (the job's and on demand alike)."""

    id = fields.IntField(primary_key=True)
    month = fields.CharField(max_length=7, unique=True)  # 2026-11
    pdf_path = fields.CharField(max_length=300, default="")
    pdf_sha256 = fields.CharField(max_length=64, default="")
    pdf_size = fields.IntField(default=0)
    requested_by: fields.ForeignKeyNullableRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="monthly_reports", null=True, on_delete=fields.SET_NULL
    )
    created_at = fields.DatetimeField()
    requested_by_id: int | None

    class Meta:
        table = "governance_monthly_report"
