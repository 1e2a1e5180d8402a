"""Standard Webhooks signatures for requests between the platform and the court."""

from __future__ import annotations

import base64

import pytest

from courtwire.signing import (
    BadSecret,
    SignatureError,
    check_secret,
    headers_for,
    secret_from_key,
    sign,
    verify,
)

# The test vector of the Standard Webhooks specification and its reference libraries.
SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
MSG_ID = "msg_p5jXN8AQM9LWM0D4loKWxJek"
TIMESTAMP = 1614265330
BODY = b'{"test": 2432232314}'
EXPECTED = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="

OTHER_SECRET = secret_from_key(b"\x01" * 32)


def code_of(secret: str, headers: dict[str, str], body: bytes, now: int, **kw: int) -> str:
    with pytest.raises(SignatureError) as caught:
        verify(secret, headers, body, now, **kw)
    return caught.value.code


def test_official_test_vector() -> None:
    assert sign(SECRET, MSG_ID, TIMESTAMP, BODY) == EXPECTED


def test_official_test_vector_verifies() -> None:
    headers = {
        "webhook-id": MSG_ID,
        "webhook-timestamp": str(TIMESTAMP),
        "webhook-signature": EXPECTED,
    }
    verify(SECRET, headers, BODY, now=TIMESTAMP)


def test_secret_without_prefix_is_the_same_key() -> None:
    assert sign(SECRET.removeprefix("whsec_"), MSG_ID, TIMESTAMP, BODY) == EXPECTED


def test_headers_for() -> None:
    assert headers_for(SECRET, MSG_ID, TIMESTAMP, BODY) == {
        "webhook-id": MSG_ID,
        "webhook-timestamp": "1614265330",
        "webhook-signature": EXPECTED,
    }


def test_header_names_match_in_any_case() -> None:
    headers = {k.title(): v for k, v in headers_for(SECRET, MSG_ID, TIMESTAMP, BODY).items()}
    assert "Webhook-Id" in headers
    verify(SECRET, headers, BODY, now=TIMESTAMP)


def test_secret_from_key_round_trip() -> None:
    key = bytes(range(32))
    secret = secret_from_key(key)
    assert secret.startswith("whsec_")
    assert base64.b64decode(secret.removeprefix("whsec_")) == key
    verify(secret, headers_for(secret, "msg_1", 100, b"{}"), b"{}", now=100)


@pytest.mark.parametrize("padding", ["=", "=="])
def test_a_secret_without_its_base64_padding_is_the_same_key(padding: str) -> None:
    # The reference libraries accept a secret whose trailing "=" were dropped.
    key = b"\x07" * (32 if padding == "=" else 31)
    padded = secret_from_key(key)
    assert padded.endswith(padding) and not padded.endswith(padding + "=")
    unpadded = padded.removesuffix(padding)
    assert sign(unpadded, MSG_ID, TIMESTAMP, BODY) == sign(padded, MSG_ID, TIMESTAMP, BODY)
    verify(unpadded, headers_for(padded, "msg_1", 100, b"{}"), b"{}", now=100)
    check_secret("COURT_FILING_SECRET", unpadded)


@pytest.mark.parametrize(
    "secret", ["whsec_", "whsec_not base64!", "", "whsec_QUJD=x", "whsec_QUJDR", "whsec_QUJD==="]
)
def test_bad_secret_is_refused(secret: str) -> None:
    with pytest.raises(BadSecret):
        sign(secret, MSG_ID, TIMESTAMP, BODY)
    with pytest.raises(BadSecret, match=r"^COURT_CALLBACK_SECRET is not a usable") as caught:
        check_secret("COURT_CALLBACK_SECRET", secret)
    assert "whsec_" in str(caught.value)


def test_empty_key_is_refused() -> None:
    with pytest.raises(ValueError):
        secret_from_key(b"")


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("body", b'{"test": 2432232315}'),
        ("body", b'{"test":2432232314}'),  # re-serialised JSON is a different body
        ("body", BODY + b"\n"),
        ("id", "msg_p5jXN8AQM9LWM0D4loKWxJeK"),
        ("timestamp", str(TIMESTAMP + 1)),
        ("timestamp", "0" + str(TIMESTAMP)),  # signed as written, so a padded copy differs
    ],
)
def test_tampering_is_caught(field: str, value: bytes | str) -> None:
    headers = headers_for(SECRET, MSG_ID, TIMESTAMP, BODY)
    body = BODY
    if field == "body":
        assert isinstance(value, bytes)
        body = value
    elif field == "id":
        assert isinstance(value, str)
        headers["webhook-id"] = value
    else:
        assert isinstance(value, str)
        headers["webhook-timestamp"] = value
    assert code_of(SECRET, headers, body, TIMESTAMP) == "bad_signature"


