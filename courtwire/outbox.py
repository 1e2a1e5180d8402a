"""The outbox relay: delivers rows written in the transaction that decided to send them.

An action that sends something to another system (a filing to the court desk, a decision
back to the platform) does not call out: it writes an outbox row in its own transaction, so
the change and the intent to tell commit or roll back together. The relay then sends each
row, at least once, signed the Standard Webhooks way with the row's `msg_id` (the receiver
keeps each id once, so a repeat is harmless).

Generic over the row's model: any Tortoise model with the fields msg_id, destination, path,
content_type, body, status (an enum with the values "pending", "delivered", "dead"),
attempts, next_attempt_at, claimed_until, claimed_by, last_error, last_status_code, response
and delivered_at. The platform's `cases.models.OutboxMessage` is one, the court desk has its
own, and the partners' webhooks (`cases.webhooks.models.WebhookDelivery`) a third.

A relay sends every row to one base URL signed with one secret (the court's wire), or, given
a `target` hook, asks it per row where the row goes and which secrets sign it (a partner's
webhook endpoint: its own URL, and two secrets while one is rotated).

Several relays may run at once (several server processes, `mediation jobs`): a relay claims
a row with a conditional UPDATE that succeeds only if nobody holds an unexpired claim, then
sends it, then records the result only if its claim is still the row's claim. A relay killed
mid-send leaves a claim that expires, and the row is sent again by whoever comes next.
"""

from __future__ import annotations

import logging
import random
import socket
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import Enum
from typing import Any

import httpx
from tortoise.expressions import Q
from tortoise.models import Model
from tortoise.transactions import in_transaction

from cases.clock import utcnow
from cases.pause import pause_point
from courtwire import signing
from courtwire.delivery import BASE_DELAY, MAX_ATTEMPTS, MAX_DELAY, Decision, Outcome, decide

log = logging.getLogger("courtwire.outbox")
# Each delivery's outcome, kept by the platform's security log (mediation/security_log.py):
# message id, path, attempt and status only, never the body.
security_log = logging.getLogger("security.court")

DEFAULT_TIMEOUT = 10.0  # seconds for one request, connect to last byte
# A claim outlives the longest request by a wide margin, so a live relay never loses its row
# to another mid-send. A killed relay's row waits this long before someone else sends it.
DEFAULT_LEASE = timedelta(seconds=60)
_KEPT_BODY = 4000  # characters of a response body kept on the row, for the admin page

Hook = Callable[[Any, httpx.Response], Awaitable[None]]


@dataclass(frozen=True)
class Target:
    """Where one row goes and the secrets that sign it (each adds a signature)."""

    url: str
    secrets: tuple[str, ...]


# A row's own target, or None when it must not be sent (its endpoint was disabled): the row
# is then a dead letter at once, replayable later.
TargetHook = Callable[[Any, datetime], Awaitable[Target | None]]


def default_relay_id() -> str:
    # Host and a random part: enough to tell two relays apart in the admin page and the log.
    return f"{socket.gethostname()[:40]}-{random.getrandbits(32):08x}"


def _status_enum(model: type[Model]) -> type[Enum]:
    field = model._meta.fields_map["status"]
    enum_type: type[Enum] = field.enum_type  # type: ignore[attr-defined]
    return enum_type


