"""The webhooks' actions: partner administrators, endpoints, secret rotation, test events,
the delivery log and its replay, and the relay that sends the deliveries.

Deliveries caused by the case's events are queued by the journal's hook
(`cases.webhooks.models.queue_deliveries`), in the event's own transaction. Everything here
that a partner administrator does is scoped to the one platform their account belongs to: an
endpoint or delivery of another platform is "not found", never "forbidden".
"""

from __future__ import annotations

import asyncio
import logging
import secrets as random_secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

import httpx
from tortoise.expressions import Q

from cases.accounts.actions import RegistrationError, do_create_staff
from cases.accounts.models import PartnerPlatform, Role, User
from cases.errors import CaseError, CaseNotFound
from cases.models import OutboxStatus
from cases.transactions import atomic
from cases.webhooks.catalogue import TEST_EVENT, test_payload
from cases.webhooks.models import (
    DESTINATION,
    PartnerMember,
    WebhookDelivery,
    WebhookEndpoint,
    queue_event,
)
from cases.webhooks.rules import DEFAULT_GRACE, check_endpoint
from courtwire import signing
from courtwire.outbox import Relay, Target, default_relay_id, replay

log = logging.getLogger("cases.webhooks")

# One relay id per process: the delivery log shows which process last held a row.
RELAY_ID = default_relay_id()
LOG_PAGE = 100


class WebhookError(CaseError):
    """A form's input the action refuses, with its field errors (codes)."""

    status_code = 422

    def __init__(self, code: str, field_errors: dict[str, str] | None = None) -> None:
        super().__init__(code)
        self.field_errors = field_errors or {}


class WebhookSettings(Protocol):
    """What the webhooks read of the shell's settings (mediation.settings)."""

    @property
    def webhook_relay_timeout(self) -> float: ...
    @property
    def webhook_relay_retry_base_seconds(self) -> float: ...
    @property
    def webhook_secret_grace_hours(self) -> float: ...
    @property
    def webhook_allow_http(self) -> bool: ...


def new_secret() -> str:
    return signing.secret_from_key(random_secrets.token_bytes(32))


# --- partner administrators ---------------------------------------------------------------


async def do_create_partner_admin(
    partner_id: int, *, username: str, password: str, display_name: str
) -> User:
    """An account that administers one partner platform's webhooks (role partner_admin)."""
    if not await PartnerPlatform.exists(id=partner_id):
        raise CaseNotFound("not_found")
    missing = {
        name: "required"
        for name, value in (("username", username), ("display_name", display_name))
        if not value.strip()
    }
    if missing:
        raise RegistrationError(missing)
    async with atomic():
        user = await do_create_staff(
            username=username,
            password=password,
            role=Role.PARTNER_ADMIN,
            display_name=display_name,
        )
        await PartnerMember.create(user=user, partner_id=partner_id, created_at=user.created_at)
    return user


@dataclass(frozen=True)
class PartnerSummary:
    """A partner platform as the platform admin's page lists it."""

    partner: PartnerPlatform
    admins: list[str]  # usernames
    endpoints: int


async def partners_for_admin() -> list[PartnerSummary]:
    partners = await PartnerPlatform.all().order_by("id")
    members = await PartnerMember.all().prefetch_related("user").order_by("id")
    counts: dict[int, int] = {}
    for partner_id in await WebhookEndpoint.all().values_list("partner_id", flat=True):
        counts[int(str(partner_id))] = counts.get(int(str(partner_id)), 0) + 1
    return [
        PartnerSummary(
            p,
            [m.user.username or "" for m in members if m.partner_id == p.id],
            counts.get(p.id, 0),
        )
        for p in partners
    ]


async def partner_of(user_id: int) -> PartnerPlatform:
    """The platform a partner administrator's account belongs to (404 for anyone else)."""
    member = await PartnerMember.get_or_none(user_id=user_id).prefetch_related("partner")
    if member is None:
        raise CaseNotFound("not_found")
    return member.partner


async def _endpoint(partner_id: int, endpoint_id: int) -> WebhookEndpoint:
    endpoint = await WebhookEndpoint.get_or_none(id=endpoint_id, partner_id=partner_id)
    if endpoint is None:
        raise CaseNotFound("not_found")
    return endpoint


# --- endpoints ------------------------------------------------------------------------------


