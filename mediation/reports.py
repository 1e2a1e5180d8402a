"""District governance's documents as PDFs: suggestion letters issued from an alert, and the
monthly report (figures, charts and tables), rendered by WeasyPrint like the signed agreement
(PDF/A-2b, the embedded Noto Sans CJK SC, nothing fetched).

Both are Chinese official documents whatever the interface language. An issued letter's bytes
are kept under the data folder (governance/<sha256>.pdf) and its SHA-256 recorded, once: of
two processes issuing at once, one records (cases.warnings.actions.do_record_issued_letter).
The monthly report is made by the background job for the previous month (any round after the
1st finds it missing) and on demand; one per month (insert-or-ignore).
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any

from markupsafe import Markup

from cases.accounts.models import User
from cases.analytics import figures
from cases.analytics.figures import Dimension, FigureFilter, Grain
from cases.clock import SHANGHAI, local_date
from cases.errors import CaseConflict, CaseNotFound
from cases.warnings.actions import (
    RULE_WORDS,
    alert_of,
    check_staff,
    do_raise_alerts,
    do_record_issued_letter,
    do_record_report,
    letter_of,
    month_bounds,
    previous_month,
    report_of,
)
from cases.warnings.models import Alert, LetterState, MonthlyReport, SuggestionLetter
from mediation.agreement_pdf import render_pdf
from mediation.charts import Series, bar_chart, line_chart
from mediation.settings import Settings
from mediation.web import ENVIRONMENTS

log = logging.getLogger("mediation.reports")

FOLDER = "governance"
STATE_WORDS = {"new": "新预警", "acknowledged": "已确认", "resolved": "已处理"}


def stored_path(settings: Settings, relative: str) -> Path:
    path = (settings.data_dir / relative).resolve()
    if not path.is_relative_to((settings.data_dir / FOLDER).resolve()):
        raise CaseNotFound("not_found")
    return path


def _store(settings: Settings, data: bytes) -> tuple[str, str]:
    digest = hashlib.sha256(data).hexdigest()
    relative = f"{FOLDER}/{digest}.pdf"
    path = settings.data_dir / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists():
        temporary = path.with_suffix(".part")
        temporary.write_bytes(data)
        temporary.replace(path)
    return digest, relative


def _day(value: date) -> str:
    return f"{value.year}年{value.month}月{value.day}日"


def alert_chart(alert: Alert, *, standalone: bool) -> tuple[Markup | None, list[tuple[str, int]]]:
    """The alert's daily filings as a line chart and its table (surges only)."""
    daily = alert.figures.get("daily") if isinstance(alert.figures, dict) else None
    if not daily:
        return None, []
    rows = [(_day(date.fromisoformat(str(d))), int(n)) for d, n in daily]
    chart = line_chart(
        f"{alert.subject_label}：每日纠纷申请",
        [label for label, _ in rows],
        [Series("申请件数", tuple(float(n) for _, n in rows))],
        standalone=standalone,
    )
    return chart, rows


# --- suggestion letters ------------------------------------------------------------------------


def letter_html(letter: SuggestionLetter, alert: Alert, issued_on: date) -> str:
    chart, rows = alert_chart(alert, standalone=True)
    template = ENVIRONMENTS["zh_CN"].get_template("documents/letter.html")
    facts = [(k, v) for k, v in alert.figures.items() if isinstance(v, int | float)]
    return template.render(
        letter=letter,
        alert=alert,
        rule_words=RULE_WORDS.get(alert.rule, alert.rule),
        figures=facts,
        chart=chart,
        rows=rows,
        issued_on=_day(issued_on),
    )


async def issue_letter(letter_id: int, user: User, settings: Settings, now: datetime) -> str:
    """Render, keep and record a draft letter as issued; returns the PDF's SHA-256.
    Idempotent: an issued letter returns its recorded hash."""
    check_staff(user)
    letter = await letter_of(letter_id)
    if letter.state == LetterState.ISSUED:
        return letter.pdf_sha256
    alert = await alert_of(letter.alert_id)
    data = await asyncio.to_thread(render_pdf, letter_html(letter, alert, local_date(now)))
    digest, relative = await asyncio.to_thread(_store, settings, data)
    if not await do_record_issued_letter(letter_id, user, digest, relative, len(data), now):
        recorded = await letter_of(letter_id)
        if recorded.state != LetterState.ISSUED:
            raise CaseConflict("letter_already_issued")
        return recorded.pdf_sha256
    log.info("suggestion letter %s issued: %s", letter_id, digest)
    return digest


