"""The figures' pure core: what one case contributes to the rollups, and the small sums and
medians the figures are made of.

A case's facts (`Facts`) are derived from its record alone (the case row, its parties, its
negotiation and settlement, its status changes and its deadlines), so folding a case again is
always safe: the rollups change by what the case contributes now minus what it contributed
before (`contributions`). The same function fills the rollups on a full recount, which is
why the two can be compared.

Pure: no I/O.
"""

from __future__ import annotations

import re
import statistics
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from enum import StrEnum
from types import MappingProxyType
from typing import Any

from cases.clock import local_date
from cases.status import Status


def N_(message: str) -> str:
    """Mark a label for extraction; the pages translate it."""
    return message


class Grain(StrEnum):
    DAY = "day"
    WEEK = "week"
    MONTH = "month"


class Dimension(StrEnum):
    DOMAIN = "domain"
    CATEGORY = "category"
    PLATFORM = "platform"
    MERCHANT = "merchant"
    RESPONDENT_KIND = "respondent_kind"
    DISTRICT = "district"
    ORGANISATION = "organisation"


# The funnel's steps, in order: the status (first reached) that marks each one.
class Stage(StrEnum):
    FILED = "filed"
    ANSWERED = "answered"
    MERCHANT_SETTLED = "merchant_settled"
    ASSIGNED = "assigned"
    SETTLED = "settled"
    FAILED = "failed"
    WITHDRAWN = "withdrawn"
    TIMED_OUT = "timed_out"
    TO_COURT = "to_court"
    COURT_DONE = "court_done"


STAGES: tuple[Stage, ...] = tuple(Stage)

STAGE_LABELS: Mapping[str, str] = MappingProxyType(
    {
        Stage.FILED: N_("Disputes filed"),
        Stage.ANSWERED: N_("The respondent answered"),
        Stage.MERCHANT_SETTLED: N_("Settled by the merchant"),
        Stage.ASSIGNED: N_("Mediator assigned"),
        Stage.SETTLED: N_("Settled in mediation"),
        Stage.FAILED: N_("Mediation failed"),
        Stage.WITHDRAWN: N_("Withdrawn"),
        Stage.TIMED_OUT: N_("Timed out"),
        Stage.TO_COURT: N_("Judicial confirmation or transfer to the court"),
        Stage.COURT_DONE: N_("Confirmed or docketed by the court"),
    }
)

# The statuses whose first reaching marks a stage (ANSWERED is special: see `stage_times`).
_STAGE_STATUSES: Mapping[Stage, frozenset[str]] = MappingProxyType(
    {
        Stage.MERCHANT_SETTLED: frozenset({Status.SETTLED_BY_NEGOTIATION}),
        Stage.ASSIGNED: frozenset({Status.IN_MEDIATION}),
        Stage.SETTLED: frozenset({Status.SETTLED}),
        Stage.FAILED: frozenset({Status.FAILED}),
        Stage.WITHDRAWN: frozenset({Status.WITHDRAWN}),
        Stage.TIMED_OUT: frozenset({Status.TIMED_OUT}),
        Stage.TO_COURT: frozenset({Status.CONFIRMATION_REQUESTED, Status.TRANSFERRED}),
        Stage.COURT_DONE: frozenset({Status.CONFIRMED, Status.DOCKETED}),
    }
)

# A case's outcome for the workload figures.
SETTLED_STATUSES = frozenset(
    {
        Status.SETTLED,
        Status.CONFIRMATION_REQUESTED,
        Status.CONFIRMED,
        Status.CONFIRMATION_REJECTED,
    }
)
FAILED_STATUSES = frozenset({Status.FAILED, Status.TIMED_OUT, Status.TRANSFERRED, Status.DOCKETED})
ENDED_STATUSES = frozenset(
    {
        *SETTLED_STATUSES,
        *FAILED_STATUSES,
        Status.SETTLED_BY_NEGOTIATION,
        Status.REFUSED,
        Status.NO_RESPONSE,
        Status.WITHDRAWN,
        Status.RETURNED_FOR_CORRECTION,
    }
)

ALL_LABEL = "全部"
UNKNOWN_LABEL = N_("Not known")
NO_PLATFORM_LABEL = N_("Not through a platform")

RESPONDENT_KIND_LABELS: Mapping[str, str] = MappingProxyType(
    {
        "natural_person": N_("A person"),
        "organisation": N_("An organisation"),
        "merchant": N_("A merchant"),
        "platform": N_("A platform"),
    }
)

# --- a case's facts ----------------------------------------------------------------------------


