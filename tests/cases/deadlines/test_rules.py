"""The deadline engine, as tables of exact dates checked by hand against the official calendars.

2026 (State Council notice): weekday holidays Jan 1-2, Feb 16-20 and 23, Apr 6, May 1, 4-5,
Jun 19, Sep 25, Oct 1-2, 5-7; weekend working days Jan 4, Feb 14, Feb 28, May 9, Sep 20, Oct 10.
Full spans include weekends (Spring Festival Feb 15-23, National Day Oct 1-7).
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest

from cases.clock import SHANGHAI
from cases.deadlines.calendar_cn import WorkingDayCalendar, YearArrangement
from cases.deadlines.rules import (
    RULES,
    Deadline,
    Extension,
    Pause,
    Regime,
    Rule,
    Unit,
    compute_deadline,
    deadline_for,
    due_datetime,
    is_overdue,
    working_days_between,
)

CAL = Unit.CALENDAR_DAYS
WORK = Unit.WORKING_DAYS


@pytest.fixture(scope="module")
def cal() -> WorkingDayCalendar:
    return WorkingDayCalendar()


@pytest.mark.parametrize(
    ("regime", "start", "due", "rolled_from"),
    [
        # Fri 13 (1), Sat 14 adjusted working day (2), Feb 15-23 holiday, Tue 24 (3), 25 (4),
        # Thu 26 (5).
        pytest.param(
            Regime.TOURISM_ACCEPTANCE,
            date(2026, 2, 12),
            date(2026, 2, 26),
            None,
            id="5wd-across-spring-festival-2026",
        ),
        # Oct 1-7 holiday, Thu 8 (1), Fri 9 (2), Sat 10 adjusted working day (3).
        pytest.param(
            Regime.RESPONDENT_NOTICE,
            date(2026, 9, 30),
            date(2026, 10, 10),
            None,
            id="3wd-across-national-day-2026-ends-on-oct10",
        ),
        # Mon Mar 2 -> Tue 3, Wed 4, Thu 5.
        pytest.param(
            Regime.MEDIATOR_ANSWER,
            date(2026, 3, 2),
            date(2026, 3, 5),
            None,
            id="3wd-ordinary-week",
        ),
        # Thu Mar 5 -> Fri 6 (1), Mon 9 (2).
        pytest.param(
            Regime.PARTY_CHOICE, date(2026, 3, 5), date(2026, 3, 9), None, id="2wd-over-weekend"
        ),
        # Jan 6-9 (4), 12-16 (9), 19-23 (14), 26-30 (19), Feb 2-6 (24), 9-13 (29),
        # Sat 14 (30), Feb 15-23 holiday, 24-27 (34), Sat 28 (35), Mar 2-6 (40), 9-13 (45).
        pytest.param(
            Regime.CONSUMER_MEDIATION,
            date(2026, 1, 5),
            date(2026, 3, 13),
            None,
            id="45wd-consumer-mediation-over-spring-festival",
        ),
        # Jan 16 + 30 = Sun Feb 15 (Spring Festival), holiday until Mon 23 -> Tue Feb 24.
        pytest.param(
            Regime.ONLINE_MEDIATION,
            date(2026, 1, 16),
            date(2026, 2, 24),
            date(2026, 2, 15),
            id="30d-last-day-in-spring-festival",
        ),
        # Sep 1 + 30 = Thu Oct 1 (National Day) -> Thu Oct 8.
        pytest.param(
            Regime.JUDICIAL_CONFIRMATION,
            date(2026, 9, 1),
            date(2026, 10, 8),
            date(2026, 10, 1),
            id="30d-judicial-confirmation-last-day-national-day",
        ),
        # Mar 6 + 30 = Sun Apr 5 (Qingming), Mon Apr 6 holiday -> Tue Apr 7.
        pytest.param(
            Regime.ONLINE_MEDIATION,
            date(2026, 3, 6),
            date(2026, 4, 7),
            date(2026, 4, 5),
            id="30d-last-day-qingming",
        ),
        # Mar 14 + 7 = Sat Mar 21 (ordinary weekend) -> Mon Mar 23.
        pytest.param(
            Regime.POST_FILING_SIMPLE,
            date(2026, 3, 14),
            date(2026, 3, 23),
            date(2026, 3, 21),
            id="7d-last-day-ordinary-saturday",
        ),
        # Feb 21 + 7 = Sat Feb 28, an adjusted working day: no move.
        pytest.param(
            Regime.POST_FILING_SIMPLE,
            date(2026, 2, 21),
            date(2026, 2, 28),
            None,
            id="7d-last-day-adjusted-working-saturday",
        ),
        # Apr 20 + 15 = Tue May 5 (Labour Day) -> Wed May 6.
        pytest.param(
            Regime.POST_FILING_ORDINARY,
            date(2026, 4, 20),
            date(2026, 5, 6),
            date(2026, 5, 5),
            id="15d-last-day-labour-day",
        ),
        # Jul 1 + 90 = Tue Sep 29, a working day.
        pytest.param(
            Regime.TOURISM_COMPLAINT_WINDOW,
            date(2026, 7, 1),
            date(2026, 9, 29),
            None,
            id="90d-tourism-window-plain",
        ),
        # Jul 4 + 90 = Fri Oct 2 (National Day) -> Thu Oct 8.
        pytest.param(
            Regime.TOURISM_COMPLAINT_WINDOW,
            date(2026, 7, 4),
            date(2026, 10, 8),
            date(2026, 10, 2),
            id="90d-tourism-window-into-national-day",
        ),
        # 2025: Fri Jan 24 -> Sat 25 rest, Sun 26 adjusted working (1), Mon 27 (2),
        # Jan 28 - Feb 4 Spring Festival, Wed Feb 5 (3).
        pytest.param(
            Regime.APPOINTMENT,
            date(2025, 1, 24),
            date(2025, 2, 5),
            None,
            id="2025-3wd-across-spring-festival",
        ),
        # 2026: Mon Nov 2 + 10 working days: Nov 3-6 (4), Nov 9-13 (9), Mon Nov 16 (10).
        pytest.param(
            Regime.MERCHANT_ANSWER,
            date(2026, 11, 2),
            date(2026, 11, 16),
            None,
            id="2026-10wd-merchant-answer",
        ),
        # 2025: Sep 8 + 30 = Wed Oct 8 (last day of the Oct 1-8 holiday) -> Thu Oct 9.
        pytest.param(
            Regime.ONLINE_MEDIATION,
            date(2025, 9, 8),
            date(2025, 10, 9),
            date(2025, 10, 8),
            id="2025-30d-last-day-national-day",
        ),
    ],
)
def test_due_dates(
    cal: WorkingDayCalendar, regime: Regime, start: date, due: date, rolled_from: date | None
) -> None:
    result = deadline_for(regime, start, cal)
    assert result.due == due
    assert result.rolled_from == rolled_from
    assert result.provisional is False
    assert result.paused is False
    assert result.counted_days == RULES[regime].length == result.required_days
    assert result.remaining_days == 0


def test_explanation_cites_the_counting_rules(cal: WorkingDayCalendar) -> None:
    result = deadline_for(Regime.ONLINE_MEDIATION, date(2026, 1, 16), cal)
    text = "\n".join(result.explanation)
    assert "《人民法院在线调解规则》第二十四条" in text
    assert "《民法典》第二百零一条" in text
    assert "2026年2月15日" in text and "《民法典》第二百零三条" in text
    assert "2026年2月24日" in text
    assert "2026-02" not in text  # dates as a record writes them, never ISO


# --- pauses (Art. 26: appraisal time does not count) -------------------------------------

APPRAISAL = "鉴定"


@pytest.mark.parametrize(
    ("rule", "start", "pauses", "due", "paused_days"),
    [
        # Mar 2 + 30 = Apr 1; ten paused days (Mar 10-19) -> Sat Apr 11 -> Mon Apr 13.
        pytest.param(
            RULES[Regime.ONLINE_MEDIATION],
            date(2026, 3, 2),
            (Pause(date(2026, 3, 10), date(2026, 3, 19), APPRAISAL),),
            date(2026, 4, 13),
            10,
            id="30d-closed-pause-10-days",
        ),
        # Working days: Tue 3 (1), Wed 4 paused, Thu 5 (2), Fri 6 (3).
        pytest.param(
            RULES[Regime.MEDIATOR_ANSWER],
            date(2026, 3, 2),
            (Pause(date(2026, 3, 4), date(2026, 3, 4), APPRAISAL),),
            date(2026, 3, 6),
            1,
            id="3wd-one-paused-working-day",
        ),
        # A pause over a weekend does not change a working-day count: Mar 5 -> Fri 6, Mon 9.
        pytest.param(
            RULES[Regime.PARTY_CHOICE],
            date(2026, 3, 5),
            (Pause(date(2026, 3, 7), date(2026, 3, 8), APPRAISAL),),
            date(2026, 3, 9),
            2,
            id="2wd-pause-on-weekend",
        ),
        # A pause that ended on or before the start day has no effect.
        pytest.param(
            RULES[Regime.ONLINE_MEDIATION],
            date(2026, 3, 2),
            (Pause(date(2026, 2, 20), date(2026, 3, 2), APPRAISAL),),
            date(2026, 4, 1),
            0,
            id="pause-before-start-ignored",
        ),
        # Mar 24 + 7 = Tue Mar 31; Mar 31 - Apr 2 paused -> Fri Apr 3 (no roll needed).
        pytest.param(
            RULES[Regime.POST_FILING_SIMPLE],
            date(2026, 3, 24),
            (Pause(date(2026, 3, 31), date(2026, 4, 2), APPRAISAL),),
            date(2026, 4, 3),
            3,
            id="7d-pause-at-the-end",
        ),
        # Two pauses add up: Mar 2 + 30 + 3 + 2 = Apr 6 (Qingming) -> Tue Apr 7.
        pytest.param(
            RULES[Regime.ONLINE_MEDIATION],
            date(2026, 3, 2),
            (
                Pause(date(2026, 3, 3), date(2026, 3, 5), APPRAISAL),
                Pause(date(2026, 3, 20), date(2026, 3, 21), "检测"),
            ),
            date(2026, 4, 7),
            5,
            id="two-closed-pauses",
        ),
    ],
)
def test_closed_pauses(
    cal: WorkingDayCalendar,
    rule: Rule,
    start: date,
    pauses: tuple[Pause, ...],
    due: date,
    paused_days: int,
) -> None:
    result = compute_deadline(rule, start, cal, pauses=pauses)
    assert result.due == due
    assert result.paused_days == paused_days
    assert result.paused is False
    assert result.counted_days == rule.length


def test_open_pause_freezes_the_deadline(cal: WorkingDayCalendar) -> None:
    result = deadline_for(
        Regime.ONLINE_MEDIATION,
        date(2026, 3, 2),
        cal,
        pauses=[Pause(date(2026, 3, 10), None, APPRAISAL)],
    )
    assert result.paused is True
    assert result.due is None
    assert result.counted_days == 7  # Mar 3..9
    assert result.remaining_days == 23
    assert not is_overdue(result, date(2027, 1, 1))


def test_open_pause_from_before_start_counts_nothing(cal: WorkingDayCalendar) -> None:
    result = deadline_for(
        Regime.MEDIATOR_ANSWER, date(2026, 3, 2), cal, pauses=[Pause(date(2026, 3, 1), None, "x")]
    )
    assert (result.paused, result.due, result.counted_days) == (True, None, 0)


def test_open_pause_after_the_due_date_does_not_matter(cal: WorkingDayCalendar) -> None:
    result = deadline_for(
        Regime.ONLINE_MEDIATION,
        date(2026, 3, 2),
        cal,
        pauses=[Pause(date(2026, 4, 2), None, APPRAISAL)],
    )
    assert (result.paused, result.due) == (False, date(2026, 4, 1))


def test_open_pause_during_roll_forward_freezes(cal: WorkingDayCalendar) -> None:
    # Jan 16 + 30 = Feb 15 (holiday); the roll to Feb 24 meets a pause opened on Feb 24.
    result = deadline_for(
        Regime.ONLINE_MEDIATION,
        date(2026, 1, 16),
        cal,
        pauses=[Pause(date(2026, 2, 24), None, APPRAISAL)],
    )
    assert (result.paused, result.due, result.counted_days) == (True, None, 30)


def test_closing_a_pause_resumes_the_count(cal: WorkingDayCalendar) -> None:
    # The open pause from Mar 10 is closed on Mar 19: same as the closed-pause row above.
    result = deadline_for(
        Regime.ONLINE_MEDIATION,
        date(2026, 3, 2),
        cal,
        pauses=[Pause(date(2026, 3, 10), date(2026, 3, 19), APPRAISAL)],
    )
    assert result.due == date(2026, 4, 13)


def test_pause_cannot_end_before_it_starts() -> None:
    with pytest.raises(ValueError):
        Pause(date(2026, 3, 10), date(2026, 3, 9), APPRAISAL)


# --- extensions by consent (Art. 24) ------------------------------------------------------


@pytest.mark.parametrize(
    ("regime", "start", "extensions", "due", "required"),
    [
        # Same unit: 30 + 15 = 45 days, Mar 2 + 45 = Thu Apr 16.
        pytest.param(
            Regime.ONLINE_MEDIATION,
            date(2026, 3, 2),
            (Extension(15, CAL, "双方同意"),),
            date(2026, 4, 16),
            45,
            id="calendar-plus-calendar",
        ),
        # Same unit: 3 + 2 working days from Mon Mar 2 -> Mar 3, 4, 5, 6, 9.
        pytest.param(
            Regime.MEDIATOR_ANSWER,
            date(2026, 3, 2),
            (Extension(2, WORK, "双方同意"),),
            date(2026, 3, 9),
            5,
            id="working-plus-working",
        ),
        # Other unit: base Apr 1 (Wed), then 5 working days: Apr 2, 3, (4-6 Qingming), 7, 8, 9.
        pytest.param(
            Regime.ONLINE_MEDIATION,
            date(2026, 3, 2),
            (Extension(5, WORK, "双方同意"),),
            date(2026, 4, 9),
            35,
            id="calendar-plus-working",
        ),
        # Other unit: base Thu Mar 5, then 2 calendar days = Sat Mar 7 -> Mon Mar 9.
        pytest.param(
            Regime.MEDIATOR_ANSWER,
            date(2026, 3, 2),
            (Extension(2, CAL, "双方同意"),),
            date(2026, 3, 9),
            5,
            id="working-plus-calendar-rolls",
        ),
        # Two same-unit extensions add up: 30 + 10 + 5 = 45 -> Apr 16.
        pytest.param(
            Regime.ONLINE_MEDIATION,
            date(2026, 3, 2),
            (Extension(10, CAL, "第一次"), Extension(5, CAL, "第二次")),
            date(2026, 4, 16),
            45,
            id="two-extensions-same-unit",
        ),
        # Both units: 30 + 15 days = Apr 16 (Thu), then 2 working days: Fri 17, Mon 20.
        pytest.param(
            Regime.ONLINE_MEDIATION,
            date(2026, 3, 2),
            (Extension(15, CAL, "a"), Extension(2, WORK, "b")),
            date(2026, 4, 20),
            47,
            id="both-units",
        ),
    ],
)
def test_extensions(
    cal: WorkingDayCalendar,
    regime: Regime,
    start: date,
    extensions: tuple[Extension, ...],
    due: date,
    required: int,
) -> None:
    result = deadline_for(regime, start, cal, extensions=extensions)
    assert result.due == due
    assert result.required_days == required == result.counted_days
    assert all(e.reason in "\n".join(result.explanation) for e in extensions)


def test_extension_and_pause_together(cal: WorkingDayCalendar) -> None:
    # 30 + 15 = 45 days, plus 10 paused days: Mar 2 + 55 = Sun Apr 26 -> Mon Apr 27.
    result = deadline_for(
        Regime.ONLINE_MEDIATION,
        date(2026, 3, 2),
        cal,
        pauses=[Pause(date(2026, 3, 10), date(2026, 3, 19), APPRAISAL)],
        extensions=[Extension(15, CAL, "双方同意")],
    )
    assert result.due == date(2026, 4, 27)


def test_extension_must_add_days() -> None:
    with pytest.raises(ValueError):
        Extension(0, CAL, "nothing")


# --- the rule table -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("regime", "length", "unit", "article"),
    [
        pytest.param(Regime.ONLINE_MEDIATION, 30, CAL, "第二十四条", id="online-mediation"),
        pytest.param(Regime.POST_FILING_ORDINARY, 15, CAL, "第二十四条", id="post-filing-ord"),
        pytest.param(Regime.POST_FILING_SIMPLE, 7, CAL, "第二十四条", id="post-filing-simple"),
        pytest.param(Regime.PARTY_CHOICE, 2, WORK, "第十条", id="party-choice"),
        pytest.param(Regime.APPOINTMENT, 3, WORK, "第十条", id="appointment"),
        pytest.param(Regime.MEDIATOR_ANSWER, 3, WORK, "第十二条", id="mediator-answer"),
        pytest.param(Regime.RESPONDENT_NOTICE, 3, WORK, "第十五条", id="respondent-notice"),
        pytest.param(Regime.JUDICIAL_CONFIRMATION, 30, CAL, "第三十三条", id="judicial-conf"),
        pytest.param(Regime.TOURISM_COMPLAINT_WINDOW, 90, CAL, "旅游投诉", id="tourism-window"),
        pytest.param(Regime.TOURISM_ACCEPTANCE, 5, WORK, "旅游投诉", id="tourism-acceptance"),
        pytest.param(Regime.TOURISM_DECISION_SHANGHAI, 45, CAL, "上海市旅游条例", id="tourism-sh"),
        pytest.param(Regime.CONSUMER_ACCEPTANCE, 7, WORK, "投诉举报", id="consumer-acceptance"),
        pytest.param(Regime.CONSUMER_MEDIATION, 45, WORK, "投诉举报", id="consumer-mediation"),
        pytest.param(Regime.MERCHANT_ANSWER, 10, WORK, "先行协商", id="merchant-answer"),
    ],
)
def test_rule_table(regime: Regime, length: int, unit: Unit, article: str) -> None:
    rule = RULES[regime]
    assert rule.regime is regime
    assert (rule.length, rule.unit) == (length, unit)
    assert rule.basis.startswith("《")
    assert article in rule.basis


def test_every_regime_has_a_rule() -> None:
    assert set(RULES) == set(Regime)
    for regime, rule in RULES.items():
        assert rule.regime is regime
        assert rule.basis.strip()
        assert 1 <= rule.length <= 90


def test_rules_are_read_only() -> None:
    with pytest.raises(TypeError):
        RULES[Regime.ONLINE_MEDIATION] = RULES[Regime.POST_FILING_SIMPLE]  # type: ignore[index]


def test_rule_validation() -> None:
    with pytest.raises(ValueError):
        Rule(Regime.ONLINE_MEDIATION, 0, CAL, "《x》")
    with pytest.raises(ValueError):
        Rule(Regime.ONLINE_MEDIATION, 30, CAL, " ")


# --- years nobody has published yet -------------------------------------------------------


@pytest.mark.parametrize(
    ("regime", "start", "due", "provisional"),
    [
        # Dec 20 + 30 = Tue 2027-01-19: a plain weekday, but 2027 is not published.
        pytest.param(
            Regime.ONLINE_MEDIATION,
            date(2026, 12, 20),
            date(2027, 1, 19),
            True,
            id="30d-into-2027",
        ),
        # Dec 2 + 30 = Fri 2027-01-01 (New Year, fixed by law), Sat, Sun -> Mon 2027-01-04.
        pytest.param(
            Regime.ONLINE_MEDIATION,
            date(2026, 12, 2),
            date(2027, 1, 4),
            True,
            id="30d-ends-on-2027-new-year",
        ),
        # Dec 30 (1), 31 (2), Jan 1 holiday, Jan 2-3 weekend, Jan 4 (3), 5 (4), 6 (5).
        pytest.param(
            Regime.TOURISM_ACCEPTANCE,
            date(2026, 12, 29),
            date(2027, 1, 6),
            True,
            id="5wd-into-2027",
        ),
        # Dec 24 + 7 = Thu Dec 31: only 2026 consulted, so official.
        pytest.param(
            Regime.POST_FILING_SIMPLE,
            date(2026, 12, 24),
            date(2026, 12, 31),
            False,
            id="7d-ends-2026-12-31-official",
        ),
        # Mon Dec 21 -> 22, 23, 24: official.
        pytest.param(
            Regime.MEDIATOR_ANSWER,
            date(2026, 12, 21),
            date(2026, 12, 24),
            False,
            id="3wd-in-december-official",
        ),
    ],
)
def test_unpublished_year_is_provisional(
    cal: WorkingDayCalendar, regime: Regime, start: date, due: date, provisional: bool
) -> None:
    result = deadline_for(regime, start, cal)
    assert result.due == due
    assert result.provisional is provisional
    assert ("2027 年" in "\n".join(result.explanation)) is provisional


FICTIONAL_2027 = YearArrangement.of(
    2027,
    holidays=[date(2027, 1, 1), date(2027, 1, 4)],
    adjusted_working_days=[date(2027, 1, 9)],
    source="test fixture, fictional",
)


@pytest.mark.parametrize(
    ("regime", "start", "due"),
    [
        # Dec 30 (1), 31 (2), Jan 1 holiday, 2-3 weekend, Jan 4 holiday, 5 (3), 6 (4), 7 (5).
        pytest.param(
            Regime.TOURISM_ACCEPTANCE, date(2026, 12, 29), date(2027, 1, 7), id="5wd-injected"
        ),
        # ... 8 (6), Sat Jan 9 adjusted working day (7).
        pytest.param(
            Regime.CONSUMER_ACCEPTANCE, date(2026, 12, 29), date(2027, 1, 9), id="7wd-injected"
        ),
        # Dec 5 + 30 = Mon Jan 4, a holiday in the injected year -> Tue Jan 5.
        pytest.param(
            Regime.ONLINE_MEDIATION, date(2026, 12, 5), date(2027, 1, 5), id="30d-injected"
        ),
    ],
)
def test_injected_year_makes_results_official(regime: Regime, start: date, due: date) -> None:
    cal = WorkingDayCalendar({2027: FICTIONAL_2027})
    result = deadline_for(regime, start, cal)
    assert result.due == due
    assert result.provisional is False


# --- helpers ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        pytest.param(date(2026, 2, 12), date(2026, 2, 26), 5, id="spring-festival"),
        pytest.param(date(2026, 9, 30), date(2026, 10, 10), 3, id="national-day"),
        # Jan 4 (adjusted Sunday) + four full weeks Jan 5-30.
        pytest.param(date(2026, 1, 1), date(2026, 1, 31), 21, id="january-2026"),
        pytest.param(date(2026, 3, 9), date(2026, 3, 9), 0, id="same-day"),
        pytest.param(date(2026, 3, 9), date(2026, 3, 2), 0, id="reversed"),
        pytest.param(date(2026, 3, 6), date(2026, 3, 9), 1, id="fri-to-mon"),
    ],
)
def test_working_days_between(cal: WorkingDayCalendar, a: date, b: date, expected: int) -> None:
    assert working_days_between(a, b, cal) == expected


@pytest.mark.parametrize(
    ("today", "overdue"),
    [
        pytest.param(date(2026, 2, 25), False, id="day-before"),
        pytest.param(date(2026, 2, 26), False, id="due-day-runs-to-midnight"),
        pytest.param(date(2026, 2, 27), True, id="day-after"),
    ],
)
def test_is_overdue(cal: WorkingDayCalendar, today: date, overdue: bool) -> None:
    result = deadline_for(Regime.TOURISM_ACCEPTANCE, date(2026, 2, 12), cal)
    assert result.due == date(2026, 2, 26)
    assert is_overdue(result, today) is overdue


def test_paused_deadline_is_never_overdue() -> None:
    frozen = Deadline(
        rule=RULES[Regime.ONLINE_MEDIATION],
        start=date(2026, 3, 2),
        due=None,
        provisional=False,
        paused=True,
        counted_days=7,
        required_days=30,
        paused_days=0,
    )
    assert is_overdue(frozen, date(2030, 1, 1)) is False


def test_due_datetime_is_end_of_day_in_shanghai() -> None:
    end = due_datetime(date(2026, 2, 26))
    assert end == datetime(2026, 2, 26, 23, 59, 59, tzinfo=SHANGHAI)
    assert end.utcoffset() == timedelta(hours=8)
    assert end.isoformat() == "2026-02-26T23:59:59+08:00"
