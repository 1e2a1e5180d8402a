"""The models of the mediation agreement: its versions, their signatures and the one-time
signing codes (People's Mediation Law Art. 29, online mediation rules Art. 19)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from tortoise import fields
from tortoise.models import Model

from cases.accounts.models import Organisation, User
from cases.journal import on_leaving_mediation, record_event
from cases.models import Case
from cases.status import Actor, Status
from cases.timeline import EventKind


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
    case: fields.ForeignKeyRelation[Case] = fields.ForeignKeyField(
        "models.Case", related_name="agreement_versions", on_delete=fields.CASCADE
    )
    number = fields.IntField()  # 1, 2, 3 ... per case
    # The per-track template it was drafted from (cases.accounts.models.Track values).
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
            EventKind.AGREEMENT_WITHDRAWN_MEDIATOR_REPLACED
            if target is Status.ASSIGNING
            else EventKind.AGREEMENT_WITHDRAWN_MEDIATION_ENDED,
            now,
            actor_label=Actor.SYSTEM.value,
            version=number,
            case_status=target.value,
        )
