"""Deliveries queued in the transaction of the timeline event that causes them, and sent by
the relay: signed, to the endpoint's URL, with both secrets during a rotation."""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from cases.access import viewer_of
from cases.accounts.actions import do_create_partner, do_create_staff, do_register_disputant
from cases.accounts.models import PartnerPlatform, Role, User
from cases.actions import Filer
from cases.clock import SHANGHAI
from cases.errors import CaseNotFound
from cases.intake import file_dispute
from cases.journal import record_event
from cases.models import Case, OutboxStatus
from cases.negotiation.actions import do_accept, do_ask, do_propose, do_vouch_enrolment
from cases.timeline import EventKind
from cases.transactions import atomic
from cases.webhooks import catalogue as c
from cases.webhooks.actions import (
    ROUND_BATCH,
    WebhookError,
    deliver_due,
    delivery_log,
    do_add_endpoint,
    do_create_partner_admin,
    do_edit_endpoint,
    do_replay,
    do_rotate_secret,
    do_send_test_event,
    partner_of,
    webhook_relay,
)
from cases.webhooks.models import WebhookDelivery
from courtwire import signing
from mediation.settings import Settings
from tests.support.concurrency import rendezvous
from tests.support.factories import (
    STAFF_PASSWORD,
    cheap_password_hashing,
    filing_fields,
    party_ids,
    uscc,
)

NOW = datetime(2026, 11, 2, 10, tzinfo=SHANGHAI).astimezone(UTC)
MERCHANT_USCC = uscc("91310105MA1FL7777")
URL = "https://hooks.partner.example.com/mediation"


@pytest.fixture(autouse=True)
def _fast_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    cheap_password_hashing(monkeypatch)


@dataclass
class World:
    partner: PartnerPlatform
    other: PartnerPlatform


@pytest.fixture
async def world(db: None) -> World:
    partner, _ = await do_create_partner("携程演示")
    other, _ = await do_create_partner("另一平台")
    await do_create_staff(
        username="admin", password=STAFF_PASSWORD, role=Role.PLATFORM_ADMIN, display_name="管理员"
    )
    return World(partner, other)


async def file_as(settings: Settings, partner: PartnerPlatform, ref: str, **overrides: Any) -> Case:
    filer = Filer(partner_id=partner.id, partner_name=partner.name, partner_reference=ref)
    return await file_dispute(settings, filing_fields(**overrides), [], filer, NOW)


async def bodies(**filters: Any) -> list[dict[str, Any]]:
    rows = await WebhookDelivery.filter(**filters).order_by("id")
    return [json.loads(r.body) for r in rows]


async def test_a_filing_queues_the_event_for_subscribed_endpoints_only(
    settings: Settings, world: World
) -> None:
    mine, _ = await do_add_endpoint(world.partner.id, URL, [c.DISPUTE_FILED], "", NOW)
    await do_add_endpoint(world.partner.id, URL + "/other", [c.MEDIATOR_ASSIGNED], "", NOW)
    off, _ = await do_add_endpoint(world.partner.id, URL + "/off", [c.DISPUTE_FILED], "", NOW)
    await do_edit_endpoint(world.partner.id, off.id, off.url, off.events, "", False, NOW)
    theirs, _ = await do_add_endpoint(world.other.id, URL + "/theirs", [c.DISPUTE_FILED], "", NOW)

    case = await file_as(settings, world.partner, "ORDER-1")

    rows = await WebhookDelivery.all()
    assert [(r.endpoint_id, r.event_type, r.case_id) for r in rows] == [
        (mine.id, c.DISPUTE_FILED, case.id)
    ]
    (body,) = await bodies()
    assert body["type"] == c.DISPUTE_FILED
    assert body["data"] == {
        "number": case.number,
        "status": "submitted",  # as it was when the event happened
        "partner_reference": "ORDER-1",
    }
    # No identity data of the parties in what a partner is told.
    assert "张三" not in rows[0].body and "13812345678" not in rows[0].body
    assert rows[0].msg_id.startswith("msg_") and rows[0].status == OutboxStatus.PENDING
    assert theirs.id not in {r.endpoint_id for r in rows}


