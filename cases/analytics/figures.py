"""The governance figures: what the dashboard, the alerts, the exports and the reports read.

Every figure comes from the rollups (`cases.analytics.models`), kept up to date by the
roll-up job (`cases.analytics.actions.roll_up_due`, every round of the background jobs), so
a figure is as fresh as the last round; a test that files cases calls `roll_up_due(now)`
before reading. Dates are Beijing dates, inclusive.

Keys are strings: ids as str ("" for none), or vocabulary values. Labels: names of
organisations, partner platforms, merchants, mediators and districts, and the categories'
and domains' Chinese names, as they are; labels from a vocabulary (stages, statuses,
regimes, respondent kinds, "not known") are English message ids marked for translation, so a
page passes every label through `_()` (a name or a Chinese label comes back unchanged).

Privacy: nothing here returns a party's name, ID number, mobile, address or message text.
A respondent's key in `respondent_bursts` is a credit code or a business name, never a
person's.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, Literal

from cases.accounts.models import Organisation, PartnerPlatform, User
from cases.analytics.models import CaseFact
from cases.analytics.rules import (
    ALL_LABEL,
    DEADLINE_TABLE,
    MONTHLY,
    NO_PLATFORM_LABEL,
    RESPONDENT_KIND_LABELS,
    STAGE_DAYS_TABLE,
    STAGE_LABELS,
    STAGES,
    UNKNOWN_LABEL,
    Dimension,
    Grain,
    Stage,
    cube_for,
    growth,
    median,
    median_of_histogram,
    month_segments,
    period_start,
    previous_range,
    share,
)
from cases.categories import BY_CODE
from cases.clock import local_date, say_date, utcnow
from cases.negotiation.models import Merchant
from cases.timeline import REGIME_LABELS, STATUS_LABELS

__all__ = [
    "AnonymisedCase",
    "ComplianceRow",
    "Dimension",
    "FigureFilter",
    "FunnelStep",
    "Grain",
    "RankRow",
    "Scorecard",
    "VolumePoint",
    "WorkloadRow",
    "cases_behind",
    "daily_filings",
    "deadline_compliance",
    "funnel",
    "labels_of",
    "merchant_response_rates",
    "ranking",
    "respondent_bursts",
    "scorecards",
    "volume",
    "workload",
]

DOMAIN_LABELS: Mapping[str, str] = {"tourism": "旅游", "internet": "互联网"}


@dataclass(frozen=True)
class FigureFilter:
    start: date | None = None
    end: date | None = None
    domain: str | None = None
    category: str | None = None
    organisation_id: int | None = None
    track: str | None = None
    partner_id: int | None = None
    merchant_id: int | None = None


@dataclass(frozen=True)
class VolumePoint:
    period: date
    key: str
    label: str
    count: int


@dataclass(frozen=True)
class RankRow:
    key: str
    label: str
    count: int
    previous: int
    growth: float | None  # count/previous - 1


@dataclass(frozen=True)
class FunnelStep:
    stage: str
    label: str
    count: int
    rate: float | None  # of filed
    median_days: float | None  # from filing to this stage


@dataclass(frozen=True)
class ComplianceRow:
    regime: str
    regime_label: str
    organisation: str
    met: int
    total: int
    share: float | None
    worst_overdue_days: int


@dataclass(frozen=True)
class WorkloadRow:
    organisation: str
    mediator: str
    open: int
    settled: int
    failed: int
    settlement_rate: float | None


@dataclass(frozen=True)
class Scorecard:
    merchant_id: int
    merchant: str
    cases: int
    response_rate: float | None
    median_hours_to_answer: float | None
    settled_share: float | None
    performed_on_time_share: float | None


@dataclass(frozen=True)
class AnonymisedCase:
    number: str
    domain: str
    category: str
    filed_on: str  # say_date
    status: str  # plain label (a message id)
    organisation: str
    platform: str
    merchant: str


# The column of a dimension (in the rollups and in case_fact), and whether it holds an id.
_COLUMN: Mapping[Dimension, tuple[str, bool]] = {
    Dimension.DOMAIN: ("domain", False),
    Dimension.CATEGORY: ("category", False),
    Dimension.PLATFORM: ("platform", False),
    Dimension.MERCHANT: ("merchant_id", True),
    Dimension.RESPONDENT_KIND: ("respondent_kind", False),
    Dimension.DISTRICT: ("district", False),
    Dimension.ORGANISATION: ("organisation_id", True),
}


# --- SQL over the rollups ----------------------------------------------------------------------


class _Sql:
    """Placeholders and values for one statement, in the connection's dialect."""

    def __init__(self) -> None:
        self.db = CaseFact._meta.db
        self.postgres = self.db.capabilities.dialect == "postgres"
        self.values: list[Any] = []

    def mark(self, value: Any) -> str:
        if isinstance(value, date) and not self.postgres:
            value = value.isoformat()
        self.values.append(value)
        return f"${len(self.values)}" if self.postgres else "?"

    async def rows(self, sql: str) -> list[tuple[Any, ...]]:
        _, rows = await self.db.execute_query(sql, self.values)
        return [tuple(row) for row in rows]