@dataclass(frozen=True)
class CaseInputs:
    """What the facts are derived from, read from the case record."""

    case_id: int
    number: str
    filed_at: datetime
    domain: str
    category: str
    status: str
    partner_id: int | None
    partner_name: str
    organisation_id: int | None
    track: str
    mediator_id: int | None
    respondent_kind: str
    respondent_name: str
    respondent_code: str | None
    applicant_address: str
    merchant_id: int | None
    negotiation_state: str | None = None
    negotiation_started_at: datetime | None = None
    first_answer_at: datetime | None = None
    performed_on_time: bool | None = None
    # (when, from, to) of every status change, in order.
    status_changes: Sequence[tuple[datetime, str, str]] = ()
    # (regime, status, due_on, closed_at) of every deadline.
    deadlines: Sequence[tuple[str, str, date | None, datetime | None]] = ()


@dataclass(frozen=True)
class Facts:
    """One case as the figures see it (the row of `case_fact`)."""

    case_id: int
    number: str
    filed_at: datetime
    day: date
    domain: str
    category: str
    status: str
    partner_id: int  # 0: none (the columns are keys of unique indexes: no NULLs)
    platform: str  # "partner:<id>", "respondent:<code or name>" or ""
    platform_label: str
    merchant_id: int
    organisation_id: int
    track: str
    district: str
    respondent_kind: str
    respondent_key: str  # a credit code or a business name; "" for a person
    respondent_label: str
    mediator_id: int
    outcome: str  # open | settled | failed | other
    # days from filing to each stage reached (FILED: 0)
    stage_days: Mapping[str, float] = field(default_factory=dict)
    asked: bool = False  # went to an enrolled merchant first
    counted: bool = False  # its answer was given or is no longer awaited
    answered: bool = False
    answer_hours: float | None = None
    merchant_settled: bool = False
    performance_known: bool = False
    performed_on_time: bool = False
    # (regime, met, days overdue) of every deadline met or missed
    deadlines: tuple[tuple[str, bool, int], ...] = ()


_DISTRICT = re.compile(r"^(?:[^省]{1,8}省)?(?:[^市]{1,8}市)?([^省市区县]{1,8}?[区县])")


def district_of(address: str) -> str:
    """The district (区/县) of an address: 上海市长宁区愚园路100号 -> 长宁区; "" if none."""
    match = _DISTRICT.match((address or "").strip())
    return match.group(1) if match else ""


def _days(since: datetime, until: datetime) -> float:
    return round(max((until - since).total_seconds(), 0.0) / 86400, 3)


def stage_times(inputs: CaseInputs) -> dict[str, datetime]:
    """When the case first reached each stage of the funnel."""
    reached: dict[str, datetime] = {Stage.FILED: inputs.filed_at}
    for at, source, target in inputs.status_changes:
        for stage, statuses in _STAGE_STATUSES.items():
            if target in statuses and stage not in reached:
                reached[stage] = at
        answered = (source == Status.AWAITING_CONSENT and target != Status.NO_RESPONSE) or (
            source == Status.AWAITING_MERCHANT and target in (Status.ACCEPTED,)
        )
        if answered and Stage.ANSWERED not in reached and target != Status.WITHDRAWN:
            reached[Stage.ANSWERED] = at
    if inputs.first_answer_at is not None:
        earlier = reached.get(Stage.ANSWERED)
        if earlier is None or inputs.first_answer_at < earlier:
            reached[Stage.ANSWERED] = inputs.first_answer_at
    return reached


def outcome_of(status: str) -> str:
    if status in SETTLED_STATUSES:
        return "settled"
    if status in FAILED_STATUSES:
        return "failed"
    if status in ENDED_STATUSES:
        return "other"
    return "open"


