"""The case record: the case, its parties, evidence, timeline, invitations and notices.

Relations to accounts and partners go by the app label ("models.User"), so this package
does not import the web shell.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from tortoise import fields
from tortoise.models import Model

from cases.accounts.models import Organisation, PartnerPlatform, User
from cases.categories import Domain
from cases.status import Status


class Side(StrEnum):
    APPLICANT = "applicant"
    RESPONDENT = "respondent"


class PartyKind(StrEnum):
    NATURAL_PERSON = "natural_person"
    ORGANISATION = "organisation"
    MERCHANT = "merchant"
    PLATFORM = "platform"


class Source(StrEnum):
    WEB = "web"
    PARTNER = "partner"
    COURT = "court"  # court-entrusted pre-litigation mediation (诉前委派调解)


class Case(Model):
    id = fields.IntField(primary_key=True)
    number = fields.CharField(max_length=32, unique=True)
    domain = fields.CharEnumField(Domain, max_length=16)
    category = fields.CharField(max_length=40)
    status = fields.CharEnumField(Status, max_length=32, db_index=True)
    source = fields.CharEnumField(Source, max_length=16, default=Source.WEB)
    partner: fields.ForeignKeyNullableRelation[PartnerPlatform] = fields.ForeignKeyField(
        "models.PartnerPlatform", related_name="cases", null=True, on_delete=fields.RESTRICT
    )
    partner_reference = fields.CharField(max_length=100, null=True)
    # The order the dispute is about, as the filing names it (cases.duplicates matches on it).
    order_number = fields.CharField(max_length=64, null=True, db_index=True)
    filed_by: fields.ForeignKeyNullableRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="filed_cases", null=True, on_delete=fields.RESTRICT
    )
    claim_amount = fields.DecimalField(max_digits=14, decimal_places=2)
    facts = fields.TextField()
    requested_outcome = fields.TextField()
    organisation: fields.ForeignKeyNullableRelation[Organisation] = fields.ForeignKeyField(
        "models.Organisation", related_name="cases", null=True, on_delete=fields.RESTRICT
    )
    mediator: fields.ForeignKeyNullableRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="mediated_cases", null=True, on_delete=fields.RESTRICT
    )
    respondent_reply_due = fields.DatetimeField(null=True)
    # Triage inputs and the recommendation with its reasons (cases.routing.triage).
    has_arbitration_clause = fields.BooleanField(default=False)
    group_size = fields.IntField(default=1)
    # The language the parties asked to mediate in, besides Chinese ("zh" or "en").
    language = fields.CharField(max_length=8, default="zh")
    triage: fields.Field[dict[str, Any]] = fields.JSONField(default=dict)
    mediator_accepted_at = fields.DatetimeField(null=True)
    # When the case left mediation (agreement, failure, time-out or withdrawal).
    mediation_ended_at = fields.DatetimeField(null=True)
    closed_reason = fields.TextField(default="")
    # The consents the applicant gave at filing, each with the time it was given.
    consents: fields.Field[dict[str, Any]] = fields.JSONField(default=dict)
    created_at = fields.DatetimeField()
    updated_at = fields.DatetimeField()

    parties: fields.ReverseRelation[Party]
    evidence: fields.ReverseRelation[Evidence]
    timeline: fields.ReverseRelation[TimelineEvent]
    court_filings: fields.ReverseRelation[CourtFiling]
    # The foreign-key columns Tortoise adds, declared for type checkers (annotations only).
    partner_id: int | None
    filed_by_id: int | None
    organisation_id: int | None
    mediator_id: int | None

    class Meta:
        table = "case_record"
        indexes = (("mediator_id", "status"), ("organisation_id", "status"), ("filed_by_id",))
        unique_together = (("partner", "partner_reference"),)


class Party(Model):
    id = fields.IntField(primary_key=True)
    case: fields.ForeignKeyRelation[Case] = fields.ForeignKeyField(
        "models.Case", related_name="parties", on_delete=fields.CASCADE
    )
    side = fields.CharEnumField(Side, max_length=16)
    kind = fields.CharEnumField(PartyKind, max_length=20)
    name = fields.CharField(max_length=200)
    # Resident ID number for a person, unified social credit code for an organisation.
    id_number = fields.CharField(max_length=18, null=True)
    mobile = fields.CharField(max_length=11, null=True)
    email = fields.CharField(max_length=254, null=True)
    service_address = fields.CharField(max_length=300, default="")
    user: fields.ForeignKeyNullableRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="parties", null=True, on_delete=fields.RESTRICT
    )
    created_at = fields.DatetimeField()
    case_id: int
    user_id: int | None

    class Meta:
        table = "party"
        indexes = (("case_id", "side"), ("user_id",), ("id_number",))


class Evidence(Model):
    """Evidence is stored by its SHA-256, so the listed hash is the proof of what was filed."""

    id = fields.IntField(primary_key=True)
    case: fields.ForeignKeyRelation[Case] = fields.ForeignKeyField(
        "models.Case", related_name="evidence", on_delete=fields.CASCADE
    )
    side = fields.CharEnumField(Side, max_length=16)
    uploaded_by: fields.ForeignKeyNullableRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="uploads", null=True, on_delete=fields.RESTRICT
    )
    filename = fields.CharField(max_length=200)
    media_type = fields.CharField(max_length=120)
    size = fields.BigIntField()
    sha256 = fields.CharField(max_length=64, db_index=True)
    created_at = fields.DatetimeField()

    class Meta:
        table = "evidence"
        indexes = (("case_id",),)
        # One content, one evidence item per case: a file attached again is reported, never
        # filed (or sent to the court) twice. Migration 0009 merged earlier duplicates.
        unique_together = (("case", "sha256"),)


class TimelineEvent(Model):
    """The audit trail: every change to a case, with when, who, and what changed."""

    id = fields.BigIntField(primary_key=True)
    case: fields.ForeignKeyRelation[Case] = fields.ForeignKeyField(
        "models.Case", related_name="timeline", on_delete=fields.CASCADE
    )
    at = fields.DatetimeField(db_index=True)
    actor: fields.ForeignKeyNullableRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="timeline_events", null=True, on_delete=fields.RESTRICT
    )
    # Who acted when it was not a signed-in user: "system", "partner:<name>", "respondent".
    actor_label = fields.CharField(max_length=120, default="")
    kind = fields.CharField(max_length=40)
    data: fields.Field[dict[str, Any]] = fields.JSONField(default=dict)
    case_id: int
    actor_id: int | None

    class Meta:
        table = "timeline_event"
        indexes = (("case_id", "at"),)
        ordering = ["at", "id"]


class Invitation(Model):
    """The respondent's invitation. The link carries a signed, expiring token naming this row."""

    id = fields.IntField(primary_key=True)
    case: fields.ForeignKeyRelation[Case] = fields.ForeignKeyField(
        "models.Case", related_name="invitations", on_delete=fields.CASCADE
    )
    party: fields.ForeignKeyRelation[Party] = fields.ForeignKeyField(
        "models.Party", related_name="invitations", on_delete=fields.CASCADE
    )
    nonce = fields.CharField(max_length=32, unique=True)
    expires_at = fields.DatetimeField(db_index=True)
    answered_at = fields.DatetimeField(null=True)
    answer = fields.CharField(max_length=16, null=True)  # consented | refused | expired
    created_at = fields.DatetimeField()
    case_id: int
    party_id: int

    class Meta:
        table = "invitation"
        indexes = (("case_id",),)