def _as_date(value: Any) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


def _filter_columns(f: FigureFilter) -> dict[str, Any]:
    found: dict[str, Any] = {}
    if f.domain:
        found["domain"] = f.domain
    if f.category:
        found["category"] = f.category
    if f.organisation_id is not None:
        found["organisation_id"] = f.organisation_id
    if f.track:
        found["track"] = f.track
    if f.partner_id is not None:
        found["partner_id"] = f.partner_id
    if f.merchant_id is not None:
        found["merchant_id"] = f.merchant_id
    return found


async def _rollup(
    table: str,
    f: FigureFilter,
    group: Sequence[str],
    sums: Sequence[str],
    *,
    start: date | None,
    end: date | None,
    raw: tuple[str, ...] = (),
    extra: Mapping[str, Any] | None = None,
    monthly: bool = True,
    tail: str = "",
) -> list[tuple[Any, ...]]:
    """`sums` per `group` of a rollup's cells in [start, end] that match the filter: whole
    months from its monthly twin, the ragged ends from the daily table."""
    if monthly:
        pieces = month_segments(start, end)
    else:
        pieces = [(False, start or date(1970, 1, 1), end or date(2999, 12, 31))]
    q = _Sql()
    selects = []
    grouped = ", ".join(group)
    for is_month, first, last in pieces:
        clauses = [f"day >= {q.mark(first)}", f"day <= {q.mark(last)}", *raw]
        matching = {**_filter_columns(f), **(extra or {})}
        clauses += [f"{c} = {q.mark(v)}" for c, v in matching.items()]
        columns = ", ".join([*group, *(f"SUM({c}) AS {c}" for c in sums)])
        selects.append(
            f"SELECT {columns} FROM {table + MONTHLY if is_month else table} "
            f"WHERE {' AND '.join(clauses)}{' GROUP BY ' + grouped if group else ''}"
        )
    if not selects:
        return []
    outer = ", ".join([*group, *(f"SUM({c})" for c in sums)])
    return await q.rows(
        f"SELECT {outer} FROM ({' UNION ALL '.join(selects)}) AS pieces"
        f"{' GROUP BY ' + grouped if group else ''}{tail}"
    )


def _key_value(by: Dimension, key: str) -> Any:
    _, is_id = _COLUMN[by]
    if is_id:
        return int(key) if key else 0
    return key


def _key_of(by: Dimension, value: Any) -> str:
    _, is_id = _COLUMN[by]
    if is_id:
        return str(value) if value else ""
    return str(value or "")


