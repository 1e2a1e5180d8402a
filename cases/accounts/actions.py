"""Accounts: registration, staff creation, signing in with a limit on failed attempts, and
partner platforms' API keys."""

from __future__ import annotations

import asyncio
import hashlib
import logging
import secrets
from collections.abc import Mapping
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from tortoise.exceptions import IntegrityError
from tortoise.expressions import F

from cases.accounts.models import (
    STAFF_ROLES,
    LoginFailure,
    MediatorProfile,
    PartnerPlatform,
    Role,
    User,
)
from cases.errors import CaseError
from cases.filing import check_email
from cases.identity import is_valid_mainland_mobile, normalise_mobile
from cases.transactions import atomic

log = logging.getLogger("security.accounts")
_hasher = PasswordHasher()
PASSWORD_MIN = 8
# Verifying against this keeps the time of "no such user" equal to "wrong password".
_DUMMY_HASH = _hasher.hash("not-a-real-password")


class AccountError(CaseError):
    pass


class SignInLocked(AccountError):
    status_code = 429


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def check_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def check_new_password(password: str) -> str | None:
    if len(password) < PASSWORD_MIN:
        return "password_too_short"
    if len(password) > 200:
        return "too_long"
    return None


def split_identifier(identifier: str) -> tuple[str | None, str | None, str | None]:
    """(mobile, email, username) for what a person typed into the sign-in box."""
    identifier = identifier.strip()
    if "@" in identifier:
        return None, identifier.lower(), None
    mobile = normalise_mobile(identifier)
    if is_valid_mainland_mobile(mobile):
        return mobile, None, None
    return None, None, identifier


async def do_set_large_text(user: User, on: bool) -> None:
    """Keep the account's choice of the large-text, high-contrast display (适老化)."""
    await User.filter(id=user.id).update(large_text=on)
    user.large_text = on


async def do_register_disputant(
    *, identifier: str, password: str, display_name: str, locale: str = "zh_CN"
) -> User:
    errors: dict[str, str] = {}
    mobile, email, _ = split_identifier(identifier)
    if mobile is None and (email is None or not check_email(email)):
        errors["identifier"] = "identifier_invalid"
    if problem := check_new_password(password):
        errors["password"] = problem
    name = display_name.strip()
    if not name:
        errors["display_name"] = "required"
    elif len(name) > 100:
        errors["display_name"] = "too_long"
    if errors:
        raise RegistrationError(errors)
    try:
        async with atomic():
            return await User.create(
                role=Role.DISPUTANT,
                display_name=name,
                mobile=mobile,
                email=email,
                password_hash=hash_password(password),
                locale=locale,
            )
    except IntegrityError:
        raise RegistrationError({"identifier": "identifier_taken"}) from None


class RegistrationError(AccountError):
    def __init__(self, field_errors: dict[str, str]) -> None:
        super().__init__("registration_invalid")
        self.field_errors = field_errors


async def do_create_staff(
    *,
    username: str,
    password: str,
    role: Role,
    display_name: str,
    organisation_id: int | None = None,
    email: str | None = None,
    mobile: str | None = None,
) -> User:
    if role is Role.DISPUTANT:
        raise AccountError("not_a_staff_role")
    if problem := check_new_password(password):
        raise RegistrationError({"password": problem})
    if role in (Role.MEDIATOR, Role.ORG_ADMIN) and organisation_id is None:
        raise RegistrationError({"organisation": "required"})
    try:
        async with atomic():
            user = await User.create(
                role=role,
                username=username.strip(),
                display_name=display_name,
                password_hash=hash_password(password),
                organisation_id=organisation_id,
                email=email,
                mobile=mobile,
            )
            if role is Role.MEDIATOR and organisation_id is not None:
                # Every mediator is on their organisation's roster from the start; the
                # organisation admin fills in specialties, languages and capacity.
                await MediatorProfile.create(
                    user=user,
                    organisation_id=organisation_id,
                    languages=["zh"],
                    regions=["长宁区"],
                )
            return user
    except IntegrityError:
        raise RegistrationError({"username": "identifier_taken"}) from None


async def _find_user(identifier: str) -> User | None:
    mobile, email, username = split_identifier(identifier)
    if len(email or "") > 254 or len(username or "") > 64:
        return None  # longer than the columns: nobody's (and the ORM refuses the lookup)
    if mobile:
        return await User.get_or_none(mobile=mobile)
    if email:
        return await User.get_or_none(email=email)
    return await User.get_or_none(username=username)


