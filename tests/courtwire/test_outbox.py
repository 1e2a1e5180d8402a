"""The outbox relay against a real receiver in another process, with injected faults."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from cases.models import OutboxMessage, OutboxStatus
from courtwire.delivery import BASE_DELAY
from courtwire.outbox import Relay, replay
from tests.support.concurrency import rendezvous
from tests.support.fake_desk import FakeDesk, run_fake_desk
from tests.support.live_server import free_port

SECRET = "whsec_" + "b3V0Ym94LXRlc3Qtc2VjcmV0LWtleS0zMmJ5dGVzISE="
DRAW = 0.5


@pytest.fixture(scope="module")
def desk_process() -> Iterator[FakeDesk]:
    with run_fake_desk(SECRET) as desk:
        yield desk


@pytest.fixture
async def desk(desk_process: FakeDesk) -> AsyncIterator[FakeDesk]:
    await desk_process.reset()
    yield desk_process


def now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


async def queued(count: int = 1, at: datetime | None = None) -> list[OutboxMessage]:
    at = at or now()
    return [
        await OutboxMessage.create(
            msg_id=str(uuid.uuid4()),
            destination="court",
            path="/api/v1/filings",
            content_type="application/cloudevents+json",
            body=f'{{"n": {n}, "text": "申请司法确认"}}',
            next_attempt_at=at,
            created_at=at,
        )
        for n in range(count)
    ]


class Hooks:
    def __init__(self) -> None:
        self.delivered: list[tuple[str, int, dict[str, Any]]] = []
        self.dead: list[tuple[str, int | None]] = []

    async def on_delivered(self, row: OutboxMessage, response: httpx.Response) -> None:
        assert row.status == OutboxStatus.DELIVERED
        self.delivered.append((row.msg_id, response.status_code, response.json()))

    async def on_dead(self, row: OutboxMessage, response: httpx.Response | None) -> None:
        assert row.status == OutboxStatus.DEAD
        self.dead.append((row.msg_id, response.status_code if response else None))


def relay(base_url: str, hooks: Hooks | None = None, **options: Any) -> Relay:
    hooks = hooks or Hooks()
    return Relay(
        OutboxMessage,
        destination="court",
        base_url=base_url,
        secret=options.pop("secret", SECRET),
        on_delivered=hooks.on_delivered,
        on_dead=hooks.on_dead,
        draw=lambda: DRAW,
        **options,
    )


async def test_delivers_signed_and_calls_the_hook_in_order(db: None, desk: FakeDesk) -> None:
    hooks = Hooks()
    rows = await queued(3)
    assert await relay(desk.base_url, hooks).deliver_due(now()) == 3
    received = await desk.received()
    assert [entry["msg_id"] for entry in received] == [row.msg_id for row in rows]
    assert received[0]["body"] == rows[0].body
    assert received[0]["content_type"] == "application/cloudevents+json"
    for row in rows:
        stored = await OutboxMessage.get(id=row.id)
        assert stored.status == OutboxStatus.DELIVERED
        assert (stored.attempts, stored.last_status_code, stored.claimed_until) == (1, 201, None)
        assert stored.delivered_at is not None
        assert stored.response["json"]["filing_id"] == row.msg_id
    assert [(msg_id, code) for msg_id, code, _ in hooks.delivered] == [
        (row.msg_id, 201) for row in rows
    ]
    # Nothing is due any more: a second round sends nothing.
    assert await relay(desk.base_url, hooks).deliver_due(now() + timedelta(hours=2)) == 0
    assert len(await desk.log()) == 3


async def test_connection_refused_is_retried_with_backoff(db: None, desk: FakeDesk) -> None:
    (row,) = await queued()
    start = now()
    nobody = f"http://127.0.0.1:{free_port()}"
    assert await relay(nobody).deliver_due(start) == 0
    stored = await OutboxMessage.get(id=row.id)
    assert stored.status == OutboxStatus.PENDING
    assert stored.attempts == 1
    assert stored.last_status_code is None
    assert "ConnectError" in stored.last_error
    assert stored.claimed_until is None
    assert stored.next_attempt_at == start + BASE_DELAY * DRAW
    # Not due before then; sent once the desk is back and the time has come.
    assert await relay(desk.base_url).deliver_due(start + timedelta(seconds=4)) == 0
    assert await relay(desk.base_url).deliver_due(start + timedelta(seconds=5)) == 1
    assert (await OutboxMessage.get(id=row.id)).attempts == 2


async def test_503_with_retry_after_is_honoured(db: None, desk: FakeDesk) -> None:
    (row,) = await queued()
    start = now()
    await desk.inject({"status": 503, "retry_after": 40})
    assert await relay(desk.base_url).deliver_due(start) == 0
    stored = await OutboxMessage.get(id=row.id)
    assert (stored.status, stored.last_status_code) == (OutboxStatus.PENDING, 503)
    assert stored.response["retry-after"] == "40"
    assert stored.next_attempt_at == start + timedelta(seconds=40) + BASE_DELAY * DRAW
    assert await relay(desk.base_url).deliver_due(start + timedelta(seconds=39)) == 0
    assert await relay(desk.base_url).deliver_due(start + timedelta(seconds=45)) == 1


async def test_429_with_an_http_date(db: None, desk: FakeDesk) -> None:
    (row,) = await queued()
    start = now()
    when = start + timedelta(minutes=3)
    await desk.inject({"status": 429, "retry_after": when.strftime("%a, %d %b %Y %H:%M:%S GMT")})
    assert await relay(desk.base_url).deliver_due(start) == 0
    stored = await OutboxMessage.get(id=row.id)
    assert stored.next_attempt_at == when + BASE_DELAY * DRAW


async def test_a_timeout_is_retried_and_the_repeat_gets_the_same_receipt(
    db: None, desk: FakeDesk
) -> None:
    hooks = Hooks()
    (row,) = await queued()
    start = now()
    # The desk takes the filing in but answers after the relay has stopped waiting.
    await desk.inject({"delay": 1.5})
    fast = relay(desk.base_url, hooks, timeout=0.3)
    assert await fast.deliver_due(start) == 0
    stored = await OutboxMessage.get(id=row.id)
    assert stored.status == OutboxStatus.PENDING
    assert "Timeout" in stored.last_error
    await asyncio.sleep(1.5)  # the desk finishes storing it
    first = await desk.received()
    assert [entry["msg_id"] for entry in first] == [row.msg_id]
    assert await fast.deliver_due(start + timedelta(minutes=1)) == 1
    ((msg_id, code, receipt),) = hooks.delivered
    assert (msg_id, code) == (row.msg_id, 200)  # a repeat, answered with the first receipt
    answers = [entry["answer"] for entry in await desk.log()]
    assert answers == [201, 200]
    assert receipt["filing_id"] == row.msg_id


async def test_a_dropped_connection_then_500_then_success(db: None, desk: FakeDesk) -> None:
    (row,) = await queued()
    start = now()
    await desk.inject({"close": True}, {"status": 500})
    r = relay(desk.base_url)
    assert await r.deliver_due(start) == 0
    assert await r.deliver_due(start + timedelta(minutes=1)) == 0
    stored = await OutboxMessage.get(id=row.id)
    assert (stored.attempts, stored.last_status_code) == (2, 500)
    assert stored.last_error.startswith("HTTP 500")
    assert await r.deliver_due(start + timedelta(minutes=2)) == 1
    stored = await OutboxMessage.get(id=row.id)
    assert (stored.status, stored.attempts, stored.last_error) == (
        OutboxStatus.DELIVERED,
        3,
        "",
    )


async def test_409_is_dead_at_once_and_a_replay_sends_again(db: None, desk: FakeDesk) -> None:
    hooks = Hooks()
    (row,) = await queued()
    start = now()
    await desk.inject({"status": 409, "error": "filing_id_reused"})
    r = relay(desk.base_url, hooks)
    assert await r.deliver_due(start) == 0
    stored = await OutboxMessage.get(id=row.id)
    assert (stored.status, stored.attempts, stored.last_status_code) == (
        OutboxStatus.DEAD,
        1,
        409,
    )
    assert "filing_id_reused" in stored.last_error
    assert hooks.dead == [(row.msg_id, 409)]
    # Dead letters are never picked up again by themselves.
    assert await r.deliver_due(start + timedelta(days=1)) == 0
    # An admin's replay puts it back; the next round sends it.
    later = start + timedelta(days=1)
    assert await replay(OutboxMessage, row.id, later)
    assert not await replay(OutboxMessage, row.id, later)  # already pending
    replayed = await OutboxMessage.get(id=row.id)
    assert (replayed.status, replayed.attempts) == (OutboxStatus.PENDING, 0)
    assert "filing_id_reused" in replayed.last_error  # kept for the record until it succeeds
    assert await r.deliver_due(later) == 1
    assert [entry["answer"] for entry in await desk.log()] == [409, 201]


async def test_a_bad_signature_is_dead_at_once(db: None, desk: FakeDesk) -> None:
    (row,) = await queued()
    wrong = "whsec_" + "d3Jvbmctc2VjcmV0LXdyb25nLXNlY3JldC13cm9uZyE="
    assert await relay(desk.base_url, secret=wrong).deliver_due(now()) == 0
    stored = await OutboxMessage.get(id=row.id)
    assert (stored.status, stored.last_status_code) == (OutboxStatus.DEAD, 401)
    assert stored.response["json"] == {"error": "bad_signature"}


async def test_dead_after_the_last_attempt(db: None, desk: FakeDesk) -> None:
    (row,) = await queued()
    start = now()
    await desk.inject(*[{"status": 502}] * 3)
    r = relay(desk.base_url, max_attempts=3)
    for minute in range(3):
        assert await r.deliver_due(start + timedelta(minutes=minute)) == 0
    stored = await OutboxMessage.get(id=row.id)
    assert (stored.status, stored.attempts) == (OutboxStatus.DEAD, 3)
    assert len(await desk.log()) == 3


async def test_a_claim_blocks_others_until_it_expires(db: None, desk: FakeDesk) -> None:
    """A relay killed mid-send leaves its claim; the row is sent once the claim expires."""
    (row,) = await queued()
    start = now()
    await OutboxMessage.filter(id=row.id).update(
        claimed_by="killed-relay", claimed_until=start + timedelta(seconds=60)
    )
    r = relay(desk.base_url)
    assert await r.deliver_due(start + timedelta(seconds=59)) == 0
    assert await desk.log() == []
    assert await r.deliver_due(start + timedelta(seconds=61)) == 1
    assert (await OutboxMessage.get(id=row.id)).claimed_by == r.relay_id


async def test_a_lost_claim_does_not_overwrite_the_new_owner(db: None, desk: FakeDesk) -> None:
    (row,) = await queued()
    start = now()
    r = relay(desk.base_url)
    (claimed,) = await r.claim_due(start, 10)
    # Meanwhile the claim expired and another relay took the row.
    await OutboxMessage.filter(id=row.id).update(
        claimed_by="other", claimed_until=start + timedelta(minutes=5)
    )
    async with httpx.AsyncClient() as client:
        assert not await r.attempt(client, claimed, start)
    stored = await OutboxMessage.get(id=row.id)
    assert (stored.status, stored.claimed_by, stored.attempts) == (
        OutboxStatus.PENDING,
        "other",
        0,
    )


async def test_other_destinations_are_left_alone(db: None, desk: FakeDesk) -> None:
    (row,) = await queued()
    await OutboxMessage.filter(id=row.id).update(destination="elsewhere")
    assert await relay(desk.base_url).deliver_due(now()) == 0
    assert await desk.log() == []


async def test_two_relays_in_one_loop_send_each_row_once(db: None, desk: FakeDesk) -> None:
    rows = await queued(20)
    start = now()

    async def drain(r: Relay) -> int:
        delivered = 0
        while await OutboxMessage.filter(status=OutboxStatus.PENDING).exists():
            delivered += await r.deliver_due(start, limit=3)
            await asyncio.sleep(0)
        return delivered

    # Both relays are held after reading the first rows as due, just before claiming them
    # (`outbox_claim`), so without the conditional claim both send them, every time: on
    # SQLite and PostgreSQL alike (each claim is its own statement, committed at once).
    with rendezvous("outbox_claim"):
        results = await asyncio.gather(drain(relay(desk.base_url)), drain(relay(desk.base_url)))
    assert sum(results) == 20
    sent = Counter(entry["msg_id"] for entry in await desk.log())
    assert sent == Counter({row.msg_id: 1 for row in rows})


def test_two_relay_processes_send_each_row_exactly_once(
    database_url: str, desk_process: FakeDesk
) -> None:
    from tests.support.live_server import run_with_orm

    async def seed() -> list[str]:
        await desk_process.reset()
        return [row.msg_id for row in await queued(40)]

    msg_ids = run_with_orm(database_url, seed)
    processes = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "tests.support.relay_process",
                database_url,
                desk_process.base_url,
                SECRET,
                f"relay-{n}",
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for n in (1, 2)
    ]
    delivered = []
    for process in processes:
        out, err = process.communicate(timeout=120)
        assert process.returncode == 0, err
        delivered.append(int(out.strip()))
    assert sum(delivered) == 40

    async def check() -> tuple[list[dict[str, Any]], list[str]]:
        log = await desk_process.log()
        owners = await OutboxMessage.all().values_list("claimed_by", flat=True)
        return log, [str(owner) for owner in owners]

    log, owners = run_with_orm(database_url, check)
    assert Counter(entry["msg_id"] for entry in log) == Counter(dict.fromkeys(msg_ids, 1))
    assert all(entry["answer"] == 201 for entry in log)
    assert set(owners) <= {"relay-1", "relay-2"}