async def labels_of(by: Dimension, keys: Iterable[str]) -> dict[str, str]:
    """The label of each key of a dimension (see the module's note on labels)."""
    wanted = {k for k in keys}
    ids = [int(k) for k in wanted if k.isdigit()]
    labels: dict[str, str] = {}
    if by is Dimension.DOMAIN:
        labels = {k: DOMAIN_LABELS.get(k, k) for k in wanted}
    elif by is Dimension.CATEGORY:
        labels = {k: BY_CODE[k].zh if k in BY_CODE else k for k in wanted}
    elif by is Dimension.RESPONDENT_KIND:
        labels = {k: RESPONDENT_KIND_LABELS.get(k, k) for k in wanted}
    elif by is Dimension.DISTRICT:
        labels = {k: k for k in wanted}
    elif by is Dimension.MERCHANT and ids:
        labels = {str(i): n for i, n in await Merchant.filter(id__in=ids).values_list("id", "name")}
    elif by is Dimension.ORGANISATION and ids:
        labels = {
            str(i): n for i, n in await Organisation.filter(id__in=ids).values_list("id", "name")
        }
    elif by is Dimension.PLATFORM:
        partner_ids = [int(k.split(":", 1)[1]) for k in wanted if k.startswith("partner:")]
        names = dict(
            await PartnerPlatform.filter(id__in=partner_ids).values_list("id", "name")
            if partner_ids
            else []
        )
        for k in wanted:
            kind, _, rest = k.partition(":")
            if kind == "partner" and rest.isdigit():
                labels[k] = names.get(int(rest), rest)
        others = [k for k in wanted if k.startswith("respondent:")]
        if others:
            for key, label in (
                await CaseFact.filter(platform__in=others)
                .limit(len(others) * 50)
                .values_list("platform", "platform_label")
            ):
                labels.setdefault(key, label)
            for k in others:
                labels.setdefault(k, k.partition(":")[2])
    for k in wanted:
        if not k:
            labels[k] = NO_PLATFORM_LABEL if by is Dimension.PLATFORM else UNKNOWN_LABEL
        labels.setdefault(k, k)
    return labels


# --- the figures -------------------------------------------------------------------------------


async def volume(f: FigureFilter, grain: Grain, by: Dimension | None = None) -> list[VolumePoint]:
    """Filings per period (the grain's first day), overall or per key of `by`."""
    grain = Grain(grain)
    columns = set(_filter_columns(f))
    key_column = _COLUMN[Dimension(by)][0] if by is not None else None
    if key_column:
        columns.add(key_column)
    cube = cube_for(columns)
    rows = await _rollup(
        cube.table,
        f,
        ["day", key_column] if key_column else ["day"],
        ["filed"],
        start=f.start,
        end=f.end,
        monthly=grain is Grain.MONTH,
    )
    if not key_column:
        rows = [(day, "", n) for day, n in rows]
    counts: dict[tuple[date, str], int] = defaultdict(int)
    for day, value, n in rows:
        key = _key_of(Dimension(by), value) if by is not None else ""
        counts[(period_start(_as_date(day), grain), key)] += int(n or 0)
    if by is None:
        labels = {"": ALL_LABEL}
    else:
        labels = await labels_of(Dimension(by), {k for _, k in counts})
    return [
        VolumePoint(period, key, labels[key], n) for (period, key), n in sorted(counts.items()) if n
    ]


def _window(f: FigureFilter) -> tuple[date, date]:
    end = f.end or local_date(utcnow())
    start = f.start or end - timedelta(days=29)
    return start, end


async def ranking(
    f: FigureFilter,
    by: Dimension,
    *,
    order: Literal["count", "growth"] = "count",
    limit: int = 10,
) -> list[RankRow]:
    """The top keys of `by` in the filter's period (the last 30 days by default), with the
    count of the same-length period just before. Cases without a key are left out."""
    by = Dimension(by)
    start, end = _window(f)
    before, _ = previous_range(start, end)
    key_column = _COLUMN[by][0]
    cube = cube_for({*_filter_columns(f), key_column})
    now_rows = await _rollup(cube.table, f, [key_column], ["filed"], start=start, end=end)
    before_rows = await _rollup(
        cube.table, f, [key_column], ["filed"], start=before, end=start - timedelta(days=1)
    )
    previous_of = {_key_of(by, value): int(n or 0) for value, n in before_rows}
    found = [
        (_key_of(by, value), int(n or 0), previous_of.get(_key_of(by, value), 0))
        for value, n in now_rows
    ]
    found = [row for row in found if row[0] and row[1]]
    if order == "growth":
        found.sort(
            key=lambda r: (growth(r[1], r[2]) is None, -(growth(r[1], r[2]) or 0), -r[1], r[0])
        )
    else:
        found.sort(key=lambda r: (-r[1], r[0]))
    found = found[:limit]
    labels = await labels_of(by, [k for k, _, _ in found])
    return [RankRow(k, labels[k], n, p, growth(n, p)) for k, n, p in found]


