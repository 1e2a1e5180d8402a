"""How fast are the district's dashboard figures at city scale?

    python benchmarks/analytics.py                  # SQLite (a temporary file), 1,000,000 cases
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres python benchmarks/analytics.py
    python benchmarks/analytics.py --quick          # a few thousand cases (the test's run)
    python benchmarks/analytics.py --cases 200000   # another size

Generates a record over three years: the cases (growing over time), two parties each, ten
timeline events per case on average (filings, status changes along the life of a case,
evidence), a deadline each, negotiations with enrolled merchants, across 20 partner
platforms, 50,000 merchants, 30 organisations and their mediators. Written in bulk
(executemany on SQLite, COPY on PostgreSQL), then the figures are built by the real
`recount` (the same code the roll-up job folds with). Then it measures each dashboard view of
`cases.analytics.figures` with typical filters (the last 30, 90 or 365 days; all, or one
partner, organisation, category or merchant), beside a primary-key read of a case in the same
run, and prints the median and p95 of each. The last line is
`dashboard_p95_ms=<n> cases=<n>` (the p95 over every view's measurements). Goal: at most
300 ms; the exit status is 1 when it is missed (never with --quick).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import sqlite3
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tortoise import Tortoise

from cases.analytics.actions import recount
from cases.analytics.figures import (
    Dimension,
    FigureFilter,
    Grain,
    cases_behind,
    deadline_compliance,
    funnel,
    ranking,
    scorecards,
    volume,
    workload,
)
from cases.categories import CATEGORIES
from cases.clock import local_date
from cases.models import Case
from mediation.db import migrate, tortoise_config

NOW = datetime(2026, 12, 1, 2, 0, tzinfo=UTC)
TODAY = local_date(NOW)
DAYS = 3 * 365
GOAL_P95_MS = 300.0
PARTNERS = 20
MERCHANTS = 50_000
ORGANISATIONS = 30
MEDIATORS_PER_ORG = 20
DISTRICTS = ["长宁区", "徐汇区", "静安区", "黄浦区", "浦东新区", "闵行区", "杭州市西湖区", "普陀区"]
TRACKS = ["peoples", "administrative", "arbitration", "industry"]

# Lives of a case: the statuses it passes through after `submitted`, with a weight.
LIVES: list[tuple[int, list[str]]] = [
    (20, ["awaiting_merchant", "settled_by_negotiation"]),
    (
        12,
        [
            "awaiting_merchant",
            "accepted",
            "assigning",
            "awaiting_mediator",
            "in_mediation",
            "settled",
        ],
    ),
    (
        18,
        [
            "awaiting_consent",
            "accepted",
            "assigning",
            "awaiting_mediator",
            "in_mediation",
            "settled",
            "confirmation_requested",
            "confirmed",
        ],
    ),
    (
        10,
        [
            "awaiting_consent",
            "accepted",
            "assigning",
            "awaiting_mediator",
            "in_mediation",
            "failed",
            "transferred",
            "docketed",
        ],
    ),
    (
        6,
        [
            "awaiting_consent",
            "accepted",
            "assigning",
            "awaiting_mediator",
            "in_mediation",
            "timed_out",
        ],
    ),
    (
        6,
        [
            "awaiting_consent",
            "accepted",
            "assigning",
            "awaiting_mediator",
            "in_mediation",
            "withdrawn",
        ],
    ),
    (12, ["awaiting_consent", "refused"]),
    (10, ["awaiting_consent", "no_response"]),
    (6, ["awaiting_consent", "withdrawn"]),
]
WEIGHTS = [w for w, _ in LIVES]


def percentile(values: Sequence[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


# --- writing in bulk ---------------------------------------------------------------------------


class Writer:
    """Rows straight into the tables: executemany on SQLite, COPY on PostgreSQL."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.postgres = url.startswith(("postgres://", "postgresql://"))
        self.sqlite: sqlite3.Connection | None = None
        self.pg: Any = None

    async def open(self) -> None:
        if self.postgres:
            import asyncpg

            self.pg = await asyncpg.connect(self.url)
        else:
            self.sqlite = sqlite3.connect(self.url.removeprefix("sqlite://"))
            self.sqlite.execute("PRAGMA synchronous = OFF")

    async def close(self) -> None:
        if self.pg is not None:
            for table in (
                "case_record",
                "party",
                "timeline_event",
                "case_deadline",
                "negotiation",
                "merchant",
                "partner_platform",
                "organisation",
                "account",
            ):
                await self.pg.execute(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                    f"COALESCE((SELECT MAX(id) FROM {table}), 1))"
                )
            await self.pg.close()
        if self.sqlite is not None:
            self.sqlite.commit()
            self.sqlite.close()

    def _sqlite_value(self, value: Any) -> Any:
        if isinstance(value, datetime):
            return value.isoformat(sep=" ")
        if isinstance(value, date):
            return value.isoformat()
        if isinstance(value, Decimal):
            return str(value)
        if isinstance(value, dict | list):
            return json.dumps(value, ensure_ascii=False)
        if isinstance(value, bool):
            return int(value)
        return value

    async def write(self, table: str, columns: Sequence[str], rows: list[tuple[Any, ...]]) -> None:
        if not rows:
            return
        if self.pg is not None:
            fixed = [
                tuple(
                    json.dumps(v, ensure_ascii=False) if isinstance(v, dict | list) else v
                    for v in row
                )
                for row in rows
            ]
            await self.pg.copy_records_to_table(table, records=fixed, columns=list(columns))
            return
        assert self.sqlite is not None
        marks = ", ".join("?" * len(columns))
        self.sqlite.executemany(
            f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})",
            [tuple(self._sqlite_value(v) for v in row) for row in rows],
        )
        self.sqlite.commit()


