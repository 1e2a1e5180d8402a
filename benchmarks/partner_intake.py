"""How many disputes a second can partner platforms push in, with nothing filed twice and no
webhook lost?

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres python benchmarks/partner_intake.py
    python benchmarks/partner_intake.py              # SQLite (a temporary file), a smaller run
    python benchmarks/partner_intake.py --quick      # a few hundred, to check the script

Three partner platforms push their disputes at once over real HTTP to the platform served by
`mediation serve` (two worker processes on PostgreSQL, one on SQLite): most in batches
(`POST /api/v1/disputes/batch`, 250 a request), the rest one by one
(`POST /api/v1/disputes`), each with the partner's order snapshot. A tenth of the disputes
are sent a second time with the same idempotency keys (a partner that did not see the
answer), some of them while the first copy may still be in flight. Each partner has a webhook
endpoint for `dispute.filed`: a receiver process (`mediation.demo_receiver`'s verifying,
deduplicating handler) that answers 500 to a tenth of the first deliveries it gets; the relay
(`cases.webhooks.actions.deliver_due`, in a process of its own as `mediation jobs` runs it)
sends from the outbox until the receiver has acknowledged every event.

Before the load, in the same run, the same server answers partners' authenticated list
requests (`GET /api/v1/disputes?limit=1`) at the same concurrency: the baseline the filing
rate is compared with.

Figures: filings a second (distinct disputes accepted / wall time from the first request to
the last answer), each filing's latency (the time of the request that carried it: a batch's
items share their request's time; p50, p99), how many disputes exist per key sent
(`duplicates_created`: cases beyond one per distinct key, plus any resend answered with
another number), and, once the relay has drained, the filed events the receiver never
verified (`webhooks_lost`). The last line:

    partner_filings_per_s=<n> p99_ms=<n> duplicates_created=<n> webhooks_lost=<n>

Goal (PostgreSQL, this machine): at least 500 filings a second, no duplicate, no webhook
lost. The exit status is 1 when a goal is missed (`--quick` never fails on the rate).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import hashlib
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve()
ROOT = HERE.parent.parent
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402

GOAL_FILINGS_PER_S = 500.0
PARTNERS = ("携程旅行", "美团", "拼多多")
BATCH = 250
BATCH_SHARE = 0.8  # of each partner's disputes, sent in batches; the rest one by one
RESEND_SHARE = 0.10
FAIL_SHARE = 0.10  # of first deliveries, answered 500 by the receiver
EVENT = "dispute.filed"


def say(line: str = "") -> None:
    print(line, flush=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def percentile(values: Sequence[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


# --- the disputes -------------------------------------------------------------------------


def resident_id(index: int) -> str:
    """A valid, distinct resident ID number for the index-th applicant."""
    from cases.identity import resident_id_check_char

    born = date(1960, 1, 1) + timedelta(days=index // 900)
    first17 = f"310105{born:%Y%m%d}{index % 900 + 100:03d}"
    return first17 + resident_id_check_char(first17)


def credit_code(index: int) -> str:
    from cases.identity import uscc_check_char

    first17 = f"91310105MA1FL{index:04d}"
    return first17 + uscc_check_char(first17)


def dispute(partner: int, index: int) -> dict[str, Any]:
    """The index-th dispute of a partner, as the partner API takes it: its own applicant
    and order, against one of fifty merchants."""
    n = partner * 1_000_000 + index
    tourism = partner == 0
    order_number = f"P{partner}-{index:07d}"
    merchant = credit_code(n % 50)
    placed = "2026-11-20T09:30:00+08:00"
    amount = f"{100 + n % 4000}.00"
    name = f"上海第{n % 50}号网络科技有限公司"
    return {
        "domain": "tourism" if tourism else "internet",
        "category": "tour_refund" if tourism else "non_delivery_refund",
        "applicant_kind": "natural_person",
        "applicant_name": "张三",
        "applicant_id_number": resident_id(n % 5_000_000),
        "applicant_mobile": f"138{n % 100_000_000:08d}",
        "applicant_address": "上海市长宁区愚园路100号",
        "respondent_kind": "merchant",
        "respondent_name": name,
        "respondent_mobile": f"139{n % 50:08d}",
        "respondent_id_number": merchant,
        "claim_amount": amount,
        "facts": f"订单{order_number}付款后商家未发货，联系客服三次未获答复，要求退款。",
        "requested_outcome": "退还货款。",
        "consent_voluntary": True,
        "consent_service_address": True,
        "consent_false_mediation": True,
        "order": {
            "order_number": order_number,
            "placed_at": placed,
            "paid_at": placed,
            "currency": "CNY",
            "total_amount": amount,
            "paid_amount": amount,
            "merchant_name": name,
            "merchant_uscc": merchant,
            "items": [{"name": "蓝牙耳机", "quantity": 1, "unit_price": amount, "amount": amount}],
            "chat_excerpt": [
                {"at": placed, "speaker": "customer", "text": "请问什么时候发货？"},
                {"at": placed, "speaker": "merchant", "text": "亲，请耐心等待。"},
            ],
        },
    }


@dataclass
class Plan:
    """What one partner sends: batches of (key, dispute), single (key, dispute), resends."""

    batches: list[list[tuple[str, dict[str, Any]]]] = field(default_factory=list)
    singles: list[tuple[str, dict[str, Any]]] = field(default_factory=list)


def plan_for(partner: int, count: int, rng: random.Random) -> Plan:
    items = [(f"p{partner}-{i:07d}", dispute(partner, i)) for i in range(count)]
    resent = rng.sample(items, round(count * RESEND_SHARE))
    cut = round(count * BATCH_SHARE)
    batched, single = items[:cut], items[cut:]
    # Resends go to the end of the queue they join (a partner retrying what it did not see
    # answered), half of them in batches, half alone.
    batched += resent[: len(resent) // 2]
    single += resent[len(resent) // 2 :]
    plan = Plan(singles=single)
    plan.batches = [batched[i : i + BATCH] for i in range(0, len(batched), BATCH)]
    return plan


# --- the processes ------------------------------------------------------------------------


async def healthy(port: int, path: str = "/healthz") -> bool:
    try:
        async with httpx.AsyncClient(timeout=2) as client:
            return (await client.get(f"http://127.0.0.1:{port}{path}")).status_code == 200
    except httpx.HTTPError:
        return False


@contextlib.asynccontextmanager
async def process(
    argv: list[str], env: dict[str, str], log: Path, port: int | None = None
) -> AsyncIterator[asyncio.subprocess.Process]:
    with log.open("wb") as out:
        proc = await asyncio.create_subprocess_exec(
            *argv,
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
        try:
            if port is not None:
                for _ in range(300):
                    if await healthy(port) or proc.returncode is not None:
                        break
                    await asyncio.sleep(0.2)
                if proc.returncode is not None or not await healthy(port):
                    tail = log.read_text(errors="replace")[-3000:]  # noqa: ASYNC240
                    raise RuntimeError(f"{argv[:4]} did not start:\n{tail}")
            yield proc
        finally:
            if proc.returncode is None:
                proc.terminate()
                try:
                    await asyncio.wait_for(proc.wait(), 20)
                except TimeoutError:
                    proc.kill()
                    await proc.wait()


@contextlib.asynccontextmanager
async def database(scratch: Path) -> AsyncIterator[tuple[str, str]]:
    """A fresh, migrated database: a SQLite file, or a temporary PostgreSQL database when
    DATABASE_URL names a PostgreSQL server (dropped afterwards)."""
    from mediation.db import migrate

    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://", "asyncpg://")):
        path = scratch / "intake.sqlite3"
        await migrate(f"sqlite://{path}")
        yield f"sqlite://{path}", "SQLite (a temporary file)"
        return
    from tests.support.databases import PostgresAdmin

    admin = PostgresAdmin(url)
    name = f"bench_intake_{uuid.uuid4().hex[:8]}"
    await admin.create(name)
    try:
        await migrate(admin.url_for(name))
        yield admin.url_for(name), f"PostgreSQL (temporary database {name})"
    finally:
        await admin.drop(name)


async def with_orm(url: str, work: Any) -> Any:
    from tortoise import Tortoise

    from mediation.db import tortoise_config

    await Tortoise.init(config=tortoise_config(url))
    try:
        return await work()
    finally:
        await Tortoise.close_connections()


@dataclass(frozen=True)
class Partner:
    name: str
    key: str
    secret: str


async def set_up_partners(url: str, receiver_port: int) -> list[Partner]:
    async def work() -> list[Partner]:
        from cases.accounts.actions import do_create_partner
        from cases.clock import utcnow
        from cases.webhooks.actions import do_add_endpoint

        made = []
        for name in PARTNERS:
            platform, key = await do_create_partner(name)
            _, secret = await do_add_endpoint(
                platform.id,
                f"http://127.0.0.1:{receiver_port}/hooks/{platform.id}",
                [EVENT],
                "benchmark receiver",
                utcnow(),
                allow_http=True,
            )
            made.append(Partner(name, key, secret))
        return made

    return list(await with_orm(url, work))


# --- the receiver and the relay (this file run as a process of its own) --------------------


def run_receiver(port: int, secrets: list[str]) -> None:
    """A partner's receiver that fails a tenth of first deliveries (500, nothing applied)."""
    import threading

    import uvicorn
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import JSONResponse, PlainTextResponse, Response
    from starlette.routing import Route

    from mediation.demo_receiver import Ledger, receiving

    ledger = Ledger()
    receive = receiving(secrets, ledger, lambda line: None)
    failed: set[str] = set()
    lock = threading.Lock()

    async def deliver(request: Request) -> Response:
        msg_id = request.headers.get("webhook-id", "")
        digest = int(hashlib.sha256(msg_id.encode()).hexdigest()[:8], 16)
        with lock:
            fail = digest % 1000 < FAIL_SHARE * 1000 and msg_id not in failed
            if fail:
                failed.add(msg_id)
        if fail:
            return PlainTextResponse("injected failure", status_code=500)
        return await receive(request)

    async def stats(request: Request) -> Response:
        numbers = [
            e["payload"].get("data", {}).get("number")
            for e in ledger.applied.values()
            if e.get("type") == EVENT
        ]
        return JSONResponse(
            {
                "applied": len(ledger.applied),
                "numbers": numbers,
                "repeats": ledger.repeats,
                "rejected": ledger.rejected,
                "failed": len(failed),
            }
        )

    async def healthz(request: Request) -> Response:
        return PlainTextResponse("ok")

    app = Starlette(
        routes=[
            Route("/healthz", healthz),
            Route("/stats", stats),
            Route("/hooks/{partner}", deliver, methods=["POST"]),
        ]
    )
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning")


