"""How long does it take to appoint a mediator to one case, at district scale?

    python benchmarks/assignment.py                 # SQLite (a temporary file)
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres python benchmarks/assignment.py

Builds 5,000 mediators in 50 organisations and 100,000 open cases (each with two parties,
so the conflict-of-interest lookups search 200,000 party rows), then appoints a mediator to
fresh cases one at a time through the real action (`cases.routing.assignment.do_appoint`: roster
query, leave, earlier cases with the same parties, scoring, the assignment row, the status
transition, deadlines, timeline and notices, in one transaction). As a baseline in the same
run it times a primary-key read of a case. Prints the median and p99 of both and their
ratio; the last line is `assign_p99_ms=<number>`. Goal: p99 under 50 ms on SQLite, with
every measured appointment finding a mediator (one that finds none takes a shorter path and
would flatter the figures). The exit status is 1 when the goal is missed; `--quick` (a small
world, to check the script) reports and never fails on the goal.

    python benchmarks/assignment.py --quick
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import statistics
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tortoise import Tortoise

from cases.accounts.actions import hash_password
from cases.accounts.models import MediatorProfile, Organisation, Role, Track, User
from cases.categories import CATEGORIES, Domain
from cases.models import Case, Party, PartyKind, Side
from cases.routing.assignment import do_appoint
from cases.status import Status
from mediation.db import migrate, tortoise_config

NOW = datetime(2026, 11, 27, 2, 0, tzinfo=UTC)
GOAL_P99_MS = 50.0
CODES = [c.code for c in CATEGORIES]


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


async def build(
    organisations: int, mediators: int, open_cases: int, rng: random.Random
) -> list[int]:
    tracks = list(Track)
    await Organisation.bulk_create(
        [
            Organisation(
                code=f"ORG{i:03d}",
                name=f"调解组织{i}",
                name_en=f"Org {i}",
                track=tracks[i % len(tracks)],
                categories=CODES,
                service_areas=["长宁区"],
            )
            for i in range(organisations)
        ]
    )
    org_ids = [o.id for o in await Organisation.all().order_by("id")]
    password = hash_password("benchmark-only")
    await User.bulk_create(
        [
            User(
                role=Role.MEDIATOR,
                display_name=f"调解员{i}",
                username=f"m{i}",
                password_hash=password,
                organisation_id=org_ids[i % organisations],
            )
            for i in range(mediators)
        ],
        batch_size=1000,
    )
    users = (
        await User.filter(role=Role.MEDIATOR).order_by("id").values_list("id", "organisation_id")
    )
    await MediatorProfile.bulk_create(
        [
            MediatorProfile(
                user_id=uid,
                organisation_id=oid,
                specialties=rng.sample(CODES, 4),
                languages=["zh", "en"] if uid % 7 == 0 else ["zh"],
                regions=["长宁区"],
                capacity=60,
                affiliations=[f"9131{rng.randrange(10**13):013d}X"] if uid % 5 == 0 else [],
            )
            for uid, oid in users
        ],
        batch_size=1000,
    )
    by_org: dict[int, list[int]] = {}
    for uid, oid in users:
        by_org.setdefault(oid, []).append(uid)
    batch = 5000
    for start in range(0, open_cases, batch):
        cases = []
        for n in range(start, min(start + batch, open_cases)):
            oid = org_ids[n % organisations]
            mediator = rng.choice(by_org[oid])
            cases.append(
                Case(
                    number=f"BENCH-{n:07d}",
                    domain=Domain.TOURISM,
                    category=rng.choice(CODES),
                    status=Status.IN_MEDIATION,
                    claim_amount=Decimal("1000.00"),
                    facts="benchmark",
                    requested_outcome="benchmark",
                    organisation_id=oid,
                    mediator_id=mediator,
                    created_at=NOW,
                    updated_at=NOW,
                )
            )
        await Case.bulk_create(cases, batch_size=1000)
        ids = await Case.filter(number__in=[c.number for c in cases]).values_list("id", flat=True)
        await Party.bulk_create(
            [
                Party(
                    case_id=cid,
                    side=side,
                    kind=kind,
                    name="当事人",
                    created_at=NOW,
                    id_number=f"{rng.randrange(10**17):017d}X",
                )
                for cid in ids
                for side, kind in (
                    (Side.APPLICANT, PartyKind.NATURAL_PERSON),
                    (Side.RESPONDENT, PartyKind.MERCHANT),
                )
            ],
            batch_size=2000,
        )
    return org_ids


async def fresh_case(org_id: int, n: int, rng: random.Random, reuse_party: str | None) -> int:
    case = await Case.create(
        number=f"SAMPLE-{n:06d}",
        domain=Domain.TOURISM,
        category=rng.choice(CODES),
        status=Status.ASSIGNING,
        claim_amount=Decimal("2000.00"),
        facts="sample",
        requested_outcome="sample",
        organisation_id=org_id,
        created_at=NOW,
        updated_at=NOW,
    )
    await Party.create(
        case=case,
        side=Side.APPLICANT,
        kind=PartyKind.NATURAL_PERSON,
        name="申请人",
        id_number=reuse_party or f"{rng.randrange(10**17):017d}1",
        created_at=NOW,
    )
    await Party.create(
        case=case,
        side=Side.RESPONDENT,
        kind=PartyKind.MERCHANT,
        name="商家",
        id_number=f"9131{rng.randrange(10**13):013d}Y",
        created_at=NOW,
    )
    return case.id


async def run(args: argparse.Namespace, url: str) -> tuple[float, int, int]:
    """The p99 of appointing, how many appointments were measured, and how many found a
    mediator."""
    rng = random.Random(20261127)
    await migrate(url)
    await Tortoise.init(config=tortoise_config(url))
    try:
        t0 = time.perf_counter()
        org_ids = await build(args.organisations, args.mediators, args.open_cases, rng)
        print(
            f"built {args.mediators} mediators in {args.organisations} organisations and "
            f"{args.open_cases} open cases in {time.perf_counter() - t0:.1f} s"
        )
        # Some samples share a party with an earlier case, so the conflict lookup finds rows.
        known = (
            await Party.filter(side=Side.APPLICANT)
            .limit(args.samples)
            .values_list("id_number", flat=True)
        )
        samples = [
            await fresh_case(
                rng.choice(org_ids), n, rng, str(known[n % len(known)]) if n % 3 == 0 else None
            )
            for n in range(args.samples + args.warmup)
        ]
        assign_ms: list[float] = []
        read_ms: list[float] = []
        appointed = 0
        for index, case_id in enumerate(samples):
            start = time.perf_counter()
            chosen = await do_appoint(case_id, NOW)
            elapsed = (time.perf_counter() - start) * 1000
            start = time.perf_counter()
            await Case.get(id=rng.randrange(1, args.open_cases))
            read = (time.perf_counter() - start) * 1000
            if index >= args.warmup:
                assign_ms.append(elapsed)
                read_ms.append(read)
                appointed += chosen is not None
    finally:
        await Tortoise.close_connections()
    p50, p99 = statistics.median(assign_ms), percentile(assign_ms, 99)
    b50, b99 = statistics.median(read_ms), percentile(read_ms, 99)
    print(f"appointments measured: {len(assign_ms)} ({appointed} found a mediator)")
    print(
        f"assign one case:    median {p50:7.2f} ms   p99 {p99:7.2f} ms"
        f"   max {max(assign_ms):7.2f} ms"
    )
    print(f"baseline (PK read): median {b50:7.2f} ms   p99 {b99:7.2f} ms")
    print(f"ratio assign/baseline: median {p50 / b50:6.1f}x   p99 {p99 / b99:6.1f}x")
    return p99, len(assign_ms), appointed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--organisations", type=int, default=50)
    parser.add_argument("--mediators", type=int, default=5000)
    parser.add_argument("--open-cases", type=int, default=100_000)
    parser.add_argument("--samples", type=int, default=500)
    parser.add_argument("--warmup", type=int, default=20)
    parser.add_argument("--quick", action="store_true", help="a small world (smoke test)")
    args = parser.parse_args()
    if args.quick:
        args.organisations, args.mediators = min(args.organisations, 5), min(args.mediators, 100)
        args.open_cases, args.samples = min(args.open_cases, 2000), min(args.samples, 50)
    base = os.environ.get("DATABASE_URL", "")
    sqlite = not base.startswith(("postgres://", "postgresql://"))
    if not sqlite:
        from tests.support.databases import PostgresAdmin

        admin = PostgresAdmin(base)
        name = f"bench_{uuid.uuid4().hex[:8]}"
        asyncio.run(admin.create(name))
        try:
            print(f"database: PostgreSQL ({name})")
            p99, measured, appointed = asyncio.run(run(args, admin.url_for(name)))
        finally:
            asyncio.run(admin.drop(name))
    else:
        with tempfile.TemporaryDirectory() as folder:
            print("database: SQLite (temporary file)")
            p99, measured, appointed = asyncio.run(run(args, f"sqlite://{folder}/bench.sqlite3"))
    return verdict(p99, measured, appointed, sqlite=sqlite, quick=args.quick)


def verdict(p99: float, measured: int, appointed: int, *, sqlite: bool, quick: bool) -> int:
    """Print the goals and the last line; the exit status: 1 if a goal is missed (never with
    --quick, whose numbers are not for the goal)."""
    found = f"every appointment found a mediator ({appointed}/{measured})"
    checks = [(found, measured > 0 and appointed == measured)]
    if sqlite:  # the goal is set for SQLite; on PostgreSQL the figures are reported only
        checks.append((f"p99 < {GOAL_P99_MS:g} ms on SQLite ({p99:.2f} ms)", p99 < GOAL_P99_MS))
    print("goals: " + "; ".join(f"{name}: {'met' if ok else 'NOT met'}" for name, ok in checks))
    if quick:
        print("(--quick is a smoke test: its numbers are not for the goal)")
    print(f"assign_p99_ms={p99:.2f}")
    return 1 if not quick and not all(ok for _, ok in checks) else 0


if __name__ == "__main__":
    sys.exit(main())
