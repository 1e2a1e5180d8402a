"""The relay's policy: classify an answer, read Retry-After, back off with full jitter."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from courtwire.delivery import (
    BASE_DELAY,
    MAX_DELAY,
    MAX_RETRY_AFTER,
    Outcome,
    backoff,
    classify,
    decide,
    parse_retry_after,
)

NOW = datetime(2026, 11, 27, 10, 0, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("status", "outcome"),
    [
        (None, Outcome.RETRY),  # connection refused, reset, timeout
        (200, Outcome.DELIVERED),
        (201, Outcome.DELIVERED),
        (202, Outcome.DELIVERED),
        (204, Outcome.DELIVERED),
        (301, Outcome.PERMANENT),  # a signed request is never re-sent elsewhere
        (400, Outcome.PERMANENT),
        (401, Outcome.PERMANENT),  # bad signature: the same bytes will fail again
        (403, Outcome.PERMANENT),
        (404, Outcome.PERMANENT),
        (408, Outcome.RETRY),
        (409, Outcome.PERMANENT),  # filing id reused with another body
        (413, Outcome.PERMANENT),
        (422, Outcome.PERMANENT),  # invalid package
        (425, Outcome.RETRY),
        (429, Outcome.RETRY),
        (500, Outcome.RETRY),
        (502, Outcome.RETRY),
        (503, Outcome.RETRY),
        (504, Outcome.RETRY),
    ],
)
def test_classify(status: int | None, outcome: Outcome) -> None:
    assert classify(status) is outcome


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, None),
        ("", None),
        ("   ", None),
        ("0", timedelta(0)),
        ("30", timedelta(seconds=30)),
        (" 120 ", timedelta(seconds=120)),
        ("999999", MAX_RETRY_AFTER),  # capped
        ("-5", None),
        ("1.5", None),
        ("soon", None),
        ("١٢", None),  # not ASCII digits
        # HTTP dates (IMF-fixdate, and the obsolete RFC 850 and asctime forms).
        ("Fri, 27 Nov 2026 10:00:45 GMT", timedelta(seconds=45)),
        ("Friday, 27-Nov-26 10:01:00 GMT", timedelta(seconds=60)),
        ("Fri Nov 27 10:02:00 2026", timedelta(seconds=120)),
        ("Fri, 27 Nov 2026 09:00:00 GMT", timedelta(0)),  # in the past: now
        ("Sat, 28 Nov 2026 10:00:00 GMT", MAX_RETRY_AFTER),
        ("Fri, 31 Feb 2026 10:00:00 GMT", None),  # no such day
    ],
)
def test_parse_retry_after(value: str | None, expected: timedelta | None) -> None:
    assert parse_retry_after(value, NOW) == expected


@pytest.mark.parametrize(
    ("attempts", "draw", "expected"),
    [
        (1, 0.5, BASE_DELAY * 0.5),
        (2, 0.5, BASE_DELAY),
        (3, 0.5, BASE_DELAY * 2),
        (4, 0.25, BASE_DELAY * 2),
        (1, 0.0, timedelta(seconds=1)),  # never below a second
        (20, 0.5, MAX_DELAY * 0.5),  # capped
        (10_000, 0.999, MAX_DELAY * 0.999),  # no overflow however many
    ],
)
def test_backoff_is_full_jitter_under_an_exponential_cap(
    attempts: int, draw: float, expected: timedelta
) -> None:
    assert backoff(attempts, draw) == expected


def test_backoff_spreads_over_the_whole_window() -> None:
    delays = {backoff(5, draw / 10) for draw in range(10)}
    ceiling = BASE_DELAY * 16
    assert len(delays) == 10
    assert all(timedelta(seconds=1) <= delay < ceiling for delay in delays)


@pytest.mark.parametrize(("attempts", "draw"), [(0, 0.5), (1, 1.0), (1, -0.1)])
def test_backoff_refuses_bad_arguments(attempts: int, draw: float) -> None:
    with pytest.raises(ValueError):
        backoff(attempts, draw)


@pytest.mark.parametrize(
    ("status", "attempts", "retry_after", "outcome", "dead", "delay"),
    [
        (201, 1, None, Outcome.DELIVERED, False, None),
        (200, 9, None, Outcome.DELIVERED, False, None),
        (None, 1, None, Outcome.RETRY, False, BASE_DELAY * 0.5),
        (500, 2, None, Outcome.RETRY, False, BASE_DELAY),
        # Retry-After honoured on 503 and 429: not sooner, half a base delay of jitter on top.
        (503, 1, "30", Outcome.RETRY, False, timedelta(seconds=30) + BASE_DELAY * 0.5),
        (429, 3, "Fri, 27 Nov 2026 10:05:00 GMT", Outcome.RETRY, False, timedelta(seconds=305)),
        # ... but not on 500, and an unreadable one falls back to back-off.
        (500, 1, "30", Outcome.RETRY, False, BASE_DELAY * 0.5),
        (503, 1, "later", Outcome.RETRY, False, BASE_DELAY * 0.5),
        # The last attempt: dead.
        (503, 10, "30", Outcome.RETRY, True, None),
        (None, 10, None, Outcome.RETRY, True, None),
        # Permanent refusals: dead at once.
        (409, 1, None, Outcome.PERMANENT, True, None),
        (422, 1, None, Outcome.PERMANENT, True, None),
        (401, 1, None, Outcome.PERMANENT, True, None),
    ],
)
def test_decide(
    status: int | None,
    attempts: int,
    retry_after: str | None,
    outcome: Outcome,
    dead: bool,
    delay: timedelta | None,
) -> None:
    decision = decide(status, attempts, 0.5, NOW, retry_after=retry_after, max_attempts=10)
    assert (decision.outcome, decision.dead, decision.delay) == (outcome, dead, delay)