def run_relay(url: str, data_dir: str) -> None:
    """The webhook relay on its own, as `mediation jobs` runs it, until stopped."""

    async def work() -> None:
        from cases.clock import utcnow
        from cases.webhooks.actions import deliver_due
        from mediation.settings import load_settings

        settings = load_settings()
        while True:
            if not await deliver_due(utcnow(), settings):
                await asyncio.sleep(0.2)

    os.environ["DATABASE_URL"], os.environ["MEDIATION_DATA_DIR"] = url, data_dir
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(with_orm(url, work))


# --- the load -----------------------------------------------------------------------------


@dataclass
class Tally:
    latencies_ms: list[float] = field(default_factory=list)
    numbers: dict[str, set[str]] = field(default_factory=dict)  # key -> numbers answered
    refused: list[str] = field(default_factory=list)
    requests: int = 0


def _answered(tally: Tally, key: str, status: int, body: dict[str, Any], ms: float) -> None:
    tally.latencies_ms.append(ms)
    number = body.get("case_number") or body.get("merged_into")
    if status in (200, 201) and number:
        tally.numbers.setdefault(key, set()).add(str(number))
    else:
        tally.refused.append(f"{key}: {status} {json.dumps(body, ensure_ascii=False)[:300]}")


async def push(base: str, partner: Partner, plan: Plan, tally: Tally, concurrency: int) -> None:
    headers = {"Authorization": f"Bearer {partner.key}"}
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(base_url=base, headers=headers, timeout=300, limits=limits) as c:

        async def batch(items: list[tuple[str, dict[str, Any]]]) -> None:
            body = {"items": [{"idempotency_key": k, "dispute": d} for k, d in items]}
            started = time.perf_counter()
            answer = await c.post("/api/v1/disputes/batch", json=body)
            ms = (time.perf_counter() - started) * 1000
            tally.requests += 1
            if answer.status_code != 207:
                for key, _ in items:
                    _answered(tally, key, answer.status_code, {"batch": answer.text[:200]}, ms)
                return
            for result in answer.json()["results"]:
                _answered(tally, result["idempotency_key"], result["status"], result["body"], ms)

        async def single(key: str, item: dict[str, Any]) -> None:
            started = time.perf_counter()
            answer = await c.post("/api/v1/disputes", json=item, headers={"Idempotency-Key": key})
            tally.requests += 1
            _answered(
                tally,
                key,
                answer.status_code,
                answer.json(),
                (time.perf_counter() - started) * 1000,
            )

        queue: asyncio.Queue[Any] = asyncio.Queue()
        # Batches and single requests interleaved, as a partner's several senders would.
        work: list[Any] = [("batch", b) for b in plan.batches]
        per_batch = max(1, len(plan.singles) // max(1, len(plan.batches)))
        mixed: list[Any] = []
        singles = [("single", s) for s in plan.singles]
        for i, item in enumerate(work):
            mixed.append(item)
            mixed.extend(singles[i * per_batch : (i + 1) * per_batch])
        mixed.extend(singles[len(work) * per_batch :])
        for item in mixed:
            queue.put_nowait(item)

        async def sender() -> None:
            while not queue.empty():
                kind, item = queue.get_nowait()
                if kind == "batch":
                    await batch(item)
                else:
                    await single(*item)

        await asyncio.gather(*(sender() for _ in range(concurrency)))


async def baseline(base: str, partners: list[Partner], requests: int, concurrency: int) -> float:
    """Authenticated list requests a second, at the load's concurrency."""

    async def one_partner(partner: Partner) -> None:
        headers = {"Authorization": f"Bearer {partner.key}"}
        async with httpx.AsyncClient(base_url=base, headers=headers, timeout=60) as c:

            async def sender(n: int) -> None:
                for _ in range(n):
                    answer = await c.get("/api/v1/disputes", params={"limit": 1})
                    assert answer.status_code == 200, answer.text

            each = requests // len(partners) // concurrency
            await asyncio.gather(*(sender(each) for _ in range(concurrency)))

    started = time.perf_counter()
    await asyncio.gather(*(one_partner(p) for p in partners))
    done = requests // len(partners) // concurrency * concurrency * len(partners)
    return done / (time.perf_counter() - started)


async def case_numbers(url: str, partner_names: Sequence[str]) -> list[str]:
    async def work() -> list[str]:
        from cases.models import Case

        return list(
            await Case.filter(partner__name__in=list(partner_names)).values_list(
                "number", flat=True
            )
        )

    return list(await with_orm(url, work))


async def drain(receiver_port: int, expected: set[str], limit: float) -> dict[str, Any]:
    """Wait until the receiver has verified a filed event for every case (or the limit)."""
    started = time.perf_counter()
    stats: dict[str, Any] = {}
    async with httpx.AsyncClient(timeout=30) as client:
        while time.perf_counter() - started < limit:
            stats = (await client.get(f"http://127.0.0.1:{receiver_port}/stats")).json()
            if expected <= set(stats["numbers"]):
                break
            await asyncio.sleep(1)
    stats["drain_s"] = time.perf_counter() - started
    return stats


# --- the run ------------------------------------------------------------------------------


async def run(args: argparse.Namespace) -> int:
    postgres = os.environ.get("DATABASE_URL", "").startswith(("postgres", "asyncpg"))
    count = args.disputes or (300 if args.quick else 20_000 if postgres else 3_000)
    workers = args.workers or (2 if postgres else 1)
    rng = random.Random(12)
    with tempfile.TemporaryDirectory(prefix="bench-intake-") as scratch_dir:
        scratch = Path(scratch_dir)
        async with database(scratch) as (url, described):
            say(
                f"database: {described}; {count:,} disputes from {len(PARTNERS)} partners; "
                f"{workers} server worker(s)"
            )
            receiver_port, server_port = free_port(), free_port()
            partners = await set_up_partners(url, receiver_port)
            env = {
                **os.environ,
                "DATABASE_URL": url,
                "MEDIATION_DATA_DIR": str(scratch / "data"),
                "BASE_URL": f"http://127.0.0.1:{server_port}",
                "MEDIATION_BACKGROUND_JOBS": "0",
                # The benchmark measures intake, not the per-key budget (tested on its own).
                "PARTNER_RATE_PER_SECOND": "100000",
                "PARTNER_RATE_BURST": "100000",
                "WEBHOOK_ALLOW_HTTP": "1",  # the receiver is a local process
                "PYTHONUNBUFFERED": "1",
            }
            me = [sys.executable, str(HERE)]
            secrets = [p.secret for p in partners]
            receiver = process(
                [*me, "--receiver", str(receiver_port), *secrets],
                env,
                scratch / "receiver.log",
                receiver_port,
            )
            server = process(
                [
                    str(Path(sys.executable).parent / "mediation"),
                    "serve",
                    "--port",
                    str(server_port),
                    "--workers",
                    str(workers),
                ],
                env,
                scratch / "server.log",
                server_port,
            )
            relay = process(
                [*me, "--relay", url, str(scratch / "data")], env, scratch / "relay.log"
            )
            async with receiver, server, relay:
                base = f"http://127.0.0.1:{server_port}"
                concurrency = args.concurrency
                reads = await baseline(base, partners, 600 if args.quick else 3000, concurrency)
                say(
                    f"baseline: {reads:,.0f} authenticated list requests/s "
                    f"(concurrency {concurrency} per partner)"
                )
                plans = [plan_for(i, count // len(PARTNERS), rng) for i in range(len(PARTNERS))]
                sent_keys = {k for p in plans for b in p.batches for k, _ in b} | {
                    k for p in plans for k, _ in p.singles
                }
                tally = Tally()
                started = time.perf_counter()
                await asyncio.gather(
                    *(
                        push(base, p, plan, tally, concurrency)
                        for p, plan in zip(partners, plans, strict=True)
                    )
                )
                wall = time.perf_counter() - started
                numbers = await case_numbers(url, PARTNERS)
                stats = await drain(receiver_port, set(numbers), args.drain)
    accepted = {k for k, n in tally.numbers.items() if n}
    rate = len(accepted) / wall
    resend_mismatch = sum(1 for n in tally.numbers.values() if len(n) > 1)
    duplicates = max(0, len(numbers) - len(accepted)) + resend_mismatch
    lost = len(set(numbers) - set(stats.get("numbers", [])))
    p50, p99 = percentile(tally.latencies_ms, 50), percentile(tally.latencies_ms, 99)
    say(
        f"sent: {len(sent_keys):,} distinct keys, {len(tally.latencies_ms):,} filings in "
        f"{tally.requests:,} requests (resends included); accepted {len(accepted):,}; "
        f"refused {len(tally.refused):,}"
    )
    for line in tally.refused[:5]:
        say(f"  refused: {line}")
    say(
        f"cases in the database: {len(numbers):,}; resends answered with another number: "
        f"{resend_mismatch}"
    )
    say(
        f"filing latency (its request's time): p50 {p50:.1f} ms, p99 {p99:.1f} ms; "
        f"mean {statistics.fmean(tally.latencies_ms):.1f} ms"
    )
    say(f"filings/s {rate:,.1f} = {rate / reads:.2f} x the baseline's requests/s")
    say(
        f"webhooks: {stats.get('applied', 0):,} verified and applied, {stats.get('failed', 0):,} "
        f"first deliveries failed on purpose, {stats.get('repeats', 0):,} repeats ignored, "
        f"{stats.get('rejected', 0)} rejected signatures; drained in {stats['drain_s']:.1f} s"
    )
    say(
        f"partner_filings_per_s={rate:.1f} p99_ms={p99:.1f} duplicates_created={duplicates} "
        f"webhooks_lost={lost}"
    )
    missed = duplicates > 0 or lost > 0 or len(tally.refused) > 0
    if postgres and not args.quick and rate < GOAL_FILINGS_PER_S:
        missed = True
    return 1 if missed else 0


def main() -> int:
    if len(sys.argv) > 1 and sys.argv[1] == "--receiver":
        run_receiver(int(sys.argv[2]), sys.argv[3:])
        return 0
    if len(sys.argv) > 1 and sys.argv[1] == "--relay":
        run_relay(sys.argv[2], sys.argv[3])
        return 0
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="a few hundred disputes")
    parser.add_argument("--disputes", type=int, help="how many (default 20,000 on PostgreSQL)")
    parser.add_argument("--workers", type=int, help="server workers (2 on PostgreSQL)")
    parser.add_argument("--concurrency", type=int, default=4, help="requests at once a partner")
    parser.add_argument("--drain", type=float, default=600, help="seconds to wait for webhooks")
    return asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    sys.exit(main())
