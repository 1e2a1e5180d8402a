"""Performance of an effective agreement (履行): each term with a time limit of performance
(People's Mediation Law Art. 29) is a PerformanceItem. The obliged side marks it performed,
the other side confirms or disputes that, the mediator watches what is overdue or disputed,
and the jobs remind the obliged side before the last day and the mediator after it.

The pure core (`item_state`, `check_move`, `reminder_for`) is table-tested; the actions
(`do_mark_performed`, `do_answer_performance`, `do_send_performance_reminders`) are the only
writers of performance rows.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from enum import StrEnum

from tortoise.expressions import Q

from cases.access import Viewer
from cases.actions import access_case
from cases.agreements.models import AgreementStatus, AgreementVersion
from cases.clock import SHANGHAI, local_date
from cases.errors import CaseConflict, CaseError, CaseNotFound
from cases.journal import queue_notice, record_event
from cases.models import Case, NoticeChannel, Party
from cases.pause import pause_point
from cases.performance.models import PerformanceItem, PerformanceStatus
from cases.timeline import EventKind
from cases.transactions import atomic

# The obliged side is reminded when this many days (or fewer) are left before the last day.
DUE_SOON_DAYS = 2
MAX_NOTE_CHARS = 1000


# --- the pure core ---------------------------------------------------------------------


class ItemState(StrEnum):
    """What a person sees of an item on a given day."""

    OPEN = "open"
    DUE_SOON = "due_soon"
    OVERDUE = "overdue"  # still open after its last day
    PERFORMED = "performed"  # the obliged side says it is done, the other side has not answered
    CONFIRMED = "confirmed"
    DISPUTED = "disputed"


def item_state(status: str, due_on: date, today: date) -> ItemState:
    """The due day itself still counts for performance: overdue starts the day after."""
    if status != PerformanceStatus.OPEN:
        return ItemState(status)
    if today > due_on:
        return ItemState.OVERDUE
    if (due_on - today).days <= DUE_SOON_DAYS:
        return ItemState.DUE_SOON
    return ItemState.OPEN


class Move(StrEnum):
    MARK_PERFORMED = "performed"
    CONFIRM = "confirm"
    DISPUTE = "dispute"


MOVE_RESULT = {
    Move.MARK_PERFORMED: PerformanceStatus.PERFORMED,
    Move.CONFIRM: PerformanceStatus.CONFIRMED,
    Move.DISPUTE: PerformanceStatus.DISPUTED,
}
# A disputed item goes back to the obliged side, who may perform and mark it again.
MOVES_FROM = {
    Move.MARK_PERFORMED: frozenset({PerformanceStatus.OPEN, PerformanceStatus.DISPUTED}),
    Move.CONFIRM: frozenset({PerformanceStatus.PERFORMED}),
    Move.DISPUTE: frozenset({PerformanceStatus.PERFORMED}),
}
MOVE_EVENTS = {
    Move.MARK_PERFORMED: EventKind.PERFORMANCE_MARKED,
    Move.CONFIRM: EventKind.PERFORMANCE_CONFIRMED,
    Move.DISPUTE: EventKind.PERFORMANCE_DISPUTED,
}


def check_move(move: Move, status: str, obligor_side: str, actor_side: str | None) -> str | None:
    """None when the actor may make this move now; otherwise the error code. Only parties
    act: the mediator watches, but performance is for the parties to state."""
    if actor_side is None:
        return "performance_parties_only"
    if move is Move.MARK_PERFORMED and actor_side != obligor_side:
        return "performance_obligor_only"
    if move is not Move.MARK_PERFORMED and actor_side == obligor_side:
        return "performance_other_side_only"
    if status not in MOVES_FROM[move]:
        return "performance_changed_meanwhile"
    return None


def moves_for(status: str, obligor_side: str, actor_side: str | None) -> list[Move]:
    return [m for m in Move if check_move(m, status, obligor_side, actor_side) is None]


class Reminder(StrEnum):
    DUE_SOON = "due_soon"  # to the obliged side
    OVERDUE = "overdue"  # to the mediator


def reminder_for(
    status: str, due_on: date, reminded_on: date | None, today: date
) -> Reminder | None:
    """Which reminder an item needs today, given the local day of its last one (if any).

    One column remembers both: a reminder sent on or before the due day is the "due soon"
    one; the "overdue" one is sent after the due day, so once it is sent, `reminded_on`
    is past the due day and neither is due again."""
    if status != PerformanceStatus.OPEN:
        return None
    if today > due_on:
        return Reminder.OVERDUE if reminded_on is None or reminded_on <= due_on else None
    if reminded_on is None and (due_on - today).days <= DUE_SOON_DAYS:
        return Reminder.DUE_SOON
    return None


def other_side(side: str) -> str:
    return "respondent" if side == "applicant" else "applicant"


def start_of_local_day(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=SHANGHAI)


# --- actions -------------------------------------------------------------------------------


class PerformanceForbidden(CaseError):
    status_code = 403


class PerformanceInvalid(CaseError):
    status_code = 422


SIDE_ZH = {"applicant": "申请人", "respondent": "被申请人"}


async def _actor_side(case: Case, user_id: int) -> str | None:
    sides = await Party.filter(case=case, user_id=user_id).values_list("side", flat=True)
    return str(sides[0]) if sides else None


async def _notify_side(case: Case, side: str, subject: str, body: str, now: datetime) -> None:
    for party in await Party.filter(case=case, side=side).order_by("id"):
        if party.email:
            await queue_notice(case, NoticeChannel.EMAIL, party.email, subject, body, now)
        if party.mobile:
            await queue_notice(case, NoticeChannel.SMS, party.mobile, subject, body, now)


async def _notify_mediator(case: Case, subject: str, body: str, now: datetime) -> bool:
    if case.mediator_id is None:
        return False
    await case.fetch_related("mediator")
    mediator = case.mediator
    if mediator is None:
        return False
    if mediator.email:
        await queue_notice(case, NoticeChannel.EMAIL, mediator.email, subject, body, now)
    if mediator.mobile:
        await queue_notice(case, NoticeChannel.SMS, mediator.mobile, subject, body, now)
    return bool(mediator.email or mediator.mobile)


def _move_notice(case: Case, item: PerformanceItem, move: Move, note: str) -> tuple[str, str]:
    term = item.term_number
    said = f"\n说明 Note: {note}" if note else ""
    if move is Move.MARK_PERFORMED:
        return (
            f"履行确认请求 Performance to confirm: {case.number}",
            f"案件 {case.number}：{SIDE_ZH[item.obligor_side]}称已履行调解协议第 {term} 项，"
            f"请登录平台确认或提出异议。\n"
            f"Case {case.number}: the other side says term {term} of the agreement is "
            f"performed. Please confirm or dispute it on the platform.{said}",
        )
    if move is Move.CONFIRM:
        return (
            f"履行已确认 Performance confirmed: {case.number}",
            f"案件 {case.number}：对方已确认调解协议第 {term} 项履行完毕。\n"
            f"Case {case.number}: the other side confirmed that term {term} is performed.{said}",
        )
    return (
        f"履行有异议 Performance disputed: {case.number}",
        f"案件 {case.number}：对方对调解协议第 {term} 项的履行提出异议，请登录平台查看。\n"
        f"Case {case.number}: the other side disputes that term {term} is performed. "
        f"See the platform for their note.{said}",
    )


async def _move(
    viewer: Viewer, number: str, item_id: int, move: Move, note: str, now: datetime
) -> PerformanceItem:
    case, _ = await access_case(viewer, number)
    item = await PerformanceItem.get_or_none(id=item_id, case_id=case.id)
    if item is None:
        raise CaseNotFound("performance_item_not_found")
    note = note.strip()
    if len(note) > MAX_NOTE_CHARS:
        raise PerformanceInvalid("performance_note_too_long")
    if move is Move.DISPUTE and not note:
        raise PerformanceInvalid("performance_dispute_note_required")
    error = check_move(
        move, str(item.status), item.obligor_side, await _actor_side(case, viewer.user_id)
    )
    if error == "performance_changed_meanwhile":
        raise CaseConflict(error)
    if error:
        raise PerformanceForbidden(error)
    if move is Move.MARK_PERFORMED:
        changes: dict[str, object] = {"performed_at": now, "performed_note": note}
        # A new claim of performance clears the answer to the previous one.
        changes.update(answered_at=None, answer_note="")
    else:
        changes = {"answered_at": now, "answer_note": note}
    async with atomic():
        # Guarded by the status read above: of two answers at once, only the first lands.
        updated = await PerformanceItem.filter(id=item.id, status=item.status).update(
            status=MOVE_RESULT[move], **changes
        )
        if not updated:
            raise CaseConflict("performance_changed_meanwhile")
        await record_event(
            case,
            MOVE_EVENTS[move],
            now,
            actor_id=viewer.user_id,
            term=item.term_number,
            note=note,
        )
        subject, body = _move_notice(case, item, move, note)
        tell = other_side(item.obligor_side) if move is Move.MARK_PERFORMED else item.obligor_side
        await _notify_side(case, tell, subject, body, now)
        if move is Move.DISPUTE:
            # A dispute about performance is the mediator's business too.
            await _notify_mediator(case, subject, body, now)
    await item.refresh_from_db()
    return item


async def do_mark_performed(
    viewer: Viewer, number: str, item_id: int, note: str, now: datetime
) -> PerformanceItem:
    """The obliged side says the term is performed; the other side is asked to confirm."""
    return await _move(viewer, number, item_id, Move.MARK_PERFORMED, note, now)


async def do_answer_performance(
    viewer: Viewer, number: str, item_id: int, move: Move, note: str, now: datetime
) -> PerformanceItem:
    """The other side confirms or disputes a claim of performance."""
    if move is Move.MARK_PERFORMED:
        raise PerformanceInvalid("choose_one")
    return await _move(viewer, number, item_id, move, note, now)


async def do_send_performance_reminders(now: datetime) -> int:
    """Remind the obliged side when the last day is near and the mediator when it has
    passed, once each per item. Each reminder is claimed by a conditional update on
    `reminded_at` in the same transaction as its notices, so processes racing send it once,
    and a crash sends it on the next round rather than never."""
    today = local_date(now)
    candidates = await PerformanceItem.filter(
        status=PerformanceStatus.OPEN, due_on__lte=today + timedelta(days=DUE_SOON_DAYS)
    ).values_list("id", "due_on", "reminded_at")
    sent = 0
    for item_id, due_on, reminded_at in candidates:
        reminded_on = local_date(reminded_at) if reminded_at is not None else None
        kind = reminder_for(PerformanceStatus.OPEN, due_on, reminded_on, today)
        if kind is None:
            continue
        # The same condition as reminder_for, in SQL: a reminder on or before the due day
        # is a local time before the start of the day after it.
        if kind is Reminder.DUE_SOON:
            not_yet = Q(reminded_at__isnull=True)
        else:
            not_yet = Q(reminded_at__isnull=True) | Q(
                reminded_at__lt=start_of_local_day(due_on + timedelta(days=1))
            )
        async with atomic():
            claimed = await PerformanceItem.filter(
                not_yet, id=item_id, status=PerformanceStatus.OPEN
            ).update(reminded_at=now)
            if not claimed:
                continue
            await pause_point("performance_reminder")
            item = await PerformanceItem.get(id=item_id).prefetch_related("case")
            case = item.case
            due = item.due_on.isoformat()
            # On the record, in the reminder's transaction: partners subscribed to
            # performance.due / performance.overdue hear of it from this event (cases.webhooks).
            await record_event(
                case,
                EventKind.PERFORMANCE_REMINDED,
                now,
                actor_label="system",
                term=item.term_number,
                due_on=due,
                reminder=kind.value,
            )
            if kind is Reminder.DUE_SOON:
                await _notify_side(
                    case,
                    item.obligor_side,
                    f"履行期限提醒 Performance due: {case.number}",
                    f"案件 {case.number}：调解协议第 {item.term_number} 项应于 {due} 前履行，"
                    f"履行后请登录平台标记。\n"
                    f"Case {case.number}: term {item.term_number} of the agreement is due by "
                    f"{due}. Please mark it performed on the platform once done.",
                    now,
                )
            else:
                await _notify_mediator(
                    case,
                    f"履行逾期 Performance overdue: {case.number}",
                    f"案件 {case.number}：调解协议第 {item.term_number} 项应于 {due} 前履行，"
                    f"至今未标记履行。\n"
                    f"Case {case.number}: term {item.term_number} was due by {due} and has "
                    f"not been marked performed.",
                    now,
                )
        sent += 1
    return sent


# --- what people see -------------------------------------------------------------------------


@dataclass(frozen=True)
class ItemView:
    id: int
    term_number: int
    description: str
    obligor_side: str
    due_on: date
    state: str
    performed_at: datetime | None
    performed_note: str
    answered_at: datetime | None
    answer_note: str
    moves: list[str]


@dataclass(frozen=True)
class OutcomeView:
    """The effective agreement on the case page: its signed PDF and its performance."""

    version_number: int
    effective_at: datetime | None
    pdf_ready: bool
    verification_code: str | None
    items: list[ItemView]


async def case_outcome(case: Case, viewer_side: str | None, today: date) -> OutcomeView | None:
    version = await AgreementVersion.filter(case=case, status=AgreementStatus.EFFECTIVE).first()
    if version is None:
        return None
    rows = await PerformanceItem.filter(version=version).order_by("term_number", "id")
    return OutcomeView(
        version_number=version.number,
        effective_at=version.effective_at,
        pdf_ready=version.pdf_sha256 is not None,
        verification_code=version.verification_code,
        items=[
            ItemView(
                id=r.id,
                term_number=r.term_number,
                description=r.description,
                obligor_side=r.obligor_side,
                due_on=r.due_on,
                state=item_state(str(r.status), r.due_on, today).value,
                performed_at=r.performed_at,
                performed_note=r.performed_note,
                answered_at=r.answered_at,
                answer_note=r.answer_note,
                moves=[m.value for m in moves_for(str(r.status), r.obligor_side, viewer_side)],
            )
            for r in rows
        ],
    )


@dataclass(frozen=True)
class AttentionRow:
    case_number: str
    term_number: int
    description: str
    obligor_side: str
    due_on: date
    state: str
    days_overdue: int


async def performance_needing_attention(case_ids: Sequence[int], today: date) -> list[AttentionRow]:
    """Terms of the given cases that are overdue or disputed, the longest overdue first."""
    if not case_ids:
        return []
    rows = await PerformanceItem.filter(
        Q(status=PerformanceStatus.OPEN, due_on__lt=today) | Q(status=PerformanceStatus.DISPUTED),
        case_id__in=list(case_ids),
    ).prefetch_related("case")
    items = [
        AttentionRow(
            case_number=r.case.number,
            term_number=r.term_number,
            description=r.description,
            obligor_side=r.obligor_side,
            due_on=r.due_on,
            state=item_state(str(r.status), r.due_on, today).value,
            days_overdue=max((today - r.due_on).days, 0),
        )
        for r in rows
    ]
    return sorted(items, key=lambda i: (i.due_on, i.case_number, i.term_number))
