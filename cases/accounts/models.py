"""The accounts' models: users and their roles, organisations and their tracks, mediators'
roster entries and leave, failed sign-ins, partner platforms and their idempotency records."""

from __future__ import annotations

from enum import StrEnum

from tortoise import fields
from tortoise.models import Model


class Role(StrEnum):
    DISPUTANT = "disputant"
    MEDIATOR = "mediator"
    ORG_ADMIN = "org_admin"
    COURT_CLERK = "court_clerk"
    PLATFORM_ADMIN = "platform_admin"
    MERCHANT = "merchant"  # a handler of an enrolled merchant (cases.negotiation)
    # An administrator of a partner platform: its webhook endpoints and delivery log
    # (cases.webhooks; the account is linked to its platform by a PartnerMember row).
    PARTNER_ADMIN = "partner_admin"
    # District governance staff (justice bureau, court, market regulation, culture and
    # tourism): figures and anonymised case lists only, never a party's personal data.
    GOVERNANCE = "governance"


STAFF_ROLES = frozenset({Role.MEDIATOR, Role.ORG_ADMIN, Role.COURT_CLERK, Role.PLATFORM_ADMIN})


class Track(StrEnum):
    """Mediation tracks (调解类型)."""

    PEOPLES = "peoples"  # 人民调解
    ADMINISTRATIVE = "administrative"  # 行政调解
    ARBITRATION = "arbitration"  # 仲裁调解
    INDUSTRY = "industry"  # 行业性专业性 / 社会组织调解


class Organisation(Model):
    id = fields.IntField(primary_key=True)
    code = fields.CharField(max_length=32, unique=True)
    name = fields.CharField(max_length=200)
    name_en = fields.CharField(max_length=200)
    track = fields.CharEnumField(Track, max_length=20)
    district = fields.CharField(max_length=50, default="长宁区")
    address = fields.CharField(max_length=300, default="")
    phone = fields.CharField(max_length=30, default="")
    # Dispute categories (cases.categories codes) the organisation takes.
    categories: fields.Field[list[str]] = fields.JSONField(default=list)
    service_areas: fields.Field[list[str]] = fields.JSONField(default=list)
    # Takes pre-litigation mediation entrusted by the court (诉前委派调解).
    accepts_court_entrusted = fields.BooleanField(default=False)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "organisation"


class User(Model):
    id = fields.IntField(primary_key=True)
    role = fields.CharEnumField(Role, max_length=20)
    display_name = fields.CharField(max_length=100)
    mobile = fields.CharField(max_length=11, null=True, unique=True)
    email = fields.CharField(max_length=254, null=True, unique=True)
    # Staff sign in with a username; disputants with their mobile number or email.
    username = fields.CharField(max_length=64, null=True, unique=True)
    password_hash = fields.CharField(max_length=200)
    organisation: fields.ForeignKeyNullableRelation[Organisation] = fields.ForeignKeyField(
        "models.Organisation", related_name="staff", null=True, on_delete=fields.RESTRICT
    )
    locale = fields.CharField(max_length=10, default="zh_CN")
    # Large text and high contrast (适老化): chosen on any page, kept with the account so it
    # follows the person to every device they sign in on. The database default lets the
    # column be added to a table that already holds accounts (migration 0012).
    large_text = fields.BooleanField(default=False, db_default=False)
    is_active = fields.BooleanField(default=True)
    # Signed-cookie sessions carry this number; signing out raises it, so a copied cookie
    # stops working everywhere at once.
    session_generation = fields.IntField(default=0)
    created_at = fields.DatetimeField(auto_now_add=True)
    organisation_id: int | None  # the column behind `organisation`, for type checkers

    class Meta:
        table = "account"
        indexes = (("organisation_id",),)

    @property
    def is_staff(self) -> bool:
        return self.role in STAFF_ROLES


class MediatorProfile(Model):
    """A mediator's roster entry: what they take, and the load the scorer weighs."""

    id = fields.IntField(primary_key=True)
    user: fields.OneToOneRelation[User] = fields.OneToOneField(
        "models.User", related_name="mediator_profile", on_delete=fields.CASCADE
    )
    # Copied from the user so the scorer reads one organisation's roster with one indexed query.
    organisation: fields.ForeignKeyRelation[Organisation] = fields.ForeignKeyField(
        "models.Organisation", related_name="mediators", on_delete=fields.RESTRICT
    )
    specialties: fields.Field[list[str]] = fields.JSONField(default=list)
    languages: fields.Field[list[str]] = fields.JSONField(default=list)
    regions: fields.Field[list[str]] = fields.JSONField(default=list)
    capacity = fields.IntField(default=20)
    # Unified social credit codes of organisations the mediator declared ties with (Art. 13).
    affiliations: fields.Field[list[str]] = fields.JSONField(default=list)
    bio = fields.TextField(default="")
    is_active = fields.BooleanField(default=True)

    class Meta:
        table = "mediator_profile"
        indexes = (("organisation_id", "is_active"),)


class MediatorLeave(Model):
    id = fields.IntField(primary_key=True)
    mediator: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="leaves", on_delete=fields.CASCADE
    )
    starts_on = fields.DateField()
    ends_on = fields.DateField()
    reason = fields.CharField(max_length=200, default="")

    class Meta:
        table = "mediator_leave"
        indexes = (("mediator_id", "ends_on"),)


class LoginFailure(Model):
    """One failed sign-in, counted per identifier and per address to slow password guessing."""

    id = fields.BigIntField(primary_key=True)
    identifier = fields.CharField(max_length=254, db_index=True)
    remote_addr = fields.CharField(max_length=64, db_index=True)
    at = fields.DatetimeField(db_index=True)

    class Meta:
        table = "login_failure"


class PartnerPlatform(Model):
    """An internet platform that pushes disputes in by API (e-commerce, delivery, travel)."""

    id = fields.IntField(primary_key=True)
    name = fields.CharField(max_length=100, unique=True)
    # Keys are random 32-byte secrets, so a plain SHA-256 is enough to store them safely; the
    # prefix lets us find the row without scanning.
    key_prefix = fields.CharField(max_length=16, unique=True)
    key_sha256 = fields.CharField(max_length=64)
    is_active = fields.BooleanField(default=True)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "partner_platform"


class IdempotencyRecord(Model):
    """The first answer to a partner's request, replayed when the same key comes again."""

    id = fields.BigIntField(primary_key=True)
    partner: fields.ForeignKeyRelation[PartnerPlatform] = fields.ForeignKeyField(
        "models.PartnerPlatform", related_name="idempotency_records", on_delete=fields.CASCADE
    )
    partner_id: int
    key = fields.CharField(max_length=255)
    request_sha256 = fields.CharField(max_length=64)
    status_code = fields.IntField()
    response_body: fields.Field[dict[str, object]] = fields.JSONField()
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "idempotency_record"
        unique_together = (("partner", "key"),)
