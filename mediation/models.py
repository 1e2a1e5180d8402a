"""The models of live sessions, agreements and their signatures, and performance items (accounts
and organisations are in cases.accounts.models)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from tortoise import fields
from tortoise.models import Model

from cases.accounts.models import (
    Organisation,
    User,
)
from cases.journal import on_leaving_mediation, record_event
from cases.models import Case
from cases.status import Actor, Status


class SessionMode(StrEnum):
    JOINT = "joint"  # everyone at the same time
    BACK_TO_BACK = "back_to_back"  # 背对背: the mediator meets each side in turn (Art. 16)


class SessionStatus(StrEnum):
    SCHEDULED = "scheduled"
    ENDED = "ended"
    CANCELLED = "cancelled"


class MediationSession(Model):
    """A live online session of a case, joined in the room from a few minutes before it."""

    id = fields.IntField(primary_key=True)
    case: fields.ForeignKeyRelation[Any] = fields.ForeignKeyField(
        "models.Case", related_name="sessions", on_delete=fields.CASCADE
    )
    starts_at = fields.DatetimeField()
    duration_minutes = fields.IntField(default=60)
    mode = fields.CharEnumField(SessionMode, max_length=16, default=SessionMode.JOINT)
    status = fields.CharEnumField(SessionStatus, max_length=16, default=SessionStatus.SCHEDULED)
    scheduled_by: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="scheduled_sessions", on_delete=fields.RESTRICT
    )
    # Sides that did not attend, as recorded by the mediator.
    no_shows: fields.Field[list[str]] = fields.JSONField(default=list)
    ended_at = fields.DatetimeField(null=True)
    created_at = fields.DatetimeField()
    # The calendar invitation's SEQUENCE (RFC 5545 3.8.7.4): bumped by every reschedule and
    # by the cancellation, so calendar clients replace the event they hold instead of
    # ignoring the new one as a copy.
    sequence = fields.IntField(default=0)
    case_id: int

    class Meta:
        table = "mediation_session"
        indexes = (("case_id", "starts_at"),)


class Transcript(Model):
    """The session's record (笔录, Art. 22): the joint room and the mediator's notes, frozen
    with its hash, then confirmed by each party."""

    id = fields.IntField(primary_key=True)
    session: fields.OneToOneRelation[MediationSession] = fields.OneToOneField(
        "models.MediationSession", related_name="transcript", on_delete=fields.CASCADE
    )
    text = fields.TextField()
    sha256 = fields.CharField(max_length=64)
    # side -> ISO time of confirmation
    confirmations: fields.Field[dict[str, str]] = fields.JSONField(default=dict)
    created_at = fields.DatetimeField()

    class Meta:
        table = "transcript"


# --- agreements and signatures (People's Mediation Law Art. 29, online mediation rules Art. 19)


class AgreementStatus(StrEnum):
    DRAFT = "draft"  # being edited by the mediator, no signature yet
    SIGNING = "signing"  # frozen for signature: any change makes a new version
    EFFECTIVE = "effective"  # the last required signature was made (Art. 19)
    SUPERSEDED = "superseded"  # a later version replaced it before it took effect
    # It was open for signature when the case left mediation (ended, or the mediator was
    # replaced): it can never take effect, and the timeline says why.
    WITHDRAWN = "withdrawn"


class AgreementVersion(Model):
    """One version of a case's mediation agreement (调解协议书). Versions are never edited once
    put up for signature: a change is a new version that needs new signatures."""

    id = fields.IntField(primary_key=True)
    case: fields.ForeignKeyRelation[Any] = fields.ForeignKeyField(
        "models.Case", related_name="agreement_versions", on_delete=fields.CASCADE
    )
    number = fields.IntField()  # 1, 2, 3 ... per case
    # The per-track template it was drafted from (mediation.models.Track values).
    template = fields.CharField(max_length=20)
    status = fields.CharEnumField(AgreementStatus, max_length=12, default=AgreementStatus.DRAFT)
    # The Art. 29 contents as structured fields (parties, facts, disputed matters, each
    # party's responsibility, terms with manner and time limit of performance).
    content: fields.Field[dict[str, Any]] = fields.JSONField(default=dict)
    # The full text as signed, and its SHA-256: what every signature and the seal cover.
    text = fields.TextField(default="")
    sha256 = fields.CharField(max_length=64, default="")
    drafted_by: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="drafted_agreements", on_delete=fields.RESTRICT
    )
    created_at = fields.DatetimeField()
    frozen_at = fields.DatetimeField(null=True)  # put up for signature
    effective_at = fields.DatetimeField(null=True)  # the last required signature
    # The organisation's e-seal over the text's hash, applied when the agreement takes effect.
    sealed_by: fields.ForeignKeyNullableRelation[Organisation] = fields.ForeignKeyField(
        "models.Organisation",
        related_name="sealed_agreements",
        null=True,
        on_delete=fields.RESTRICT,
    )
    seal: fields.Field[dict[str, Any]] = fields.JSONField(default=dict)
    # The signed PDF: stored content-addressed beside the evidence, checked by its hash.
    pdf_sha256 = fields.CharField(max_length=64, null=True, db_index=True)
    pdf_size = fields.IntField(null=True)
    # The public verification page's address (printed on the PDF as a link and a QR code).
    verification_code = fields.CharField(max_length=32, null=True, unique=True)
    case_id: int
    drafted_by_id: int
    sealed_by_id: int | None

    class Meta:
        table = "agreement_version"
        unique_together = (("case", "number"),)


class SignerRole(StrEnum):
    APPLICANT = "applicant"
    RESPONDENT = "respondent"
    MEDIATOR = "mediator"


class SignatureMethod(StrEnum):
    PASSWORD = "password"  # re-entered the account password
    SMS_CODE = "sms_code"  # a one-time code sent to the registered mobile


class AgreementSignature(Model):
    """An electronic signature on one version, made after the signer re-confirmed identity."""

    id = fields.IntField(primary_key=True)
    version: fields.ForeignKeyRelation[AgreementVersion] = fields.ForeignKeyField(
        "models.AgreementVersion", related_name="signatures", on_delete=fields.CASCADE
    )
    role = fields.CharEnumField(SignerRole, max_length=12)
    signer: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="agreement_signatures", on_delete=fields.RESTRICT
    )
    method = fields.CharEnumField(SignatureMethod, max_length=12)
    # The hash of the text signed (equal to the version's sha256 when it was made).
    signed_sha256 = fields.CharField(max_length=64)
    # The platform's attestation: HMAC over (version, role, signer, hash, time).
    attestation = fields.CharField(max_length=128)
    signed_at = fields.DatetimeField()
    version_id: int
    signer_id: int

    class Meta:
        table = "agreement_signature"
        unique_together = (("version", "role"),)


class SigningCode(Model):
    """A one-time code sent by SMS to confirm a signer's identity, stored as a hash."""

    id = fields.IntField(primary_key=True)
    user: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="signing_codes", on_delete=fields.CASCADE
    )
    version: fields.ForeignKeyRelation[AgreementVersion] = fields.ForeignKeyField(
        "models.AgreementVersion", related_name="signing_codes", on_delete=fields.CASCADE
    )
    code_hash = fields.CharField(max_length=128)
    attempts = fields.IntField(default=0)
    expires_at = fields.DatetimeField()
    used_at = fields.DatetimeField(null=True)
    created_at = fields.DatetimeField()
    user_id: int
    version_id: int

    class Meta:
        table = "signing_code"
        indexes = (("user_id", "version_id"),)