async def endpoints_of(partner_id: int) -> list[WebhookEndpoint]:
    return await WebhookEndpoint.filter(partner_id=partner_id).order_by("id")


async def endpoint_of(partner_id: int, endpoint_id: int) -> WebhookEndpoint:
    return await _endpoint(partner_id, endpoint_id)


async def do_add_endpoint(
    partner_id: int,
    url: str,
    events: list[str],
    description: str,
    now: datetime,
    *,
    allow_http: bool = False,
    secret: str | None = None,
) -> tuple[WebhookEndpoint, str]:
    """Add an endpoint; returns it with its secret, shown once on the page that follows."""
    fields_, errors = check_endpoint(url, events, description, allow_http=allow_http)
    if fields_ is None:
        raise WebhookError("invalid", errors)
    secret = secret or new_secret()
    signing.check_secret("secret", secret)
    async with atomic():
        endpoint = await WebhookEndpoint.create(
            partner_id=partner_id,
            url=fields_.url,
            events=list(fields_.events),
            description=fields_.description,
            secret=secret,
            created_at=now,
            updated_at=now,
        )
    return endpoint, secret


async def do_edit_endpoint(
    partner_id: int,
    endpoint_id: int,
    url: str,
    events: list[str],
    description: str,
    active: bool,
    now: datetime,
    *,
    allow_http: bool = False,
) -> WebhookEndpoint:
    """Change where the events go, which ones, or switch the endpoint off (or on again).
    Deliveries already queued go to the URL as it is when they are sent."""
    endpoint = await _endpoint(partner_id, endpoint_id)
    fields_, errors = check_endpoint(url, events, description, allow_http=allow_http)
    if fields_ is None:
        raise WebhookError("invalid", errors)
    async with atomic():
        await WebhookEndpoint.filter(id=endpoint.id).update(
            url=fields_.url,
            events=list(fields_.events),
            description=fields_.description,
            is_active=active,
            updated_at=now,
        )
    return await WebhookEndpoint.get(id=endpoint.id)


async def do_rotate_secret(
    partner_id: int, endpoint_id: int, now: datetime, grace: timedelta = DEFAULT_GRACE
) -> str:
    """A new secret; the one it replaces keeps signing (beside it) until `now + grace`, so
    the partner's receiver can switch without losing a delivery. Returns the new secret,
    shown once. A second rotation within the grace period drops the oldest secret."""
    endpoint = await _endpoint(partner_id, endpoint_id)
    secret = new_secret()
    async with atomic():
        changed = await WebhookEndpoint.filter(id=endpoint.id, secret=endpoint.secret).update(
            secret=secret,
            previous_secret=endpoint.secret,
            previous_secret_until=now + grace,
            updated_at=now,
        )
        if not changed:  # rotated by someone else meanwhile: their secret stands
            raise WebhookError("webhook_rotated_meanwhile")
    return secret


async def do_send_test_event(partner_id: int, endpoint_id: int, now: datetime) -> WebhookDelivery:
    """Queue a `webhook.test` delivery to the endpoint (sent by the relay like any other)."""
    endpoint = await _endpoint(partner_id, endpoint_id)
    partner = await PartnerPlatform.get(id=partner_id)
    async with atomic():
        return await queue_event(endpoint, TEST_EVENT, test_payload(now, partner.name), now)


# --- the delivery log and dead letters ------------------------------------------------------


async def delivery_log(
    partner_id: int, endpoint_id: int, limit: int = LOG_PAGE
) -> list[WebhookDelivery]:
    """The endpoint's latest deliveries, newest first, with their cases."""
    endpoint = await _endpoint(partner_id, endpoint_id)
    return (
        await WebhookDelivery.filter(endpoint_id=endpoint.id)
        .order_by("-created_at", "-id")
        .limit(limit)
        .prefetch_related("case")
    )


async def delivery_of(partner_id: int, delivery_id: int) -> WebhookDelivery:
    row = await WebhookDelivery.get_or_none(id=delivery_id, partner_id=partner_id)
    if row is None:
        raise CaseNotFound("not_found")
    return row


async def do_replay(partner_id: int, delivery_id: int, now: datetime) -> bool:
    """Send a dead delivery again (attempts start from zero). False if it was not dead."""
    row = await delivery_of(partner_id, delivery_id)
    async with atomic():
        return await replay(WebhookDelivery, row.id, now)


# --- the relay ------------------------------------------------------------------------------