CASE_COLUMNS = (
    "id",
    "number",
    "domain",
    "category",
    "status",
    "source",
    "partner_id",
    "claim_amount",
    "facts",
    "requested_outcome",
    "organisation_id",
    "mediator_id",
    "has_arbitration_clause",
    "group_size",
    "language",
    "triage",
    "closed_reason",
    "consents",
    "created_at",
    "updated_at",
)
PARTY_COLUMNS = (
    "id",
    "case_id",
    "side",
    "kind",
    "name",
    "id_number",
    "service_address",
    "created_at",
)
EVENT_COLUMNS = ("id", "case_id", "at", "actor_label", "kind", "data")
DEADLINE_COLUMNS = (
    "id",
    "case_id",
    "regime",
    "started_on",
    "due_on",
    "provisional",
    "status",
    "pauses",
    "extensions",
    "closed_at",
    "created_at",
)
NEGOTIATION_COLUMNS = (
    "id",
    "case_id",
    "merchant_id",
    "state",
    "started_at",
    "first_answer_at",
    "ended_at",
)


async def build(writer: Writer, cases: int, rng: random.Random) -> int:
    """The record; returns how many timeline events were written."""
    await writer.write(
        "partner_platform",
        ("id", "name", "key_prefix", "key_sha256", "is_active", "created_at"),
        [(i, f"合作平台{i}", f"bp{i:04d}", "0" * 64, True, NOW) for i in range(1, PARTNERS + 1)],
    )
    await writer.write(
        "organisation",
        (
            "id",
            "code",
            "name",
            "name_en",
            "track",
            "district",
            "address",
            "phone",
            "categories",
            "service_areas",
            "accepts_court_entrusted",
            "created_at",
        ),
        [
            (
                i,
                f"BORG{i:03d}",
                f"调解组织{i}",
                f"Org {i}",
                TRACKS[i % 4],
                "长宁区",
                "",
                "",
                [c.code for c in CATEGORIES],
                ["长宁区"],
                False,
                NOW,
            )
            for i in range(1, ORGANISATIONS + 1)
        ],
    )
    await writer.write(
        "account",
        (
            "id",
            "role",
            "display_name",
            "username",
            "password_hash",
            "organisation_id",
            "locale",
            "large_text",
            "is_active",
            "session_generation",
            "created_at",
        ),
        [
            (
                i,
                "mediator",
                f"调解员{i}",
                f"bm{i}",
                "x",
                (i - 1) // MEDIATORS_PER_ORG + 1,
                "zh_CN",
                False,
                True,
                0,
                NOW,
            )
            for i in range(1, ORGANISATIONS * MEDIATORS_PER_ORG + 1)
        ],
    )
    await writer.write(
        "merchant",
        ("id", "uscc", "name", "status", "answer_days", "requested_at"),
        [
            (i, f"91310105BM{i:08d}", f"商家{i}有限公司", "enrolled", 10, NOW)
            for i in range(1, MERCHANTS + 1)
        ],
    )
    start = NOW - timedelta(days=DAYS)
    event_id = party_id = deadline_id = negotiation_id = 0
    chunk = 20_000
    for first in range(1, cases + 1, chunk):
        rows_case, rows_party, rows_event, rows_deadline, rows_neg = [], [], [], [], []
        for cid in range(first, min(first + chunk, cases + 1)):
            # More cases lately: the day drawn towards the end of the three years.
            filed = start + timedelta(days=DAYS * rng.random() ** 0.7, seconds=rng.randrange(86400))
            category = rng.choice(CATEGORIES)
            life = rng.choices(LIVES, WEIGHTS)[0][1]
            age_days = (NOW - filed).days
            if age_days < 60:  # recent cases are still on their way
                life = life[: rng.randrange(0, len(life) + 1)]
            merchant = int(MERCHANTS * rng.random() ** 3) + 1
            to_merchant = bool(life) and life[0] == "awaiting_merchant"
            kind = (
                "merchant"
                if to_merchant
                else rng.choice(
                    ["merchant", "merchant", "platform", "organisation", "natural_person"]
                )
            )
            partner = rng.randrange(1, PARTNERS + 1) if rng.random() < 0.6 else None
            org = mediator = None
            at = filed
            events = [(filed, "filed", {})]
            status = "submitted"
            for target in life:
                at = min(at + timedelta(days=rng.random() * 6, hours=rng.random() * 12), NOW)
                if target == "assigning":
                    org = rng.randrange(1, ORGANISATIONS + 1)
                if target == "in_mediation" and org is not None:
                    mediator = (org - 1) * MEDIATORS_PER_ORG + rng.randrange(MEDIATORS_PER_ORG) + 1
                events.append((at, "status_changed", {"status": [status, target]}))
                status = target
            while len(events) < 10 and rng.random() < 0.97:
                events.append((filed + timedelta(hours=rng.random() * 48), "evidence_added", {}))
            rows_case.append(
                (
                    cid,
                    f"BENCH-{cid:08d}",
                    category.domain.value,
                    category.code,
                    status,
                    "partner" if partner else "web",
                    partner,
                    Decimal("1000.00"),
                    "",
                    "",
                    org,
                    mediator,
                    False,
                    1,
                    "zh",
                    {},
                    "",
                    {},
                    filed,
                    at,
                )
            )
            district = rng.choice(DISTRICTS)
            party_id += 1
            rows_party.append(
                (
                    party_id,
                    cid,
                    "applicant",
                    "natural_person",
                    "当事人",
                    None,
                    f"上海市{district}某路1号",
                    filed,
                )
            )
            party_id += 1
            code = (
                f"91310105BM{merchant:08d}"
                if kind in ("merchant", "platform", "organisation")
                else None
            )
            rows_party.append(
                (
                    party_id,
                    cid,
                    "respondent",
                    kind,
                    f"商家{merchant}有限公司" if code else "某人",
                    code,
                    "",
                    filed,
                )
            )
            for when, what, data in events:
                event_id += 1
                rows_event.append((event_id, cid, when, "system", what, data))
            answered = len(life) > 1 or (life and life[0] == "awaiting_merchant" and len(life) > 1)
            deadline_id += 1
            due = local_date(filed) + timedelta(days=10)
            if len(life) > 1:
                d_status, closed = ("met", filed + timedelta(days=rng.random() * 9))
                if rng.random() < 0.15:
                    d_status, closed = "missed", filed + timedelta(days=10 + rng.random() * 8)
            else:
                d_status, closed = (
                    ("open", None) if age_days < 15 else ("missed", filed + timedelta(days=11))
                )
            rows_deadline.append(
                (
                    deadline_id,
                    cid,
                    "respondent_notice",
                    local_date(filed),
                    due,
                    False,
                    d_status,
                    [],
                    [],
                    closed,
                    filed,
                )
            )
            if to_merchant:
                negotiation_id += 1
                first_answer = (
                    filed + timedelta(hours=1 + rng.random() * 100)
                    if answered or rng.random() < 0.5
                    else None
                )
                state = {
                    "settled_by_negotiation": "settled",
                    "accepted": "declined",
                }.get(life[1] if len(life) > 1 else "", "open")
                rows_neg.append(
                    (
                        negotiation_id,
                        cid,
                        merchant,
                        state,
                        filed,
                        first_answer,
                        None if state == "open" else at,
                    )
                )
        await writer.write("case_record", CASE_COLUMNS, rows_case)
        await writer.write("party", PARTY_COLUMNS, rows_party)
        await writer.write("timeline_event", EVENT_COLUMNS, rows_event)
        await writer.write("case_deadline", DEADLINE_COLUMNS, rows_deadline)
        await writer.write("negotiation", NEGOTIATION_COLUMNS, rows_neg)
        print(f"  written {min(first + chunk - 1, cases)} cases, {event_id} events", flush=True)
    return event_id


