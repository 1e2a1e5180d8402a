"""Signed requests between the platform and the court, the Standard Webhooks way.

The scheme (https://www.standardwebhooks.com/): the signed content is
`{webhook-id}.{webhook-timestamp}.{body}`; the signature is HMAC-SHA256 keyed with the
secret's bytes, where a secret is written "whsec_" + base64(key); the `webhook-signature`
header is a space-separated list of "v1,<base64 signature>" so that a sender can sign with an
old and a new key while a key is rotated. The id makes a retried delivery recognisable (the
receiver keeps it for idempotency); the timestamp bounds replay of a captured request.

Pure: no I/O, no clock (the caller passes `now`).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
from collections.abc import Mapping

SECRET_PREFIX = "whsec_"
VERSION = "v1"
DEFAULT_TOLERANCE = 5 * 60  # seconds either way, as the spec recommends

ID_HEADER = "webhook-id"
TIMESTAMP_HEADER = "webhook-timestamp"
SIGNATURE_HEADER = "webhook-signature"

_DIGITS = re.compile(r"[0-9]{1,15}")


class SignatureError(Exception):
    """A request whose signature cannot be accepted. `code` is one of: missing_headers,
    bad_timestamp, timestamp_out_of_tolerance, bad_signature."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


def secret_from_key(key: bytes) -> str:
    """Write key bytes as a secret ("whsec_" + base64). The caller makes the key, e.g. with
    `secrets.token_bytes(32)`: this module draws no randomness."""
    if not key:
        raise ValueError("empty key")
    return SECRET_PREFIX + base64.b64encode(key).decode("ascii")


class BadSecret(ValueError):
    """A configured secret that is not "whsec_" + base64 of a non-empty key."""


def _key(secret: str) -> bytes:
    # The reference libraries accept a secret with or without the prefix, and with or without
    # the base64 padding (many generators drop the trailing "="); so do we. Anything else is
    # refused: the settings check it at start-up (check_secret), so a request never meets it.
    encoded = secret.strip().removeprefix(SECRET_PREFIX)
    digits = encoded.rstrip("=")
    needed = -len(digits) % 4
    if len(digits) % 4 == 1 or len(encoded) - len(digits) not in (0, needed):
        raise BadSecret("the secret is not base64 (its length or padding is wrong)")
    try:
        key = base64.b64decode(digits + "=" * needed, validate=True)
    except binascii.Error:
        raise BadSecret("the secret is not base64") from None
    if not key:
        raise BadSecret("the secret is empty")
    return key


def check_secret(name: str, secret: str) -> None:
    """Refuse a secret no signature could be made with, naming the setting."""
    try:
        _key(secret)
    except BadSecret as bad:
        raise BadSecret(
            f"{name} is not a usable Standard Webhooks secret ({bad}): "
            f'write it as "{SECRET_PREFIX}" followed by the base64 of the key'
        ) from None


def _signature(key: bytes, msg_id: str, timestamp: str, body: bytes) -> str:
    # The body is signed as the exact bytes sent: never re-serialised, never decoded.
    content = f"{msg_id}.{timestamp}.".encode() + body
    digest = hmac.new(key, content, hashlib.sha256).digest()
    return base64.b64encode(digest).decode("ascii")


def sign(secret: str, msg_id: str, timestamp: int, body: bytes) -> str:
    """The `webhook-signature` value for one key: "v1,<base64 HMAC-SHA256>"."""
    return f"{VERSION},{_signature(_key(secret), msg_id, str(timestamp), body)}"


def headers_for(secret: str, msg_id: str, timestamp: int, body: bytes) -> dict[str, str]:
    """The three headers a signed request carries."""
    return {
        ID_HEADER: msg_id,
        TIMESTAMP_HEADER: str(timestamp),
        SIGNATURE_HEADER: sign(secret, msg_id, timestamp, body),
    }


def verify(
    secret: str,
    headers: Mapping[str, str],
    body: bytes,
    now: int,
    tolerance: int = DEFAULT_TOLERANCE,
) -> None:
    """Accept a request or raise SignatureError.

    Header names match in any case (HTTP field names are case-insensitive, RFC 9110 5.1).
    The timestamp must be within `tolerance` seconds of `now` either way, inclusive; a clock
    slightly ahead of ours is as normal as one behind. Any one of the listed v1 signatures
    may match (key rotation); other versions are ignored, as the spec asks. Signatures are
    compared in constant time.
    """
    lowered = {name.lower(): value for name, value in headers.items()}
    msg_id = lowered.get(ID_HEADER)
    raw_timestamp = lowered.get(TIMESTAMP_HEADER)
    signatures = lowered.get(SIGNATURE_HEADER)
    if not msg_id or not raw_timestamp or not signatures:
        raise SignatureError("missing_headers")
    # Integer seconds, ASCII digits only: int() would also take " 12", "+12" or "١٢".
    if not _DIGITS.fullmatch(raw_timestamp):
        raise SignatureError("bad_timestamp")
    timestamp = int(raw_timestamp)
    if timestamp < now - tolerance or timestamp > now + tolerance:
        raise SignatureError("timestamp_out_of_tolerance")
    # Signed as the header wrote it, so a sender's formatting is never second-guessed.
    expected = _signature(_key(secret), msg_id, raw_timestamp, body).encode("ascii")
    matched = False
    for entry in signatures.split(" "):
        version, _, value = entry.partition(",")
        if version != VERSION:
            continue
        # No early exit: every listed signature is compared, so timing says nothing about
        # which one matched.
        if hmac.compare_digest(expected, value.encode("utf-8")):
            matched = True
    if not matched:
        raise SignatureError("bad_signature")