class Relay:
    """Sends due rows of one model to one destination.

    `base_url` + row.path is where a row goes; `secret` signs it; `on_delivered(row, response)`
    runs in the transaction that marks the row delivered (if it raises, the row stays pending
    and is sent again later: the receiver answers a repeat with the same receipt).
    `on_dead(row, response_or_None)` runs in the transaction that gives up on a row.
    """

    def __init__(
        self,
        model: type[Model],
        *,
        destination: str,
        base_url: str = "",
        secret: str = "",
        target: TargetHook | None = None,
        on_delivered: Hook | None = None,
        on_dead: Callable[[Any, httpx.Response | None], Awaitable[None]] | None = None,
        max_attempts: int = MAX_ATTEMPTS,
        timeout: float = DEFAULT_TIMEOUT,
        lease: timedelta = DEFAULT_LEASE,
        base_delay: timedelta = BASE_DELAY,
        max_delay: timedelta = MAX_DELAY,
        relay_id: str | None = None,
        draw: Callable[[], float] = random.random,
        wall_clock: Callable[[], datetime] = utcnow,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        if lease <= timedelta(seconds=timeout):
            raise ValueError("the claim must outlive a request: lease > timeout")
        self.model = model
        self.destination = destination
        self.base_url = base_url.rstrip("/")
        self.secret = secret
        self.target = target
        self.on_delivered = on_delivered
        self.on_dead = on_dead
        self.max_attempts = max_attempts
        self.timeout = timeout
        self.lease = lease
        self.base_delay = base_delay
        self.max_delay = max_delay
        self.relay_id = relay_id or default_relay_id()
        self.draw = draw
        self.wall_clock = wall_clock
        self.transport = transport
        status = _status_enum(model)
        self.PENDING, self.DELIVERED, self.DEAD = (
            status("pending"),
            status("delivered"),
            status("dead"),
        )
        self.connection = model._meta.default_connection

    # --- the round --------------------------------------------------------------------------

    async def deliver_due(self, now: datetime | None = None, limit: int = 20) -> int:
        """Claim and send up to `limit` due rows; returns how many were delivered.

        `now` decides what is due and when to retry (tests move it forward); the signature's
        timestamp is always the wall clock, since the receiver checks it against its own.
        """
        now = now or self.wall_clock()
        rows = await self.claim_due(now, limit)
        if not rows:
            return 0
        delivered = 0
        async with httpx.AsyncClient(
            timeout=self.timeout, transport=self.transport, follow_redirects=False
        ) as client:
            for row in rows:
                if await self.attempt(client, row, now):
                    delivered += 1
        return delivered

    def _claimable(self, now: datetime) -> Q:
        return Q(claimed_until__isnull=True) | Q(claimed_until__lt=now)

    async def claim_due(self, now: datetime, limit: int) -> list[Any]:
        """Claim due rows for this relay (conditional UPDATE: a row is claimed by one relay)."""
        candidates = (
            await self.model.filter(
                status=self.PENDING, destination=self.destination, next_attempt_at__lte=now
            )
            .filter(self._claimable(now))
            .order_by("next_attempt_at", "id")
            .limit(limit)
            .values_list("id", flat=True)
        )
        until = now + self.lease
        await pause_point("outbox_claim")  # both relays saw the rows due: the claim decides
        if not candidates:
            return []
        # One conditional UPDATE claims every candidate still free: each row's condition is
        # checked again as the row is written, so a row goes to one relay. The rows won are
        # those that now carry this relay's id and this claim's lease end (a relay claims
        # one batch at a time, so the pair names this claim).
        await (
            self.model.filter(id__in=list(candidates), status=self.PENDING)
            .filter(self._claimable(now))
            .update(claimed_until=until, claimed_by=self.relay_id)
        )
        return list(
            await self.model.filter(
                id__in=list(candidates), claimed_by=self.relay_id, claimed_until=until
            ).order_by("next_attempt_at", "id")
        )

    # --- one attempt ------------------------------------------------------------------------

    def signed_headers(self, row: Any, secrets: Sequence[str] | None = None) -> dict[str, str]:
        timestamp = int(self.wall_clock().timestamp())
        body = row.body.encode("utf-8")
        keys = list(secrets) if secrets else [self.secret]
        headers = signing.headers_for(keys[0], row.msg_id, timestamp, body)
        if len(keys) > 1:
            # Several keys (a rotation): one signature each, space-separated, as the spec says.
            headers[signing.SIGNATURE_HEADER] = " ".join(
                signing.sign(key, row.msg_id, timestamp, body) for key in keys
            )
        headers["content-type"] = row.content_type
        return headers

    async def attempt(self, client: httpx.AsyncClient, row: Any, now: datetime) -> bool:
        """Send one claimed row and record what happened. True if it was delivered."""
        url = self.base_url + row.path
        secrets: Sequence[str] | None = None
        target = await self.target(row, now) if self.target is not None else None
        if target is not None:
            url, secrets = target.url, target.secrets
        response: httpx.Response | None = None
        error = ""
        if self.target is not None and target is None:
            error = "not sent: the endpoint is disabled"
            decision = Decision(Outcome.PERMANENT, dead=True, delay=None)
        else:
            try:
                response = await client.post(
                    url,
                    content=row.body.encode("utf-8"),
                    headers=self.signed_headers(row, secrets),
                )
            except httpx.HTTPError as exc:  # refused, reset, timed out: retried, never lost
                error = f"{type(exc).__name__}: {exc}"[:1000] or type(exc).__name__
            decision = decide(
                response.status_code if response is not None else None,
                row.attempts + 1,
                self.draw(),
                now,
                retry_after=response.headers.get("retry-after") if response is not None else None,
                max_attempts=self.max_attempts,
                base=self.base_delay,
                cap=self.max_delay,
            )
        attempts = row.attempts + 1
        status_code = response.status_code if response is not None else None
        if response is not None and decision.outcome is not Outcome.DELIVERED:
            error = f"HTTP {response.status_code}: {response.text[:500]}"
        mine = self.model.filter(
            id=row.id, claimed_by=self.relay_id, claimed_until=row.claimed_until
        )
        common: dict[str, Any] = {
            "attempts": attempts,
            "claimed_until": None,
            "last_status_code": status_code,
            "response": _kept(response),
        }
        async with in_transaction(self.connection):
            if decision.outcome is Outcome.DELIVERED:
                changed = await mine.filter(status=self.PENDING).update(
                    status=self.DELIVERED, delivered_at=now, last_error="", **common
                )
                if changed and self.on_delivered is not None:
                    assert response is not None
                    await self.on_delivered(await self.model.get(id=row.id), response)
            elif decision.dead:
                changed = await mine.filter(status=self.PENDING).update(
                    status=self.DEAD, last_error=error, **common
                )
                if changed and self.on_dead is not None:
                    await self.on_dead(await self.model.get(id=row.id), response)
            else:
                assert decision.delay is not None
                changed = await mine.filter(status=self.PENDING).update(
                    next_attempt_at=now + decision.delay, last_error=error, **common
                )
        if not changed:
            # Our claim ran out and another relay took the row: its result stands.
            log.warning("outbox %s: claim lost before the result was recorded", row.msg_id)
            return False
        security_log.info(
            "%s delivery %s to %s %s: %s (attempt %s, HTTP %s)",
            "court" if self.target is None else "webhook",
            row.msg_id,
            self.destination,
            row.path,
            "delivered"
            if decision.outcome is Outcome.DELIVERED
            else "dead"
            if decision.dead
            else "retry",
            attempts,
            status_code,
        )
        if decision.outcome is Outcome.DELIVERED:
            return True
        log.warning(
            "outbox %s to %s not delivered (attempt %s%s): %s",
            row.msg_id,
            url,
            attempts,
            ", dead" if decision.dead else "",
            error,
        )
        return False


def _kept(response: httpx.Response | None) -> dict[str, Any]:
    """What the admin page shows of the last answer: status, a few headers, the body."""
    if response is None:
        return {}
    kept: dict[str, Any] = {"status_code": response.status_code}
    for name in ("content-type", "retry-after"):
        if name in response.headers:
            kept[name] = response.headers[name]
    if "json" in response.headers.get("content-type", ""):
        try:
            kept["json"] = response.json()
            return kept
        except ValueError:
            pass
    kept["text"] = response.text[:_KEPT_BODY]
    return kept


async def replay(model: type[Model], row_id: int, now: datetime) -> bool:
    """Put a dead row back in the queue (an admin's replay): attempts start again from zero,
    the last error stays for the record. False if the row is not dead (already replayed)."""
    status = _status_enum(model)
    changed = await model.filter(id=row_id, status=status("dead")).update(
        status=status("pending"),
        attempts=0,
        next_attempt_at=now,
        claimed_until=None,
        claimed_by="",
    )
    return bool(changed)