# --- measuring ---------------------------------------------------------------------------------

View = Callable[[random.Random], Awaitable[Any]]


def _period(rng: random.Random) -> tuple[date, date]:
    days = rng.choice([30, 90, 365])
    return TODAY - timedelta(days=days - 1), TODAY


def _typical(rng: random.Random, cases: int) -> FigureFilter:
    start, end = _period(rng)
    pick = rng.choice(["none", "none", "partner", "organisation", "category", "domain"])
    return FigureFilter(
        start=start,
        end=end,
        partner_id=rng.randrange(1, PARTNERS + 1) if pick == "partner" else None,
        organisation_id=rng.randrange(1, ORGANISATIONS + 1) if pick == "organisation" else None,
        category=rng.choice(CATEGORIES).code if pick == "category" else None,
        domain=rng.choice(["tourism", "internet"]) if pick == "domain" else None,
    )


def views(cases: int) -> dict[str, View]:
    def merchant(rng: random.Random) -> int:
        return int(MERCHANTS * rng.random() ** 3) + 1

    return {
        "volume by day": lambda r: volume(_typical(r, cases), Grain.DAY),
        "volume by week and category": lambda r: volume(
            _typical(r, cases), Grain.WEEK, Dimension.CATEGORY
        ),
        "volume by month and platform": lambda r: volume(
            _typical(r, cases), Grain.MONTH, Dimension.PLATFORM
        ),
        "volume by month and district": lambda r: volume(
            _typical(r, cases), Grain.MONTH, Dimension.DISTRICT
        ),
        "merchants by count": lambda r: ranking(_typical(r, cases), Dimension.MERCHANT),
        "merchants by growth": lambda r: ranking(
            _typical(r, cases), Dimension.MERCHANT, order="growth"
        ),
        "platforms by count": lambda r: ranking(_typical(r, cases), Dimension.PLATFORM),
        "funnel": lambda r: funnel(_typical(r, cases)),
        "funnel of one merchant": lambda r: funnel(
            FigureFilter(start=_period(r)[0], end=TODAY, merchant_id=merchant(r))
        ),
        "deadline compliance": lambda r: deadline_compliance(_typical(r, cases)),
        "workload": lambda r: workload(_typical(r, cases)),
        "merchant scorecards": lambda r: scorecards(_typical(r, cases)),
        "cases behind (page 1)": lambda r: cases_behind(_typical(r, cases), page=1),
        "cases behind a merchant": lambda r: cases_behind(
            FigureFilter(start=_period(r)[0], end=TODAY),
            dimension=Dimension.MERCHANT,
            key=str(merchant(r)),
        ),
    }


