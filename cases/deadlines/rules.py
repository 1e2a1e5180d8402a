"""The platform's single deadline engine: every time limit of every regime is computed here.

Pure: no database, no clock. The start date, the calendar, the pauses and the extensions are
all parameters, so a deadline can be recomputed at any time (e.g. when next year's State
Council holiday notice is loaded and a provisional result becomes official).

Counting rules:
- the day on which a period starts is not counted; counting starts the next day
  (《民法典》第二百零一条; 《民事诉讼法》第八十五条);
- if the last day of a calendar-day period is a statutory holiday, the period ends on the first
  day after the holiday (《民法典》第二百零三条; 《民事诉讼法》第八十五条). Courts treat Saturday
  and Sunday as rest days for this purpose, and an adjusted working day (调休) is a working day,
  so the last day moves to the first working day after it;
- a working-day period counts only working days: weekends and official holidays are skipped,
  adjusted working days are counted;
- time that does not count, such as expert appraisal (《人民法院在线调解规则》第二十六条), is
  skipped in either unit; while such a pause is still open the deadline is frozen;
- an extension by the parties' consent (《人民法院在线调解规则》第二十四条) adds to the length
  when it is in the rule's unit; in the other unit it runs on from the base due date;
- a period ends at 24:00 of its last day (《民法典》第二百零三条第二款).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, tzinfo
from enum import StrEnum
from types import MappingProxyType
from typing import Final

from cases.clock import SHANGHAI, say_date
from cases.deadlines.calendar_cn import WorkingDayCalendar

__all__ = [
    "RULES",
    "SHANGHAI",
    "Deadline",
    "Extension",
    "Pause",
    "Regime",
    "Rule",
    "Unit",
    "compute_deadline",
    "deadline_for",
    "due_datetime",
    "is_overdue",
    "working_days_between",
]


_ONE_DAY: Final = timedelta(days=1)
_START_NOT_COUNTED: Final = "《民法典》第二百零一条；《民事诉讼法》第八十五条"
_HOLIDAY_ROLL: Final = "《民法典》第二百零三条；《民事诉讼法》第八十五条"
_PAUSE_BASIS: Final = "《人民法院在线调解规则》第二十六条"


class Unit(StrEnum):
    CALENDAR_DAYS = "calendar_days"
    WORKING_DAYS = "working_days"

    @property
    def label(self) -> str:
        return "日" if self is Unit.CALENDAR_DAYS else "个工作日"


class Regime(StrEnum):
    """Each time limit the platform tracks. The rule for each lives in ``RULES``."""

    ONLINE_MEDIATION = "online_mediation"
    POST_FILING_ORDINARY = "post_filing_ordinary"
    POST_FILING_SIMPLE = "post_filing_simple"
    PARTY_CHOICE = "party_choice"
    APPOINTMENT = "appointment"
    MEDIATOR_ANSWER = "mediator_answer"
    RESPONDENT_NOTICE = "respondent_notice"
    JUDICIAL_CONFIRMATION = "judicial_confirmation"
    TOURISM_COMPLAINT_WINDOW = "tourism_complaint_window"
    TOURISM_ACCEPTANCE = "tourism_acceptance"
    TOURISM_DECISION_SHANGHAI = "tourism_decision_shanghai"
    CONSUMER_ACCEPTANCE = "consumer_acceptance"
    CONSUMER_MEDIATION = "consumer_mediation"
    MERCHANT_ANSWER = "merchant_answer"


@dataclass(frozen=True)
class Rule:
    """A time limit: ``length`` days in ``unit``, with its legal ``basis`` (a short citation)."""

    regime: Regime
    length: int
    unit: Unit
    basis: str
    summary: str = ""

    def __post_init__(self) -> None:
        if self.length < 1:
            raise ValueError(f"{self.regime}: a period must be at least one day")
        if not self.basis.strip():
            raise ValueError(f"{self.regime}: a rule must cite its basis")


_ONLINE_RULES: Final = "《人民法院在线调解规则》"

RULES: Final[Mapping[Regime, Rule]] = MappingProxyType(
    {
        r.regime: r
        for r in (
            # Art. 24: pre-litigation mediation 30 days from the mediator's acceptance.
            Rule(
                Regime.ONLINE_MEDIATION,
                30,
                Unit.CALENDAR_DAYS,
                f"{_ONLINE_RULES}第二十四条",
                "诉前在线调解期限，自调解员接受委派之日起计算",
            ),
            # Art. 24: after filing, 15 days under the ordinary procedure, 7 under the simple.
            Rule(
                Regime.POST_FILING_ORDINARY,
                15,
                Unit.CALENDAR_DAYS,
                f"{_ONLINE_RULES}第二十四条",
                "立案后委托调解（普通程序）期限",
            ),
            Rule(
                Regime.POST_FILING_SIMPLE,
                7,
                Unit.CALENDAR_DAYS,
                f"{_ONLINE_RULES}第二十四条",
                "立案后委托调解（简易程序）期限",
            ),
            # Art. 10: the parties may jointly choose a mediator within 2 working days ...
            Rule(
                Regime.PARTY_CHOICE,
                2,
                Unit.WORKING_DAYS,
                f"{_ONLINE_RULES}第十条",
                "当事人共同选择调解员",
            ),
            # ... otherwise one is appointed within 3 working days of the application.
            Rule(
                Regime.APPOINTMENT,
                3,
                Unit.WORKING_DAYS,
                f"{_ONLINE_RULES}第十条",
                "自收到申请之日起指定调解员",
            ),
            # Art. 12: the mediator confirms or declines (with reasons) within 3 working days.
            Rule(
                Regime.MEDIATOR_ANSWER,
                3,
                Unit.WORKING_DAYS,
                f"{_ONLINE_RULES}第十二条",
                "调解员确认是否接受委派",
            ),
            # Art. 15: the other side is notified within 3 working days.
            Rule(
                Regime.RESPONDENT_NOTICE,
                3,
                Unit.WORKING_DAYS,
                f"{_ONLINE_RULES}第十五条",
                "通知对方当事人",
            ),
            # People's Mediation Law Art. 33 (Civil Procedure Law 2023 Art. 205): both parties
            # apply jointly within 30 days of the agreement taking effect.
            Rule(
                Regime.JUDICIAL_CONFIRMATION,
                30,
                Unit.CALENDAR_DAYS,
                "《人民调解法》第三十三条；《民事诉讼法》第二百零五条",
                "自调解协议生效之日起共同申请司法确认",
            ),
            # Tourism complaint rules (2010): a complaint more than 90 days after the end of the
            # tour contract is not accepted (article numbers from secondary sources).
            Rule(
                Regime.TOURISM_COMPLAINT_WINDOW,
                90,
                Unit.CALENDAR_DAYS,
                "《旅游投诉处理办法》第九条",
                "自旅游合同结束之日起提出旅游投诉",
            ),
            Rule(
                Regime.TOURISM_ACCEPTANCE,
                5,
                Unit.WORKING_DAYS,
                "《旅游投诉处理办法》第十五条",
                "旅游投诉处理机构作出受理、不予受理或转办决定",
            ),
            # Shanghai Tourism Regulations 2020 Art. 65: the complaint is decided within 45 days.
            Rule(
                Regime.TOURISM_DECISION_SHANGHAI,
                45,
                Unit.CALENDAR_DAYS,
                "《上海市旅游条例》第六十五条",
                "旅游投诉处理期限（上海）",
            ),
            # Market regulation complaint measures (2019, amended 2022): accept or refuse within
            # 7 working days (Art. 14); mediation ends without agreement after 45 working days
            # from acceptance (Art. 21), appraisal time excluded.
            Rule(
                Regime.CONSUMER_ACCEPTANCE,
                7,
                Unit.WORKING_DAYS,
                "《市场监督管理投诉举报处理暂行办法》第十四条",
                "市场监管部门作出受理或者不予受理决定",
            ),
            Rule(
                Regime.CONSUMER_MEDIATION,
                45,
                Unit.WORKING_DAYS,
                "《市场监督管理投诉举报处理暂行办法》第二十一条",
                "自投诉受理之日起调解期限",
            ),
            # Merchants answer first (先行协商): 10 working days by default, as the 12315
            # platform's ODR enterprises; a merchant may set its own length within the
            # platform's limits (cases.negotiation.rules), kept on the deadline record.
            Rule(
                Regime.MERCHANT_ANSWER,
                10,
                Unit.WORKING_DAYS,
                "《长宁区在线调解平台先行协商规则》（参照全国12315平台在线消费纠纷解决（ODR）企业的处理期限）",
                "经营者先行协商答复期限",
            ),
        )
    }
)


@dataclass(frozen=True)
class Pause:
    """Days that do not count (e.g. expert appraisal, 《人民法院在线调解规则》第二十六条).

    Covers ``start``..``end`` inclusive; ``end=None`` means the pause is still running, which
    freezes the deadline until it is closed.
    """

    start: date
    end: date | None
    reason: str

    def __post_init__(self) -> None:
        if self.end is not None and self.end < self.start:
            raise ValueError("a pause cannot end before it starts")

    def covers(self, d: date) -> bool:
        return self.start <= d and (self.end is None or d <= self.end)


@dataclass(frozen=True)
class Extension:
    """An extension by the parties' consent (《人民法院在线调解规则》第二十四条)."""

    days: int
    unit: Unit
    reason: str

    def __post_init__(self) -> None:
        if self.days < 1:
            raise ValueError("an extension must add at least one day")