async def test_an_event_rolled_back_queues_nothing(settings: Settings, world: World) -> None:
    await do_add_endpoint(world.partner.id, URL, [c.DISPUTE_FILED, c.DOCKETED], "", NOW)
    case = await file_as(settings, world.partner, "ORDER-2")
    before = await WebhookDelivery.all().count()
    with pytest.raises(RuntimeError):
        async with atomic():
            await record_event(case, EventKind.STATUS_CHANGED, NOW, status=["x", "docketed"])
            assert await WebhookDelivery.all().count() == before + 1
            raise RuntimeError("the action failed after the event")
    assert await WebhookDelivery.all().count() == before


async def test_a_merchants_platform_hears_of_its_answers_without_the_remedy(
    settings: Settings, world: World
) -> None:
    await do_vouch_enrolment(
        partner_id=world.other.id,
        uscc=MERCHANT_USCC,
        name="上海某某商家有限公司",
        answer_days=10,
        handler_username="shop",
        handler_password=STAFF_PASSWORD,
        handler_name="客服",
        handler_email="shop@merchant.example.com",
        handler_mobile=None,
        now=NOW,
    )
    handler = viewer_of(await User.get(username="shop"))
    await do_add_endpoint(world.other.id, URL, list(c.SUBSCRIBABLE), "", NOW)
    consumer = await do_register_disputant(
        identifier="13812345678", password=STAFF_PASSWORD, display_name="张三"
    )
    case = await file_dispute(
        settings,
        filing_fields(respondent_id_number=MERCHANT_USCC),
        [],
        Filer(user_id=consumer.id),
        NOW,
    )
    await do_ask(handler, case.number, text="请提供订单截图", now=NOW)
    proposal = await do_propose(
        handler,
        case.number,
        kind="refund",
        amount="3680",
        conditions="原路退回",
        perform_by="2026-11-09",
        now=NOW,
    )
    await do_accept(viewer_of(consumer), case.number, proposal.id, NOW)

    types = [b["type"] for b in await bodies()]
    assert types == [
        c.DISPUTE_FILED,
        c.RESPONDENT_ANSWERED,  # the question was its first answer
        c.REMEDY_PROPOSED,  # the proposal is not a first answer any more
        c.SETTLED_BY_NEGOTIATION,
    ]
    for row in await WebhookDelivery.all():
        assert "3680" not in row.body and "原路退回" not in row.body
        # Another partner's reference is never told to the merchant's platform.
        assert json.loads(row.body)["data"]["partner_reference"] is None


class Receiver:
    """An httpx transport standing in for a partner's receiver, verifying what it gets."""

    def __init__(self, *secrets: str, status: int = 200) -> None:
        self.secrets = list(secrets)
        self.status = status
        self.seen: list[tuple[str, str, str]] = []  # url, webhook-id, signature header

    def __call__(self, request: httpx.Request) -> httpx.Response:
        now = int(datetime.now(UTC).timestamp())
        for secret in self.secrets:
            signing.verify(secret, request.headers, request.content, now)
        self.seen.append(
            (str(request.url), request.headers["webhook-id"], request.headers["webhook-signature"])
        )
        return httpx.Response(self.status, json={"ok": True})


