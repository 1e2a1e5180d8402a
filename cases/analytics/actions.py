"""The figures' writers: folding pending events into each case's facts and the rollups
(`roll_up_due`, a job safe in several processes), and rebuilding everything from the case
record (`recount`).

Folding a case recomputes its facts from its record, then changes every rollup by what the
case contributes now minus what it contributed before, all in one transaction with the
deletion of the pending rows it folded. A run killed at any point leaves either the whole
batch folded or none of it, so the next run resumes where it stopped. One run holds the
lease at a time (a conditional update of the state row, renewed as the first write of every
batch's transaction, so a run that lost it stops before writing anything).
"""

from __future__ import annotations

import json
import os
import secrets
from collections import Counter
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from cases.accounts.models import Organisation, PartnerPlatform
from cases.analytics.models import CaseFact, FigurePending, FigureState
from cases.analytics.rules import (
    COUNTERS,
    CUBES,
    MONTHLY,
    ROLLUP_TABLES,
    STAGE_DAYS_DIMENSIONS,
    STAGE_DAYS_TABLE,
    STAGES,
    CaseInputs,
    Delta,
    Facts,
    Stage,
    add_contributions,
    add_deadlines,
    facts_of,
    table_columns,
)
from cases.clock import local_date
from cases.deadlines.models import CaseDeadline
from cases.models import Case, Party, TimelineEvent
from cases.negotiation.models import Merchant, Negotiation, Settlement
from cases.pause import pause_point
from cases.performance.models import PerformanceStatus
from cases.timeline import EventKind
from cases.transactions import atomic

STATE_ID = 1
LEASE = timedelta(seconds=60)
BATCH = 500
# Rows per statement when writing the rollups (SQLite and PostgreSQL both take 32766
# parameters; the widest table has 30 columns).
ROWS_PER_STATEMENT = 500


def _holder() -> str:
    return f"{os.getpid()}:{secrets.token_hex(6)}"


# --- reading the case record -------------------------------------------------------------------


async def facts_for(case_ids: Sequence[int]) -> list[Facts]:
    """The facts of these cases, from their record (a handful of queries for all of them)."""
    if not case_ids:
        return []
    ids = list(case_ids)
    cases = await Case.filter(id__in=ids).values(
        "id",
        "number",
        "created_at",
        "domain",
        "category",
        "status",
        "partner_id",
        "organisation_id",
        "mediator_id",
    )
    partner_ids = {c["partner_id"] for c in cases if c["partner_id"]}
    partners = dict(
        await PartnerPlatform.filter(id__in=partner_ids).values_list("id", "name")
        if partner_ids
        else []
    )
    org_ids = {c["organisation_id"] for c in cases if c["organisation_id"]}
    tracks = dict(
        await Organisation.filter(id__in=org_ids).values_list("id", "track") if org_ids else []
    )
    applicants: dict[int, dict[str, Any]] = {}
    respondents: dict[int, dict[str, Any]] = {}
    for party in (
        await Party.filter(case_id__in=ids)
        .order_by("id")
        .values("case_id", "side", "kind", "name", "id_number", "service_address")
    ):
        chosen = applicants if party["side"] == "applicant" else respondents
        chosen.setdefault(party["case_id"], party)
    negotiations = {
        n["case_id"]: n
        for n in await Negotiation.filter(case_id__in=ids).values(
            "case_id", "merchant_id", "state", "started_at", "first_answer_at"
        )
    }
    settlements = {
        s["case_id"]: s
        for s in await Settlement.filter(case_id__in=ids).values(
            "case_id", "status", "performed_at", "perform_by", "reopened_at"
        )
    }
    codes = {
        r["id_number"]
        for r in respondents.values()
        if r["id_number"] and r["kind"] != "natural_person"
    }
    merchants = dict(
        await Merchant.filter(uscc__in=codes).values_list("uscc", "id") if codes else []
    )
    changes: dict[int, list[tuple[datetime, str, str]]] = {}
    for case_id, at, moved in await _status_changes(ids):
        changes.setdefault(case_id, []).append((at, moved[0], moved[1]))
    deadlines: dict[int, list[tuple[str, str, Any, Any]]] = {}
    for d in (
        await CaseDeadline.filter(case_id__in=ids)
        .order_by("id")
        .values("case_id", "regime", "status", "due_on", "closed_at")
    ):
        deadlines.setdefault(d["case_id"], []).append(
            (d["regime"], str(d["status"]), d["due_on"], d["closed_at"])
        )
    found = []
    for c in cases:
        cid = c["id"]
        respondent = respondents.get(cid, {})
        negotiation = negotiations.get(cid)
        code = respondent.get("id_number")
        merchant_id = negotiation["merchant_id"] if negotiation else merchants.get(code)
        found.append(
            facts_of(
                CaseInputs(
                    case_id=cid,
                    number=c["number"],
                    filed_at=c["created_at"],
                    domain=str(c["domain"]),
                    category=c["category"],
                    status=str(c["status"]),
                    partner_id=c["partner_id"],
                    partner_name=partners.get(c["partner_id"], ""),
                    organisation_id=c["organisation_id"],
                    track=str(tracks.get(c["organisation_id"], "") or ""),
                    mediator_id=c["mediator_id"],
                    respondent_kind=str(respondent.get("kind", "")),
                    respondent_name=respondent.get("name", ""),
                    respondent_code=code,
                    applicant_address=applicants.get(cid, {}).get("service_address", ""),
                    merchant_id=merchant_id,
                    negotiation_state=str(negotiation["state"]) if negotiation else None,
                    negotiation_started_at=negotiation["started_at"] if negotiation else None,
                    first_answer_at=negotiation["first_answer_at"] if negotiation else None,
                    performed_on_time=_on_time(settlements.get(cid)),
                    status_changes=changes.get(cid, ()),
                    deadlines=deadlines.get(cid, ()),
                )
            )
        )
    return found


