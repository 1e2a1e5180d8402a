"""Fetching an evidence file from the platform when a clerk opens it.

Evidence is not inlined in a filing: each item carries a capability link on the platform and
the SHA-256 of its bytes. The desk fetches the link when the clerk asks for the file and
serves the bytes only if they hash to the digest the signed package named; anything else
(different bytes, a wrong size, an unreachable platform) is an error shown to the clerk,
and the bytes are never served.

The desk only ever fetches from its configured platform (PLATFORM_URL): a link is read for
its token (`/court/evidence/<token>`, a path as the platform now sends it, or a full URL as
older filings carry it) and fetched at PLATFORM_URL, whatever host the package named; so a
filing queued while the platform had another address still opens, and a package cannot
point the desk at any other server. A link that is not the platform's evidence path is
refused without any request.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from urllib.parse import urlsplit

import httpx

from cases.evidence_files import IMAGE_TYPES, image_too_large

# The platform's evidence path (courtwire.evidence_links.PATH) and its token's alphabet
# (itsdangerous' URL-safe base64 and separator).
EVIDENCE_PATH = "/court/evidence/"
_TOKEN = re.compile(r"[A-Za-z0-9_\-.]{1,2048}")

# A generous ceiling for one file (the platform's own upload limit is lower); a response that
# runs past it is cut off rather than read into memory.
MAX_EVIDENCE_BYTES = 50 * 1024 * 1024
# Served inline only when a browser will show them without running anything.
INLINE_TYPES = frozenset(
    {"application/pdf", "image/jpeg", "image/png", "image/gif", "image/webp", "text/plain"}
)


@dataclass(frozen=True)
class Fetched:
    content: bytes
    sha256: str


class EvidenceError(Exception):
    """`code`: no_link | not_on_platform | link_gone | unreachable | fetch_refused | too_large |
    digest_mismatch."""

    def __init__(self, code: str, **params: object) -> None:
        super().__init__(code)
        self.code = code
        self.params = params


def platform_link(link: str, platform_url: str) -> str:
    """Where the desk fetches `link`: its token at PLATFORM_URL, never another host."""
    parts = urlsplit(link)
    if parts.scheme not in ("", "http", "https") or parts.query or parts.fragment:
        raise EvidenceError("not_on_platform")
    if parts.scheme == "" and parts.netloc:
        raise EvidenceError("not_on_platform")  # "//host/..." names a host too
    # A full URL of an older filing may carry the platform's path prefix of that time; the
    # token is what follows the last evidence path.
    head, found, token = parts.path.rpartition(EVIDENCE_PATH)
    if not found or not _TOKEN.fullmatch(token) or (parts.scheme == "" and head):
        raise EvidenceError("not_on_platform")
    return f"{platform_url.rstrip('/')}{EVIDENCE_PATH}{token}"


async def fetch_checked(
    link: str | None, sha256: str, *, size: int | None, time_limit: float, platform_url: str
) -> Fetched:
    """The bytes `link` names on the platform, only if their SHA-256 is `sha256`."""
    if not link:
        raise EvidenceError("no_link")
    url = platform_link(link, platform_url)
    limit = MAX_EVIDENCE_BYTES if size is None or size < 0 else min(size, MAX_EVIDENCE_BYTES)
    digest = hashlib.sha256()
    chunks: list[bytes] = []
    received = 0
    try:
        async with (
            httpx.AsyncClient(timeout=time_limit, follow_redirects=False) as client,
            client.stream("GET", url) as response,
        ):
            if response.status_code == 410:
                # Expired (COURT_LINK_DAYS) or revoked by the platform (a correction replaced
                # the filing, or an admin withdrew the links).
                raise EvidenceError("link_gone")
            if response.status_code != 200:
                raise EvidenceError("fetch_refused", status=response.status_code)
            async for chunk in response.aiter_bytes():
                received += len(chunk)
                # One byte over the stated size is already a different file.
                if received > limit:
                    raise EvidenceError("too_large")
                digest.update(chunk)
                chunks.append(chunk)
    except httpx.HTTPError:
        raise EvidenceError("unreachable") from None
    found = digest.hexdigest()
    if found != sha256:
        raise EvidenceError("digest_mismatch", expected=sha256, found=found)
    return Fetched(b"".join(chunks), found)


def serving_type(media_type: str, content: bytes = b"") -> tuple[str, bool]:
    """(Content-Type to serve, inline?) for a checked file.

    An image is shown inline only if its header declares at most MAX_IMAGE_PIXELS (or cannot
    be read): a decompression bomb would otherwise make the clerk's browser decode gigabytes.
    Such a file is offered as a download instead.
    """
    base = media_type.split(";", 1)[0].strip().lower()
    if base in IMAGE_TYPES and image_too_large(base, content) is not False:
        return "application/octet-stream", False
    if base in INLINE_TYPES:
        return ("text/plain; charset=utf-8" if base == "text/plain" else base), True
    return "application/octet-stream", False