async def target_of(row: Any, now: datetime) -> Target | None:
    """Where a delivery goes and what signs it, read when it is sent: the endpoint's URL as
    it is now, its current secret and, during a rotation's grace period, the old one too.
    None for a switched-off endpoint or partner (the delivery becomes a dead letter,
    replayable)."""
    endpoint = await WebhookEndpoint.get_or_none(
        id=row.endpoint_id, is_active=True, partner__is_active=True
    )
    if endpoint is None:  # switched off, or its partner platform was
        return None
    return Target(endpoint.url, tuple(endpoint.signing_secrets(now)))


class WebhookRelay(Relay):
    """The relay, sending each endpoint's due deliveries in order and the endpoints side by
    side: a partner whose endpoint hangs or is down must not hold up the others, nor the
    background round (notices, routing) it runs in. After an attempt that got no answer at
    all (refused, timed out) the endpoint's other due rows are put back unsent, to be tried
    when that one is: one attempt per back-off step for an endpoint that is down, however
    many deliveries wait for it."""

    async def deliver_due(self, now: datetime | None = None, limit: int = 50) -> int:
        now = now or self.wall_clock()
        rows = await self.claim_due(now, limit)
        if not rows:
            return 0
        by_endpoint: dict[int, list[Any]] = {}
        for row in rows:
            by_endpoint.setdefault(row.endpoint_id, []).append(row)
        async with httpx.AsyncClient(
            timeout=self.timeout, transport=self.transport, follow_redirects=False
        ) as client:
            counts = await asyncio.gather(
                *(self._endpoint_round(client, group, now) for group in by_endpoint.values())
            )
        return sum(counts)

    async def _endpoint_round(
        self, client: httpx.AsyncClient, rows: list[Any], now: datetime
    ) -> int:
        delivered = 0
        for row in rows:
            if await self.attempt(client, row, now):
                delivered += 1
                continue
            after = await WebhookDelivery.get(id=row.id)
            if after.status == OutboxStatus.PENDING and after.last_status_code is None:
                # No answer at all: the endpoint's other due rows wait as long as this one,
                # so they neither take their own timeouts now nor fill the next batches
                # ahead of other partners' rows.
                await (
                    WebhookDelivery.filter(
                        endpoint_id=row.endpoint_id,
                        status=OutboxStatus.PENDING,
                        next_attempt_at__lt=after.next_attempt_at,
                    )
                    .filter(Q(claimed_by=self.relay_id) | self._claimable(now))
                    .exclude(id=row.id)
                    .update(next_attempt_at=after.next_attempt_at, claimed_until=None)
                )
                break
        return delivered


def webhook_relay(settings: WebhookSettings, **options: Any) -> WebhookRelay:
    tuning: dict[str, Any] = {
        "timeout": settings.webhook_relay_timeout,
        "lease": timedelta(seconds=max(60.0, settings.webhook_relay_timeout * 3)),
        "base_delay": timedelta(seconds=settings.webhook_relay_retry_base_seconds),
        "relay_id": RELAY_ID,
    }
    return WebhookRelay(
        WebhookDelivery, destination=DESTINATION, target=target_of, **{**tuning, **options}
    )


ROUND_BATCH = 100
ROUND_BUDGET = 3.0  # seconds of sending per background round, then the other jobs' turn


async def deliver_due(
    now: datetime, settings: WebhookSettings, *, budget: float = ROUND_BUDGET, **options: Any
) -> int:
    """Send the webhook deliveries that are due, batch after batch while whole batches were
    due and the round's time budget lasts (a burst of filings is drained in a few rounds,
    not 100 rows every few seconds); returns how many were acknowledged."""
    relay = webhook_relay(settings, **options)
    loop = asyncio.get_running_loop()
    started = loop.time()
    delivered = 0
    while True:
        due = await WebhookDelivery.filter(
            status=OutboxStatus.PENDING, next_attempt_at__lte=now
        ).count()
        delivered += await relay.deliver_due(now, limit=ROUND_BATCH)
        if due <= ROUND_BATCH or loop.time() - started >= budget:
            return delivered


async def pending_count() -> int:
    return await WebhookDelivery.filter(status=OutboxStatus.PENDING).count()


def grace_of(settings: WebhookSettings) -> timedelta:
    return timedelta(hours=settings.webhook_secret_grace_hours)