async def _status_changes(ids: Sequence[int]) -> list[tuple[int, datetime, list[str]]]:
    """(case, when, [from, to]) of the cases' status changes, in order. In plain SQL: a
    recount reads millions, and the ORM's conversions cost more than the reading."""
    db = TimelineEvent._meta.db
    postgres = db.capabilities.dialect == "postgres"
    listed = ", ".join(str(int(i)) for i in ids)
    _, rows = await db.execute_query(
        f"SELECT case_id, at, {'data::text' if postgres else 'data'} FROM timeline_event "
        f"WHERE case_id IN ({listed}) AND kind = '{EventKind.STATUS_CHANGED.value}' "
        f"ORDER BY at, id"
    )
    found = []
    for case_id, at, data in rows:
        moved = (json.loads(data) if isinstance(data, str | bytes) else data or {}).get("status")
        if isinstance(moved, list) and len(moved) == 2:
            when = at if isinstance(at, datetime) else datetime.fromisoformat(str(at))
            found.append((int(case_id), when, [str(moved[0]), str(moved[1])]))
    return found


def _on_time(settlement: dict[str, Any] | None) -> bool | None:
    """As the merchant's own figures say it (`cases.negotiation.actions.figures_for`)."""
    if settlement is None:
        return None
    status = str(settlement["status"])
    if settlement["performed_at"] is not None and status != PerformanceStatus.DISPUTED:
        return bool(local_date(settlement["performed_at"]) <= settlement["perform_by"])
    if status == PerformanceStatus.DISPUTED or settlement["reopened_at"]:
        return False
    return None


_STAGE_COLUMNS = {s: f"d_{s.value}" for s in STAGES if s is not Stage.FILED}


def facts_from_row(row: CaseFact) -> Facts:
    stage_days = {Stage.FILED.value: 0.0}
    for stage, column in _STAGE_COLUMNS.items():
        value = getattr(row, column)
        if value is not None:
            stage_days[stage.value] = float(value)
    return Facts(
        case_id=row.case_id,
        number=row.number,
        filed_at=row.filed_at,
        day=row.day,
        domain=row.domain,
        category=row.category,
        status=row.status,
        partner_id=row.partner_id,
        platform=row.platform,
        platform_label=row.platform_label,
        merchant_id=row.merchant_id,
        organisation_id=row.organisation_id,
        track=row.track,
        district=row.district,
        respondent_kind=row.respondent_kind,
        respondent_key=row.respondent_key,
        respondent_label=row.respondent_label,
        mediator_id=row.mediator_id,
        outcome=row.outcome,
        stage_days=stage_days,
        asked=row.asked,
        counted=row.counted,
        answered=row.answered,
        answer_hours=row.answer_hours,
        merchant_settled=row.merchant_settled,
        performance_known=row.performance_known,
        performed_on_time=row.performed_on_time,
        deadlines=tuple((str(r), bool(m), int(o)) for r, m, o in row.deadlines or []),
    )