def facts_of(inputs: CaseInputs) -> Facts:
    reached = stage_times(inputs)
    if inputs.partner_id:
        platform, platform_label = f"partner:{inputs.partner_id}", inputs.partner_name
    elif inputs.respondent_kind == "platform":
        code = inputs.respondent_code or inputs.respondent_name
        platform, platform_label = f"respondent:{code}", inputs.respondent_name
    else:
        platform, platform_label = "", ""
    person = inputs.respondent_kind == "natural_person"
    asked = inputs.negotiation_state is not None
    answered = asked and inputs.first_answer_at is not None
    started = inputs.negotiation_started_at
    deadlines = []
    for regime, status, due_on, closed_at in inputs.deadlines:
        if status == "met":
            deadlines.append((regime, True, 0))
        elif status == "missed":
            late = (local_date(closed_at) - due_on).days if closed_at and due_on else 0
            deadlines.append((regime, False, max(late, 0)))
    return Facts(
        case_id=inputs.case_id,
        number=inputs.number,
        filed_at=inputs.filed_at,
        day=local_date(inputs.filed_at),
        domain=inputs.domain,
        category=inputs.category,
        status=inputs.status,
        partner_id=inputs.partner_id or 0,
        platform=platform[:250],
        platform_label=platform_label[:200],
        merchant_id=inputs.merchant_id or 0,
        organisation_id=inputs.organisation_id or 0,
        track=inputs.track or "",
        district=district_of(inputs.applicant_address),
        respondent_kind=inputs.respondent_kind,
        respondent_key="" if person else (inputs.respondent_code or inputs.respondent_name)[:200],
        respondent_label="" if person else inputs.respondent_name[:200],
        mediator_id=inputs.mediator_id or 0,
        outcome=outcome_of(inputs.status),
        stage_days={s: _days(inputs.filed_at, at) for s, at in reached.items()},
        asked=asked,
        counted=answered or (asked and inputs.negotiation_state != "open"),
        answered=answered,
        answer_hours=(
            round((inputs.first_answer_at - started).total_seconds() / 3600, 3)
            if answered and started is not None and inputs.first_answer_at is not None
            else None
        ),
        merchant_settled=inputs.negotiation_state == "settled",
        performance_known=inputs.performed_on_time is not None,
        performed_on_time=bool(inputs.performed_on_time),
        deadlines=tuple(sorted(deadlines)),
    )


# --- the rollups -------------------------------------------------------------------------------

# The counters every cube keeps per cell.
COUNTERS: tuple[str, ...] = (
    "filed",
    *(f"st_{s.value}" for s in STAGES if s is not Stage.FILED),
    "open_n",
    "settled_n",
    "failed_n",
    "asked",
    "counted",
    "answered",
    "m_settled",
    "perf_known",
    "perf_on_time",
)

# Every dimension column a cube may have, and the facts' attribute it comes from.
DIMENSION_COLUMNS: Mapping[str, str] = MappingProxyType(
    {
        "domain": "domain",
        "category": "category",
        "partner_id": "partner_id",
        "platform": "platform",
        "merchant_id": "merchant_id",
        "organisation_id": "organisation_id",
        "track": "track",
        "district": "district",
        "respondent_kind": "respondent_kind",
        "mediator_id": "mediator_id",
    }
)


@dataclass(frozen=True)
class Cube:
    """A rollup table: per filing day and these dimensions, the COUNTERS."""

    table: str
    dimensions: tuple[str, ...]


# Leanest first: a figure reads the first cube that has every column it filters or groups by.
CUBES: tuple[Cube, ...] = (
    Cube("figure_by_category", ("domain", "category")),
    Cube("figure_by_kind", ("domain", "category", "respondent_kind", "district")),
    Cube("figure_by_partner", ("domain", "category", "partner_id", "platform")),
    Cube(
        "figure_by_organisation",
        ("domain", "category", "organisation_id", "track", "mediator_id"),
    ),
    Cube("figure_by_merchant", ("domain", "category", "merchant_id", "partner_id")),
    Cube("figure_all", tuple(DIMENSION_COLUMNS)),
)

# Days to a stage, per filing day, domain and category (the funnel's medians; with any other
# filter they come from the cases' facts).
STAGE_DAYS_TABLE = "figure_stage_days"
STAGE_DAYS_DIMENSIONS = ("domain", "category")
# Deadlines met and missed, per filing day, regime, organisation and days overdue.
DEADLINE_TABLE = "figure_deadline"
DEADLINE_DIMENSIONS = ("domain", "category", "partner_id", "organisation_id", "track")
# Every rollup has a monthly twin (the same cells, `day` the month's first day), so a long
# period reads whole months from the twin and only its ragged ends from the daily table.
MONTHLY = "_month"

Key = tuple[Any, ...]
Delta = dict[str, dict[Key, Counter[str]]]


def cube_for(columns: Iterable[str]) -> Cube:
    needed = set(columns)
    for cube in CUBES:
        if needed <= set(cube.dimensions):
            return cube
    raise ValueError(f"no cube has {sorted(needed)}")


def counters_of(facts: Facts) -> Counter[str]:
    counts: Counter[str] = Counter(filed=1)
    for stage in facts.stage_days:
        if stage != Stage.FILED:
            counts[f"st_{stage}"] = 1
    counts[f"{facts.outcome}_n"] = 1 if facts.outcome != "other" else 0
    counts["asked"] = int(facts.asked)
    counts["counted"] = int(facts.counted)
    counts["answered"] = int(facts.answered)
    counts["m_settled"] = int(facts.merchant_settled)
    counts["perf_known"] = int(facts.performance_known)
    counts["perf_on_time"] = int(facts.performed_on_time)
    return +counts


