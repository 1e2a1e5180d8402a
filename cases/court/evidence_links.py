"""Capability links for the court: `{base_url}/court/evidence/<token>`.

Evidence is not inlined in a filing; each item crosses as a link the court desk fetches when
a clerk opens it (docs/court-wire.md). The token is signed by the platform and names the
filing and the item's SHA-256 (and whether it is evidence or the signed agreement's PDF), so
a link serves exactly that item of that filing's case and nothing else, and the desk checks
the bytes against the digest it was sent.

Pure: no I/O (the route looks the item up).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from itsdangerous import BadSignature, URLSafeSerializer

_SALT = "court-evidence-link"
_HEX64 = re.compile(r"[0-9a-f]{64}")
KINDS = ("evidence", "agreement_pdf")
PATH = "/court/evidence/"


@dataclass(frozen=True)
class EvidenceLink:
    filing_id: str  # CourtFiling.filing_id, the id that crossed the wire
    sha256: str
    kind: str = "evidence"  # evidence | agreement_pdf


def _serializer(secret_key: str) -> URLSafeSerializer:
    return URLSafeSerializer(secret_key, salt=_SALT)


def link_token(secret_key: str, link: EvidenceLink) -> str:
    if link.kind not in KINDS or not _HEX64.fullmatch(link.sha256):
        raise ValueError("not a link the platform serves")
    return str(_serializer(secret_key).dumps([link.filing_id, link.sha256, link.kind]))


def link_url(base_url: str, secret_key: str, link: EvidenceLink) -> str:
    return f"{base_url.rstrip('/')}{PATH}{link_token(secret_key, link)}"


def read_link_token(secret_key: str, token: str) -> EvidenceLink | None:
    """The link a token names, or None for anything not signed by this platform."""
    try:
        value = _serializer(secret_key).loads(token)
    except BadSignature:
        return None
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