# --- writing the rollups -----------------------------------------------------------------------


def _marks(postgres: bool, start: int, count: int) -> str:
    if postgres:
        return ", ".join(f"${n}" for n in range(start, start + count))
    return ", ".join("?" * count)


async def apply_delta(delta: Delta) -> None:
    """Add every cell's counters to its rollup row (inserted when new): one statement per
    table and chunk of rows."""
    db = CaseFact._meta.db
    postgres = db.capabilities.dialect == "postgres"
    for table, cells in delta.items():
        keys, counters = table_columns(table)
        rows = [
            (key, counts)
            for key, counts in cells.items()
            if any(counts.get(c, 0) for c in counters)
        ]
        width = len(keys) + len(counters)
        updates = ", ".join(f"{c} = {table}.{c} + excluded.{c}" for c in counters)
        for start in range(0, len(rows), ROWS_PER_STATEMENT):
            chunk = rows[start : start + ROWS_PER_STATEMENT]
            values: list[Any] = []
            groups = []
            for n, (key, counts) in enumerate(chunk):
                groups.append(f"({_marks(postgres, n * width + 1, width)})")
                day, *rest = key
                values.append(day if postgres else day.isoformat())
                values.extend(rest)
                values.extend(int(counts.get(c, 0)) for c in counters)
            await db.execute_query(
                f"INSERT INTO {table} ({', '.join((*keys, *counters))}) "
                f"VALUES {', '.join(groups)} "
                f"ON CONFLICT ({', '.join(keys)}) DO UPDATE SET {updates}",
                values,
            )


_FACT_COLUMNS = (
    "case_id", "number", "filed_at", "day", "domain", "category", "status", "partner_id",
    "platform", "platform_label", "merchant_id", "organisation_id", "track", "district",
    "respondent_kind", "respondent_key", "respondent_label", "mediator_id", "outcome",
    *_STAGE_COLUMNS.values(), "asked", "counted", "answered", "answer_hours",
    "merchant_settled", "performance_known", "performed_on_time", "deadlines",
)  # fmt: skip


async def _insert_facts(facts: Sequence[Facts]) -> None:
    """The facts' rows, in plain SQL (executemany): a recount writes a million."""
    if not facts:
        return
    db = CaseFact._meta.db
    postgres = db.capabilities.dialect == "postgres"
    marks = (
        ", ".join(f"${n}" for n in range(1, len(_FACT_COLUMNS) + 1))
        if postgres
        else ", ".join("?" * len(_FACT_COLUMNS))
    )
    rows = []
    for f in facts:
        values: list[Any] = [
            f.case_id, f.number, f.filed_at, f.day, f.domain, f.category, f.status,
            f.partner_id, f.platform, f.platform_label, f.merchant_id, f.organisation_id,
            f.track, f.district, f.respondent_kind, f.respondent_key, f.respondent_label,
            f.mediator_id, f.outcome,
            *(f.stage_days.get(stage) for stage in _STAGE_COLUMNS),
            f.asked, f.counted, f.answered, f.answer_hours, f.merchant_settled,
            f.performance_known, f.performed_on_time,
            json.dumps([list(d) for d in f.deadlines]),
        ]  # fmt: skip
        if not postgres:
            values[2] = f.filed_at.astimezone(UTC).isoformat(sep=" ")
            values[3] = f.day.isoformat()
        rows.append(values)
    await db.execute_many(
        f"INSERT INTO case_fact ({', '.join(_FACT_COLUMNS)}) VALUES ({marks})", rows
    )


