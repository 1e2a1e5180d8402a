"""Fetching an evidence file from the platform when a clerk opens it.

Evidence is not inlined in a filing: each item carries a capability link on the platform and
the SHA-256 of its bytes. The desk fetches the link when the clerk asks for the file and
serves the bytes only if they hash to the digest the signed package named; anything else
(different bytes, a wrong size, an unreachable platform) is an error shown to the clerk,
and the bytes are never served.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import httpx

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
    """`code`: no_link | unreachable | fetch_refused | too_large | digest_mismatch."""

    def __init__(self, code: str, **params: object) -> None:
        super().__init__(code)
        self.code = code
        self.params = params


async def fetch_checked(
    url: str | None, sha256: str, *, size: int | None, time_limit: float
) -> Fetched:
    """The bytes at `url`, only if their SHA-256 is `sha256`."""
    if not url:
        raise EvidenceError("no_link")
    limit = MAX_EVIDENCE_BYTES if size is None or size < 0 else min(size, MAX_EVIDENCE_BYTES)
    digest = hashlib.sha256()
    chunks: list[bytes] = []
    received = 0
    try:
        async with (
            httpx.AsyncClient(timeout=time_limit, follow_redirects=False) as client,
            client.stream("GET", url) as response,
        ):
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


def serving_type(media_type: str) -> tuple[str, bool]:
    """(Content-Type to serve, inline?) for a checked file."""
    base = media_type.split(";", 1)[0].strip().lower()
    if base in INLINE_TYPES:
        return ("text/plain; charset=utf-8" if base == "text/plain" else base), True
    return "application/octet-stream", False
