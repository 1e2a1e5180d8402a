"""Deadline records of cases: opened, paused, extended and closed by actions, always recomputed
by the pure engine in `cases.deadlines.rules`, and the job that reminds of them (the job that
ends overdue mediations is an ending: `cases.endings.actions`, over `overdue_deadlines` and
`claim_missed`).

The jobs are safe in several processes at once: each row is claimed by a conditional update.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta

from cases.clock import local_date, say_date
from cases.deadlines.calendar_cn import WorkingDayCalendar, official_calendar
from cases.deadlines.models import CaseDeadline, DeadlineStatus
from cases.deadlines.rules import (
    RULES,
    Deadline,
    Extension,
    Pause,
    Regime,
    Unit,
    compute_deadline,
    working_days_between,
)
from cases.errors import CaseConflict, CaseError
from cases.journal import notify_parties, queue_notice, record_event
from cases.models import Case, NoticeChannel
from cases.pause import pause_point
from cases.timeline import REGIME_LABELS, EventKind
from cases.transactions import atomic


def _pauses(row: CaseDeadline) -> list[Pause]:
    return [
        Pause(
            date.fromisoformat(p["start"]),
            date.fromisoformat(p["end"]) if p.get("end") else None,
            p["reason"],
        )
        for p in row.pauses
    ]


def _extensions(row: CaseDeadline) -> list[Extension]:
    return [Extension(e["days"], Unit(e["unit"]), e["reason"]) for e in row.extensions]


def recompute(row: CaseDeadline, calendar: WorkingDayCalendar | None = None) -> Deadline:
    rule = RULES[Regime(row.regime)]
    if row.length is not None:
        rule = replace(rule, length=row.length)
    return compute_deadline(
        rule,
        row.started_on,
        calendar or official_calendar(),
        _pauses(row),
        _extensions(row),
    )


def _apply(row: CaseDeadline, result: Deadline) -> None:
    row.due_on = result.due
    row.provisional = result.provisional


async def do_open_deadline(
    case: Case, regime: Regime, started_on: date, now: datetime, *, length: int | None = None
) -> CaseDeadline:
    """Start a period (the start day itself is not counted). Call inside the action's
    transaction so the case change and its deadline commit together. `length`, where the
    caller's rules allow one, replaces the regime's own length."""
    row = CaseDeadline(
        case=case,
        regime=regime,
        started_on=started_on,
        created_at=now,
        pauses=[],
        extensions=[],
        length=length,
    )
    _apply(row, recompute(row))
    await row.save()
    await record_event(
        case,
        EventKind.DEADLINE_OPENED,
        now,
        actor_label="system",
        regime=regime.value,
        due_on=row.due_on.isoformat() if row.due_on else None,
        provisional=row.provisional,
    )
    return row


async def do_close_deadline(
    case: Case, regime: Regime, status: DeadlineStatus, now: datetime
) -> None:
    await CaseDeadline.filter(case=case, regime=regime, status=DeadlineStatus.OPEN).update(
        status=status, closed_at=now
    )


async def open_deadline(case: Case, regime: Regime) -> CaseDeadline | None:
    return await CaseDeadline.get_or_none(case=case, regime=regime, status=DeadlineStatus.OPEN)


class DeadlineError(CaseError):
    status_code = 422


async def do_pause_deadline(
    case: Case, regime: Regime, start: date, reason: str, now: datetime, actor_id: int | None
) -> CaseDeadline:
    """Time that does not count (expert appraisal, Art. 26) starts."""
    if not reason.strip():
        raise DeadlineError("pause_reason_required")
    async with atomic():
        row = await open_deadline(case, regime)
        if row is None:
            raise CaseConflict("no_open_deadline")
        if any(p.get("end") is None for p in row.pauses):
            raise CaseConflict("deadline_already_paused")
        row.pauses = [*row.pauses, {"start": start.isoformat(), "end": None, "reason": reason}]
        _apply(row, recompute(row))
        await row.save(update_fields=["pauses", "due_on", "provisional"])
        await record_event(
            case,
            EventKind.DEADLINE_PAUSED,
            now,
            actor_id=actor_id,
            regime=regime.value,
            start=start.isoformat(),
            reason=reason,
        )
    return row


async def do_resume_deadline(
    case: Case, regime: Regime, end: date, now: datetime, actor_id: int | None
) -> CaseDeadline:
    async with atomic():
        row = await open_deadline(case, regime)
        running = [p for p in (row.pauses if row else []) if p.get("end") is None]
        if row is None or not running:
            raise CaseConflict("deadline_not_paused")
        if end < date.fromisoformat(running[0]["start"]):
            raise DeadlineError("pause_end_before_start")
        row.pauses = [
            {**p, "end": end.isoformat()} if p.get("end") is None else p for p in row.pauses
        ]
        _apply(row, recompute(row))
        await row.save(update_fields=["pauses", "due_on", "provisional"])
        await record_event(
            case,
            EventKind.DEADLINE_RESUMED,
            now,
            actor_id=actor_id,
            regime=regime.value,
            end=end.isoformat(),
            due_on=row.due_on.isoformat() if row.due_on else None,
        )
    return row


async def do_extend_deadline(
    case: Case,
    regime: Regime,
    days: int,
    unit: Unit,
    reason: str,
    now: datetime,
    actor_id: int | None,
) -> CaseDeadline:
    """An extension by the parties' consent (Art. 24) moves the end; recorded with its reason."""
    if days < 1 or days > 365:
        raise DeadlineError("extension_days_invalid")
    if not reason.strip():
        raise DeadlineError("extension_reason_required")
    async with atomic():
        row = await open_deadline(case, regime)
        if row is None:
            raise CaseConflict("no_open_deadline")
        before = row.due_on
        row.extensions = [*row.extensions, {"days": days, "unit": unit.value, "reason": reason}]
        _apply(row, recompute(row))
        await row.save(update_fields=["extensions", "due_on", "provisional"])
        await record_event(
            case,
            EventKind.DEADLINE_EXTENDED,
            now,
            actor_id=actor_id,
            regime=regime.value,
            days=days,
            unit=unit.value,
            reason=reason,
            due_on=[
                before.isoformat() if before else None,
                row.due_on.isoformat() if row.due_on else None,
            ],
        )
    return row