def test_wrong_secret_is_caught() -> None:
    headers = headers_for(OTHER_SECRET, MSG_ID, TIMESTAMP, BODY)
    assert code_of(SECRET, headers, BODY, TIMESTAMP) == "bad_signature"


@pytest.mark.parametrize(
    "signature",
    [
        "",
        "v1,",
        "v1",
        EXPECTED.replace("v1,", "v2,"),  # unknown versions are ignored
        EXPECTED.replace("v1,", "v1a,"),
        EXPECTED.lower(),
        EXPECTED[:-2] + "=",
        "v1," + base64.b64encode(b"\x00" * 32).decode(),
    ],
)
def test_malformed_or_wrong_signatures_are_refused(signature: str) -> None:
    headers = headers_for(SECRET, MSG_ID, TIMESTAMP, BODY)
    headers["webhook-signature"] = signature
    expected = "missing_headers" if not signature else "bad_signature"
    assert code_of(SECRET, headers, BODY, TIMESTAMP) == expected


@pytest.mark.parametrize(
    "listed",
    [
        [EXPECTED, sign(OTHER_SECRET, MSG_ID, TIMESTAMP, BODY)],
        [sign(OTHER_SECRET, MSG_ID, TIMESTAMP, BODY), EXPECTED],
        ["v2,abc", EXPECTED],
        ["v1,bm90IGl0", "v1a,xyz", EXPECTED],
    ],
)
def test_any_listed_signature_may_match(listed: list[str]) -> None:
    headers = headers_for(SECRET, MSG_ID, TIMESTAMP, BODY)
    headers["webhook-signature"] = " ".join(listed)
    verify(SECRET, headers, BODY, now=TIMESTAMP)


def test_key_rotation_both_receivers_accept_a_doubly_signed_request() -> None:
    # The sender signs with the old and the new key while receivers switch over.
    old, new = SECRET, OTHER_SECRET
    headers = headers_for(old, MSG_ID, TIMESTAMP, BODY)
    headers["webhook-signature"] += " " + sign(new, MSG_ID, TIMESTAMP, BODY)
    verify(old, headers, BODY, now=TIMESTAMP)
    verify(new, headers, BODY, now=TIMESTAMP)
    third = secret_from_key(b"\x02" * 32)
    assert code_of(third, headers, BODY, TIMESTAMP) == "bad_signature"


@pytest.mark.parametrize("missing", ["webhook-id", "webhook-timestamp", "webhook-signature"])
def test_missing_headers(missing: str) -> None:
    headers = headers_for(SECRET, MSG_ID, TIMESTAMP, BODY)
    del headers[missing]
    assert code_of(SECRET, headers, BODY, TIMESTAMP) == "missing_headers"


@pytest.mark.parametrize("value", ["abc", "-1614265330", "+1614265330", " 1614265330", "1.5", "١٢"])
def test_bad_timestamp(value: str) -> None:
    headers = headers_for(SECRET, MSG_ID, TIMESTAMP, BODY)
    headers["webhook-timestamp"] = value
    assert code_of(SECRET, headers, BODY, TIMESTAMP) == "bad_timestamp"


@pytest.mark.parametrize(
    ("offset", "accepted"),
    [
        (0, True),
        (299, True),
        (300, True),
        (301, False),
        (-299, True),
        (-300, True),
        (-301, False),
        (3600, False),
        (-3600, False),
    ],
)
def test_tolerance_edges(offset: int, accepted: bool) -> None:
    # `now` moves, the signed timestamp stays: offset > 0 is an old request, < 0 a future one.
    headers = headers_for(SECRET, MSG_ID, TIMESTAMP, BODY)
    now = TIMESTAMP + offset
    if accepted:
        verify(SECRET, headers, BODY, now=now)
    else:
        assert code_of(SECRET, headers, BODY, now) == "timestamp_out_of_tolerance"


def test_custom_tolerance() -> None:
    headers = headers_for(SECRET, MSG_ID, TIMESTAMP, BODY)
    verify(SECRET, headers, BODY, now=TIMESTAMP + 10, tolerance=10)
    assert code_of(SECRET, headers, BODY, TIMESTAMP + 11, tolerance=10) == (
        "timestamp_out_of_tolerance"
    )


def test_timestamp_is_checked_before_the_signature() -> None:
    # A stale replay is refused for its age whatever its signature says.
    headers = headers_for(SECRET, MSG_ID, TIMESTAMP, BODY)
    headers["webhook-signature"] = "v1,AAAA"
    assert code_of(SECRET, headers, BODY, TIMESTAMP + 301) == "timestamp_out_of_tolerance"
