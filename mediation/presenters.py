"""What a case page shows a given viewer: masking is decided here, never in a template."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from cases.access import CaseFacts, Viewer, sees_identity_of
from cases.accounts.models import User
from cases.categories import BY_CODE
from cases.identity import mask_email, mask_mobile, mask_resident_id, mask_uscc
from cases.models import Case, Evidence, Party, PartyKind, TimelineEvent
from cases.sessions.actions import is_open
from cases.sessions.models import MediationSession, Transcript
from cases.timeline import STATUS_LABELS as TIMELINE_STATUS_LABELS
from mediation.i18n import N_

# The case's statuses in words: the timeline's catalogue (cases.timeline), which the court desk
# reads too.
STATUS_LABELS = TIMELINE_STATUS_LABELS

# The states of a term of an effective agreement (cases.performance.actions.ItemState).
PERFORMANCE_STATE_LABELS: dict[str, str] = {
    "open": N_("open"),
    "due_soon": N_("due soon"),
    "overdue": N_("overdue"),
    "performed": N_("performed, waiting for the other side"),
    "confirmed": N_("performance confirmed"),
    "disputed": N_("performance disputed"),
}


@dataclass(frozen=True)
class PartyView:
    side: str
    kind: str
    name: str
    id_number: str
    mobile: str
    email: str
    service_address: str
    is_you: bool


@dataclass(frozen=True)
class EventView:
    at: datetime
    kind: str
    actor: str  # the acting person's name, or failing that the stored actor label
    data: dict[str, object]
    actor_label: str = ""
    actor_name: str = ""


def _mask_id(party: Party) -> str:
    if not party.id_number:
        return ""
    if party.kind == PartyKind.NATURAL_PERSON:
        return mask_resident_id(party.id_number)
    return mask_uscc(party.id_number)


def party_view(party: Party, viewer: Viewer, facts: CaseFacts) -> PartyView:
    party_user_id: int | None = party.user_id
    full = sees_identity_of(viewer, party_user_id, facts)
    # Merchants and platforms are businesses: their registered codes are public records.
    business = party.kind in (PartyKind.MERCHANT, PartyKind.PLATFORM, PartyKind.ORGANISATION)
    return PartyView(
        side=str(party.side),
        kind=str(party.kind),
        name=party.name,
        id_number=(party.id_number or "") if full or business else _mask_id(party),
        mobile=(party.mobile or "") if full else mask_mobile(party.mobile or ""),
        email=(party.email or "") if full else mask_email(party.email or ""),
        service_address=party.service_address if full or business else "",
        is_you=party_user_id is not None and party_user_id == viewer.user_id,
    )


@dataclass(frozen=True)
class CaseView:
    number: str
    status: str
    domain: str
    category_zh: str
    category_en: str
    claim_amount: Decimal
    facts: str
    requested_outcome: str
    created_at: datetime
    respondent_reply_due: datetime | None
    closed_reason: str
    parties: list[PartyView]
    evidence: list[Evidence]
    timeline: list[EventView]
    viewer_side: str | None
    names: dict[int, str]  # the people the timeline's events point to by id


async def case_view(case: Case, viewer: Viewer, facts: CaseFacts) -> CaseView:
    parties = await Party.filter(case=case).order_by("id")
    evidence = await Evidence.filter(case=case).order_by("created_at", "id")
    events = await TimelineEvent.filter(case=case).order_by("at", "id")
    actor_ids = {e.actor_id for e in events if e.actor_id}
    actor_ids |= {
        int(str(e.data["mediator_id"]))
        for e in events
        if isinstance(e.data, dict) and str(e.data.get("mediator_id") or "").isdigit()
    }
    names = dict(await User.filter(id__in=actor_ids).values_list("id", "display_name"))
    category = BY_CODE.get(case.category)
    views = [party_view(p, viewer, facts) for p in parties]
    return CaseView(
        number=case.number,
        status=str(case.status),
        domain=str(case.domain),
        category_zh=category.zh if category else case.category,
        category_en=category.en if category else case.category,
        claim_amount=case.claim_amount,
        facts=case.facts,
        requested_outcome=case.requested_outcome,
        created_at=case.created_at,
        respondent_reply_due=case.respondent_reply_due,
        closed_reason=case.closed_reason,
        parties=views,
        evidence=list(evidence),
        timeline=[
            EventView(
                at=e.at,
                kind=e.kind,
                actor=str(names.get(e.actor_id, e.actor_label or "")),
                data=e.data,
                actor_label=e.actor_label or "",
                actor_name=str(names.get(e.actor_id, "")),
            )
            for e in events
        ],
        viewer_side=next((p.side for p in views if p.is_you), None),
        names={int(k): str(v) for k, v in names.items()},
    )


@dataclass(frozen=True)
class SessionRow:
    id: int
    starts_at: datetime
    duration_minutes: int
    mode: str
    status: str
    is_open: bool
    has_transcript: bool
    no_shows: list[str]


async def session_rows(case: Case, now: datetime) -> list[SessionRow]:
    sessions = await MediationSession.filter(case=case).order_by("starts_at")
    with_transcript = set(
        await Transcript.filter(session_id__in=[s.id for s in sessions]).values_list(
            "session_id", flat=True
        )
    )
    return [
        SessionRow(
            id=s.id,
            starts_at=s.starts_at,
            duration_minutes=s.duration_minutes,
            mode=str(s.mode),
            status=str(s.status),
            is_open=is_open(s, now),
            has_transcript=s.id in with_transcript,
            no_shows=list(s.no_shows),
        )
        for s in sessions
    ]