async def _replace_facts(case_ids: Iterable[int], facts: Sequence[Facts]) -> None:
    await CaseFact.filter(case_id__in=list(case_ids)).delete()
    await _insert_facts(facts)


# --- the job -----------------------------------------------------------------------------------


async def _ensure_state() -> None:
    if not await FigureState.filter(id=STATE_ID).exists():
        await FigureState.bulk_create([FigureState(id=STATE_ID)], ignore_conflicts=True)


async def _claim(holder: str, now: datetime, lease: timedelta) -> bool:
    await _ensure_state()
    from tortoise.expressions import Q

    claimed = await FigureState.filter(
        Q(id=STATE_ID) & (Q(holder=holder) | Q(lease_until__isnull=True) | Q(lease_until__lt=now))
    ).update(holder=holder, lease_until=now + lease)
    return bool(claimed)


async def _renew(holder: str, now: datetime, lease: timedelta) -> bool:
    """The first write of a batch's transaction (SQLite's write lock; PostgreSQL's row lock
    on the state row, so two runs' batches never interleave)."""
    return bool(
        await FigureState.filter(id=STATE_ID, holder=holder).update(lease_until=now + lease)
    )


async def _release(holder: str) -> None:
    await FigureState.filter(id=STATE_ID, holder=holder).update(holder="", lease_until=None)


async def fold_batch(holder: str, now: datetime, *, batch: int = BATCH) -> int | None:
    """Fold the oldest pending rows (up to `batch`): how many, or None if the lease is lost."""
    async with atomic():
        if not await _renew(holder, now, LEASE):
            return None
        pending = await FigurePending.all().order_by("id").limit(batch).values_list("id", "case_id")
        if not pending:
            return 0
        case_ids = sorted({int(c) for _, c in pending})
        delta: Delta = {}
        for row in await CaseFact.filter(case_id__in=case_ids):
            add_contributions(delta, facts_from_row(row), -1)
        new = await facts_for(case_ids)
        for facts in new:
            add_contributions(delta, facts, 1)
        await pause_point("analytics_fold")
        await _replace_facts(case_ids, new)
        await apply_delta(delta)
        await pause_point("analytics_folded")
        ids = [int(i) for i, _ in pending]
        await FigurePending.filter(id__in=ids).delete()
        await FigureState.filter(id=STATE_ID).update(watermark=max(ids), folded_at=now)
    return len(pending)


async def roll_up_due(now: datetime, *, batch: int = BATCH, max_batches: int = 1000) -> int:
    """Fold what is pending into the figures (the jobs loop calls it every round). Safe in
    several processes: only the holder of the lease folds. Returns how many events."""
    if not await FigurePending.exists():
        return 0
    holder = _holder()
    if not await _claim(holder, now, LEASE):
        return 0
    folded = 0
    try:
        for _ in range(max_batches):
            n = await fold_batch(holder, now, batch=batch)
            if not n:
                break
            folded += n
    finally:
        await _release(holder)
    return folded


async def recount(now: datetime, *, chunk: int = 2000) -> int:
    """Rebuild the facts and every rollup from the case record (the CLI's `mediation
    recount-figures`; and what the property test compares against). Events recorded while it
    runs stay pending and are folded by the next run. Returns how many cases."""
    holder = _holder()
    if not await _claim(holder, now, timedelta(hours=6)):
        raise RuntimeError("the figures are being rolled up by another process")
    try:
        async with atomic():
            await _renew(holder, now, timedelta(hours=6))
            top = await FigurePending.all().order_by("-id").first().values_list("id", flat=True)
            db = CaseFact._meta.db
            for table in ROLLUP_TABLES:
                await db.execute_query(f"DELETE FROM {table}")
            await CaseFact.all().delete()
            counted = 0
            last = 0
            deadlines: Delta = {}
            while True:
                found: list[Any] = list(
                    await Case.filter(id__gt=last)
                    .order_by("id")
                    .limit(chunk)
                    .values_list("id", flat=True)
                )
                ids = [int(i) for i in found]
                if not ids:
                    break
                last = ids[-1]
                facts = await facts_for(ids)
                await _insert_facts(facts)
                for f in facts:
                    add_deadlines(deadlines, f, 1)
                counted += len(facts)
            await _rollups_from_facts()
            await apply_delta(deadlines)
            if top is not None:
                await FigurePending.filter(id__lte=top).delete()
            await FigureState.filter(id=STATE_ID).update(
                watermark=top or 0, recounted_at=now, folded_at=now
            )
    finally:
        await _release(holder)
    return counted


