"""The models of live sessions: a scheduled online session of a case and its transcript."""

from __future__ import annotations

from enum import StrEnum

from tortoise import fields
from tortoise.models import Model

from cases.accounts.models import User
from cases.models import Case


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
    case: fields.ForeignKeyRelation[Case] = fields.ForeignKeyField(
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
