"""The open statistics page's figures: what the public may see of the district's disputes,
with every small cell suppressed (`cases.governance.suppression`: no count from 1 to 4
shown, nor one its margins would give away). Charts draw the same suppressed numbers (a
hidden one is a gap)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from markupsafe import Markup

from cases.analytics import figures
from cases.analytics.figures import Dimension, FigureFilter, Grain
from cases.governance.suppression import MINIMUM, suppress, suppress_counts
from mediation.charts import Series, bar_chart, line_chart
from mediation.figures_view import say_period

Say = Callable[[str], str]


def N_(message: str) -> str:
    return message


@dataclass(frozen=True)
class PublicTable:
    """A suppressed table: headings, rows of (label, cells...), None where hidden."""

    title: str
    chart: Markup
    headings: tuple[str, ...]
    rows: tuple[tuple[str, tuple[int | None, ...]], ...]


@dataclass(frozen=True)
class PublicFigures:
    start: date
    end: date
    minimum: int
    tables: tuple[PublicTable, ...]


def monthly_by_domain(points: list[figures.VolumePoint], say: Say, locale: str) -> PublicTable:
    months = sorted({p.period for p in points})
    labels: dict[str, str] = {}
    for p in points:
        labels.setdefault(p.key, p.label)
    keys = sorted(labels)
    counts = {(p.period, p.key): p.count for p in points}
    grid = [[counts.get((m, k), 0) for k in keys] for m in months]
    shown = suppress(grid) if grid and keys else None
    month_words = [say_period(m, Grain.MONTH, locale) for m in months]
    rows: list[tuple[str, tuple[int | None, ...]]] = []
    if shown is not None:
        for word, cells, total in zip(month_words, shown.cells, shown.row_totals, strict=True):
            rows.append((word, (*cells, total)))
        rows.append((say(N_("Total")), (*shown.column_totals, shown.total)))
    title = say(N_("Cases filed each month"))
    chart = line_chart(
        title,
        month_words,
        [Series(labels[k], tuple(row[1][i] for row in rows[:-1])) for i, k in enumerate(keys)],
    )
    return PublicTable(
        title=title,
        chart=chart,
        headings=(say(N_("Month")), *(labels[k] for k in keys), say(N_("Total"))),
        rows=tuple(rows),
    )


def by_category(rows_in: list[figures.RankRow], say: Say) -> PublicTable:
    counts, total = suppress_counts([r.count for r in rows_in])
    title = say(N_("Cases by category"))
    chart = bar_chart(
        title,
        [r.label for r in rows_in],
        [Series(say(N_("Cases")), tuple(counts))],
        horizontal=True,
    )
    rows = [(r.label, (c,)) for r, c in zip(rows_in, counts, strict=True)]
    rows.append((say(N_("Total")), (total,)))
    return PublicTable(
        title=title,
        chart=chart,
        headings=(say(N_("Category")), say(N_("Cases"))),
        rows=tuple(rows),
    )


def outcomes(steps: list[figures.FunnelStep], say: Say) -> PublicTable:
    # The stages are not parts of one whole, so each is hidden on its own when small.
    counts = [None if 0 < s.count < MINIMUM else s.count for s in steps]
    title = say(N_("From filing to outcome"))
    chart = bar_chart(
        title,
        [s.label for s in steps],
        [Series(say(N_("Cases")), tuple(counts))],
        horizontal=True,
    )
    return PublicTable(
        title=title,
        chart=chart,
        headings=(say(N_("Stage")), say(N_("Cases"))),
        rows=tuple((s.label, (c,)) for s, c in zip(steps, counts, strict=True)),
    )


async def public_figures(f: FigureFilter, say: Say, locale: str) -> PublicFigures:
    assert f.start is not None and f.end is not None
    monthly = await figures.volume(f, Grain.MONTH, Dimension.DOMAIN)
    categories = await figures.ranking(f, Dimension.CATEGORY, limit=50)
    steps = await figures.funnel(f)
    return PublicFigures(
        start=f.start,
        end=f.end,
        minimum=MINIMUM,
        tables=(
            monthly_by_domain(monthly, say, locale),
            by_category(categories, say),
            outcomes(steps, say),
        ),
    )
