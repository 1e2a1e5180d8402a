"""A stand-in for the figures the early warnings read (cases.analytics.figures' three
functions), counted straight from the case record: tests file real cases through the intake
action and the job reads them through this. Slow at scale, exact for a few dozen cases."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime

from cases.clock import local_date
from cases.models import Case, Party, Side


@dataclass(frozen=True)
class Row:
    key: str
    label: str
    count: int
    previous: int = 0
    growth: float | None = None


class CaseFigures:
    """daily_filings by category or platform, merchant response rates (given), bursts by the
    respondent's credit code."""

    def __init__(self, response_rates: dict[str, tuple[str, int, int]] | None = None) -> None:
        self.response_rates = response_rates or {}

    async def daily_filings(self, by: str, since: date, until: date) -> dict[str, dict[date, int]]:
        found: dict[str, dict[date, int]] = defaultdict(lambda: defaultdict(int))
        for category, partner_id, created_at in await Case.all().values_list(
            "category", "partner_id", "created_at"
        ):
            day = local_date(created_at)
            if not since <= day <= until:
                continue
            key = {"category": category, "platform": partner_id}.get(str(by))
            if key is not None:
                found[str(key)][day] += 1
        return {k: dict(v) for k, v in found.items()}

    async def merchant_response_rates(self, since: date) -> dict[str, tuple[str, int, int]]:
        return dict(self.response_rates)

    async def respondent_bursts(self, since: datetime, minimum: int) -> list[Row]:
        counts: dict[str, int] = defaultdict(int)
        labels: dict[str, str] = {}
        for code, name in await Party.filter(
            side=Side.RESPONDENT, case__created_at__gte=since
        ).values_list("id_number", "name"):
            counts[str(code)] += 1
            labels[str(code)] = str(name)
        return [Row(k, labels[k], n) for k, n in counts.items() if n >= minimum]


async def seeded_surge(settings: object, now: datetime, count: int = 11) -> int:
    """File `count` disputes of one category over the last two days (and one three weeks
    before), roll the figures up and run the early-warning job: returns the category's
    surge alert's id."""
    from datetime import timedelta

    from cases.actions import Filer
    from cases.analytics.actions import roll_up_due
    from cases.intake import file_dispute
    from cases.warnings.actions import do_raise_alerts
    from cases.warnings.models import Alert
    from cases.warnings.rules import Thresholds
    from tests.support.factories import filing_fields, party_ids

    for n in range(count + 1):
        at = now - timedelta(days=20 if n == 0 else 1 + n % 2)
        fields = filing_fields(**party_ids(500 + n), category="tour_refund")
        await file_dispute(settings, fields, [], Filer(), at)  # type: ignore[arg-type]
    await roll_up_due(now)
    await do_raise_alerts(now, Thresholds(surge_factor=3.0, surge_floor=10))
    alert = await Alert.get(scope="category", subject_key="tour_refund")
    return alert.id