async def funnel(f: FigureFilter) -> list[FunnelStep]:
    """How many of the cases filed in the period reached each stage, the share of those
    filed, and the median days from filing to the stage."""
    columns = _filter_columns(f)
    cube = cube_for(columns)
    stage_columns = ["filed", *(f"st_{s.value}" for s in STAGES if s is not Stage.FILED)]
    found = await _rollup(cube.table, f, [], stage_columns, start=f.start, end=f.end)
    row = found[0] if found else tuple(0 for _ in stage_columns)
    counts = {s.value: int(n or 0) for s, n in zip(STAGES, row, strict=True)}
    medians = await _stage_medians(f)
    filed = counts[Stage.FILED]
    return [
        FunnelStep(
            s.value,
            STAGE_LABELS[s],
            counts[s.value],
            share(counts[s.value], filed),
            medians.get(s.value),
        )
        for s in STAGES
    ]


async def _stage_medians(f: FigureFilter) -> dict[str, float | None]:
    histograms: dict[str, dict[int, int]] = defaultdict(dict)
    if set(_filter_columns(f)) <= {"domain", "category"}:
        for stage, days, n in await _rollup(
            STAGE_DAYS_TABLE, f, ["stage", "days"], ["n"], start=f.start, end=f.end
        ):
            histograms[str(stage)][int(days)] = int(n or 0)
        return {stage: median_of_histogram(h) for stage, h in histograms.items()}
    # Any other filter: from the cases' facts (an index leads with each of those columns).
    columns = [f"d_{s.value}" for s in STAGES if s is not Stage.FILED]
    found = 0
    for row in await _facts(f).values_list(*columns):
        found += 1
        for stage, value in zip(STAGES[1:], row, strict=True):
            if value is not None:
                cell = histograms[stage.value]
                cell[int(value)] = cell.get(int(value), 0) + 1
    medians = {stage: median_of_histogram(h) for stage, h in histograms.items()}
    medians[Stage.FILED.value] = 0.0 if found else None
    return medians


def _facts(f: FigureFilter) -> Any:
    conditions: dict[str, Any] = dict(_filter_columns(f))
    if f.start is not None:
        conditions["day__gte"] = f.start
    if f.end is not None:
        conditions["day__lte"] = f.end
    return CaseFact.filter(**conditions)


async def _organisation_names(ids: Iterable[int]) -> dict[int, str]:
    wanted = [i for i in set(ids) if i]
    names = (
        dict(await Organisation.filter(id__in=wanted).values_list("id", "name")) if wanted else {}
    )
    return {i: names.get(i, UNKNOWN_LABEL) for i in set(ids) | {0}} | {0: UNKNOWN_LABEL}


async def deadline_compliance(f: FigureFilter) -> list[ComplianceRow]:
    """Per regime and organisation: deadlines met of those met or missed (of cases filed in
    the period), and the most days a missed one was overdue."""
    cells: dict[tuple[str, int], list[int]] = defaultdict(lambda: [0, 0, 0])
    if f.merchant_id is None:
        for regime, org, overdue, total, met in await _rollup(
            DEADLINE_TABLE,
            f,
            ["regime", "organisation_id", "overdue_days"],
            ["total", "met"],
            start=f.start,
            end=f.end,
        ):
            cell = cells[(str(regime), int(org))]
            cell[0] += int(met or 0)
            cell[1] += int(total or 0)
            if int(total or 0) > int(met or 0):
                cell[2] = max(cell[2], int(overdue))
    else:
        for org, deadlines in await _facts(f).values_list("organisation_id", "deadlines"):
            for regime, met, overdue in deadlines or []:
                cell = cells[(str(regime), int(org))]
                cell[0] += int(bool(met))
                cell[1] += 1
                if not met:
                    cell[2] = max(cell[2], int(overdue))
    names = await _organisation_names(org for _, org in cells)
    return [
        ComplianceRow(
            regime,
            REGIME_LABELS.get(regime, regime),
            names.get(org, UNKNOWN_LABEL),
            met,
            total,
            share(met, total),
            worst,
        )
        for (regime, org), (met, total, worst) in sorted(
            cells.items(), key=lambda item: (item[0][0], names.get(item[0][1], ""))
        )
        if total
    ]


