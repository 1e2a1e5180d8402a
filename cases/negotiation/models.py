"""The models of merchants answering first (先行协商): enrolled merchants and their handlers,
a case's negotiation, its messages (proposals, questions and replies, a decline, the
consumer's answer), and the settlement with the performance of its remedy.

Written only by `cases.negotiation.actions` (and the opening in `cases.negotiation.opening`).
"""

from __future__ import annotations

from tortoise import fields
from tortoise.models import Model

from cases.models import Case
from cases.negotiation.rules import (
    DEFAULT_ANSWER_DAYS,
    EnrolmentStatus,
    MessageKind,
    NegotiationState,
    ProposalState,
)
from cases.performance.models import PerformanceStatus


class Merchant(Model):
    """A first-response enterprise, identified by its unified social credit code."""

    id = fields.IntField(primary_key=True)
    uscc = fields.CharField(max_length=18, unique=True)
    name = fields.CharField(max_length=200)
    status = fields.CharEnumField(EnrolmentStatus, max_length=12, default=EnrolmentStatus.PENDING)
    # Working days it has to answer a dispute, within the platform's limits.
    answer_days = fields.IntField(default=DEFAULT_ANSWER_DAYS)
    requested_at = fields.DatetimeField()
    confirmed_at = fields.DatetimeField(null=True)
    confirmed_by: fields.ForeignKeyNullableRelation = fields.ForeignKeyField(
        "models.User", related_name="merchants_confirmed", null=True, on_delete=fields.SET_NULL
    )
    # A partner platform that vouched for its own merchant (enrolled without a confirmation).
    vouched_by: fields.ForeignKeyNullableRelation = fields.ForeignKeyField(
        "models.PartnerPlatform",
        related_name="merchants_vouched",
        null=True,
        on_delete=fields.SET_NULL,
    )
    # The partner platform this merchant lets answer first for it (its customer service as
    # first responder): the partner then makes the merchant's moves through the partner API.
    delegated_to: fields.ForeignKeyNullableRelation = fields.ForeignKeyField(
        "models.PartnerPlatform",
        related_name="merchants_delegating",
        null=True,
        on_delete=fields.SET_NULL,
    )
    delegated_to_id: int | None

    class Meta:
        table = "merchant"


class MerchantHandler(Model):
    """An account that answers disputes for a merchant (role `merchant`)."""

    id = fields.IntField(primary_key=True)
    merchant: fields.ForeignKeyRelation[Merchant] = fields.ForeignKeyField(
        "models.Merchant", related_name="handlers", on_delete=fields.CASCADE
    )
    user: fields.OneToOneRelation = fields.OneToOneField(
        "models.User", related_name="merchant_handler", on_delete=fields.CASCADE
    )
    created_at = fields.DatetimeField()
    merchant_id: int
    user_id: int

    class Meta:
        table = "merchant_handler"


class Negotiation(Model):
    """The negotiation of a case with its merchant, from filing until it settles or goes on."""

    id = fields.IntField(primary_key=True)
    case: fields.OneToOneRelation[Case] = fields.OneToOneField(
        "models.Case", related_name="negotiation", on_delete=fields.CASCADE
    )
    merchant: fields.ForeignKeyRelation[Merchant] = fields.ForeignKeyField(
        "models.Merchant", related_name="negotiations", on_delete=fields.RESTRICT
    )
    state = fields.CharEnumField(NegotiationState, max_length=12, default=NegotiationState.OPEN)
    started_at = fields.DatetimeField()
    due_on = fields.DateField(null=True)  # copied from its deadline record for the inbox
    first_answer_at = fields.DatetimeField(null=True)
    ended_at = fields.DatetimeField(null=True)
    case_id: int
    merchant_id: int

    class Meta:
        table = "negotiation"
        indexes = (("merchant_id", "state"),)


class NegotiationMessage(Model):
    """One step of a negotiation. A proposal carries its remedy, a reply names its question."""

    id = fields.IntField(primary_key=True)
    negotiation: fields.ForeignKeyRelation[Negotiation] = fields.ForeignKeyField(
        "models.Negotiation", related_name="messages", on_delete=fields.CASCADE
    )
    kind = fields.CharEnumField(MessageKind, max_length=12)
    side = fields.CharField(max_length=10)  # merchant | consumer
    author: fields.ForeignKeyNullableRelation = fields.ForeignKeyField(
        "models.User", related_name="negotiation_messages", null=True, on_delete=fields.SET_NULL
    )
    # A partner platform answering for a merchant that delegated to it (author is then null).
    author_partner: fields.ForeignKeyNullableRelation = fields.ForeignKeyField(
        "models.PartnerPlatform",
        related_name="negotiation_messages",
        null=True,
        on_delete=fields.SET_NULL,
    )
    thread: fields.ForeignKeyNullableRelation[NegotiationMessage] = fields.ForeignKeyField(
        "models.NegotiationMessage", related_name="replies", null=True, on_delete=fields.CASCADE
    )
    proposal: fields.ForeignKeyNullableRelation[NegotiationMessage] = fields.ForeignKeyField(
        "models.NegotiationMessage", related_name="answers", null=True, on_delete=fields.CASCADE
    )
    text = fields.TextField(default="")
    remedy_kind = fields.CharField(max_length=16, default="")
    amount = fields.DecimalField(max_digits=12, decimal_places=2, null=True)
    conditions = fields.TextField(default="")
    perform_by = fields.DateField(null=True)
    proposal_state = fields.CharEnumField(ProposalState, max_length=12, null=True)
    created_at = fields.DatetimeField()
    negotiation_id: int
    thread_id: int | None
    proposal_id: int | None
    author_id: int | None
    author_partner_id: int | None

    class Meta:
        table = "negotiation_message"
        indexes = (("negotiation_id", "id"),)


class Settlement(Model):
    """The remedy the consumer accepted, and its performance (like a term of an agreement)."""

    id = fields.IntField(primary_key=True)
    case: fields.OneToOneRelation[Case] = fields.OneToOneField(
        "models.Case", related_name="settlement", on_delete=fields.CASCADE
    )
    negotiation: fields.OneToOneRelation[Negotiation] = fields.OneToOneField(
        "models.Negotiation", related_name="settlement", on_delete=fields.CASCADE
    )
    proposal: fields.OneToOneRelation[NegotiationMessage] = fields.OneToOneField(
        "models.NegotiationMessage", related_name="settlement", on_delete=fields.RESTRICT
    )
    merchant_name = fields.CharField(max_length=200)
    consumer_name = fields.CharField(max_length=100)
    remedy_kind = fields.CharField(max_length=16)
    amount = fields.DecimalField(max_digits=12, decimal_places=2, null=True)
    conditions = fields.TextField(default="")
    perform_by = fields.DateField()
    settled_at = fields.DatetimeField()
    # Performance of the remedy: the merchant marks it performed, the consumer confirms or
    # disputes (the states of cases.performance).
    status = fields.CharEnumField(PerformanceStatus, max_length=12, default=PerformanceStatus.OPEN)
    performed_at = fields.DatetimeField(null=True)
    performed_note = fields.TextField(default="")
    answered_at = fields.DatetimeField(null=True)
    answer_note = fields.TextField(default="")
    reopened_at = fields.DatetimeField(null=True)
    case_id: int
    negotiation_id: int
    proposal_id: int

    class Meta:
        table = "settlement"