async def check_sign_in(
    identifier: str,
    password: str,
    *,
    remote_addr: str,
    now: datetime,
    max_failures: int,
    window: timedelta,
    slowdown_seconds: float,
) -> User:
    """The user, or AccountError("sign_in_failed"); SignInLocked after too many failures on
    this account.

    Failures are counted in the database, per identifier and per address, so the limits
    hold across server processes. The per-account count locks the account for the window;
    the per-address count only slows the address down: a shared office or a NAT behind one
    address still gets in with the right password, after `slowdown_seconds`. The wait is
    not queued per address (a flood from the address would then keep its honest users
    waiting for minutes); each account's own lock is what bounds guessing at it.
    """
    # Count by the account the identifier names, not by how it was typed: otherwise
    # "138 1234 5678", "+8613812345678", ... would each get their own allowance.
    mobile, email, username = split_identifier(identifier)
    key = (mobile or email or (username or "").lower())[:254]
    since = now - window
    by_identifier = await LoginFailure.filter(identifier=key, at__gt=since).count()
    if by_identifier >= max_failures:
        log.warning("sign-in refused, account locked: from %s", remote_addr)
        raise SignInLocked("sign_in_locked", minutes=int(window.total_seconds() // 60))
    by_addr = await LoginFailure.filter(remote_addr=remote_addr, at__gt=since).count()
    # An address may try several accounts (a family, an office), so it gets a larger allowance.
    if by_addr >= max_failures * 4:
        log.warning("sign-in slowed: %s failures from %s", by_addr, remote_addr)
        await asyncio.sleep(slowdown_seconds)
    user = await _find_user(identifier)
    ok = check_password(user.password_hash if user else _DUMMY_HASH, password)
    if not ok or user is None or not user.is_active:
        await LoginFailure.create(identifier=key, remote_addr=remote_addr, at=now)
        # The account by its id only: what was typed may be a mobile number or an email.
        account = f"user {user.id}" if user else "no such account"
        log.warning("sign-in failed: %s from %s", account, remote_addr)
        raise AccountError("sign_in_failed")
    await LoginFailure.filter(identifier=key).delete()
    log.info("sign-in: user %s (%s) from %s", user.id, user.role, remote_addr)
    return user


def check_may_create_staff(
    creator_role: str, creator_org_id: int | None, role: Role, organisation_id: int | None
) -> bool:
    """Platform admins create any staff account; organisation admins add mediators and
    admins to their own organisation's roster only."""
    if creator_role == Role.PLATFORM_ADMIN:
        return role in STAFF_ROLES  # merchants' handlers enrol with their merchant
    if creator_role == Role.ORG_ADMIN:
        return (
            role in (Role.MEDIATOR, Role.ORG_ADMIN)
            and organisation_id is not None
            and organisation_id == creator_org_id
        )
    return False


async def user_of_session(session: Mapping[str, object]) -> User | None:
    """The signed-in user a session cookie names, if it is still valid."""
    user_id, generation = session.get("uid"), session.get("gen", 0)
    if not isinstance(user_id, int):
        return None
    user = await User.get_or_none(id=user_id, is_active=True)
    if user is None or user.session_generation != generation:
        return None
    return user


async def do_sign_out_everywhere(user: User) -> None:
    """End every session of this user, on every device and server process."""
    await User.filter(id=user.id).update(session_generation=F("session_generation") + 1)


# --- partner platforms -------------------------------------------------------------------------

PARTNER_KEY_PREFIX_LEN = 8  # the key's public part, before the dot: finds the partner's row


def partner_key_sha256(key: str) -> str:
    """What is kept of a partner's API key (a long random secret, so a plain hash suffices)."""
    return hashlib.sha256(key.encode()).hexdigest()


async def do_create_partner(name: str, key: str | None = None) -> tuple[PartnerPlatform, str]:
    """Create a partner and return its API key, shown once (only its hash is kept)."""
    key = key or f"{secrets.token_hex(PARTNER_KEY_PREFIX_LEN // 2)}.{secrets.token_urlsafe(32)}"
    prefix = key.split(".", 1)[0]
    partner = await PartnerPlatform.create(
        name=name, key_prefix=prefix, key_sha256=partner_key_sha256(key)
    )
    return partner, key
