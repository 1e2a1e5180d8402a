"""The partner API's per-key rate limit: a token bucket per API key (the rule is
`cases.partners.rules.take_token`), kept in this process, or in Redis when REDIS_URL is set so
that every server process draws on one budget per key.

The partner API's domain logic (keys, idempotent filing, lists, answering first) lives in
`cases.partners`; this module is only the shell's traffic control.
"""

from __future__ import annotations

import logging
import os
import time
from typing import Any, Protocol

from starlette.requests import Request

from cases.errors import CaseError
from cases.partners.rules import Bucket, retry_after_seconds, take_token
from mediation.web import settings_of

log = logging.getLogger(__name__)

# Keys are "<prefix><API key prefix>"; PARTNER_RATE_REDIS_PREFIX keeps deployments (or test
# runs) sharing one Redis apart.
REDIS_PREFIX = os.environ.get("PARTNER_RATE_REDIS_PREFIX", "mediation:partner-rate:")


class RateLimited(CaseError):
    status_code = 429

    def __init__(self, retry_after: int) -> None:
        super().__init__("rate_limited")
        self.retry_after = retry_after


class Limiter(Protocol):
    async def take(self, key: str) -> float:
        """Take a token for `key`: 0 if allowed, else the seconds until one is there."""


class LocalLimiter:
    """One process's buckets (the event loop runs one request's take at a time)."""

    def __init__(self, rate: float, burst: float) -> None:
        self.rate, self.burst = rate, burst
        self._buckets: dict[str, Bucket] = {}

    async def take(self, key: str) -> float:
        bucket, wait = take_token(self._buckets.get(key), time.monotonic(), self.rate, self.burst)
        self._buckets[key] = bucket
        return wait


# The same rule as take_token, run atomically in Redis on Redis's own clock (so processes on
# several machines agree); the bucket expires once it would be full again.
_TAKE = """
local rate = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local b = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens = tonumber(b[1])
local at = tonumber(b[2])
if tokens == nil or at == nil then
  tokens = burst
  at = now
end
tokens = math.min(burst, tokens + math.max(0, now - at) * rate)
local wait = 0
if tokens >= 1 then
  tokens = tokens - 1
else
  wait = (1 - tokens) / rate
end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'at', tostring(now))
redis.call('EXPIRE', KEYS[1], math.ceil(burst / rate) + 1)
return tostring(wait)
"""


class RedisLimiter:
    """Buckets shared by every process using this Redis. Should Redis fail, the limit falls
    back to this process's own buckets rather than refusing the partner's traffic."""

    def __init__(self, url: str, rate: float, burst: float) -> None:
        import redis.asyncio as redis

        self.rate, self.burst = rate, burst
        self._redis: Any = redis.from_url(url)
        self._script = self._redis.register_script(_TAKE)
        self._fallback = LocalLimiter(rate, burst)

    async def take(self, key: str) -> float:
        try:
            wait = await self._script(keys=[REDIS_PREFIX + key], args=[self.rate, self.burst])
        except Exception:  # a connection refused, a timeout: keep serving, limited locally
            log.warning("partner rate limit: Redis unavailable, limiting in this process")
            return await self._fallback.take(key)
        return float(wait)


def limiter_for(redis_url: str | None, rate: float, burst: float) -> Limiter:
    return RedisLimiter(redis_url, rate, burst) if redis_url else LocalLimiter(rate, burst)


async def rate_limit(request: Request, key: str) -> None:
    """Take a token of this API key's budget, or refuse the request: 429 with Retry-After."""
    state = request.app.state
    limiter: Limiter | None = getattr(state, "partner_limiter", None)
    if limiter is None:
        settings = settings_of(request)
        limiter = limiter_for(
            settings.redis_url, settings.partner_rate_per_second, settings.partner_rate_burst
        )
        state.partner_limiter = limiter
    wait = await limiter.take(key)
    if wait > 0:
        raise RateLimited(retry_after_seconds(wait))
