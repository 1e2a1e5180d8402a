"""Table tests for the rules of a group dispute (cases/groups/rules.py)."""

from __future__ import annotations

from datetime import date

import pytest

from cases.deadlines.calendar_cn import WorkingDayCalendar
from cases.groups.rules import (
    RULES,
    ConsentOf,
    GroupAct,
    GroupRegime,
    binds_member,
    consent_needed,
    may_choose_representatives,
    member_complaint_window,
    regime_at_court,
    representatives_error,
)

TOURISM, CIVIL = GroupRegime.TOURISM_COMPLAINT, GroupRegime.CIVIL_PROCEDURE


@pytest.mark.parametrize(
    ("regime", "members", "may"),
    [
        (TOURISM, 1, False),
        (TOURISM, 3, False),  # three complainants each act for themselves
        (TOURISM, 4, True),  # four or more: a joint complaint
        (TOURISM, 30, True),
        (CIVIL, 9, False),
        (CIVIL, 10, True),  # "many": generally ten or more
        (CIVIL, 60, True),
    ],
)
def test_who_may_choose_representatives(regime: GroupRegime, members: int, may: bool) -> None:
    assert may_choose_representatives(regime, members) is may


@pytest.mark.parametrize(
    ("regime", "members", "chosen", "error"),
    [
        (TOURISM, 3, 1, "group_too_small_for_representatives"),
        (TOURISM, 4, 0, "too_few_representatives"),
        (TOURISM, 4, 1, None),
        (TOURISM, 4, 3, None),
        (TOURISM, 4, 4, "too_many_representatives"),
        (TOURISM, 30, 3, None),
        (TOURISM, 30, 4, "too_many_representatives"),
        (CIVIL, 9, 2, "group_too_small_for_representatives"),
        (CIVIL, 10, 1, "too_few_representatives"),
        (CIVIL, 10, 2, None),
        (CIVIL, 10, 5, None),
        (CIVIL, 10, 6, "too_many_representatives"),
        (CIVIL, 60, 5, None),
    ],
)
def test_how_many_representatives(
    regime: GroupRegime, members: int, chosen: int, error: str | None
) -> None:
    assert representatives_error(regime, members, chosen) == error


def test_representatives_are_always_fewer_than_the_members() -> None:
    for regime, rule in RULES.items():
        for members in range(rule.fewest_members, rule.fewest_members + 10):
            for chosen in range(rule.fewest_representatives, rule.most_representatives + 1):
                error = representatives_error(regime, members, chosen)
                assert (error is None) == (chosen < members), (regime, members, chosen)


@pytest.mark.parametrize(
    ("regime", "act", "consent"),
    [
        (TOURISM, GroupAct.SPEAK, ConsentOf.NOBODY),
        (TOURISM, GroupAct.PROPOSE, ConsentOf.NOBODY),
        (TOURISM, GroupAct.CHANGE_CLAIM, ConsentOf.ALL_MEMBERS),
        (TOURISM, GroupAct.ABANDON_CLAIM, ConsentOf.ALL_MEMBERS),
        (TOURISM, GroupAct.SETTLE, ConsentOf.ALL_MEMBERS),
        # The tourism rules name changing, abandoning and settling only.
        (TOURISM, GroupAct.ADMIT_CLAIM, ConsentOf.NOBODY),
        (CIVIL, GroupAct.SPEAK, ConsentOf.NOBODY),
        (CIVIL, GroupAct.PROPOSE, ConsentOf.NOBODY),
        (CIVIL, GroupAct.CHANGE_CLAIM, ConsentOf.REPRESENTED),
        (CIVIL, GroupAct.ABANDON_CLAIM, ConsentOf.REPRESENTED),
        (CIVIL, GroupAct.ADMIT_CLAIM, ConsentOf.REPRESENTED),
        (CIVIL, GroupAct.SETTLE, ConsentOf.REPRESENTED),
    ],
)
def test_whose_consent_each_act_needs(
    regime: GroupRegime, act: GroupAct, consent: ConsentOf
) -> None:
    assert consent_needed(regime, act) is consent


@pytest.mark.parametrize(
    ("act", "consented", "represented", "binds"),
    [
        (GroupAct.SPEAK, False, True, True),
        (GroupAct.SPEAK, False, False, False),  # a member acting for themselves
        (GroupAct.SETTLE, False, True, False),  # settling binds only who agreed
        (GroupAct.SETTLE, True, True, True),
        (GroupAct.SETTLE, True, False, False),
        (GroupAct.CHANGE_CLAIM, False, True, False),
        (GroupAct.CHANGE_CLAIM, True, True, True),
    ],
)
def test_what_binds_a_member(
    act: GroupAct, consented: bool, represented: bool, binds: bool
) -> None:
    for regime in GroupRegime:
        assert binds_member(regime, act, consented, represented) is binds


@pytest.mark.parametrize(("members", "regime"), [(2, None), (9, None), (10, CIVIL), (58, CIVIL)])
def test_a_group_at_the_court(members: int, regime: GroupRegime | None) -> None:
    assert regime_at_court(members) is regime


def test_each_member_has_their_own_complaint_window() -> None:
    calendar = WorkingDayCalendar()
    # Two departures of the same tour, ending a week apart: a window each.
    first = member_complaint_window(date(2026, 7, 10), calendar)
    later = member_complaint_window(date(2026, 7, 17), calendar)
    assert first.due == date(2026, 10, 8)  # 90 days after 10 July
    assert later.due is not None and first.due is not None
    assert later.due > first.due


def test_every_rule_names_its_basis() -> None:
    for rule in RULES.values():
        assert rule.basis.startswith("《") and "第" in rule.basis
        assert 1 <= rule.fewest_representatives <= rule.most_representatives < rule.fewest_members
