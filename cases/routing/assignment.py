"""Routing a case: triage to an organisation, the parties' joint choice or the platform's
appointment of a mediator, the mediator's answer, changes, and admin overrides
(online mediation rules Art. 10-14).

Each `do_*` runs in one transaction: the case change, the assignment history row, the
deadline records, the timeline events and the notices commit together. The pure decisions
are made by `cases.routing.triage.recommend` and `cases.routing.scoring.rank_mediators`.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import asdict
from datetime import date, datetime
from typing import Any

from cases.accounts.models import MediatorLeave, MediatorProfile, Organisation, Role, User
from cases.actions import do_answer_invitation
from cases.clock import local_date
from cases.deadlines.actions import (
    claim_missed,
    do_close_deadline,
    do_open_deadline,
    overdue_deadlines,
)
from cases.deadlines.models import CaseDeadline, DeadlineStatus
from cases.deadlines.rules import Regime
from cases.errors import CaseConflict, CaseError, CaseNotFound
from cases.journal import notify_parties, queue_notice, record_event, transition
from cases.models import (
    Case,
    Invitation,
    NoticeChannel,
    Party,
    PartyKind,
    Side,
    Source,
    TimelineEvent,
)
from cases.pause import pause_point
from cases.routing.models import (
    AssignmentOutcome,
    ConflictDisclosure,
    MediatorAssignment,
    MediatorChoice,
)
from cases.routing.roster import mediator_records
from cases.routing.scoring import (
    CONFLICT_AFFILIATION,
    CONFLICT_DISCLOSED,
    CONFLICT_PRIOR_INVOLVEMENT,
    CaseForScoring,
    MediatorCandidate,
    rank_mediators,
)
from cases.routing.triage import CaseProfile, OrganisationProfile, recommend
from cases.status import Actor, Status
from cases.timeline import EventKind, name_without_title
from cases.transactions import atomic, lock_case, locked_case

# Assignments that ended this way keep the mediator off the case for good.
_ENDED_FOR_GOOD = (
    AssignmentOutcome.DECLINED,
    AssignmentOutcome.RECUSED,
    AssignmentOutcome.REPLACED,
    AssignmentOutcome.NO_ANSWER,
)


class AssignmentError(CaseError):
    status_code = 422


def _actor_of(user: User) -> Actor:
    return {
        Role.MEDIATOR: Actor.MEDIATOR,
        Role.ORG_ADMIN: Actor.ORG_ADMIN,
        Role.PLATFORM_ADMIN: Actor.PLATFORM_ADMIN,
    }.get(Role(user.role), Actor.SYSTEM)


# --- triage ------------------------------------------------------------------------------------


async def _case_profile(case: Case) -> CaseProfile:
    parties = {p.side: p for p in await Party.filter(case=case)}
    return CaseProfile(
        domain=str(case.domain),
        category=case.category,
        claim_amount=case.claim_amount,
        applicant_kind=str(parties[Side.APPLICANT].kind),
        respondent_kind=str(parties[Side.RESPONDENT].kind),
        has_arbitration_clause=case.has_arbitration_clause,
        court_entrusted=case.source == Source.COURT,
        group_size=case.group_size,
    )


async def organisation_profiles() -> list[OrganisationProfile]:
    return [
        OrganisationProfile(
            id=o.id,
            code=o.code,
            track=str(o.track),
            categories=frozenset(o.categories),
            service_areas=frozenset(o.service_areas or [o.district]),
            accepts_court_entrusted=o.accepts_court_entrusted,
        )
        for o in await Organisation.all().order_by("id")
    ]


async def do_begin_routing(case_id: int, now: datetime) -> Case | None:
    """Triage an accepted case to an organisation and open the party-choice window.

    Idempotent: a case no longer in ACCEPTED is left alone (the job sweeps accepted cases,
    so a crash between the respondent's consent and this step delays routing, never loses it).
    """
    async with atomic():
        # Locked, so a second job round waits here and then finds the case already routed.
        case = await lock_case(case_id, status=Status.ACCEPTED)
        if case is None:
            return None
        await pause_point("begin_routing")
        recommendation = recommend(await _case_profile(case), await organisation_profiles())
        case.triage = {
            "track": recommendation.track,
            "organisation_id": recommendation.organisation_id,
            "reasons": [{"code": r.code, "params": dict(r.params)} for r in recommendation.reasons],
            "alternatives": list(recommendation.alternatives),
        }
        case.organisation_id = recommendation.organisation_id
        await case.save(update_fields=["triage", "organisation_id"])
        await transition(
            case,
            Status.ASSIGNING,
            Actor.SYSTEM,
            now,
            track=recommendation.track,
            organisation_id=recommendation.organisation_id,
        )
        today = local_date(now)
        await do_open_deadline(case, Regime.PARTY_CHOICE, today, now)
        # Art. 10: appointment within 3 working days of the application. Mediation is
        # voluntary (Art. 4), so the application is complete when the respondent consents.
        await do_open_deadline(case, Regime.APPOINTMENT, today, now)
        await notify_parties(
            case,
            f"请选择调解员 Choose a mediator: {case.number}",
            f"案件 {case.number} 已分派至调解组织。双方可在 2 个工作日内共同选定调解员，"
            f"逾期由平台指定。\nCase {case.number} has been routed to a mediation organisation. "
            f"Both sides may jointly choose a mediator within 2 working days; otherwise one "
            f"will be appointed.",
            now,
        )
    return case


async def do_override_organisation(
    admin: User, case: Case, organisation_id: int, reason: str, now: datetime
) -> None:
    """Staff override of the triage recommendation, with a recorded reason."""
    if admin.role != Role.PLATFORM_ADMIN:
        raise CaseNotFound("case_not_found")
    if not reason.strip():
        raise AssignmentError("override_reason_required")
    organisation = await Organisation.get_or_none(id=organisation_id)
    if organisation is None:
        raise AssignmentError("choose_one")
    async with atomic():
        case = await locked_case(case.id)
        if case.status != Status.ASSIGNING:
            raise CaseConflict("case_changed_meanwhile")
        before = case.organisation_id
        case.organisation_id = organisation.id
        case.triage = {
            **case.triage,
            "override": {"organisation_id": organisation.id, "reason": reason},
        }
        await case.save(update_fields=["organisation_id", "triage"])
        await MediatorChoice.filter(case=case).delete()  # choices were from the old roster
        await record_event(
            case,
            EventKind.ORGANISATION_OVERRIDDEN,
            now,
            actor_id=admin.id,
            organisation=[before, organisation.id],
            reason=reason,
        )


# --- candidates and appointment ----------------------------------------------------------------


async def _party_identifiers(case: Case) -> tuple[frozenset[str], frozenset[str]]:
    codes: set[str] = set()
    ids: set[str] = set()
    for kind, number in await Party.filter(case=case, id_number__isnull=False).values_list(
        "kind", "id_number"
    ):
        (ids if kind == PartyKind.NATURAL_PERSON else codes).add(str(number))
    return frozenset(codes), frozenset(ids)


async def candidates_for(case: Case, today: date) -> tuple[CaseForScoring, list[MediatorCandidate]]:
    """The organisation's roster as the scorer sees it: five indexed queries, whatever its size."""
    codes, ids = await _party_identifiers(case)
    scoring_case = CaseForScoring(
        case_id=case.id,
        category=case.category,
        languages_needed=frozenset({"zh", case.language}),
        region="长宁区",
        party_codes=codes,
        party_ids=ids,
        today=today,
    )
    profiles = await MediatorProfile.filter(
        organisation_id=case.organisation_id,
        is_active=True,
    ).values(
        "user_id",
        "organisation_id",
        "specialties",
        "languages",
        "regions",
        "capacity",
        "affiliations",
    )
    user_ids = [p["user_id"] for p in profiles]
    records = await mediator_records(user_ids)
    leaves: dict[int, list[tuple[date, date]]] = defaultdict(list)
    for mediator_id, starts, ends in await MediatorLeave.filter(
        mediator_id__in=user_ids, ends_on__gte=today, starts_on__lte=today
    ).values_list("mediator_id", "starts_on", "ends_on"):
        leaves[mediator_id].append((starts, ends))
    # Earlier cases involving one of these parties, by mediator (Art. 13 conflicts).
    past_ids: dict[int, set[str]] = defaultdict(set)
    identifiers = list(codes | ids)
    if identifiers:
        earlier = (
            await Party.filter(id_number__in=identifiers, case__mediator_id__in=user_ids)
            .exclude(case_id=case.id)
            .values_list("case__mediator_id", "id_number")
        )
        for mediator_id, number in earlier:
            past_ids[mediator_id].add(str(number))
    disclosed = set(
        await ConflictDisclosure.filter(case=case, has_tie=True).values_list(
            "mediator_id", flat=True
        )
    )
    ended = set(
        await MediatorAssignment.filter(case=case, outcome__in=_ENDED_FOR_GOOD).values_list(
            "mediator_id", flat=True
        )
    )
    candidates = [
        MediatorCandidate(
            user_id=p["user_id"],
            organisation_id=p["organisation_id"],
            specialties=frozenset(p["specialties"]),
            languages=frozenset(p["languages"] or ["zh"]),
            regions=frozenset(p["regions"]),
            capacity=p["capacity"],
            open_cases=records[p["user_id"]].open_cases,
            on_leave=tuple(leaves.get(p["user_id"], ())),
            affiliations=frozenset(p["affiliations"]),
            past_party_codes=frozenset(past_ids.get(p["user_id"], ())),
            past_party_ids=frozenset(past_ids.get(p["user_id"], ())),
            disclosed_conflict_case_ids=(
                frozenset({case.id}) if p["user_id"] in disclosed else frozenset()
            ),
            settlement_rate=records[p["user_id"]].settlement_rate,
            cases_closed=records[p["user_id"]].closed,
        )
        for p in profiles
        if p["user_id"] not in ended
    ]
    return scoring_case, candidates


CONFLICTS = frozenset({CONFLICT_AFFILIATION, CONFLICT_PRIOR_INVOLVEMENT, CONFLICT_DISCLOSED})


async def check_free_of_conflict(case: Case, mediator_id: int, today: date) -> None:
    """A mediator chosen by the parties or an admin must be on the organisation's roster,
    must not have stepped off this case before, and must have no conflict of interest
    (Art. 13): the same checks the scorer applies, asked of one mediator. Capacity and
    leave are the scorer's concern, not a bar to a deliberate choice."""
    scoring_case, candidates = await candidates_for(case, today)
    candidate = next((c for c in candidates if c.user_id == mediator_id), None)
    if candidate is None:
        raise AssignmentError("mediator_not_on_roster")
    excluded = rank_mediators(scoring_case, [candidate], top_n=1).excluded
    if excluded and excluded[0].reason in CONFLICTS:
        raise AssignmentError("mediator_conflicted")


async def lock_roster(organisation_id: int) -> None:
    """Lock the organisation's mediators' profile rows (in id order, so two lockers never
    deadlock) until the transaction ends. Every change of a mediator's load goes through
    `_assign`, which locks the mediator's row, so a count read after this is current."""
    await MediatorProfile.select_for_update().filter(organisation_id=organisation_id).order_by("id")


async def _assign(
    case: Case,
    mediator_id: int,
    how: AssignmentOutcome,
    now: datetime,
    *,
    actor: Actor,
    actor_id: int | None = None,
    reason: str = "",
    explanation: list[Any] | None = None,
) -> None:
    # The mediator's load grows: their roster row is locked first (see `lock_roster`).
    await MediatorProfile.select_for_update().filter(user_id=mediator_id)
    await pause_point("assign")
    await MediatorAssignment.create(
        case=case,
        mediator_id=mediator_id,
        how=how,
        reason=reason,
        explanation=explanation or [],
        created_at=now,
    )
    case.mediator_id = mediator_id
    await case.save(update_fields=["mediator_id"])
    await transition(
        case,
        Status.AWAITING_MEDIATOR,
        actor,
        now,
        actor_id=actor_id,
        mediator_id=mediator_id,
        how=how.value,
        reason=reason,
    )
    # The parties' window is met only by their joint choice; otherwise it was cut short.
    await do_close_deadline(
        case,
        Regime.PARTY_CHOICE,
        DeadlineStatus.MET if how is AssignmentOutcome.CHOSEN else DeadlineStatus.CANCELLED,
        now,
    )
    await do_close_deadline(case, Regime.APPOINTMENT, DeadlineStatus.MET, now)
    await do_open_deadline(case, Regime.MEDIATOR_ANSWER, local_date(now), now)
    mediator = await User.get(id=mediator_id)
    subject = f"新的调解委派 New case to mediate: {case.number}"
    body = (
        f"{mediator.display_name}：案件 {case.number} 已委派给您，"
        f"请在 3 个工作日内确认接受或说明理由拒绝，"
        f"接受前须如实披露与当事人的关系。\nCase {case.number} has been assigned to you. "
        f"Please accept (after answering the disclosure question) or decline with reasons "
        f"within 3 working days."
    )
    if mediator.email:
        await queue_notice(case, NoticeChannel.EMAIL, mediator.email, subject, body, now)
    if mediator.mobile:
        await queue_notice(case, NoticeChannel.SMS, mediator.mobile, subject, body, now)


async def do_appoint(case_id: int, now: datetime) -> int | None:
    """Appoint the scorer's choice to a case still being assigned; None if nobody is free
    (the case stays in ASSIGNING, visible on the organisation admin's queue)."""
    async with atomic():
        # Locked, so a concurrent round waits here and then finds the case already assigned.
        case = await lock_case(case_id, status=Status.ASSIGNING)
        if case is None or case.organisation_id is None:
            return None
        # Lock the organisation's roster before counting its mediators' open cases: two
        # appointments to different cases at once would otherwise both see a mediator's last
        # place free and both take it. Deliberate choices lock the chosen mediator's row too
        # (`_assign`), so every count read here includes every committed assignment.
        await lock_roster(case.organisation_id)
        scoring_case, candidates = await candidates_for(case, local_date(now))
        await pause_point("appoint")
        choice = rank_mediators(scoring_case, candidates, top_n=5)
        if choice.chosen is None:
            excluded = [asdict(e) for e in choice.excluded][:20]
            # Recorded once, not on every round of the job while nobody is free.
            last = await TimelineEvent.filter(case=case).order_by("-id").first()
            if last is None or (last.kind, last.data.get("excluded")) != (
                EventKind.NO_MEDIATOR_AVAILABLE,
                excluded,
            ):
                await record_event(
                    case,
                    EventKind.NO_MEDIATOR_AVAILABLE,
                    now,
                    actor_label="system",
                    excluded=excluded,
                )
            return None
        await _assign(
            case,
            choice.chosen,
            AssignmentOutcome.APPOINTED,
            now,
            actor=Actor.SYSTEM,
            explanation=[
                {"user_id": s.user_id, "total": s.total, "parts": dict(s.parts)}
                for s in choice.ranked
            ],
        )
        return choice.chosen


async def do_appoint_when_choice_window_closes(now: datetime) -> list[int]:
    """Job: the parties did not agree on a mediator in time, so the platform appoints."""
    today = local_date(now)
    appointed = []
    for deadline_id, case_id in await overdue_deadlines((Regime.PARTY_CHOICE,), today):
        if await claim_missed(deadline_id, today, now) and await do_appoint(case_id, now):
            appointed.append(case_id)
    # Cases that went back to assigning (decline, change) and found nobody: try again.
    still_choosing = set(
        await CaseDeadline.filter(
            regime=Regime.PARTY_CHOICE.value, status=DeadlineStatus.OPEN
        ).values_list("case_id", flat=True)
    )
    waiting = [
        int(case_id)
        for (case_id,) in await Case.filter(
            status=Status.ASSIGNING, mediator_id__isnull=True
        ).values_list("id")
        if case_id not in still_choosing
    ]
    for case_id in waiting:
        if await do_appoint(case_id, now) is not None:
            appointed.append(case_id)
    return appointed


# --- the parties' joint choice -----------------------------------------------------------------


async def do_choose_mediator(case: Case, side: Side, mediator_id: int, now: datetime) -> bool:
    """Record a party's choice; when both sides chose the same mediator, assign them.
    Returns True when this choice completed a joint choice."""
    async with atomic():
        case = await locked_case(case.id)
        window = await CaseDeadline.get_or_none(
            case=case, regime=Regime.PARTY_CHOICE.value, status=DeadlineStatus.OPEN
        )
        if case.status != Status.ASSIGNING or window is None:
            raise CaseConflict("choice_window_closed")
        if window.due_on is not None and local_date(now) > window.due_on:
            raise CaseConflict("choice_window_closed")
        # Joint choice or an admin's appointment: never over a conflict of interest.
        await check_free_of_conflict(case, mediator_id, local_date(now))
        await MediatorChoice.filter(case=case, side=side).delete()
        await MediatorChoice.create(case=case, side=side, mediator_id=mediator_id, at=now)
        await record_event(
            case,
            EventKind.MEDIATOR_CHOSEN,
            now,
            actor_label=side.value,
            side=side.value,
            mediator_id=mediator_id,
        )
        choices = set(await MediatorChoice.filter(case=case).values_list("side", "mediator_id"))
        joint = {(Side.APPLICANT.value, mediator_id), (Side.RESPONDENT.value, mediator_id)}
        if {(str(s), m) for s, m in choices} >= joint:
            await _assign(
                case,
                mediator_id,
                AssignmentOutcome.CHOSEN,
                now,
                actor=Actor.SYSTEM,
                reason="joint_choice",
            )
            return True
    return False


# --- the mediator's answer ---------------------------------------------------------------------


async def _end_current_assignment(
    case: Case, outcome: AssignmentOutcome, reason: str, now: datetime
) -> int | None:
    mediator_id: int | None = case.mediator_id
    if mediator_id is None:
        return None
    # The current assignment is the one not yet ended: it may already be ACCEPTED.
    await MediatorAssignment.filter(
        case=case, mediator_id=mediator_id, ended_at__isnull=True
    ).update(outcome=outcome, reason=reason, ended_at=now)
    case.mediator_id = None
    await case.save(update_fields=["mediator_id"])
    return mediator_id


def _mediation_regime(case: Case, organisation: Organisation | None) -> Regime:
    # Consumer disputes mediated by the market regulator run on its 45-working-day limit;
    # everything else on the online mediation rules' 30 days (Art. 24).
    if (
        organisation is not None
        and organisation.track == "administrative"
        and case.domain == "internet"
    ):
        return Regime.CONSUMER_MEDIATION
    return Regime.ONLINE_MEDIATION


async def do_mediator_answer(
    mediator: User,
    case: Case,
    *,
    accept: bool,
    has_tie: bool,
    statement: str,
    decline_reason: str,
    now: datetime,
) -> Case:
    """Accept (after the disclosure question, Art. 13) or decline with reasons (Art. 12).

    A disclosed tie means the mediator steps aside: the case is reassigned (Art. 13-14)."""
    if has_tie and not statement.strip():
        raise AssignmentError("disclosure_statement_required")
    if not accept and not has_tie and not decline_reason.strip():
        raise AssignmentError("decline_reason_required")
    async with atomic():
        case = await locked_case(case.id)
        if case.status != Status.AWAITING_MEDIATOR or case.mediator_id != mediator.id:
            raise CaseConflict("case_changed_meanwhile")
        await ConflictDisclosure.create(
            case=case, mediator=mediator, has_tie=has_tie, statement=statement, at=now
        )
        await record_event(
            case,
            EventKind.CONFLICT_DISCLOSED if has_tie else EventKind.NO_CONFLICT_DECLARED,
            now,
            actor_id=mediator.id,
            statement=statement,
        )
        await do_close_deadline(case, Regime.MEDIATOR_ANSWER, DeadlineStatus.MET, now)
        if accept and not has_tie:
            await MediatorAssignment.filter(
                case=case, mediator_id=mediator.id, outcome__isnull=True
            ).update(outcome=AssignmentOutcome.ACCEPTED, ended_at=None)
            case.mediator_accepted_at = now
            await case.save(update_fields=["mediator_accepted_at"])
            await transition(case, Status.IN_MEDIATION, Actor.MEDIATOR, now, actor_id=mediator.id)
            organisation = await Organisation.get_or_none(id=case.organisation_id)
            # Art. 24: the clock starts at the mediator's acceptance.
            await do_open_deadline(
                case, _mediation_regime(case, organisation), local_date(now), now
            )
            await notify_parties(
                case,
                f"调解员已接受委派 Mediation has begun: {case.number}",
                f"案件 {case.number}：调解员{name_without_title(mediator.display_name)}"
                f"已接受委派，调解开始。\n"
                f"Case {case.number}: mediator {name_without_title(mediator.display_name)} "
                f"accepted; mediation begins.",
                now,
            )
            return case
        outcome = AssignmentOutcome.RECUSED if has_tie else AssignmentOutcome.DECLINED
        reason = statement if has_tie else decline_reason
        await _end_current_assignment(case, outcome, reason, now)
        await transition(
            case,
            Status.ASSIGNING,
            Actor.MEDIATOR,
            now,
            actor_id=mediator.id,
            outcome=outcome.value,
            reason=reason,
        )
    await do_appoint(case.id, now)
    return await Case.get(id=case.id)


async def do_request_mediator_change(
    case: Case, side: Side, reason: str, now: datetime, actor_id: int
) -> None:
    """A party's request to change the mediator (Art. 14) is granted: the case is reassigned."""
    if not reason.strip():
        raise AssignmentError("change_reason_required")
    async with atomic():
        case = await locked_case(case.id)
        if case.status not in (Status.AWAITING_MEDIATOR, Status.IN_MEDIATION):
            raise CaseConflict("case_changed_meanwhile")
        actor = Actor.APPLICANT if side is Side.APPLICANT else Actor.RESPONDENT
        await _end_current_assignment(case, AssignmentOutcome.REPLACED, reason, now)
        for regime in (Regime.MEDIATOR_ANSWER, Regime.ONLINE_MEDIATION, Regime.CONSUMER_MEDIATION):
            await do_close_deadline(case, regime, DeadlineStatus.CANCELLED, now)
        await transition(
            case, Status.ASSIGNING, actor, now, actor_id=actor_id, outcome="replaced", reason=reason
        )
    await do_appoint(case.id, now)


async def do_override_mediator(
    admin: User, case: Case, mediator_id: int, reason: str, now: datetime
) -> None:
    """An admin appoints a mediator of the case's organisation, with a reason."""
    if not reason.strip():
        raise AssignmentError("override_reason_required")
    async with atomic():
        case = await locked_case(case.id)
        if admin.role == Role.ORG_ADMIN and case.organisation_id != admin.organisation_id:
            raise CaseNotFound("case_not_found")
        # Joint choice or an admin's appointment: never over a conflict of interest.
        await check_free_of_conflict(case, mediator_id, local_date(now))
        actor = _actor_of(admin)
        if case.status in (Status.AWAITING_MEDIATOR, Status.IN_MEDIATION):
            await _end_current_assignment(case, AssignmentOutcome.REPLACED, reason, now)
            for regime in (
                Regime.MEDIATOR_ANSWER,
                Regime.ONLINE_MEDIATION,
                Regime.CONSUMER_MEDIATION,
            ):
                await do_close_deadline(case, regime, DeadlineStatus.CANCELLED, now)
            await transition(
                case,
                Status.ASSIGNING,
                actor,
                now,
                actor_id=admin.id,
                outcome="replaced",
                reason=reason,
            )
        elif case.status != Status.ASSIGNING:
            raise CaseConflict("case_changed_meanwhile")
        await _assign(
            case,
            mediator_id,
            AssignmentOutcome.OVERRIDDEN,
            now,
            actor=actor,
            actor_id=admin.id,
            reason=reason,
        )


async def do_reassign_unanswered(now: datetime) -> list[int]:
    """Job: a mediator who did not answer within 3 working days (Art. 12) is replaced."""
    today = local_date(now)
    moved = []
    for deadline_id, case_id in await overdue_deadlines((Regime.MEDIATOR_ANSWER,), today):
        async with atomic():
            if not await claim_missed(deadline_id, today, now):
                continue
            case = await Case.get(id=case_id)
            if case.status != Status.AWAITING_MEDIATOR:
                continue
            await pause_point("reassign_unanswered")
            await _end_current_assignment(case, AssignmentOutcome.NO_ANSWER, "no_answer", now)
            await transition(case, Status.ASSIGNING, Actor.SYSTEM, now, outcome="no_answer")
        await do_appoint(case_id, now)
        moved.append(case_id)
    return moved


async def do_respondent_consents(
    invitation: Invitation, respondent_user_id: int, now: datetime
) -> Case:
    """The respondent consents; the case is then routed at once (and by the job, should
    this process stop in between)."""
    case = await do_answer_invitation(
        invitation, consent=True, reason="", respondent_user_id=respondent_user_id, now=now
    )
    return await do_begin_routing(case.id, now) or case


async def do_route_accepted_cases(now: datetime) -> list[int]:
    """Job: route every accepted case (normally done right after the consent)."""
    routed = []
    accepted: list[int] = await Case.filter(  # type: ignore[assignment]
        status=Status.ACCEPTED
    ).values_list("id", flat=True)
    for case_id in accepted:
        if await do_begin_routing(case_id, now) is not None:
            routed.append(case_id)
    return routed
