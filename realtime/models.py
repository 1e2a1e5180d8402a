"""What a live room keeps: every durable message, and each room's epoch and last sequence."""

from __future__ import annotations

from typing import Any

from tortoise import fields
from tortoise.models import Model


class RoomState(Model):
    """One row per room. `last_seq` is advanced inside the transaction that inserts the
    messages, under the row's lock, so each room's sequence is gap-free in every process."""

    id = fields.IntField(primary_key=True)
    session_id = fields.IntField()
    room = fields.CharField(max_length=32)
    # A new epoch means the room's history was reset: clients must reload, not resume.
    epoch = fields.CharField(max_length=16)
    last_seq = fields.BigIntField(default=0)

    class Meta:
        table = "room_state"
        unique_together = (("session_id", "room"),)


class RoomMessage(Model):
    id = fields.BigIntField(primary_key=True)
    session_id = fields.IntField()
    room = fields.CharField(max_length=32)
    seq = fields.BigIntField()
    sender_id = fields.IntField(null=True)
    sender_name = fields.CharField(max_length=100, default="")
    sender_side = fields.CharField(max_length=16, null=True)  # None for the mediator
    kind = fields.CharField(max_length=20)
    body: fields.Field[dict[str, Any]] = fields.JSONField(default=dict)
    # Marked by its author as a concession: privileged (Art. 18), never leaves the platform.
    concession = fields.BooleanField(default=False)
    # Chosen by the sending client, so a message resent after a reconnect is stored once.
    client_id = fields.CharField(max_length=64)
    created_at = fields.DatetimeField()

    class Meta:
        table = "room_message"
        unique_together = (("session_id", "room", "seq"), ("session_id", "sender_id", "client_id"))