@dataclass(frozen=True)
class DueItem:
    case_number: str
    case_status: str
    regime: str
    due_on: date | None
    provisional: bool
    overdue: bool
    working_days_left: int | None


async def due_work(case_ids: Sequence[int] | None, today: date) -> list[DueItem]:
    """Open deadlines of the given cases (all when None), the soonest first, frozen last."""
    query = CaseDeadline.filter(status=DeadlineStatus.OPEN).prefetch_related("case")
    if case_ids is not None:
        query = query.filter(case_id__in=list(case_ids))
    rows = await query
    calendar = official_calendar()
    items = [
        DueItem(
            case_number=row.case.number,
            case_status=str(row.case.status),
            regime=row.regime,
            due_on=row.due_on,
            provisional=row.provisional,
            overdue=row.due_on is not None and today > row.due_on,
            working_days_left=(
                working_days_between(today, row.due_on, calendar)
                if row.due_on is not None and row.due_on >= today
                else None
            ),
        )
        for row in rows
    ]
    return sorted(items, key=lambda i: (i.due_on is None, i.due_on or date.max, i.case_number))


async def overdue_deadlines(regimes: Sequence[Regime], today: date) -> list[tuple[int, int]]:
    """(deadline id, case id) of open deadlines of these regimes whose last day has passed."""
    rows = await CaseDeadline.filter(
        status=DeadlineStatus.OPEN, regime__in=[r.value for r in regimes], due_on__lt=today
    ).values_list("id", "case_id")
    return [(int(d), int(c)) for d, c in rows]


async def claim_missed(deadline_id: int, today: date, now: datetime) -> bool:
    """Mark an overdue deadline missed; only one of several processes racing gets True."""
    claimed = await CaseDeadline.filter(
        id=deadline_id, status=DeadlineStatus.OPEN, due_on__lt=today
    ).update(status=DeadlineStatus.MISSED, closed_at=now)
    return bool(claimed)


REMIND_WITHIN_WORKING_DAYS = 1

# Who must act before each kind of deadline, and so is reminded. The appointment and the
# respondent's answer are the platform's and the respondent's own business (the jobs act
# when they pass), so nobody is reminded of those.
REMIND_PARTIES = frozenset({Regime.PARTY_CHOICE.value})
REMIND_MEDIATOR = frozenset(
    {Regime.MEDIATOR_ANSWER.value, Regime.ONLINE_MEDIATION.value, Regime.CONSUMER_MEDIATION.value}
)


async def do_send_deadline_reminders(now: datetime) -> int:
    """Remind the people who must act, once per deadline, when one working day is left."""
    today = local_date(now)
    horizon = today + timedelta(days=10)  # enough to cover a long holiday before the due day
    calendar = official_calendar()
    candidates = await CaseDeadline.filter(
        status=DeadlineStatus.OPEN,
        reminded_at__isnull=True,
        due_on__gte=today,
        due_on__lte=horizon,
        regime__in=sorted(REMIND_PARTIES | REMIND_MEDIATOR),
    ).values_list("id", "due_on")
    sent = 0
    for deadline_id, due_on in candidates:
        if working_days_between(today, due_on, calendar) > REMIND_WITHIN_WORKING_DAYS:
            continue
        # Both runs have read the deadline as not yet reminded: only the claim decides.
        await pause_point("deadline_reminder")
        claimed = await CaseDeadline.filter(id=deadline_id, reminded_at__isnull=True).update(
            reminded_at=now
        )
        if not claimed:
            continue
        row = await CaseDeadline.get(id=deadline_id).prefetch_related("case", "case__mediator")
        case = row.case
        label = RULES[Regime(row.regime)].summary or row.regime
        subject = f"期限提醒 Deadline reminder: {case.number}"
        body = (
            f"案件 {case.number}：{label}将于 {say_date(due_on, 'zh_CN')}届满，请及时处理。\n"
            f"Case {case.number}: a time limit "
            f"({REGIME_LABELS.get(row.regime, 'see the case page')}) "
            f"ends on {say_date(due_on, 'en')}."
        )
        if row.regime in REMIND_PARTIES:
            await notify_parties(case, subject, body, now)
        elif case.mediator is not None:
            if case.mediator.email:
                await queue_notice(
                    case, NoticeChannel.EMAIL, case.mediator.email, subject, body, now
                )
            if case.mediator.mobile:
                await queue_notice(
                    case, NoticeChannel.SMS, case.mediator.mobile, subject, body, now
                )
        sent += 1
    return sent