async def run(args: argparse.Namespace, url: str) -> float:
    rng = random.Random(20261201)
    await migrate(url)
    if not args.reuse:
        writer = Writer(url)
        await writer.open()
        t0 = time.perf_counter()
        try:
            events = await build(writer, args.cases, rng)
        finally:
            await writer.close()
        print(
            f"generated {args.cases} cases and {events} timeline events over three years, "
            f"{PARTNERS} partners, {MERCHANTS} merchants in {time.perf_counter() - t0:.1f} s",
            flush=True,
        )
    await Tortoise.init(config=tortoise_config(url))
    try:
        if not (args.reuse and args.no_recount):
            t0 = time.perf_counter()
            counted = await recount(NOW)
            print(
                f"figures recounted from {counted} cases in {time.perf_counter() - t0:.1f} s",
                flush=True,
            )
        await Case._meta.db.execute_script("ANALYZE")
        measured: dict[str, list[float]] = {}
        baseline: list[float] = []
        for name, view in views(args.cases).items():
            samples = []
            for index in range(args.samples + args.warmup):
                started = time.perf_counter()
                await view(rng)
                elapsed = (time.perf_counter() - started) * 1000
                started = time.perf_counter()
                await Case.get(id=rng.randrange(1, args.cases + 1))
                read = (time.perf_counter() - started) * 1000
                if index >= args.warmup:
                    samples.append(elapsed)
                    baseline.append(read)
            measured[name] = samples
    finally:
        await Tortoise.close_connections()
    everything = [ms for samples in measured.values() for ms in samples]
    for name, samples in measured.items():
        print(
            f"{name:30s} median {statistics.median(samples):8.2f} ms   "
            f"p95 {percentile(samples, 95):8.2f} ms   max {max(samples):8.2f} ms"
        )
    print(
        f"{'baseline (PK read)':30s} median {statistics.median(baseline):8.2f} ms   "
        f"p95 {percentile(baseline, 95):8.2f} ms"
    )
    return percentile(everything, 95)


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--cases", type=int, default=1_000_000)
    parser.add_argument("--samples", type=int, default=40)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="a few thousand cases (smoke test)")
    parser.add_argument(
        "--keep", help="keep the database: the SQLite file's path, or PostgreSQL's database name"
    )
    parser.add_argument(
        "--reuse", action="store_true", help="with --keep: measure the kept database again"
    )
    parser.add_argument("--no-recount", action="store_true", help="with --reuse: keep the figures")
    args = parser.parse_args()
    if args.quick:
        args.cases, args.samples, args.warmup = min(args.cases, 3000), 5, 1
    base = os.environ.get("DATABASE_URL", "")
    if base.startswith(("postgres://", "postgresql://")):
        from tests.support.databases import PostgresAdmin

        admin = PostgresAdmin(base)
        name = args.keep or f"bench_{uuid.uuid4().hex[:8]}"
        if not args.reuse:
            asyncio.run(admin.create(name))
        try:
            print(f"database: PostgreSQL ({name})")
            p95 = asyncio.run(run(args, admin.url_for(name)))
        finally:
            if not args.keep:
                asyncio.run(admin.drop(name))
    elif args.keep:
        print(f"database: SQLite ({args.keep})")
        p95 = asyncio.run(run(args, f"sqlite://{args.keep}"))
    else:
        with tempfile.TemporaryDirectory() as folder:
            print("database: SQLite (temporary file)")
            p95 = asyncio.run(run(args, f"sqlite://{folder}/bench.sqlite3"))
    met = p95 <= GOAL_P95_MS
    print(f"goal: dashboard p95 <= {GOAL_P95_MS:g} ms: {'met' if met else 'NOT met'}")
    if args.quick:
        print("(--quick is a smoke test: its numbers are not for the goal)")
    print(f"dashboard_p95_ms={p95:.1f} cases={args.cases}")
    return 1 if not args.quick and not met else 0


if __name__ == "__main__":
    sys.exit(main())
