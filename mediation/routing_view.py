"""What the routing part of a case page shows each viewer: triage reasons and the scorer's
explanation to staff, the roster to choose from to parties, deadlines to everyone on the case."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from cases.access import CaseFacts, Viewer, handles_case
from cases.accounts.models import MediatorProfile, Organisation, User
from cases.categories import BY_CODE
from cases.deadlines.actions import recompute
from cases.deadlines.models import CaseDeadline, DeadlineStatus
from cases.deadlines.rules import RULES, Regime
from cases.models import Case
from cases.routing.models import MediatorAssignment, MediatorChoice
from cases.routing.roster import average_days, mediator_records
from cases.status import Status
from cases.timeline import REGIME_LABELS as TIMELINE_REGIME_LABELS
from mediation.i18n import N_

TRACK_LABELS = {
    "peoples": N_("People's mediation"),
    "administrative": N_("Administrative mediation"),
    "arbitration": N_("Arbitration mediation"),
    "industry": N_("Industry or social-organisation mediation"),
}

REASON_LABELS = {
    "arbitration_clause": N_("The contract has an arbitration clause."),
    "court_entrusted": N_("The court entrusted this case for pre-litigation mediation."),
    "small_consumer_claim": N_(
        "A consumer's claim of %(claim_amount)s yuan, under %(limit)s yuan."
    ),
    "tourism_quality_office": N_("A tourist's complaint about a tourism operator."),
    "industry_committee": N_("An industry mediation committee handles this kind of dispute."),
    "large_claim": N_("A large claim (%(claim_amount)s yuan, at least %(floor)s yuan)."),
    "business_dispute": N_("A dispute between two businesses."),
    "group_dispute": N_("A group dispute (%(group_size)s claimants, %(min_size)s or more)."),
    "peoples_default": N_("People's mediation is free of charge and takes most disputes."),
    "no_arbitration_organisation": N_("No arbitration mediation centre takes this category."),
    "category_match": N_("The organisation takes this category of dispute."),
    "fallback_other_track": N_("No organisation of the first track takes it; another does."),
    "no_organisation_takes_category": N_("No organisation takes this category yet."),
    "no_organisation_accepts_court_entrusted": N_(
        "No organisation of that track accepts court-entrusted cases."
    ),
}

# The same triage reasons told to the parties (REASON_LABELS is for staff, who need the rule):
# why their case went to this organisation, in plain words, without the platform's jargon.
REASONS_FOR_PARTIES = {
    "arbitration_clause": N_(
        "Your contract says disputes go to arbitration, so an arbitration centre's mediators "
        "handle it."
    ),
    "court_entrusted": N_("The court asked for this case to be mediated before it goes to trial."),
    "small_consumer_claim": N_(
        "It is a consumer's claim of %(claim_amount)s yuan: a consumer mediation organisation "
        "handles claims under %(limit)s yuan."
    ),
    "tourism_quality_office": N_(
        "It is a tourist's complaint about a tourism business: the tourism complaints office "
        "handles these."
    ),
    "industry_committee": N_(
        "A mediation committee of this industry knows this kind of dispute best."
    ),
    "large_claim": N_(
        "The amount claimed is large (%(claim_amount)s yuan), so a specialised organisation "
        "handles it."
    ),
    "business_dispute": N_(
        "Both sides are businesses, so a commercial mediation organisation handles it."
    ),
    "group_dispute": N_(
        "Many people (%(group_size)s) bring the same claim, so an organisation that handles "
        "group disputes takes it."
    ),
    "peoples_default": N_("People's mediation takes most disputes, and it is free of charge."),
    "no_arbitration_organisation": N_(
        "No arbitration centre on the platform takes this kind of dispute, so another "
        "organisation does."
    ),
    "category_match": N_("This organisation takes this kind of dispute."),
    "fallback_other_track": N_(
        "The organisations that would usually take it do not take this kind of dispute, so "
        "another one does."
    ),
    "no_organisation_takes_category": N_(
        "No organisation takes this kind of dispute yet; the platform's staff will find one."
    ),
    "no_organisation_accepts_court_entrusted": N_(
        "No organisation of that kind takes cases sent by the court; the platform's staff will "
        "find one."
    ),
}

# The time limits by name: the timeline's catalogue (cases.timeline), which the court desk reads.
REGIME_LABELS = TIMELINE_REGIME_LABELS

HOW_LABELS = {
    "chosen": N_("chosen jointly by the parties"),
    "appointed": N_("appointed by the platform"),
    "overridden": N_("appointed by an administrator"),
    "accepted": N_("accepted"),
    "declined": N_("declined"),
    "recused": N_("stepped aside (disclosed a tie)"),
    "replaced": N_("replaced"),
    "no_answer": N_("did not answer in time"),
}


@dataclass(frozen=True)
class DeadlineView:
    regime: str
    due_on: date | None
    provisional: bool
    paused: bool
    explanation: tuple[str, ...]
    basis: str


@dataclass(frozen=True)
class RosterEntry:
    user_id: int
    name: str
    specialties: list[str]
    languages: list[str]
    cases_closed: int
    settlement_rate: int | None  # percent
    average_days: float | None
    chosen_by_you: bool
    chosen_by_other: bool


@dataclass
class RoutingView:
    organisation: Organisation | None
    track: str | None
    reasons: list[dict[str, Any]]
    mediator_name: str | None
    deadlines: list[DeadlineView]
    assignments: list[dict[str, Any]] = field(default_factory=list)
    roster: list[RosterEntry] = field(default_factory=list)
    can_choose: bool = False
    can_request_change: bool = False
    can_answer: bool = False
    can_override: bool = False
    can_manage_deadline: bool = False
    is_staff_view: bool = False
    organisations: list[Organisation] = field(default_factory=list)


async def routing_view(
    case: Case, viewer: Viewer, facts: CaseFacts, viewer_side: str | None
) -> RoutingView:
    organisation = (
        await Organisation.get_or_none(id=case.organisation_id) if case.organisation_id else None
    )
    mediator = await User.get_or_none(id=case.mediator_id) if case.mediator_id else None
    rows = await CaseDeadline.filter(case=case, status=DeadlineStatus.OPEN).order_by("id")
    deadlines = []
    for row in rows:
        result = recompute(row)
        deadlines.append(
            DeadlineView(
                regime=row.regime,
                due_on=row.due_on,
                provisional=row.provisional,
                paused=result.paused,
                explanation=result.explanation,
                basis=RULES[Regime(row.regime)].basis,
            )
        )
    staff = handles_case(viewer, facts)
    view = RoutingView(
        organisation=organisation,
        track=case.triage.get("track"),
        reasons=case.triage.get("reasons", []),
        mediator_name=mediator.display_name if mediator else None,
        deadlines=deadlines,
        is_staff_view=staff,
    )
    status = Status(case.status)
    choosing = any(d.regime == Regime.PARTY_CHOICE.value for d in deadlines)
    view.can_choose = viewer_side is not None and status is Status.ASSIGNING and choosing
    view.can_request_change = viewer_side is not None and status in (
        Status.AWAITING_MEDIATOR,
        Status.IN_MEDIATION,
    )
    view.can_answer = (
        viewer.role == "mediator"
        and status is Status.AWAITING_MEDIATOR
        and case.mediator_id == viewer.user_id
    )
    view.can_override = (
        staff
        and viewer.role in ("org_admin", "platform_admin")
        and status
        in (
            Status.ASSIGNING,
            Status.AWAITING_MEDIATOR,
            Status.IN_MEDIATION,
        )
    )
    view.can_manage_deadline = (
        status is Status.IN_MEDIATION and case.mediator_id == viewer.user_id
    ) or (
        staff and viewer.role in ("org_admin", "platform_admin") and status is Status.IN_MEDIATION
    )
    if view.can_choose or view.can_override:
        view.roster = await _roster(case, viewer_side)
    if staff:
        view.assignments = await _assignment_history(case)
    if viewer.role == "platform_admin" and status is Status.ASSIGNING:
        view.organisations = await Organisation.all().order_by("track", "id")
    return view


async def _roster(case: Case, viewer_side: str | None) -> list[RosterEntry]:
    profiles = await MediatorProfile.filter(
        organisation_id=case.organisation_id, is_active=True
    ).prefetch_related("user")
    choices = dict(await MediatorChoice.filter(case=case).values_list("side", "mediator_id"))
    mine = choices.get(viewer_side) if viewer_side else None
    other = next((m for s, m in choices.items() if s != viewer_side), None)
    ids = [p.user.id for p in profiles]
    records = await mediator_records(ids)
    days = await average_days(ids)
    return [
        RosterEntry(
            user_id=p.user.id,
            name=p.user.display_name,
            specialties=[BY_CODE[c].zh for c in p.specialties if c in BY_CODE],
            languages=list(p.languages),
            cases_closed=records[p.user.id].closed,
            settlement_rate=(
                round(100 * rate)
                if (rate := records[p.user.id].settlement_rate) is not None
                else None
            ),
            average_days=days[p.user.id],
            chosen_by_you=mine == p.user.id,
            chosen_by_other=other == p.user.id,
        )
        for p in sorted(profiles, key=lambda p: p.user.id)
    ]


async def _assignment_history(case: Case) -> list[dict[str, Any]]:
    rows = await MediatorAssignment.filter(case=case).order_by("id")
    ids = {r.mediator_id for r in rows}  # type: ignore[attr-defined]
    for r in rows:
        ids.update(int(e["user_id"]) for e in r.explanation if "user_id" in e)
    names = dict(await User.filter(id__in=ids).values_list("id", "display_name"))
    return [
        {
            "mediator": names.get(r.mediator_id, "?"),  # type: ignore[attr-defined]
            "how": str(r.how),
            "outcome": str(r.outcome) if r.outcome else None,
            "reason": r.reason,
            "at": r.created_at,
            "candidates": [
                {**e, "name": names.get(int(e["user_id"]), "?")}
                for e in r.explanation
                if "user_id" in e
            ],
        }
        for r in rows
    ]