def _add(delta: Delta, table: str, key: Key, counts: Mapping[str, int], sign: int) -> None:
    day, *rest = key
    for name, period in ((table, day), (table + MONTHLY, day.replace(day=1))):
        cell = delta.setdefault(name, {}).setdefault((period, *rest), Counter())
        for counter, n in counts.items():
            cell[counter] += sign * n


def add_contributions(delta: Delta, facts: Facts, sign: int) -> None:
    """Add (sign 1) or take away (sign -1) what one case contributes to every rollup."""
    counts = counters_of(facts)
    for cube in CUBES:
        key = (facts.day, *(getattr(facts, DIMENSION_COLUMNS[d]) for d in cube.dimensions))
        _add(delta, cube.table, key, counts, sign)
    common = (facts.day, *(getattr(facts, d) for d in STAGE_DAYS_DIMENSIONS))
    for stage, value in facts.stage_days.items():
        _add(delta, STAGE_DAYS_TABLE, (*common, stage, int(value)), {"n": 1}, sign)
    add_deadlines(delta, facts, sign)


def add_deadlines(delta: Delta, facts: Facts, sign: int) -> None:
    """What one case contributes to the deadline rollups (daily and monthly)."""
    common = (facts.day, *(getattr(facts, d) for d in DEADLINE_DIMENSIONS))
    for regime, met, overdue in facts.deadlines:
        _add(delta, DEADLINE_TABLE, (*common, regime, overdue), {"total": 1, "met": int(met)}, sign)


def table_columns(table: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The (key columns, counter columns) of a rollup table (daily or monthly)."""
    base = table.removesuffix(MONTHLY)
    for cube in CUBES:
        if cube.table == base:
            return ("day", *cube.dimensions), COUNTERS
    if base == STAGE_DAYS_TABLE:
        return ("day", *STAGE_DAYS_DIMENSIONS, "stage", "days"), ("n",)
    if base == DEADLINE_TABLE:
        return ("day", *DEADLINE_DIMENSIONS, "regime", "overdue_days"), ("total", "met")
    raise ValueError(table)


_DAILY_TABLES = (*(c.table for c in CUBES), STAGE_DAYS_TABLE, DEADLINE_TABLE)
ROLLUP_TABLES: tuple[str, ...] = (*_DAILY_TABLES, *(t + MONTHLY for t in _DAILY_TABLES))


def month_segments(start: date | None, end: date | None) -> list[tuple[bool, date, date]]:
    """[start, end] as (monthly?, first, last) pieces: the whole months inside it (monthly
    rows, keyed by their first day) and the ragged days at either end (daily rows)."""
    start = start or date(1970, 1, 1)
    end = end or date(2999, 12, 31)
    if start > end:
        return []
    first_full = start if start.day == 1 else _next_month(start)
    after_end = end + timedelta(days=1)
    last_full = after_end.replace(day=1)  # the first day after the whole months
    if first_full >= last_full:
        return [(False, start, end)]
    pieces = []
    if start < first_full:
        pieces.append((False, start, first_full - timedelta(days=1)))
    pieces.append((True, first_full, last_full - timedelta(days=1)))
    if last_full <= end:
        pieces.append((False, last_full, end))
    return pieces


def _next_month(day: date) -> date:
    return (day.replace(day=28) + timedelta(days=4)).replace(day=1)


# --- periods, growth, medians ------------------------------------------------------------------


def period_start(day: date, grain: Grain) -> date:
    if grain is Grain.WEEK:
        return day - timedelta(days=day.weekday())
    if grain is Grain.MONTH:
        return day.replace(day=1)
    return day


def previous_range(start: date, end: date) -> tuple[date, date]:
    """The period of the same length just before [start, end]."""
    length = (end - start).days + 1
    return start - timedelta(days=length), start - timedelta(days=1)


def growth(count: int, previous: int) -> float | None:
    return count / previous - 1 if previous else None


def share(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def median_of_histogram(histogram: Mapping[int, int]) -> float | None:
    """The median of values given as value -> how many (the middle two averaged)."""
    total = sum(n for n in histogram.values() if n > 0)
    if not total:
        return None
    middle = [(total - 1) // 2, total // 2]
    found: list[float] = []
    seen = 0
    for value in sorted(histogram):
        n = histogram[value]
        if n <= 0:
            continue
        while middle and middle[0] < seen + n:
            found.append(float(value))
            middle.pop(0)
        seen += n
    return sum(found) / len(found)


def median(values: Sequence[float]) -> float | None:
    return float(statistics.median(values)) if values else None