def _counter_sql() -> dict[str, str]:
    """Each rollup counter as an aggregate over case_fact rows (for the recount)."""

    def count_if(condition: str) -> str:
        return f"SUM(CASE WHEN {condition} THEN 1 ELSE 0 END)"

    found = {"filed": "COUNT(*)"}
    for stage in STAGES:
        if stage is not Stage.FILED:
            found[f"st_{stage.value}"] = f"COUNT(d_{stage.value})"
    for outcome in ("open", "settled", "failed"):
        found[f"{outcome}_n"] = count_if(f"outcome = '{outcome}'")
    for counter, column in (
        ("asked", "asked"),
        ("counted", "counted"),
        ("answered", "answered"),
        ("m_settled", "merchant_settled"),
        ("perf_known", "performance_known"),
        ("perf_on_time", "performed_on_time"),
    ):
        found[counter] = count_if(column)
    assert set(found) == set(COUNTERS)
    return found


async def _rollups_from_facts() -> None:
    """Fill the cubes and the stage days (daily and monthly) from case_fact with one
    INSERT ... SELECT ... GROUP BY each: what `add_contributions` adds case by case."""
    db = CaseFact._meta.db
    postgres = db.capabilities.dialect == "postgres"
    month = "CAST(date_trunc('month', day) AS date)" if postgres else "date(day, 'start of month')"
    whole = "TRUNC({})" if postgres else "CAST({} AS INTEGER)"
    counters = _counter_sql()
    for cube in CUBES:
        dims = ", ".join(cube.dimensions)
        groups = ", ".join(str(n) for n in range(1, len(cube.dimensions) + 2))
        columns = ", ".join(counters)
        values = ", ".join(counters.values())
        for table, period in ((cube.table, "day"), (cube.table + MONTHLY, month)):
            await db.execute_query(
                f"INSERT INTO {table} (day, {dims}, {columns}) "
                f"SELECT {period}, {dims}, {values} FROM case_fact GROUP BY {groups}"
            )
    dims = ", ".join(STAGE_DAYS_DIMENSIONS)
    # day, the dimensions, and days (the stage is a constant)
    width = len(STAGE_DAYS_DIMENSIONS)
    stage_groups = ", ".join(str(n) for n in (*range(1, width + 2), width + 3))
    for stage in STAGES:
        if stage is Stage.FILED:
            days, where = "0", ""
        else:
            column = f"d_{stage.value}"
            days, where = whole.format(column), f" WHERE {column} IS NOT NULL"
        for table, period in ((STAGE_DAYS_TABLE, "day"), (STAGE_DAYS_TABLE + MONTHLY, month)):
            await db.execute_query(
                f"INSERT INTO {table} (day, {dims}, stage, days, n) "
                f"SELECT {period}, {dims}, '{stage.value}', {days}, COUNT(*) FROM case_fact"
                f"{where} GROUP BY {stage_groups}"
            )


async def rollup_snapshot() -> dict[str, dict[tuple[Any, ...], Counter[str]]]:
    """Every rollup's non-empty cells (for comparing the rollups with a recount)."""
    db = CaseFact._meta.db
    snapshot: dict[str, dict[tuple[Any, ...], Counter[str]]] = {}
    for table in ROLLUP_TABLES:
        keys, counters = table_columns(table)
        _, rows = await db.execute_query(f"SELECT {', '.join((*keys, *counters))} FROM {table}")
        cells: dict[tuple[Any, ...], Counter[str]] = {}
        for row in rows:
            values = tuple(row)
            counts = Counter(
                {c: int(v) for c, v in zip(counters, values[len(keys) :], strict=True) if v}
            )
            if counts:
                cells[tuple(str(v) for v in values[: len(keys)])] = counts
        snapshot[table] = cells
    return snapshot