@dataclass(frozen=True)
class Deadline:
    """The result of ``compute_deadline``.

    ``due`` is the last day of the period (it ends at 24:00 that day), or None while an open
    pause freezes it. ``counted_days`` is how many days (in the unit of each phase) have counted
    so far; ``required_days`` is how many must count. ``provisional`` is True when a day that
    was consulted lies in a year whose official holiday arrangement is not known: recompute
    once it is. ``rolled_from`` is the nominal last day when it was a rest day and the period
    moved to the next working day.
    """

    rule: Rule
    start: date
    due: date | None
    provisional: bool
    paused: bool
    counted_days: int
    required_days: int
    paused_days: int
    rolled_from: date | None = None
    explanation: tuple[str, ...] = field(default=())

    @property
    def remaining_days(self) -> int:
        """Days still to count; non-zero only while paused."""
        return self.required_days - self.counted_days


@dataclass
class _Counter:
    """Walks the calendar day by day, skipping paused days and noting what it consulted."""

    calendar: WorkingDayCalendar
    pauses: Sequence[Pause]
    provisional_years: set[int] = field(default_factory=set)
    paused_days: int = 0

    def working(self, d: date) -> bool:
        if not self.calendar.is_known(d):
            self.provisional_years.add(d.year)
        return self.calendar.is_working_day(d)

    def frozen_at(self, d: date) -> Pause | None:
        return next((p for p in self.pauses if p.end is None and p.start <= d), None)

    def skipped(self, d: date) -> bool:
        return any(p.covers(d) for p in self.pauses)

    def run(self, after: date, n: int, unit: Unit) -> tuple[date | None, int, date | None]:
        """Count ``n`` days after ``after``; return (last day, days counted, rolled-from day).

        The last day is None when an open pause is reached before the count completes.
        """
        d = after
        counted = 0
        while counted < n:
            d += _ONE_DAY
            if self.frozen_at(d) is not None:
                return None, counted, None
            if self.skipped(d):
                self.paused_days += 1
                continue
            if unit is Unit.CALENDAR_DAYS or self.working(d):
                counted += 1
        if unit is Unit.WORKING_DAYS:
            return d, counted, None
        # Civil Code Art. 203 / CPL Art. 85: a last day that is a holiday or rest day moves to
        # the first working day after it; a paused day cannot be that day either.
        nominal = d
        while not self.working(d) or self.skipped(d):
            d += _ONE_DAY
            if self.frozen_at(d) is not None:
                return None, counted, None
        return d, counted, (nominal if d != nominal else None)