async def test_the_relay_signs_with_both_secrets_during_a_rotation(
    settings: Settings, world: World
) -> None:
    endpoint, old = await do_add_endpoint(world.partner.id, URL, [c.DISPUTE_FILED], "", NOW)
    await file_as(settings, world.partner, "ORDER-3")
    receiver = Receiver(old)
    relay = webhook_relay(settings, transport=httpx.MockTransport(receiver))
    assert await relay.deliver_due(datetime.now(UTC)) == 1
    assert receiver.seen[0][0] == URL and receiver.seen[0][2].count("v1,") == 1

    now = datetime.now(UTC)
    new = await do_rotate_secret(world.partner.id, endpoint.id, now, timedelta(hours=24))
    assert new != old and new.startswith("whsec_")
    await file_as(settings, world.partner, "ORDER-4", **party_ids(1))
    # The request carries two signatures: a receiver that knows only the old secret, and
    # one that knows only the new one, both verify it.
    receiver = Receiver(old)
    relay = webhook_relay(settings, transport=httpx.MockTransport(receiver))
    assert await relay.deliver_due(now) == 1
    assert receiver.seen[-1][2].count("v1,") == 2
    await file_as(settings, world.partner, "ORDER-5", **party_ids(2))
    relay = webhook_relay(settings, transport=httpx.MockTransport(Receiver(new)))
    assert await relay.deliver_due(now) == 1
    assert await WebhookDelivery.filter(status=OutboxStatus.DELIVERED).count() == 3
    # After the grace period only the new secret signs.
    later = now + timedelta(hours=25)
    endpoint = await endpoint.__class__.get(id=endpoint.id)
    assert endpoint.signing_secrets(later) == [new]
    assert endpoint.signing_secrets(now) == [new, old]


async def test_a_refused_delivery_is_dead_and_replayed_by_its_partner_only(
    settings: Settings, world: World
) -> None:
    endpoint, secret = await do_add_endpoint(world.partner.id, URL, [c.DISPUTE_FILED], "", NOW)
    await file_as(settings, world.partner, "ORDER-5")
    relay = webhook_relay(settings, transport=httpx.MockTransport(Receiver(secret, status=410)))
    assert await relay.deliver_due(datetime.now(UTC)) == 0
    (row,) = await WebhookDelivery.all()
    assert row.status == OutboxStatus.DEAD and row.last_status_code == 410

    with pytest.raises(CaseNotFound):
        await do_replay(world.other.id, row.id, NOW)
    assert await do_replay(world.partner.id, row.id, datetime.now(UTC))
    assert not await do_replay(world.partner.id, row.id, datetime.now(UTC))  # already pending
    relay = webhook_relay(settings, transport=httpx.MockTransport(Receiver(secret)))
    assert await relay.deliver_due(datetime.now(UTC)) == 1
    log = await delivery_log(world.partner.id, endpoint.id)
    assert [r.status for r in log] == [OutboxStatus.DELIVERED]


async def test_a_disabled_endpoint_is_not_called(settings: Settings, world: World) -> None:
    endpoint, secret = await do_add_endpoint(world.partner.id, URL, [c.DISPUTE_FILED], "", NOW)
    await file_as(settings, world.partner, "ORDER-6")
    await do_edit_endpoint(world.partner.id, endpoint.id, URL, [c.DISPUTE_FILED], "", False, NOW)
    receiver = Receiver(secret)
    relay = webhook_relay(settings, transport=httpx.MockTransport(receiver))
    assert await relay.deliver_due(datetime.now(UTC)) == 0
    assert receiver.seen == []
    (row,) = await WebhookDelivery.all()
    assert row.status == OutboxStatus.DEAD and "disabled" in row.last_error


async def test_partner_admins_reach_only_their_platform(settings: Settings, world: World) -> None:
    user = await do_create_partner_admin(
        world.partner.id, username="ctrip-admin", password=STAFF_PASSWORD, display_name="携程"
    )
    assert user.role == Role.PARTNER_ADMIN
    assert (await partner_of(user.id)).id == world.partner.id
    theirs, _ = await do_add_endpoint(world.other.id, URL, [c.DISPUTE_FILED], "", NOW)
    for attempt in (
        do_rotate_secret(world.partner.id, theirs.id, NOW),
        do_send_test_event(world.partner.id, theirs.id, NOW),
        delivery_log(world.partner.id, theirs.id),
        do_edit_endpoint(world.partner.id, theirs.id, URL, [c.DISPUTE_FILED], "", True, NOW),
    ):
        with pytest.raises(CaseNotFound):
            await attempt
    admin = await User.get(username="admin")
    with pytest.raises(CaseNotFound):
        await partner_of(admin.id)