class PerformanceStatus(StrEnum):
    OPEN = "open"
    PERFORMED = "performed"  # the obliged party says it is done
    CONFIRMED = "confirmed"  # the other side confirms it
    DISPUTED = "disputed"  # the other side says it was not done


class PerformanceItem(Model):
    """A term of an effective agreement with its time limit of performance: a deadline the
    parties mark and the mediator watches."""

    id = fields.IntField(primary_key=True)
    version: fields.ForeignKeyRelation[AgreementVersion] = fields.ForeignKeyField(
        "models.AgreementVersion", related_name="performance", on_delete=fields.CASCADE
    )
    case: fields.ForeignKeyRelation[Any] = fields.ForeignKeyField(
        "models.Case", related_name="performance", on_delete=fields.CASCADE
    )
    term_number = fields.IntField()
    obligor_side = fields.CharField(max_length=16)  # applicant | respondent
    description = fields.TextField()
    due_on = fields.DateField()
    status = fields.CharEnumField(PerformanceStatus, max_length=12, default=PerformanceStatus.OPEN)
    performed_at = fields.DatetimeField(null=True)
    performed_note = fields.TextField(default="")
    answered_at = fields.DatetimeField(null=True)
    answer_note = fields.TextField(default="")
    reminded_at = fields.DatetimeField(null=True)
    version_id: int
    case_id: int

    class Meta:
        table = "performance_item"
        indexes = (("case_id",), ("status", "due_on"))


# Registered where the models are defined, because every process that uses the ORM loads
# this module; it needs nothing but these models and the journal, so no circle.
@on_leaving_mediation
async def withdraw_open_versions(case: Case, target: Status, now: datetime) -> None:
    """The case leaves mediation other than by the last signature (ended as failed, withdrawn
    or timed out, or sent back to assignment when the mediator is replaced): a version open
    for signature could otherwise still collect signatures, so it is withdrawn in the same
    transaction as the case's transition (`cases.journal.transition` calls this), with the
    reason on the timeline. Signing it afterwards is refused as withdrawn."""
    open_versions = await AgreementVersion.filter(
        case_id=case.id, status=AgreementStatus.SIGNING
    ).values_list("id", "number")
    for version_id, number in open_versions:
        await AgreementVersion.filter(id=version_id, status=AgreementStatus.SIGNING).update(
            status=AgreementStatus.WITHDRAWN
        )
        # The event's kind says why in plain words on the timeline (its label).
        await record_event(
            case,
            "agreement_withdrawn_mediator_replaced"
            if target is Status.ASSIGNING
            else "agreement_withdrawn_mediation_ended",
            now,
            actor_label=Actor.SYSTEM.value,
            version=number,
            case_status=target.value,
        )
