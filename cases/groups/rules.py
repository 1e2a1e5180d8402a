"""The rules of a group dispute: when a group may act through representatives, how many it
chooses, which acts of a representative bind the members only with their consent, and each
member's own time limits (pure; table-tested in tests/cases/groups/test_rules.py).

Two regimes (the texts as checked for this table; a court's or a bureau's later rule that
changes a number changes it here only):

- 《旅游投诉处理办法》(国家旅游局令第32号, 2010) 第十三条: four or more complainants who
  complain of the same matter against the same respondent make a joint complaint and may
  choose one to three representatives; the representatives' acts bind all of them, but
  changing or abandoning the complaint's claims, or settling, needs the consent of all the
  complainants. (The issue names article 12; in the 2010 text article 12 is about oral
  complaints and the joint complaint is article 13.)
- 《民事诉讼法》第五十六条、第五十七条 with 《最高人民法院关于适用〈中华人民共和国民事诉讼法〉
  的解释》第七十五条至第七十八条: a party "of many" (generally ten or more) may act through
  two to five chosen representatives; changing or abandoning claims, admitting the other
  side's claims, or settling needs the consent of those represented. A group that goes to
  the court goes under these rules; a smaller group goes as ordinary co-plaintiffs, each
  acting for themselves.

Each member's own periods run on their own dates: the 90-day window for a tourism complaint
counts from each member's own end of trip (cases.deadlines, Regime.TOURISM_COMPLAINT_WINDOW).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from types import MappingProxyType

from cases.deadlines.calendar_cn import WorkingDayCalendar
from cases.deadlines.rules import Deadline, Regime, deadline_for


class GroupRegime(StrEnum):
    TOURISM_COMPLAINT = "tourism_complaint"  # a joint complaint in mediation (共同投诉)
    CIVIL_PROCEDURE = "civil_procedure"  # a party of many at the court (代表人诉讼)


class GroupAct(StrEnum):
    """What a representative does for the members."""

    SPEAK = "speak"  # state the case, give and question evidence, in sessions and messages
    PROPOSE = "propose"  # put terms to the other side, ask for a scheme
    CHANGE_CLAIM = "change_claim"
    ABANDON_CLAIM = "abandon_claim"
    ADMIT_CLAIM = "admit_claim"  # admit the other side's claims
    SETTLE = "settle"  # accept a settlement (a scheme, an agreement)


class ConsentOf(StrEnum):
    NOBODY = "nobody"  # the representative's act binds the members by itself
    ALL_MEMBERS = "all_members"  # every complainant of the group
    REPRESENTED = "represented"  # every member the representative acts for


@dataclass(frozen=True)
class RepresentationRule:
    regime: GroupRegime
    fewest_members: int  # a group this large may choose representatives
    fewest_representatives: int
    most_representatives: int
    consent_needed: frozenset[GroupAct]  # acts that bind a member only with their consent
    consent_of: ConsentOf
    basis: str  # the citation, as records write it


RULES: MappingProxyType[GroupRegime, RepresentationRule] = MappingProxyType(
    {
        GroupRegime.TOURISM_COMPLAINT: RepresentationRule(
            GroupRegime.TOURISM_COMPLAINT,
            fewest_members=4,
            fewest_representatives=1,
            most_representatives=3,
            consent_needed=frozenset(
                {GroupAct.CHANGE_CLAIM, GroupAct.ABANDON_CLAIM, GroupAct.SETTLE}
            ),
            consent_of=ConsentOf.ALL_MEMBERS,
            basis="《旅游投诉处理办法》第十三条",
        ),
        GroupRegime.CIVIL_PROCEDURE: RepresentationRule(
            GroupRegime.CIVIL_PROCEDURE,
            fewest_members=10,
            fewest_representatives=2,
            most_representatives=5,
            consent_needed=frozenset(
                {
                    GroupAct.CHANGE_CLAIM,
                    GroupAct.ABANDON_CLAIM,
                    GroupAct.ADMIT_CLAIM,
                    GroupAct.SETTLE,
                }
            ),
            consent_of=ConsentOf.REPRESENTED,
            basis="《民事诉讼法》第五十六条、第五十七条；《民诉法解释》第七十五条至第七十八条",
        ),
    }
)


def may_choose_representatives(regime: GroupRegime, members: int) -> bool:
    """Whether a group of `members` may act through representatives under `regime`."""
    return members >= RULES[regime].fewest_members


def representatives_error(regime: GroupRegime, members: int, chosen: int) -> str | None:
    """Why `chosen` representatives cannot act for a group of `members` (an error code),
    or None when they can."""
    rule = RULES[regime]
    if members < rule.fewest_members:
        return "group_too_small_for_representatives"
    if chosen < rule.fewest_representatives:
        return "too_few_representatives"
    if chosen > rule.most_representatives:
        return "too_many_representatives"
    if chosen >= members:
        return "representatives_not_fewer_than_members"
    return None


def consent_needed(regime: GroupRegime, act: GroupAct) -> ConsentOf:
    """Whose consent makes a representative's `act` bind the members."""
    rule = RULES[regime]
    return rule.consent_of if act in rule.consent_needed else ConsentOf.NOBODY


def binds_member(
    regime: GroupRegime, act: GroupAct, member_consented: bool, member_represented: bool
) -> bool:
    """Whether a representative's `act` binds one member: a member not represented (acting
    for themselves) is never bound by it; an act needing consent binds only a member who
    gave it."""
    if not member_represented:
        return False
    if consent_needed(regime, act) is ConsentOf.NOBODY:
        return True
    return member_consented


def regime_at_court(members: int) -> GroupRegime | None:
    """The regime a group that goes to the court acts under: a party of many, or None (fewer
    than ten go as ordinary co-plaintiffs, each for themselves)."""
    return (
        GroupRegime.CIVIL_PROCEDURE
        if may_choose_representatives(GroupRegime.CIVIL_PROCEDURE, members)
        else None
    )


def member_complaint_window(trip_end: date, calendar: WorkingDayCalendar) -> Deadline:
    """A member's own last day to complain of the tour: 90 days from their own end of trip
    (a member who travelled on a later departure has a later day)."""
    return deadline_for(Regime.TOURISM_COMPLAINT_WINDOW, trip_end, calendar)