async def test_bad_endpoint_input_changes_nothing(world: World) -> None:
    with pytest.raises(WebhookError) as refused:
        await do_add_endpoint(world.partner.id, "http://10.0.0.1/", ["nope"], "", NOW)
    assert refused.value.field_errors == {
        "url": "webhook_url_invalid",
        "events": "webhook_event_unknown",
    }
    assert await WebhookDelivery.all().count() == 0


async def test_a_test_event_is_queued_for_the_endpoint(world: World) -> None:
    endpoint, _ = await do_add_endpoint(world.partner.id, URL, [c.DISPUTE_FILED], "", NOW)
    row = await do_send_test_event(world.partner.id, endpoint.id, NOW)
    assert row.event_type == c.TEST_EVENT and row.case_id is None
    assert json.loads(row.body)["data"] == {"partner": "携程演示"}


async def test_an_endpoint_without_answer_does_not_hold_up_the_others(
    settings: Settings, world: World
) -> None:
    down, _ = await do_add_endpoint(world.partner.id, URL + "/down", [c.DISPUTE_FILED], "", NOW)
    up, _ = await do_add_endpoint(world.other.id, URL + "/up", [c.DISPUTE_FILED], "", NOW)
    calls: list[str] = []

    def answer(request: httpx.Request) -> httpx.Response:
        calls.append(request.url.path)
        if request.url.path.endswith("/down"):
            raise httpx.ReadTimeout("no answer", request=request)
        return httpx.Response(200)

    for n in range(3):
        await file_as(settings, world.partner, f"ORDER-D{n}", **party_ids(10 + n))
    for _ in range(3):  # the other partner's endpoint has its own deliveries due
        await do_send_test_event(world.other.id, up.id, NOW)
    relay = webhook_relay(settings, transport=httpx.MockTransport(answer))
    assert await relay.deliver_due(datetime.now(UTC)) == 3
    assert calls.count("/mediation/down") == 1  # tried once, the rest left for later
    rows = await WebhookDelivery.filter(endpoint_id=down.id).order_by("id")
    assert [r.attempts for r in rows] == [1, 0, 0]
    assert all(r.status == OutboxStatus.PENDING and r.claimed_until is None for r in rows[1:])
    # They wait as long as the one tried, so the next rounds do not fill up with them.
    assert {r.next_attempt_at for r in rows} == {rows[0].next_attempt_at}
    assert rows[0].next_attempt_at > datetime.now(UTC)
    assert (
        await WebhookDelivery.filter(endpoint_id=up.id, status=OutboxStatus.DELIVERED).count() == 3
    )


async def test_a_burst_is_drained_in_one_round_within_its_budget(
    settings: Settings, world: World
) -> None:
    endpoint, _ = await do_add_endpoint(world.partner.id, URL, [c.DISPUTE_FILED], "", NOW)
    now = datetime.now(UTC)
    async with atomic():
        for _ in range(230):
            await do_send_test_event(world.partner.id, endpoint.id, now)
    ok = httpx.MockTransport(lambda request: httpx.Response(204))
    # The round goes on batch after batch while whole batches are due. Its time budget is
    # generous here: how long a batch takes depends on the machine, not on the rule tested.
    assert await deliver_due(now, settings, transport=ok, budget=3600) == 230
    assert await WebhookDelivery.filter(status=OutboxStatus.PENDING).count() == 0
    # With its budget spent, a round sends one batch and leaves the rest to the next round.
    async with atomic():
        for _ in range(230):
            await do_send_test_event(world.partner.id, endpoint.id, now)
    assert await deliver_due(now, settings, transport=ok, budget=0) == ROUND_BATCH
    assert await WebhookDelivery.filter(status=OutboxStatus.PENDING).count() == 230 - ROUND_BATCH


