"""Capability links for the court: `/court/evidence/<token>` on the platform.

Evidence is not inlined in a filing; each item crosses as a link the court desk fetches when
a clerk opens it (docs/court-wire.md). The token is signed by the platform and names the
filing and the item's SHA-256 (and whether it is evidence or the signed agreement's PDF), so
a link serves exactly that item of that filing's case and nothing else, and the desk checks
the bytes against the digest it was sent.

The link is a path, not a URL: the desk resolves it against its own configured PLATFORM_URL,
so a filing queued while the platform had another address (another port, a new host name)
still opens, and the desk never fetches from a host a package names.

A link expires: the token carries the time it was signed and is refused after `max_age`
(the setting COURT_LINK_DAYS, 30 days by default: long enough for the court's review, not
forever). It can also be revoked before that, per filing, in the database (CourtFiling.
links_revoked_at, checked by cases.court.actions.access_court_link).

Pure: no I/O (the route looks the item up).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from itsdangerous import BadSignature, TimestampSigner, URLSafeTimedSerializer

_SALT = "court-evidence-link"
_HEX64 = re.compile(r"[0-9a-f]{64}")
KINDS = ("evidence", "agreement_pdf")
PATH = "/court/evidence/"


@dataclass(frozen=True)
class EvidenceLink:
    filing_id: str  # CourtFiling.filing_id, the id that crossed the wire
    sha256: str
    kind: str = "evidence"  # evidence | agreement_pdf


class LinkExpired(Exception):
    """A link this platform signed, older than its time limit."""


class _SignedAt(TimestampSigner):
    """Signs with the given moment (the filing's queueing time) rather than the clock's."""

    def __init__(self, *args: Any, signed_at: int | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._signed_at = signed_at

    def get_timestamp(self) -> int:
        return super().get_timestamp() if self._signed_at is None else self._signed_at


def _serializer(secret_key: str, signed_at: datetime | None = None) -> URLSafeTimedSerializer:
    moment = None if signed_at is None else int(signed_at.timestamp())
    return URLSafeTimedSerializer(
        secret_key, salt=_SALT, signer=_SignedAt, signer_kwargs={"signed_at": moment}
    )


def link_token(secret_key: str, link: EvidenceLink, signed_at: datetime) -> str:
    if link.kind not in KINDS or not _HEX64.fullmatch(link.sha256):
        raise ValueError("not a link the platform serves")
    return str(_serializer(secret_key, signed_at).dumps([link.filing_id, link.sha256, link.kind]))


def link_path(secret_key: str, link: EvidenceLink, signed_at: datetime) -> str:
    """The link as it crosses to the court: a path the desk resolves against PLATFORM_URL."""
    return f"{PATH}{link_token(secret_key, link, signed_at)}"


def read_link_token(
    secret_key: str, token: str, *, max_age: timedelta, now: datetime
) -> EvidenceLink | None:
    """The link a token names, or None for anything not signed by this platform.

    Raises LinkExpired for a genuine link signed more than `max_age` before `now`.
    """
    try:
        value, signed = _serializer(secret_key).loads(token, return_timestamp=True)
    except BadSignature:
        return None
    if now - signed > max_age:
        raise LinkExpired
    if (
        not isinstance(value, list)
        or len(value) != 3
        or not all(isinstance(part, str) for part in value)
    ):
        return None
    filing_id, sha256, kind = value
    if kind not in KINDS or not _HEX64.fullmatch(sha256):
        return None
    return EvidenceLink(filing_id, sha256, kind)