class NoticeChannel(StrEnum):
    EMAIL = "email"
    SMS = "sms"


class NoticeStatus(StrEnum):
    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"


class Notice(Model):
    """An outbound notice (a service record, 送达). Written in the same transaction as the change
    that causes it and delivered after commit, so no notice is lost when a sender is down."""

    id = fields.BigIntField(primary_key=True)
    case: fields.ForeignKeyNullableRelation[Case] = fields.ForeignKeyField(
        "models.Case", related_name="notices", null=True, on_delete=fields.CASCADE
    )
    channel = fields.CharEnumField(NoticeChannel, max_length=8)
    recipient = fields.CharField(max_length=254)
    subject = fields.CharField(max_length=200)
    body = fields.TextField()
    status = fields.CharEnumField(NoticeStatus, max_length=8, default=NoticeStatus.PENDING)
    attempts = fields.IntField(default=0)
    last_error = fields.TextField(default="")
    next_attempt_at = fields.DatetimeField(db_index=True)
    sent_at = fields.DatetimeField(null=True)
    created_at = fields.DatetimeField()

    class Meta:
        table = "notice"
        indexes = (("case_id",), ("status", "next_attempt_at"))


class CaseNumberCounter(Model):
    """One row per year and domain, incremented inside the filing transaction.

    (No semicolons in model docstrings: Tortoise splits the table comment at them.)
    """

    id = fields.IntField(primary_key=True)
    year = fields.IntField()
    domain = fields.CharEnumField(Domain, max_length=16)
    last_serial = fields.IntField(default=0)

    class Meta:
        table = "case_number_counter"
        unique_together = (("year", "domain"),)


# --- the end of mediation and the court handoff ----------------------------------------------


class FilingKind(StrEnum):
    TRANSFER = "transfer"  # to litigation after failure (诉调对接, 转立案)
    CONFIRMATION = "confirmation"  # joint application for judicial confirmation (司法确认)