async def test_two_relays_at_once_send_each_delivery_once(settings: Settings, world: World) -> None:
    first, _ = await do_add_endpoint(world.partner.id, URL + "/a", [c.DISPUTE_FILED], "", NOW)
    second, _ = await do_add_endpoint(world.other.id, URL + "/b", [c.DISPUTE_FILED], "", NOW)
    now = datetime.now(UTC)
    for endpoint in (first, second):
        for _ in range(8):
            await do_send_test_event(endpoint.partner_id, endpoint.id, now)
    seen: list[str] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request.headers["webhook-id"])
        return httpx.Response(200)

    relays = [
        webhook_relay(settings, transport=httpx.MockTransport(answer), relay_id=f"relay-{n}")
        for n in range(2)
    ]
    with rendezvous("outbox_claim"):
        counts = await asyncio.gather(*(r.deliver_due(now) for r in relays))
    assert sum(counts) == 16
    assert sorted(seen) == sorted(set(seen)) and len(seen) == 16


async def test_a_switched_off_partner_is_told_nothing(settings: Settings, world: World) -> None:
    endpoint, secret = await do_add_endpoint(world.partner.id, URL, [c.DISPUTE_FILED], "", NOW)
    await file_as(settings, world.partner, "ORDER-P1")  # queued while it was active
    await PartnerPlatform.filter(id=world.partner.id).update(is_active=False)
    await file_as(settings, world.partner, "ORDER-P2", **party_ids(9))
    assert await WebhookDelivery.all().count() == 1
    receiver = Receiver(secret)
    relay = webhook_relay(settings, transport=httpx.MockTransport(receiver))
    assert await relay.deliver_due(datetime.now(UTC)) == 0
    assert receiver.seen == []
    assert (await WebhookDelivery.get(endpoint_id=endpoint.id)).status == OutboxStatus.DEAD


async def test_partners_merged_in_and_delegated_to_hear_of_the_case(
    settings: Settings, world: World
) -> None:
    """A partner whose filing of the same dispute was merged into another's case, and the
    platform a merchant delegated its answers to, are told of the case's events too."""
    from cases.negotiation.models import Merchant

    delegate, _ = await do_create_partner("代答平台")
    for partner in (world.partner, world.other, delegate):
        await do_add_endpoint(partner.id, f"{URL}/{partner.id}", [c.DOCKETED], "", NOW)
    await do_vouch_enrolment(
        partner_id=world.partner.id,
        uscc=MERCHANT_USCC,
        name="上海某某商家有限公司",
        answer_days=10,
        handler_username="shop",
        handler_password=STAFF_PASSWORD,
        handler_name="客服",
        handler_email="shop@merchant.example.com",
        handler_mobile=None,
        now=NOW,
    )
    await Merchant.filter(uscc=MERCHANT_USCC).update(delegated_to_id=delegate.id)
    case = await file_as(settings, world.partner, "T-1", respondent_id_number=MERCHANT_USCC)
    merged = await file_as(settings, world.other, "S-7", respondent_id_number=MERCHANT_USCC)
    assert merged.id == case.id  # one dispute, one number
    async with atomic():
        await record_event(case, EventKind.STATUS_CHANGED, NOW, status=["x", "docketed"])
    told = await WebhookDelivery.filter(event_type=c.DOCKETED).values_list("partner_id", flat=True)
    assert sorted(told) == sorted([world.partner.id, world.other.id, delegate.id])
    # Each is told its own reference only.
    references = {
        r.partner_id: json.loads(r.body)["data"]["partner_reference"]
        for r in await WebhookDelivery.filter(event_type=c.DOCKETED)
    }
    assert references == {world.partner.id: "T-1", world.other.id: None, delegate.id: None}