def _fmt_pause(p: Pause) -> str:
    end = say_date(p.end, "zh_CN") if p.end is not None else "（尚未结束）"
    return f"{say_date(p.start, 'zh_CN')} 至 {end}（{p.reason}）"


def compute_deadline(
    rule: Rule,
    start: date,
    calendar: WorkingDayCalendar,
    pauses: Sequence[Pause] = (),
    extensions: Sequence[Extension] = (),
) -> Deadline:
    """Compute the due date of ``rule``'s period starting on ``start`` (not itself counted)."""
    other_unit = Unit.WORKING_DAYS if rule.unit is Unit.CALENDAR_DAYS else Unit.CALENDAR_DAYS
    same = sum(e.days for e in extensions if e.unit is rule.unit)
    other = sum(e.days for e in extensions if e.unit is other_unit)
    base_length = rule.length + same

    notes: list[str] = [
        f"期间：{rule.length}{rule.unit.label}（{rule.basis}）。",
        f"起算：{say_date(start, 'zh_CN')} 当日不计入，自次日开始计算（{_START_NOT_COUNTED}）。",
    ]
    notes.extend(f"经当事人同意延长 {e.days}{e.unit.label}（{e.reason}）。" for e in extensions)
    relevant = [p for p in pauses if p.end is None or p.end > start]
    notes.extend(f"不计入期间：{_fmt_pause(p)}（{_PAUSE_BASIS}）。" for p in relevant)

    counter = _Counter(calendar, relevant)
    due, counted, rolled = counter.run(start, base_length, rule.unit)
    required = base_length + other
    if due is not None and other:
        # An extension in the other unit runs on from the base period's due date.
        notes.append(
            f"基础期间届满日 {say_date(due, 'zh_CN')}，其后再计 {other}{other_unit.label}。"
        )
        due, counted_other, rolled = counter.run(due, other, other_unit)
        counted += counted_other

    if rolled is not None and due is not None:
        notes.append(
            f"期间末日 {say_date(rolled, 'zh_CN')} 为法定休假日或休息日，"
            f"顺延至其后第一个工作日 {say_date(due, 'zh_CN')}（{_HOLIDAY_ROLL}）。"
        )
    if due is None:
        notes.append(f"期间中止：已计 {counted}/{required}，待中止事由结束后继续计算。")
    else:
        notes.append(f"届满日：{say_date(due, 'zh_CN')}，当日 24 时届满。")
    provisional = bool(counter.provisional_years)
    if provisional:
        years = "、".join(str(y) for y in sorted(counter.provisional_years))
        notes.append(
            f"{years} 年的国务院节假日安排尚未载入，按周末休息及法定固定节日推算，"
            "结果为暂定，安排公布后应重新计算。"
        )
    return Deadline(
        rule=rule,
        start=start,
        due=due,
        provisional=provisional,
        paused=due is None,
        counted_days=counted,
        required_days=required,
        paused_days=counter.paused_days,
        rolled_from=rolled if due is not None else None,
        explanation=tuple(notes),
    )


def deadline_for(
    regime: Regime,
    start: date,
    calendar: WorkingDayCalendar,
    pauses: Sequence[Pause] = (),
    extensions: Sequence[Extension] = (),
) -> Deadline:
    """``compute_deadline`` for the rule of ``regime`` in ``RULES``."""
    return compute_deadline(RULES[regime], start, calendar, pauses, extensions)


def is_overdue(deadline: Deadline, today: date) -> bool:
    """True once ``today`` is after the due day (a period ends at 24:00 of its last day).

    A paused deadline is never overdue: its clock is not running.
    """
    return deadline.due is not None and today > deadline.due


def working_days_between(a: date, b: date, calendar: WorkingDayCalendar) -> int:
    """Working days strictly after ``a`` up to and including ``b`` (0 when ``b <= a``)."""
    count = 0
    d = a + _ONE_DAY
    while d <= b:
        if calendar.is_working_day(d):
            count += 1
        d += _ONE_DAY
    return count


def due_datetime(due: date, tz: tzinfo = SHANGHAI) -> datetime:
    """23:59:59 local time on the due day: a period ends at 24:00 of its last day
    (《民法典》第二百零三条第二款)."""
    return datetime.combine(due, time(23, 59, 59), tzinfo=tz)
