"""Clerk accounts: created from the command line, signed in with a limit on failures."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from tortoise.exceptions import IntegrityError
from tortoise.expressions import F

from courtdesk.errors import DeskError
from courtdesk.models import Clerk

_hasher = PasswordHasher()
# Checked when there is no such clerk, so "no such clerk" takes as long as "wrong password".
_DUMMY_HASH = _hasher.hash("not-a-real-password")
USERNAME = re.compile(r"[a-z0-9][a-z0-9._-]{1,63}")
PASSWORD_MIN = 8


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def check_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


async def create_clerk(
    username: str, display_name: str, password: str, now: datetime, *, update: bool = False
) -> Clerk:
    """A new clerk (or, with `update`, a new password and name for an existing one)."""
    username = username.strip().lower()
    if not USERNAME.fullmatch(username):
        raise DeskError("bad_username", 400)
    if len(password) < PASSWORD_MIN or len(password) > 200:
        raise DeskError("bad_password", 400, minimum=PASSWORD_MIN)
    existing = await Clerk.get_or_none(username=username)
    name = display_name.strip() or (existing.display_name if existing else username)
    if existing is not None:
        if not update:
            raise DeskError("clerk_exists", 409)
        existing.display_name = name[:100]
        existing.password_hash = hash_password(password)
        existing.failed_sign_ins = 0
        existing.locked_until = None
        existing.active = True
        # A new password ends the sessions signed in with the old one.
        existing.session_generation += 1
        await existing.save()
        return existing
    try:
        return await Clerk.create(
            username=username,
            display_name=name[:100],
            password_hash=hash_password(password),
            created_at=now,
        )
    except IntegrityError:
        raise DeskError("clerk_exists", 409) from None


async def sign_in(
    username: str, password: str, now: datetime, *, max_failures: int, lockout: timedelta
) -> Clerk:
    """The clerk, or DeskError("sign_in_failed" | "sign_in_locked")."""
    clerk = await Clerk.get_or_none(username=username.strip().lower(), active=True)
    if clerk is None:
        check_password(_DUMMY_HASH, password)
        raise DeskError("sign_in_failed", 400)
    if clerk.locked_until is not None and clerk.locked_until > now:
        raise DeskError("sign_in_locked", 429)
    if not check_password(clerk.password_hash, password):
        await Clerk.filter(id=clerk.id).update(failed_sign_ins=F("failed_sign_ins") + 1)
        await clerk.refresh_from_db(fields=["failed_sign_ins"])
        if clerk.failed_sign_ins >= max_failures:
            await Clerk.filter(id=clerk.id).update(failed_sign_ins=0, locked_until=now + lockout)
        raise DeskError("sign_in_failed", 400)
    if clerk.failed_sign_ins or clerk.locked_until:
        await Clerk.filter(id=clerk.id).update(failed_sign_ins=0, locked_until=None)
    return clerk


async def clerk_of_session(session: dict[str, object]) -> Clerk | None:
    clerk_id = session.get("clerk")
    if not isinstance(clerk_id, int):
        return None
    clerk = await Clerk.get_or_none(id=clerk_id, active=True)
    if clerk is None or session.get("gen") != clerk.session_generation:
        return None
    return clerk


async def sign_out_everywhere(clerk: Clerk) -> None:
    await Clerk.filter(id=clerk.id).update(session_generation=F("session_generation") + 1)