async def workload(f: FigureFilter) -> list[WorkloadRow]:
    """Per organisation and mediator (cases filed in the period that reached a mediator):
    open, settled, failed, and the settlement rate of those ended either way."""
    cube = cube_for({*_filter_columns(f), "organisation_id", "mediator_id"})
    rows = await _rollup(
        cube.table,
        f,
        ["organisation_id", "mediator_id"],
        ["open_n", "settled_n", "failed_n"],
        start=f.start,
        end=f.end,
        raw=("mediator_id <> 0",),
    )
    orgs = await _organisation_names(int(r[0]) for r in rows)
    mediator_ids = [int(r[1]) for r in rows]
    mediators = (
        dict(await User.filter(id__in=mediator_ids).values_list("id", "display_name"))
        if mediator_ids
        else {}
    )
    found = [
        WorkloadRow(
            orgs.get(int(org), UNKNOWN_LABEL),
            mediators.get(int(mediator), UNKNOWN_LABEL),
            int(o or 0),
            int(s or 0),
            int(fl or 0),
            share(int(s or 0), int(s or 0) + int(fl or 0)),
        )
        for org, mediator, o, s, fl in rows
    ]
    return sorted(found, key=lambda r: (r.organisation, r.mediator))


async def scorecards(f: FigureFilter, limit: int = 20) -> list[Scorecard]:
    """The enrolled merchants with the most cases in the period: response rate, median hours
    to the first answer, share of their disputes settled, share performed on time."""
    cube = cube_for({*_filter_columns(f), "merchant_id"})
    rows = await _rollup(
        cube.table,
        f,
        ["merchant_id"],
        ["filed", "asked", "counted", "answered", "m_settled", "perf_known", "perf_on_time"],
        start=f.start,
        end=f.end,
        raw=("merchant_id <> 0",),
        tail=f" ORDER BY SUM(filed) DESC, merchant_id LIMIT {int(limit)}",
    )
    ids = [int(r[0]) for r in rows]
    names = dict(await Merchant.filter(id__in=ids).values_list("id", "name")) if ids else {}
    hours: dict[int, list[float]] = defaultdict(list)
    if ids:
        for merchant, value in (
            await _facts(f)
            .filter(merchant_id__in=ids, answer_hours__isnull=False)
            .values_list("merchant_id", "answer_hours")
        ):
            hours[int(merchant)].append(float(value))
    return [
        Scorecard(
            merchant_id=int(m),
            merchant=names.get(int(m), UNKNOWN_LABEL),
            cases=int(filed or 0),
            response_rate=share(int(answered or 0), int(counted or 0)),
            median_hours_to_answer=median(hours[int(m)]),
            settled_share=share(int(settled or 0), int(asked or 0)),
            performed_on_time_share=share(int(on_time or 0), int(known or 0)),
        )
        for m, filed, asked, counted, answered, settled, known, on_time in rows
    ]


async def daily_filings(by: Dimension, since: date, until: date) -> dict[str, dict[date, int]]:
    """key -> {day: filings} from `since` to `until` (days without filings absent; cases
    without a key left out): what the early-warning rules read."""
    by = Dimension(by)
    column = _COLUMN[by][0]
    cube = cube_for({column})
    rows = await _rollup(
        cube.table,
        FigureFilter(),
        [column, "day"],
        ["filed"],
        start=since,
        end=until,
        monthly=False,
    )
    found: dict[str, dict[date, int]] = defaultdict(dict)
    for value, day, n in rows:
        key = _key_of(by, value)
        if key and n:
            found[key][_as_date(day)] = found[key].get(_as_date(day), 0) + int(n)
    return dict(found)