# --- the monthly report ------------------------------------------------------------------------


@dataclass(frozen=True)
class MonthFigures:
    month: str
    first: date
    last: date
    volume: list[tuple[str, int]]  # by day
    categories: list[Any]  # RankRow
    merchants: list[Any]
    platforms: list[Any]
    funnel: list[Any]  # FunnelStep
    compliance: list[Any]  # ComplianceRow
    alerts: list[Alert]


async def month_figures(month: str) -> MonthFigures:
    first, last = month_bounds(month)
    f = FigureFilter(start=first, end=last)
    days = await figures.volume(f, Grain.DAY)
    by_day = {p.period: p.count for p in days}
    volume = [
        (_day(d), by_day.get(d, 0))
        for d in (date.fromordinal(o) for o in range(first.toordinal(), last.toordinal() + 1))
    ]
    start = datetime.combine(first, time(0), SHANGHAI)
    end = datetime.combine(last + timedelta(days=1), time(0), SHANGHAI)
    alerts = list(
        await Alert.filter(raised_at__gte=start, raised_at__lt=end).order_by("raised_at", "id")
    )
    return MonthFigures(
        month=month,
        first=first,
        last=last,
        volume=volume,
        categories=await figures.ranking(f, Dimension.CATEGORY, limit=10),
        merchants=await figures.ranking(f, Dimension.MERCHANT, limit=10),
        platforms=await figures.ranking(f, Dimension.PLATFORM, limit=10),
        funnel=await figures.funnel(f),
        compliance=await figures.deadline_compliance(f),
        alerts=alerts,
    )


def report_html(data: MonthFigures, made_on: date) -> str:
    year, number = data.month.split("-")
    title = f"{year}年{int(number)}月 互联网纠纷诉源治理月度报告"
    charts = {
        "volume": line_chart(
            "每日纠纷申请",
            [label for label, _ in data.volume],
            [Series("申请件数", tuple(float(n) for _, n in data.volume))],
            standalone=True,
        ),
        "categories": bar_chart(
            "纠纷类别（前十）",
            [r.label for r in data.categories],
            [
                Series("本月", tuple(float(r.count) for r in data.categories)),
                Series("上月", tuple(float(r.previous) for r in data.categories)),
            ],
            horizontal=True,
            standalone=True,
        ),
        "funnel": bar_chart(
            "办理环节",
            [s.label for s in data.funnel],
            [Series("件数", tuple(float(s.count) for s in data.funnel))],
            horizontal=True,
            standalone=True,
        ),
    }
    template = ENVIRONMENTS["zh_CN"].get_template("documents/monthly_report.html")
    return template.render(
        title=title,
        data=data,
        charts=charts,
        period=f"{_day(data.first)}至{_day(data.last)}",
        made_on=_day(made_on),
        total=sum(n for _, n in data.volume),
        rule_words=RULE_WORDS,
        state_words=STATE_WORDS,
    )


async def do_issue_monthly_report(
    settings: Settings, now: datetime, month: str | None = None, user: User | None = None
) -> MonthlyReport:
    """The month's report (the previous month by default): made once, then kept."""
    month = month or previous_month(local_date(now))
    found = await report_of(month)
    if found is not None:
        return found
    data = await month_figures(month)
    pdf = await asyncio.to_thread(render_pdf, report_html(data, local_date(now)))
    digest, relative = await asyncio.to_thread(_store, settings, pdf)
    report = await do_record_report(month, digest, relative, len(pdf), now, user)
    log.info("monthly report %s made: %s", month, report.pdf_sha256)
    return report


async def run_early_warnings(settings: Settings, now: datetime) -> None:
    """The background job's governance step: raise this week's alerts, and make last month's
    report if it is not there yet (the 1st, or the first round after it)."""
    await do_raise_alerts(now, settings.governance_thresholds)
    if await report_of(previous_month(local_date(now))) is None:
        await do_issue_monthly_report(settings, now)
