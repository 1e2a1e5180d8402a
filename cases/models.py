"""The case record: the case, its parties, evidence, timeline, invitations and notices.

Relations to accounts and partners go by the app label ("models.User"), so this package
does not import the web shell.
"""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING, Any

from tortoise import fields
from tortoise.models import Model

from cases.categories import Domain
from cases.status import Status

if TYPE_CHECKING:
    from mediation.models import Organisation, PartnerPlatform, User


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
    # Triage inputs and the recommendation with its reasons (mediation.triage).
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


class DeadlineStatus(StrEnum):
    OPEN = "open"
    MET = "met"
    MISSED = "missed"
    CANCELLED = "cancelled"


class CaseDeadline(Model):
    """A running time limit of a case. The due date is always recomputed by the pure engine
    (cases.deadlines) from the start, pauses and extensions kept here."""

    id = fields.IntField(primary_key=True)
    case: fields.ForeignKeyRelation[Case] = fields.ForeignKeyField(
        "models.Case", related_name="deadlines", on_delete=fields.CASCADE
    )
    regime = fields.CharField(max_length=40)
    started_on = fields.DateField()
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
