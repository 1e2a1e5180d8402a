"""When to try a delivery again, and whether to: the outbox relay's policy.

Pure: no I/O, no clock, no randomness (the caller passes `now` and a uniform draw in [0, 1)).
The relay (`courtwire.outbox`) asks `decide` after every attempt.

- Back-off is exponential with *full jitter* (the delay is drawn uniformly between zero and
  the exponential ceiling), so relays that failed together do not retry together.
- A receiver that says when to come back (`Retry-After` on 429 or 503, in seconds or as an
  HTTP date, RFC 9110 10.2.3) is not asked again sooner; a little jitter is added on top so a
  busy desk is not hit by every waiting message in the same second.
- A permanent refusal (a 4xx other than 408, 425 and 429: a bad signature, an invalid
  package, a reused id) goes straight to the dead letters: sending the same bytes again
  cannot succeed, and an admin must look at it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from enum import StrEnum

BASE_DELAY = timedelta(seconds=10)
MAX_DELAY = timedelta(hours=1)
# A Retry-After further out than this is taken as this (a misconfigured desk must not park a
# filing for a year).
MAX_RETRY_AFTER = timedelta(hours=6)
MAX_ATTEMPTS = 10

# 4xx answers that mean "not now" rather than "never": request timeout, too early, too many.
_TRANSIENT_4XX = frozenset({408, 425, 429})
# Only these carry a Retry-After the relay honours (RFC 9110: 503 and 429; 3xx are not sent).
_RETRY_AFTER_STATUSES = frozenset({429, 503})
_DIGITS = re.compile(r"[0-9]{1,10}")


class Outcome(StrEnum):
    DELIVERED = "delivered"
    RETRY = "retry"  # a transient failure: try again later
    PERMANENT = "permanent"  # the receiver refused it for good: dead at once


def classify(status_code: int | None) -> Outcome:
    """What an attempt's result means. `None` is a transport failure (connection refused,
    reset, timeout, DNS): always worth retrying, the message may never have arrived."""
    if status_code is None:
        return Outcome.RETRY
    if 200 <= status_code < 300:
        return Outcome.DELIVERED
    if status_code in _TRANSIENT_4XX or status_code >= 500:
        return Outcome.RETRY
    # 1xx/3xx are not followed (a signed request must not be re-sent elsewhere) and 4xx is the
    # receiver's final word about these exact bytes.
    return Outcome.PERMANENT


def parse_retry_after(value: str | None, now: datetime) -> timedelta | None:
    """A Retry-After header as a delay from `now`: delta-seconds or an HTTP date.

    Returns None when absent or unreadable (then ordinary back-off applies); a date in the
    past is a zero delay; anything beyond MAX_RETRY_AFTER is cut to it.
    """
    if value is None:
        return None
    text = value.strip()
    if not text:
        return None
    if _DIGITS.fullmatch(text):
        delay = timedelta(seconds=int(text))
    else:
        try:
            when = parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError):
            return None
        if when is None:
            return None
        if when.tzinfo is None:
            # RFC 9110 dates are GMT; the obsolete forms without a zone are read as GMT too.
            when = when.replace(tzinfo=UTC)
        delay = max(when - now, timedelta(0))
    return min(delay, MAX_RETRY_AFTER)


def backoff(
    attempts: int, draw: float, base: timedelta = BASE_DELAY, cap: timedelta = MAX_DELAY
) -> timedelta:
    """Full jitter: uniform in [0, min(cap, base * 2^(attempts-1))) after `attempts` failures.

    `draw` is a uniform number in [0, 1). Never below one second, so a relay with an unlucky
    draw does not spin on a dead receiver.
    """
    if attempts < 1:
        raise ValueError("attempts counts failures so far and starts at 1")
    if not 0.0 <= draw < 1.0:
        raise ValueError("draw must be in [0, 1)")
    # 2**attempts grows without bound; stop doubling once past the cap.
    ceiling = base * (2 ** min(attempts - 1, 30))
    ceiling = min(ceiling, cap)
    return max(ceiling * draw, timedelta(seconds=1))


@dataclass(frozen=True)
class Decision:
    outcome: Outcome
    dead: bool  # give up: the row becomes a dead letter
    delay: timedelta | None  # when to try again (None when delivered or dead)


def decide(
    status_code: int | None,
    attempts: int,
    draw: float,
    now: datetime,
    *,
    retry_after: str | None = None,
    max_attempts: int = MAX_ATTEMPTS,
    base: timedelta = BASE_DELAY,
    cap: timedelta = MAX_DELAY,
) -> Decision:
    """What to do after an attempt. `attempts` counts this one (1 after the first try).

    `retry_after` (the header's raw value) is honoured only on 429 and 503; an HTTP date in it
    is read against `now`.
    """
    outcome = classify(status_code)
    if outcome is Outcome.DELIVERED:
        return Decision(outcome, dead=False, delay=None)
    if outcome is Outcome.PERMANENT or attempts >= max_attempts:
        return Decision(outcome, dead=True, delay=None)
    delay = backoff(attempts, draw, base, cap)
    if status_code in _RETRY_AFTER_STATUSES and retry_after is not None:
        asked = parse_retry_after(retry_after, now)
        if asked is not None:
            # Not sooner than asked; spread over one base delay beyond it.
            delay = asked + base * draw
    return Decision(outcome, dead=False, delay=delay)