class FilingStatus(StrEnum):
    """A court filing's state as the platform knows it. Ranked: a callback may only move a
    filing to a higher rank (late, repeated or reordered callbacks change nothing)."""

    AWAITING_PARTIES = "awaiting_parties"  # a joint application waiting for the other side
    QUEUED = "queued"  # in the outbox
    RECEIVED = "received"  # the court desk acknowledged receipt
    ACCEPTED = "accepted"  # a clerk accepted it for review
    RETURNED = "returned"  # returned for correction (补正), with a reason
    DOCKETED = "docketed"  # given a court case number (案号)
    CONFIRMED = "confirmed"  # judicial confirmation granted
    REJECTED = "rejected"  # judicial confirmation refused, with a reason


class CourtFiling(Model):
    """One package sent (or to be sent) to the court. A corrected resubmission is a new
    filing that points at the one returned."""

    id = fields.IntField(primary_key=True)
    # The id that crosses the wire (webhook-id, ECF message id); the court's idempotency key.
    filing_id = fields.CharField(max_length=64, unique=True)
    case: fields.ForeignKeyRelation[Case] = fields.ForeignKeyField(
        "models.Case", related_name="court_filings", on_delete=fields.CASCADE
    )
    kind = fields.CharEnumField(FilingKind, max_length=16)
    wire_format = fields.CharField(max_length=8, default="json")  # json | ecf
    status = fields.CharEnumField(FilingStatus, max_length=20)
    corrects: fields.ForeignKeyNullableRelation[CourtFiling] = fields.ForeignKeyField(
        "models.CourtFiling", related_name="corrections", null=True, on_delete=fields.RESTRICT
    )
    # side -> ISO time the party joined the application (both for a confirmation).
    applicants: fields.Field[dict[str, str]] = fields.JSONField(default=dict)
    # The pre-check's findings (Art. 354 materials, Art. 355/358 grounds) when applied for.
    precheck: fields.Field[dict[str, Any]] = fields.JSONField(default=dict)
    payload_sha256 = fields.CharField(max_length=64, default="")
    receipt_id = fields.CharField(max_length=64, null=True)
    court_case_number = fields.CharField(max_length=64, null=True)
    court_reason = fields.TextField(default="")
    decided_at = fields.DatetimeField(null=True)
    created_at = fields.DatetimeField()
    updated_at = fields.DatetimeField()
    # Its evidence links stop working once revoked (courtwire.evidence_links): by the
    # system when a correction replaces the filing (the new one carries its own links), or
    # by an admin (`mediation court revoke-links`). Reason: "corrected" | "admin".
    links_revoked_at = fields.DatetimeField(null=True)
    links_revoked_reason = fields.CharField(max_length=32, default="")
    case_id: int
    corrects_id: int | None

    class Meta:
        table = "court_filing"
        indexes = (("case_id",), ("status",))


class OutboxStatus(StrEnum):
    PENDING = "pending"
    DELIVERED = "delivered"
    DEAD = "dead"  # gave up after the last attempt: shown to admins, who can replay it


class OutboxMessage(Model):
    """A request to another system, written in the transaction that decided to send it and
    delivered by the relay (at least once). `msg_id` is the receiver's idempotency key."""

    id = fields.BigIntField(primary_key=True)
    msg_id = fields.CharField(max_length=64, unique=True)
    destination = fields.CharField(max_length=40)  # e.g. "court"
    path = fields.CharField(max_length=200)  # appended to the destination's base URL
    content_type = fields.CharField(max_length=80)
    body = fields.TextField()
    filing: fields.ForeignKeyNullableRelation[CourtFiling] = fields.ForeignKeyField(
        "models.CourtFiling", related_name="outbox", null=True, on_delete=fields.CASCADE
    )
    status = fields.CharEnumField(OutboxStatus, max_length=12, default=OutboxStatus.PENDING)
    attempts = fields.IntField(default=0)
    next_attempt_at = fields.DatetimeField()
    # A relay process claims a row until this time, so two relays never send it at once.
    claimed_until = fields.DatetimeField(null=True)
    claimed_by = fields.CharField(max_length=64, default="")
    last_error = fields.TextField(default="")
    last_status_code = fields.IntField(null=True)
    response: fields.Field[dict[str, Any]] = fields.JSONField(default=dict)
    created_at = fields.DatetimeField()
    delivered_at = fields.DatetimeField(null=True)
    filing_id: int | None

    class Meta:
        table = "outbox_message"
        indexes = (("status", "next_attempt_at"),)


class CourtCallback(Model):
    """Every signed status callback received from the court, kept once per webhook id."""

    id = fields.IntField(primary_key=True)
    webhook_id = fields.CharField(max_length=64, unique=True)
    filing: fields.ForeignKeyNullableRelation[CourtFiling] = fields.ForeignKeyField(
        "models.CourtFiling", related_name="callbacks", null=True, on_delete=fields.CASCADE
    )
    event_type = fields.CharField(max_length=80)
    payload: fields.Field[dict[str, Any]] = fields.JSONField(default=dict)
    # Whether it moved the filing forward (False: late, repeated or out of order).
    applied = fields.BooleanField(default=False)
    received_at = fields.DatetimeField()
    filing_id: int | None

    class Meta:
        table = "court_callback"