async def respondent_bursts(since: datetime, minimum: int) -> list[RankRow]:
    """Respondents (a credit code, or a business's name; never a person) with at least
    `minimum` filings since `since`, most first. `previous` is the filings in the same length
    of time just before."""
    now = utcnow()
    length = max(now - since, timedelta(0))
    counts: dict[str, list[Any]] = {}
    for key, label, filed_at in await CaseFact.filter(
        filed_at__gte=since - length, respondent_key__not=""
    ).values_list("respondent_key", "respondent_label", "filed_at"):
        cell = counts.setdefault(key, [label, 0, 0])
        cell[1 if filed_at >= since else 2] += 1
    found = [
        RankRow(key, label, n, p, growth(n, p))
        for key, (label, n, p) in counts.items()
        if n >= minimum
    ]
    return sorted(found, key=lambda r: (-r.count, r.key))


async def merchant_response_rates(since: date) -> dict[str, tuple[str, int, int]]:
    """merchant key -> (its name, disputes it answered, disputes whose answer was due or
    given) for the cases filed since `since`."""
    cube = cube_for({"merchant_id"})
    rows = await _rollup(
        cube.table,
        FigureFilter(),
        ["merchant_id"],
        ["answered", "counted"],
        start=since,
        end=None,
        raw=("merchant_id <> 0",),
    )
    ids = [int(r[0]) for r in rows]
    names = dict(await Merchant.filter(id__in=ids).values_list("id", "name")) if ids else {}
    return {
        str(m): (names.get(int(m), UNKNOWN_LABEL), int(a or 0), int(c or 0))
        for m, a, c in rows
        if c
    }


async def _behind_total(
    f: FigureFilter, dimension: Dimension | None, key: str | None, stage: str | None
) -> int:
    """How many cases `cases_behind` lists in all, from the rollups (a count over the
    cases' facts would read every one of them)."""
    extra: dict[str, Any] = {}
    if dimension is not None and key is not None:
        extra[_COLUMN[Dimension(dimension)][0]] = _key_value(Dimension(dimension), key)
    counter = "filed" if not stage or Stage(stage) is Stage.FILED else f"st_{Stage(stage).value}"
    cube = cube_for({*_filter_columns(f), *extra})
    rows = await _rollup(cube.table, f, [], [counter], start=f.start, end=f.end, extra=extra)
    return int(rows[0][0] or 0) if rows else 0


async def cases_behind(
    f: FigureFilter,
    *,
    dimension: Dimension | None = None,
    key: str | None = None,
    stage: str | None = None,
    page: int = 1,
    per_page: int = 50,
) -> tuple[list[AnonymisedCase], int]:
    """The anonymised cases behind a figure (newest first), one page, and how many in all."""
    query = _facts(f)
    if dimension is not None and key is not None:
        query = query.filter(
            **{_COLUMN[Dimension(dimension)][0]: _key_value(Dimension(dimension), key)}
        )
    if stage and Stage(stage) is not Stage.FILED:
        query = query.filter(**{f"d_{Stage(stage).value}__isnull": False})
    total = await _behind_total(f, dimension, key, stage)
    page = max(page, 1)
    rows = (
        await query.order_by("-filed_at", "-case_id")
        .offset((page - 1) * per_page)
        .limit(per_page)
        .values(
            "number",
            "domain",
            "category",
            "filed_at",
            "status",
            "organisation_id",
            "platform_label",
            "merchant_id",
        )
    )
    orgs = await _organisation_names(int(r["organisation_id"]) for r in rows)
    merchant_ids = [int(r["merchant_id"]) for r in rows if r["merchant_id"]]
    merchants = (
        dict(await Merchant.filter(id__in=merchant_ids).values_list("id", "name"))
        if merchant_ids
        else {}
    )
    return [
        AnonymisedCase(
            number=r["number"],
            domain=DOMAIN_LABELS.get(r["domain"], r["domain"]),
            category=BY_CODE[r["category"]].zh if r["category"] in BY_CODE else r["category"],
            filed_on=say_date(r["filed_at"], "zh_CN"),
            status=STATUS_LABELS.get(r["status"], r["status"]),
            organisation=orgs.get(int(r["organisation_id"]), UNKNOWN_LABEL),
            platform=r["platform_label"] or "",
            merchant=merchants.get(int(r["merchant_id"]), ""),
        )
        for r in rows
    ], total
