"""The open statistics page's figures: what the public may see of the district's disputes,
with every small cell suppressed (`cases.governance.suppression`: no count from 1 to 4
shown, nor one its margins would give away). Charts draw the same suppressed numbers (a
hidden one is a gap).

The tables share only their total (every case filed in the period): each partitions the
cases its own way (by month, by category), so what one table hides no other table's
margins can give away. The funnel's stages are not parts of one whole; each is hidden
alone when small."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date

from markupsafe import Markup

from cases.analytics import figures
from cases.analytics.figures import Dimension, FigureFilter, Grain
from cases.governance.suppression import MINIMUM, suppress_counts
from mediation.charts import Series, bar_chart, line_chart
from mediation.figures_view import periods_of, say_period

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
    note: str = ""


@dataclass(frozen=True)
class PublicFigures:
    start: date
    end: date
    minimum: int
    tables: tuple[PublicTable, ...]


def monthly(
    points: list[figures.VolumePoint], f: FigureFilter, say: Say, locale: str
) -> PublicTable:
    """Cases filed each month, all together. (Split by domain, the months' table would give
    each domain's total, and with the categories' table, a hidden category's count.)"""
    months = periods_of(f, Grain.MONTH, [p.period for p in points])
    counts: dict[date, int] = {}
    for p in points:
        counts[p.period] = counts.get(p.period, 0) + p.count
    shown, total = suppress_counts([counts.get(m, 0) for m in months])
    month_words = [say_period(m, Grain.MONTH, locale) for m in months]
    title = say(N_("Cases filed each month"))
    chart = line_chart(title, month_words, [Series(say(N_("Cases")), tuple(shown))])
    rows = [(word, (count,)) for word, count in zip(month_words, shown, strict=True)]
    rows.append((say(N_("Total")), (total,)))
    return PublicTable(
        title=title,
        chart=chart,
        headings=(say(N_("Month")), say(N_("Cases"))),
        rows=tuple(rows),
    )


def by_category(rows_in: list[figures.RankRow], say: Say) -> PublicTable:
    rows_in = [replace(r, label=say(r.label)) for r in rows_in]
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
    steps = [replace(s, label=say(s.label)) for s in steps]
    counts = [public_stage_count(s.count) for s in steps]
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
        note=say(N_("Rounded to the nearest 5.")),
    )


def public_stage_count(count: int, minimum: int = MINIMUM) -> int | None:
    """A stage's count as the public sees it. The stages are not parts of one whole, but one
    stage less another is a count too (filed, less answered: not answered), so each is
    hidden when small and otherwise rounded to the nearest 5 (halves up): no difference of
    two can then be told to within less than 5."""
    if 0 < count < minimum:
        return None
    return ((count + 2) // 5) * 5


# The open page is the same for every visitor: its figures are kept a few minutes per
# language and period (in this process), so a crowd of visitors costs one reading.
CACHE_SECONDS = 300.0
_cache: dict[tuple[str, date | None, date | None], tuple[float, PublicFigures]] = {}


async def public_figures(f: FigureFilter, say: Say, locale: str) -> PublicFigures:
    key = (locale, f.start, f.end)
    now = time.monotonic()
    kept = _cache.get(key)
    if kept is not None and kept[0] > now:
        return kept[1]
    found = await _public_figures(f, say, locale)
    if len(_cache) > 16:
        _cache.clear()
    _cache[key] = (now + CACHE_SECONDS, found)
    return found


async def _public_figures(f: FigureFilter, say: Say, locale: str) -> PublicFigures:
    assert f.start is not None and f.end is not None
    by_month = await figures.volume(f, Grain.MONTH)
    categories = await figures.ranking(f, Dimension.CATEGORY, limit=50)
    steps = await figures.funnel(f)
    return PublicFigures(
        start=f.start,
        end=f.end,
        minimum=MINIMUM,
        tables=(
            monthly(by_month, f, say, locale),
            by_category(categories, say),
            outcomes(steps, say),
        ),
    )
