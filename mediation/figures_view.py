"""What the governance dashboard shows of the figures (`cases.analytics.figures`): the
filter read from a query string, and each view as a panel, a chart with its table beside it.
The same `Table`s are the page's, the exports' (mediation/exports.py) and a PDF's.

Nothing here reads a party: the figures are counts and the case lists are anonymised
(`AnonymisedCase`: number, category, dates, status, organisation, platform, merchant).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, fields, replace
from datetime import date, timedelta
from typing import Any
from urllib.parse import urlencode

from markupsafe import Markup

from cases.accounts.models import Track
from cases.analytics.figures import (
    AnonymisedCase,
    ComplianceRow,
    Dimension,
    FigureFilter,
    FunnelStep,
    Grain,
    RankRow,
    Scorecard,
    VolumePoint,
    WorkloadRow,
)
from cases.analytics.rules import Stage
from cases.categories import BY_CODE, Domain
from mediation.charts import Series, bar_chart, line_chart
from mediation.exports import Cell, Table

Say = Callable[[str], str]


def N_(message: str) -> str:
    return message


# The views of the dashboard, in the order of its tabs: (key, title).
VIEWS = (
    ("volume", N_("Filings over time")),
    ("ranking", N_("Where disputes come from")),
    ("funnel", N_("From filing to outcome")),
    ("compliance", N_("Time limits met")),
    ("workload", N_("Mediators' workload")),
    ("scorecards", N_("Merchants' scorecards")),
)
VIEW_TITLES = dict(VIEWS)

GRAIN_LABELS = {Grain.DAY: N_("By day"), Grain.WEEK: N_("By week"), Grain.MONTH: N_("By month")}
DIMENSION_LABELS = {
    Dimension.DOMAIN: N_("Domain"),
    Dimension.CATEGORY: N_("Category"),
    Dimension.PLATFORM: N_("Platform"),
    Dimension.MERCHANT: N_("Merchant"),
    Dimension.RESPONDENT_KIND: N_("Kind of respondent"),
    Dimension.DISTRICT: N_("Applicant's district"),
    Dimension.ORGANISATION: N_("Organisation"),
}
DOMAIN_LABELS = {Domain.TOURISM: N_("Tourism"), Domain.INTERNET: N_("Internet")}
ORDER_LABELS = {"count": N_("Most cases"), "growth": N_("Fastest growing")}

# How far back the dashboard looks unless told (Beijing days, today included).
DEFAULT_DAYS = 182
# The longest period one view covers, and the most series one chart draws (the rest are
# summed as "Other" in the chart; the table keeps every key).
MAX_DAYS = 3 * 366
MAX_SERIES = 8
# The most bars a chart draws (its table has every row).
MAX_BARS = 15
# The most keys the volume's totals list (a dimension may have thousands: merchants).
MAX_TOTALS = 100
# The longest period shown day by day; a longer one is shown by week.
MAX_DAYS_BY_DAY = 92
PER_PAGE = 50


@dataclass(frozen=True)
class Choices:
    """What a view was asked for beyond the filter."""

    grain: Grain = Grain.WEEK
    by: Dimension | None = None
    order: str = "count"
    dimension: Dimension | None = None  # the drill-down's
    key: str | None = None
    stage: str | None = None
    page: int = 1


# No figure is older than this (and no date arithmetic runs off the calendar's start).
EARLIEST = date(2000, 1, 1)


def read_date(text: str | None) -> date | None:
    """A YYYY-MM-DD date, or None."""
    if not text or len(text) != 10:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        return None


def _day(text: str | None) -> date | None:
    found = read_date(text)
    return None if found is None else max(found, EARLIEST)


def _id(text: str | None) -> int | None:
    if text is None or not text.isdigit() or len(text) > 9:
        return None
    return int(text)


def _word(text: str | None, allowed: Any) -> str | None:
    return text if text and text in allowed else None


def read_filter(
    query: Mapping[str, str], today: date, *, organisation_id: int | None = None
) -> FigureFilter:
    """The filter a query string asks for; what is not a valid value is left out. Dates are
    Beijing dates, inclusive; the default is the last DEFAULT_DAYS days; a period is at most
    MAX_DAYS long and never ends after today. `organisation_id`, when given, is forced (an
    organisation's admin sees only their own)."""
    end = min(_day(query.get("end")) or today, today)
    start = min(_day(query.get("start")) or end - timedelta(days=DEFAULT_DAYS - 1), today)
    if start > end:
        start, end = end, start
    start = max(start, end - timedelta(days=MAX_DAYS - 1), EARLIEST)
    domain = _word(query.get("domain"), {d.value for d in Domain})
    category = _word(query.get("category"), BY_CODE)
    if domain and category and BY_CODE[category].domain != domain:
        category = None
    return FigureFilter(
        start=start,
        end=end,
        domain=domain,
        category=category,
        organisation_id=organisation_id
        if organisation_id is not None
        else _id(query.get("organisation")),
        track=_word(query.get("track"), {t.value for t in Track}),
        partner_id=_id(query.get("partner")),
        merchant_id=_id(query.get("merchant")),
    )


# A drill-down's key for "none" (no merchant, no platform): a link cannot carry an empty
# value the filter would keep.
NO_KEY = "~none"
# The dimensions whose keys are ids.
ID_DIMENSIONS = frozenset({Dimension.MERCHANT, Dimension.ORGANISATION})


def _drill_key(dimension: Dimension | None, text: str | None) -> str | None:
    if dimension is None or text is None or text == "":
        return None
    if text == NO_KEY:
        return ""
    if dimension in ID_DIMENSIONS and _id(text) is None:
        return None
    return text[:100]


def fitting_grain(f: FigureFilter, grain: Grain) -> Grain:
    """The grain a period is shown in: day by day only up to MAX_DAYS_BY_DAY days."""
    if grain is Grain.DAY and f.start and f.end and (f.end - f.start).days >= MAX_DAYS_BY_DAY:
        return Grain.WEEK
    return grain


def read_choices(query: Mapping[str, str]) -> Choices:
    """The view's own choices; what is not a valid value is left out (a key that names no
    value of its dimension, a stage that is none)."""
    grain = _word(query.get("grain"), {g.value for g in Grain})
    by = _word(query.get("by"), {d.value for d in Dimension})
    dimension_word = _word(query.get("dimension"), {d.value for d in Dimension})
    dimension = Dimension(dimension_word) if dimension_word else None
    key = _drill_key(dimension, query.get("key"))
    page = _id(query.get("page")) or 1
    return Choices(
        grain=Grain(grain) if grain else Grain.WEEK,
        by=Dimension(by) if by else None,
        order="growth" if query.get("order") == "growth" else "count",
        dimension=dimension if key is not None else None,
        key=key,
        stage=_word(query.get("stage"), {s.value for s in Stage}),
        page=max(1, min(page, 100_000)),
    )


_QUERY_NAMES = {
    "start": "start",
    "end": "end",
    "domain": "domain",
    "category": "category",
    "organisation_id": "organisation",
    "track": "track",
    "partner_id": "partner",
    "merchant_id": "merchant",
}


def filter_query(f: FigureFilter, **more: Any) -> dict[str, str]:
    """The query string of a filter (and more choices), for links and the export buttons."""
    query: dict[str, str] = {}
    for item in fields(f):
        value = getattr(f, item.name)
        if value is not None:
            query[_QUERY_NAMES[item.name]] = (
                value.isoformat() if isinstance(value, date) else str(value)
            )
    for name, value in more.items():
        if value is not None and value != "":
            query[name] = str(value)
    return query


def link(path: str, f: FigureFilter, **more: Any) -> str:
    return f"{path}?{urlencode(filter_query(f, **more))}"


def cases_link(f: FigureFilter, **more: Any) -> str:
    if more.get("key") == "":
        more["key"] = NO_KEY
    return link("/governance/cases", f, **more)


# --- words ---------------------------------------------------------------------------------


def say_period(period: date, grain: Grain, locale: str) -> str:
    zh = locale.startswith("zh")
    if grain is Grain.MONTH:
        return f"{period.year}年{period.month}月" if zh else period.strftime("%b %Y")
    if grain is Grain.WEEK:
        return f"{period.month}月{period.day}日起" if zh else f"w/c {period.day} {period:%b}"
    return f"{period.month}月{period.day}日" if zh else f"{period.day} {period:%b}"


def period_end(period: date, grain: Grain) -> date:
    if grain is Grain.DAY:
        return period
    if grain is Grain.WEEK:
        return period + timedelta(days=6)
    following = date(period.year + period.month // 12, period.month % 12 + 1, 1)
    return following - timedelta(days=1)


def period_start(day: date, grain: Grain) -> date:
    if grain is Grain.WEEK:
        return day - timedelta(days=day.weekday())
    if grain is Grain.MONTH:
        return day.replace(day=1)
    return day


def periods_of(f: FigureFilter, grain: Grain, found: Sequence[date] = ()) -> list[date]:
    """Every period of the filter's dates (a period without cases is a zero, not a gap),
    with any period `found` outside them."""
    every = set(found)
    if f.start is not None and f.end is not None:
        day = period_start(f.start, grain)
        while day <= f.end:
            every.add(day)
            day = period_end(day, grain) + timedelta(days=1)
    return sorted(every)


def say_share(value: float | None) -> str:
    return "—" if value is None else f"{value:.0%}"


def say_growth(value: float | None, say: Say) -> str:
    if value is None:
        return say(N_("new"))
    return f"{value:+.0%}".replace("-", "−")


def say_number(value: float | None, digits: int = 1) -> str:
    return "—" if value is None else f"{value:.{digits}f}"


# --- panels --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Panel:
    """One figure of the dashboard: its chart and its table (rows may link to the cases
    behind them), and the name its downloads take."""

    key: str
    title: str
    chart: Markup | None
    table: Table
    # Per row of the table: the words shown for its cells (the table keeps raw numbers for
    # the downloads), and where the row drills down to.
    shown: tuple[tuple[str, ...], ...]

    @property
    def lines(self) -> tuple[tuple[tuple[str, ...], str | None], ...]:
        """Each row's words with where it drills down to."""
        links = self.table.links or (None,) * len(self.shown)
        return tuple(zip(self.shown, links, strict=True))


def _panel(
    key: str, title: str, chart: Markup | None, table: Table, shown: Sequence[tuple[str, ...]]
) -> Panel:
    return Panel(key=key, title=title, chart=chart, table=table, shown=tuple(shown))


def _words(row: tuple[Cell, ...]) -> tuple[str, ...]:
    return tuple("—" if cell is None else str(cell) for cell in row)


def volume_panel(
    points: list[VolumePoint],
    f: FigureFilter,
    grain: Grain,
    by: Dimension | None,
    say: Say,
    locale: str,
) -> Panel:
    periods = periods_of(f, grain, [p.period for p in points])
    labels: dict[str, str] = {}
    totals: dict[str, int] = {}
    counts: dict[tuple[date, str], int] = {}
    per_period: dict[date, int] = {}
    for p in points:
        if p.key not in labels:
            labels[p.key] = say(p.label)
        totals[p.key] = totals.get(p.key, 0) + p.count
        counts[(p.period, p.key)] = counts.get((p.period, p.key), 0) + p.count
        per_period[p.period] = per_period.get(p.period, 0) + p.count
    if not totals and by is None:
        labels[""], totals[""] = say(N_("All")), 0
    keys = sorted(totals, key=lambda k: (-totals[k], labels[k]))
    drawn, rest = keys[:MAX_SERIES], keys[MAX_SERIES:]
    series = [
        Series(labels[k] or say(N_("All")), tuple(counts.get((d, k), 0) for d in periods))
        for k in drawn
    ]
    if rest:
        series.append(
            Series(
                say(N_("Other")),
                tuple(
                    per_period.get(d, 0) - sum(counts.get((d, k), 0) for k in drawn)
                    for d in periods
                ),
            )
        )
    x_labels = [say_period(d, grain, locale) for d in periods]
    title = say(VIEW_TITLES["volume"])
    chart = line_chart(title, x_labels, series)
    # The table has the chart's columns (the largest keys, the rest as "Other"); every key
    # with its total is in the totals panel.
    headings = (say(N_("Period")), *(s.name for s in series))
    if len(series) > 1:
        headings = (*headings, say(N_("Total")))
    rows: list[tuple[Cell, ...]] = []
    links: list[str | None] = []
    for index, d in enumerate(periods):
        row: tuple[Cell, ...] = (x_labels[index], *(s.values[index] for s in series))
        if len(series) > 1:
            row = (*row, per_period.get(d, 0))
        rows.append(row)
        within = replace(f, start=max(d, f.start or d), end=min(period_end(d, grain), f.end or d))
        links.append(cases_link(within) if per_period.get(d) else None)
    table = Table(title=title, headings=headings, rows=tuple(rows), links=tuple(links))
    return _panel("volume", title, chart, table, [_words(r) for r in rows])


def volume_totals_panel(
    points: list[VolumePoint], f: FigureFilter, by: Dimension, say: Say
) -> Panel:
    """The period's total per key of the dimension, each drilling down to its cases."""
    labels: dict[str, str] = {}
    totals: dict[str, int] = {}
    for p in points:
        if p.key not in labels:
            labels[p.key] = say(p.label)
        totals[p.key] = totals.get(p.key, 0) + p.count
    keys = sorted(totals, key=lambda k: (-totals[k], labels[k]))[:MAX_TOTALS]
    title = say(N_("Cases in the period by %(dimension)s")) % {
        "dimension": say(DIMENSION_LABELS[by])
    }
    rows = tuple((labels[k], totals[k]) for k in keys)
    table = Table(
        title=title,
        headings=(say(DIMENSION_LABELS[by]), say(N_("Cases"))),
        rows=rows,
        links=tuple(cases_link(f, dimension=by.value, key=k) for k in keys),
    )
    return _panel("volume-totals", title, None, table, [_words(r) for r in rows])


def ranking_panel(
    rows_in: list[RankRow], f: FigureFilter, by: Dimension, order: str, say: Say
) -> Panel:
    title = f"{say(DIMENSION_LABELS[by])}: {say(ORDER_LABELS[order])}"
    rows_in = [replace(r, label=say(r.label)) for r in rows_in]
    names = [r.label for r in rows_in]
    chart = bar_chart(
        title,
        names,
        [
            Series(say(N_("This period")), tuple(r.count for r in rows_in)),
            Series(say(N_("Period before")), tuple(r.previous for r in rows_in)),
        ],
        horizontal=True,
    )
    rows = tuple(
        (r.label, r.count, r.previous, None if r.growth is None else round(r.growth, 4))
        for r in rows_in
    )
    table = Table(
        title=title,
        headings=(
            say(DIMENSION_LABELS[by]),
            say(N_("Cases")),
            say(N_("Period before")),
            say(N_("Growth")),
        ),
        rows=rows,
        links=tuple(cases_link(f, dimension=by.value, key=r.key) for r in rows_in),
    )
    shown = [(r.label, str(r.count), str(r.previous), say_growth(r.growth, say)) for r in rows_in]
    return _panel("ranking", title, chart, table, shown)


def funnel_panel(steps: list[FunnelStep], f: FigureFilter, say: Say) -> Panel:
    title = say(VIEW_TITLES["funnel"])
    steps = [replace(s, label=say(s.label)) for s in steps]
    chart = bar_chart(
        title,
        [s.label for s in steps],
        [Series(say(N_("Cases")), tuple(s.count for s in steps))],
        horizontal=True,
    )
    rows = tuple(
        (
            s.label,
            s.count,
            None if s.rate is None else round(s.rate, 4),
            None if s.median_days is None else round(s.median_days, 1),
        )
        for s in steps
    )
    table = Table(
        title=title,
        headings=(
            say(N_("Stage")),
            say(N_("Cases")),
            say(N_("Share of filed")),
            say(N_("Median days")),
        ),
        rows=rows,
        links=tuple(cases_link(f, stage=s.stage) for s in steps),
    )
    shown = [(s.label, str(s.count), say_share(s.rate), say_number(s.median_days)) for s in steps]
    return _panel("funnel", title, chart, table, shown)


def compliance_panel(
    rows_in: list[ComplianceRow], f: FigureFilter, say: Say, organisations: Mapping[str, int]
) -> Panel:
    title = say(VIEW_TITLES["compliance"])
    rows_in = [
        replace(r, regime_label=say(r.regime_label), organisation=say(r.organisation))
        for r in rows_in
    ]
    worst = sorted(rows_in, key=lambda r: (r.share if r.share is not None else 1, -r.total))
    worst = worst[:MAX_BARS]
    chart = bar_chart(
        title,
        [f"{r.regime_label} · {r.organisation}" for r in worst],
        [Series(say(N_("Share met")), tuple(round((r.share or 0) * 100, 1) for r in worst))],
        horizontal=True,
    )
    rows = tuple(
        (
            r.regime_label,
            r.organisation,
            r.met,
            r.total,
            None if r.share is None else round(r.share, 4),
            r.worst_overdue_days,
        )
        for r in rows_in
    )
    table = Table(
        title=title,
        headings=(
            say(N_("Time limit")),
            say(N_("Organisation")),
            say(N_("Met")),
            say(N_("Cases")),
            say(N_("Share met")),
            say(N_("Worst overdue (days)")),
        ),
        rows=rows,
        links=tuple(_organisation_link(f, r.organisation, organisations) for r in rows_in),
    )
    shown = [
        (
            r.regime_label,
            r.organisation,
            str(r.met),
            str(r.total),
            say_share(r.share),
            str(r.worst_overdue_days),
        )
        for r in rows_in
    ]
    return _panel("compliance", title, chart, table, shown)


def _organisation_link(f: FigureFilter, name: str, organisations: Mapping[str, int]) -> str:
    found = organisations.get(name)
    if found is None:
        return cases_link(f)
    return cases_link(f, dimension=Dimension.ORGANISATION.value, key=str(found))


def workload_panel(
    rows_in: list[WorkloadRow], f: FigureFilter, say: Say, organisations: Mapping[str, int]
) -> Panel:
    title = say(VIEW_TITLES["workload"])
    rows_in = [
        replace(r, organisation=say(r.organisation), mediator=say(r.mediator)) for r in rows_in
    ]
    # The chart draws the busiest MAX_BARS; the table has everyone.
    busiest = sorted(rows_in, key=lambda r: -(r.open + r.settled + r.failed))[:MAX_BARS]
    chart = bar_chart(
        title,
        [r.mediator or r.organisation for r in busiest],
        [
            Series(say(N_("Open")), tuple(r.open for r in busiest)),
            Series(say(N_("Settled")), tuple(r.settled for r in busiest)),
            Series(say(N_("Not settled")), tuple(r.failed for r in busiest)),
        ],
        horizontal=True,
    )
    rows = tuple(
        (
            r.organisation,
            r.mediator,
            r.open,
            r.settled,
            r.failed,
            None if r.settlement_rate is None else round(r.settlement_rate, 4),
        )
        for r in rows_in
    )
    table = Table(
        title=title,
        headings=(
            say(N_("Organisation")),
            say(N_("Mediator")),
            say(N_("Open")),
            say(N_("Settled")),
            say(N_("Not settled")),
            say(N_("Settlement rate")),
        ),
        rows=rows,
        links=tuple(_organisation_link(f, r.organisation, organisations) for r in rows_in),
    )
    shown = [
        (
            r.organisation,
            r.mediator,
            str(r.open),
            str(r.settled),
            str(r.failed),
            say_share(r.settlement_rate),
        )
        for r in rows_in
    ]
    return _panel("workload", title, chart, table, shown)


def scorecards_panel(rows_in: list[Scorecard], f: FigureFilter, say: Say) -> Panel:
    title = say(VIEW_TITLES["scorecards"])
    rows_in = [replace(r, merchant=say(r.merchant)) for r in rows_in]
    chart = bar_chart(
        title,
        [r.merchant for r in rows_in],
        [
            Series(
                say(N_("Response rate")),
                tuple(
                    None if r.response_rate is None else round(r.response_rate * 100, 1)
                    for r in rows_in
                ),
            ),
            Series(
                say(N_("Share settled")),
                tuple(
                    None if r.settled_share is None else round(r.settled_share * 100, 1)
                    for r in rows_in
                ),
            ),
        ],
        horizontal=True,
    )
    rows = tuple(
        (
            r.merchant,
            r.cases,
            None if r.response_rate is None else round(r.response_rate, 4),
            None if r.median_hours_to_answer is None else round(r.median_hours_to_answer, 1),
            None if r.settled_share is None else round(r.settled_share, 4),
            None if r.performed_on_time_share is None else round(r.performed_on_time_share, 4),
        )
        for r in rows_in
    )
    table = Table(
        title=title,
        headings=(
            say(N_("Merchant")),
            say(N_("Cases")),
            say(N_("Response rate")),
            say(N_("Median hours to first answer")),
            say(N_("Share settled")),
            say(N_("Share performed on time")),
        ),
        rows=rows,
        links=tuple(
            cases_link(f, dimension=Dimension.MERCHANT.value, key=str(r.merchant_id))
            for r in rows_in
        ),
    )
    shown = [
        (
            r.merchant,
            str(r.cases),
            say_share(r.response_rate),
            say_number(r.median_hours_to_answer),
            say_share(r.settled_share),
            say_share(r.performed_on_time_share),
        )
        for r in rows_in
    ]
    return _panel("scorecards", title, chart, table, shown)


def cases_table(found: list[AnonymisedCase], say: Say) -> Table:
    """The anonymised cases behind a figure: never a party's name, ID, mobile or words."""
    return Table(
        title=say(N_("Cases behind the figure")),
        headings=(
            say(N_("Case number")),
            say(N_("Domain")),
            say(N_("Category")),
            say(N_("Filed on")),
            say(N_("Status")),
            say(N_("Organisation")),
            say(N_("Platform")),
            say(N_("Merchant")),
        ),
        rows=tuple(
            (
                c.number,
                say(c.domain),
                say(c.category),
                c.filed_on,
                say(c.status),
                say(c.organisation),
                say(c.platform),
                say(c.merchant),
            )
            for c in found
        ),
    )


def filter_words(
    f: FigureFilter, names: Mapping[str, Mapping[int, str]], say: Say, locale: str
) -> list[str]:
    """The filter in words, for the page's heading and the export's note."""
    from cases.clock import say_date

    words = []
    if f.start and f.end:
        words.append(f"{say_date(f.start, locale)} – {say_date(f.end, locale)}")
    if f.domain:
        words.append(say(DOMAIN_LABELS[Domain(f.domain)]))
    if f.category:
        category = BY_CODE[f.category]
        words.append(category.zh if locale.startswith("zh") else category.en)
    for attr, kind in (
        ("organisation_id", "organisations"),
        ("partner_id", "partners"),
        ("merchant_id", "merchants"),
    ):
        value = getattr(f, attr)
        if value is not None:
            words.append(names.get(kind, {}).get(value, f"#{value}"))
    if f.track:
        from mediation.routing_view import TRACK_LABELS

        words.append(say(TRACK_LABELS.get(f.track, f.track)))
    return words
