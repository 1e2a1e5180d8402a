"""How a case goes on to the court once mediation has ended or an agreement took effect.

- The applicant may ask for the case to be transferred to litigation after failure (the
  ending itself, with its Art. 21 record, is `cases.endings`).
- Both parties may apply jointly for judicial confirmation of an agreement in effect (PML
  Art. 33): the first to apply creates the filing, waiting for the other; the second queues
  it. The pre-check (`cases.court.precheck`) runs before anything is stored or sent.
- A filing the court returned for correction is corrected and resubmitted as a new filing
  that points at the returned one.
- What the case page shows of the court, the admin's replay of a dead letter, and what a
  court's capability link serves (and its revocation).

Each action checks first, then writes in one transaction: the case's state, the filing and
its outbox row, the timeline and the notices.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from cases.access import Viewer
from cases.agreements.models import AgreementStatus, AgreementVersion
from cases.court.handoff import new_filing_id, queue_filing, replay_dead_letter
from cases.court.precheck import Precheck
from cases.court.records import (
    WIRE_FORMATS,
    CourtSettings,
    confirmation_precheck,
    transfer_precheck,
)
from cases.endings.actions import (
    TEXT_MAX,
    NotAllowed,
    OutcomeInvalid,
    access_as_party,
)
from cases.endings.models import EndRecord
from cases.errors import CaseConflict, CaseError, CaseNotFound
from cases.identity import (
    is_valid_resident_id,
    is_valid_uscc,
    normalise_resident_id,
    normalise_uscc,
)
from cases.journal import notify_parties, record_event, transition
from cases.models import (
    Case,
    CourtFiling,
    Evidence,
    FilingKind,
    FilingStatus,
    OutboxMessage,
    OutboxStatus,
    Party,
    PartyKind,
    Side,
)
from cases.pause import pause_point
from cases.status import Actor, Status
from cases.timeline import EventKind
from cases.transactions import atomic, lock_case
from courtwire.evidence_links import EvidenceLink

ADDRESS_MAX = 300


class PrecheckBlocked(CaseError):
    """The pre-check found grounds that would stop the court: nothing was stored or sent."""

    status_code = 422

    def __init__(self, precheck: Precheck) -> None:
        super().__init__("precheck_blocked")
        self.precheck = precheck


# --- who acts -----------------------------------------------------------------------------------


# --- ending mediation ---------------------------------------------------------------------------


# --- transfer to litigation ---------------------------------------------------------------------


def _wire_format(value: str | None) -> str:
    value = (value or "json").strip()
    if value not in WIRE_FORMATS:
        raise OutcomeInvalid({"wire_format": "choose_one"})
    return value


async def do_request_transfer(
    viewer: Viewer,
    number: str,
    settings: CourtSettings,
    now: datetime,
    *,
    wire_format: str | None = None,
) -> CourtFiling:
    """The applicant asks for the case to go to the court after mediation failed."""
    case, side = await access_as_party(viewer, number)
    if side != Side.APPLICANT:
        raise NotAllowed("forbidden")
    if Status(case.status) not in (Status.FAILED, Status.TIMED_OUT):
        raise CaseConflict("transfer_not_possible")
    fmt = _wire_format(wire_format)
    precheck = await transfer_precheck(case)
    if not precheck.ok:
        raise PrecheckBlocked(precheck)
    async with atomic():
        await transition(case, Status.TRANSFERRED, Actor.APPLICANT, now, actor_id=viewer.user_id)
        filing = await _new_filing(
            case, FilingKind.TRANSFER, fmt, {side: now.isoformat()}, precheck, now
        )
        await queue_filing(filing, case, settings, now)
        await notify_parties(
            case,
            f"案件已申请移送法院 Case sent to the court: {case.number}",
            f"案件 {case.number}：申请人已申请将案件移送上海市长宁区人民法院立案，"
            f"法院的处理结果将通知您。\n"
            f"Case {case.number}: the applicant asked for the case to be transferred to the "
            f"court. You will be told of the court's decision.",
            now,
        )
    return filing


async def _new_filing(
    case: Case,
    kind: FilingKind,
    wire_format: str,
    applicants: dict[str, str],
    precheck: Precheck,
    now: datetime,
    *,
    corrects: CourtFiling | None = None,
    status: FilingStatus = FilingStatus.QUEUED,
    extra: Mapping[str, Any] | None = None,
) -> CourtFiling:
    filing = await CourtFiling.create(
        filing_id=new_filing_id(),
        case=case,
        kind=kind,
        wire_format=wire_format,
        status=status,
        corrects=corrects,
        applicants=applicants,
        precheck={**precheck.as_json(), **(extra or {})},
        created_at=now,
        updated_at=now,
    )
    await record_event(
        case,
        EventKind.COURT_FILING_CREATED,
        now,
        filing_id=filing.filing_id,
        filing_kind=kind.value,
        corrects=corrects.filing_id if corrects else None,
    )
    return filing


# --- judicial confirmation ----------------------------------------------------------------------


async def _property_proofs(case: Case, evidence_ids: Sequence[int]) -> list[int]:
    """The case's own evidence among those chosen (others' ids are ignored, never trusted)."""
    if not evidence_ids:
        return []
    found = await Evidence.filter(case=case, id__in=list(evidence_ids)).values_list("id", flat=True)
    return sorted(int(str(i)) for i in found)


async def pending_confirmation(case: Case) -> CourtFiling | None:
    return (
        await CourtFiling.filter(
            case=case, kind=FilingKind.CONFIRMATION, status=FilingStatus.AWAITING_PARTIES
        )
        .order_by("-id")
        .first()
    )


async def precheck_for_confirmation(
    case: Case, settings: CourtSettings, now: datetime, evidence_ids: Sequence[int] = ()
) -> Precheck:
    """The pre-check a party sees before applying (nothing is stored)."""
    pending = await pending_confirmation(case)
    proofs = set(await _property_proofs(case, evidence_ids))
    if pending is not None:
        proofs.update(pending.precheck.get("property_proof_evidence") or [])
    return await confirmation_precheck(case, settings.secret_key, now, property_proofs=len(proofs))


async def do_join_confirmation(
    viewer: Viewer,
    number: str,
    settings: CourtSettings,
    now: datetime,
    *,
    property_proof_ids: Sequence[int] = (),
    wire_format: str | None = None,
) -> CourtFiling:
    """A party joins the application for judicial confirmation (PML Art. 33: jointly, within
    30 days of the agreement taking effect). The first creates the filing, waiting for the
    other; the second sends it."""
    case, side = await access_as_party(viewer, number)
    if Status(case.status) != Status.SETTLED:
        raise CaseConflict("confirmation_not_possible")
    fmt = _wire_format(wire_format)
    async with atomic():
        # Take the case row first: two parties joining at once are served one after the
        # other (the second sees the first's filing).
        if await lock_case(case.id, status=Status.SETTLED) is None:
            raise CaseConflict("case_changed_meanwhile")
        await Case.filter(id=case.id).update(updated_at=now)
        pending = await pending_confirmation(case)
        # Where the concurrency tests hold a party who has read the pending filing.
        await pause_point("join_confirmation")
        if pending is not None and side in (pending.applicants or {}):
            raise CaseConflict("already_applied")
        proofs = set(await _property_proofs(case, property_proof_ids))
        if pending is not None:
            proofs.update(pending.precheck.get("property_proof_evidence") or [])
        precheck = await confirmation_precheck(
            case, settings.secret_key, now, property_proofs=len(proofs)
        )
        if not precheck.ok:
            raise PrecheckBlocked(precheck)
        extra = {"property_proof_evidence": sorted(proofs)}
        if pending is None:
            filing = await _new_filing(
                case,
                FilingKind.CONFIRMATION,
                fmt,
                {side: now.isoformat()},
                precheck,
                now,
                status=FilingStatus.AWAITING_PARTIES,
                extra=extra,
            )
            await record_event(
                case, EventKind.CONFIRMATION_APPLIED, now, actor_id=viewer.user_id, side=side
            )
            await notify_parties(
                case,
                f"对方已申请司法确认 Judicial confirmation applied for: {case.number}",
                f"案件 {case.number}：一方当事人已申请对调解协议进行司法确认。"
                f"司法确认须由双方共同申请，请登录平台查看并确认是否共同申请。\n"
                f"Case {case.number}: a party applied for judicial confirmation of the "
                f"agreement. Both parties must apply: please sign in to join.",
                now,
            )
            return filing
        applicants = {**pending.applicants, side: now.isoformat()}
        joined = await CourtFiling.filter(
            id=pending.id, status=FilingStatus.AWAITING_PARTIES
        ).update(
            applicants=applicants,
            precheck={**precheck.as_json(), **extra},
            updated_at=now,
        )
        if not joined:
            raise CaseConflict("case_changed_meanwhile")
        await pending.refresh_from_db()
        await record_event(
            case, EventKind.CONFIRMATION_APPLIED, now, actor_id=viewer.user_id, side=side
        )
        await transition(
            case,
            Status.CONFIRMATION_REQUESTED,
            Actor(side),
            now,
            actor_id=viewer.user_id,
            filing_id=pending.filing_id,
        )
        await queue_filing(pending, case, settings, now)
        await notify_parties(
            case,
            f"司法确认申请已提交法院 Sent to the court: {case.number}",
            f"案件 {case.number}：双方已共同申请司法确认，申请材料已提交上海市长宁区人民法院。\n"
            f"Case {case.number}: both parties applied; the application was sent to the court.",
            now,
        )
    return pending


# --- returned for correction ------------------------------------------------------------------


async def returned_filing(case: Case) -> CourtFiling | None:
    latest = await CourtFiling.filter(case=case).order_by("-id").first()
    if latest is None or latest.status != FilingStatus.RETURNED:
        return None
    return latest


@dataclass(frozen=True)
class Correction:
    facts: str | None  # the statement of facts (Art. 8), applicant only
    requested_outcome: str | None
    service_addresses: dict[str, str]  # side -> corrected address
    # side -> resident ID number or unified social credit code, when one was entered (the
    # court or the pre-check may ask for it: a returned transfer cannot be completed without)
    id_numbers: dict[str, str] = field(default_factory=dict)


def _checked_id_number(value: str, party_kind: str) -> tuple[str, str | None]:
    """A resident ID for a natural person, a unified social credit code for anyone else."""
    if party_kind == PartyKind.NATURAL_PERSON:
        number = normalise_resident_id(value)
        return number, None if is_valid_resident_id(number) else "resident_id_invalid"
    number = normalise_uscc(value)
    return number, None if is_valid_uscc(number) else "uscc_invalid"


def check_correction(
    values: Mapping[str, str],
    side: str,
    kind: FilingKind,
    party_kinds: Mapping[str, str] | None = None,
) -> Correction:
    """What a party may correct: their own address for service and identity number; the
    applicant also the statement of facts and the request, and (for a transfer, as in a
    complaint) the respondent's address and identity number. An identity number left blank
    stays as it is on record."""
    errors: dict[str, str] = {}
    facts = requested = None
    if side == Side.APPLICANT:
        facts = values.get("facts", "").strip()
        requested = values.get("requested_outcome", "").strip()
        for name, text in (("facts", facts), ("requested_outcome", requested)):
            if not text:
                errors[name] = "required"
            elif len(text) > TEXT_MAX:
                errors[name] = "too_long"
    addresses: dict[str, str] = {}
    editable = [side]
    if side == Side.APPLICANT and kind == FilingKind.TRANSFER:
        editable.append(Side.RESPONDENT.value)
    for party_side in editable:
        name = f"{party_side}_service_address"
        address = values.get(name, "").strip()
        if not address:
            errors[name] = "required"
        elif len(address) > ADDRESS_MAX:
            errors[name] = "too_long"
        addresses[party_side] = address
    id_numbers: dict[str, str] = {}
    for party_side in editable:
        name = f"{party_side}_id_number"
        entered = values.get(name, "").strip()
        if not entered:
            continue
        number, error = _checked_id_number(entered, (party_kinds or {}).get(party_side, ""))
        if error:
            errors[name] = error
        else:
            id_numbers[party_side] = number
    if errors:
        raise OutcomeInvalid(errors)
    return Correction(facts, requested, addresses, id_numbers)


async def do_resubmit_corrected(
    viewer: Viewer,
    number: str,
    values: Mapping[str, str],
    settings: CourtSettings,
    now: datetime,
) -> CourtFiling:
    """Correct what the court asked for and send a new filing that `corrects` the returned one.

    A transfer is corrected by the applicant; a joint confirmation by either party (the
    application stands for both). More evidence is added on the case page beforehand.
    """
    case, side = await access_as_party(viewer, number)
    if Status(case.status) != Status.RETURNED_FOR_CORRECTION:
        raise CaseConflict("nothing_to_correct")
    returned = await returned_filing(case)
    if returned is None:
        raise CaseConflict("nothing_to_correct")
    kind = FilingKind(returned.kind)
    if kind == FilingKind.TRANSFER and side != Side.APPLICANT:
        raise NotAllowed("forbidden")
    kinds = dict(await Party.filter(case=case).values_list("side", "kind"))
    correction = check_correction(values, side, kind, {str(k): str(v) for k, v in kinds.items()})
    async with atomic():
        changed = await _apply_correction(case, correction)
        precheck = await precheck_for_correction(case, returned, settings, now)
        proofs = list(returned.precheck.get("property_proof_evidence") or [])
        extra: dict[str, Any] = (
            {"property_proof_evidence": proofs} if kind == FilingKind.CONFIRMATION else {}
        )
        target = (
            Status.CONFIRMATION_REQUESTED if kind == FilingKind.CONFIRMATION else Status.TRANSFERRED
        )
        if not precheck.ok:
            raise PrecheckBlocked(precheck)
        await record_event(
            case,
            EventKind.COURT_CORRECTION,
            now,
            actor_id=viewer.user_id,
            changed=changed,
            filing_id=returned.filing_id,
        )
        await transition(case, target, Actor(side), now, actor_id=viewer.user_id)
        filing = await _new_filing(
            case,
            kind,
            returned.wire_format,
            dict(returned.applicants or {}),
            precheck,
            now,
            corrects=returned,
            extra=extra,
        )
        await queue_filing(filing, case, settings, now)
        # The returned filing's links stop working: the correction carries its own, and the
        # court reviews the case from the correction on.
        await do_revoke_court_links(returned.filing_id, "corrected", now)
        await notify_parties(
            case,
            f"补正材料已重新提交法院 Corrected and resubmitted: {case.number}",
            f"案件 {case.number}：已按法院要求补正并重新提交。\n"
            f"Case {case.number}: the filing was corrected as the court asked and sent again.",
            now,
        )
    return filing


async def precheck_for_correction(
    case: Case, returned: CourtFiling, settings: CourtSettings, now: datetime
) -> Precheck:
    """The pre-check of a corrected resubmission, on the case as it now stands."""
    if returned.kind == FilingKind.TRANSFER:
        return await transfer_precheck(case)
    first = await CourtFiling.filter(case=case, kind=FilingKind.CONFIRMATION).order_by("id").first()
    proofs = list(returned.precheck.get("property_proof_evidence") or [])
    return await confirmation_precheck(
        case,
        settings.secret_key,
        now,
        property_proofs=len(proofs),
        # The 30 days are counted to the first application, which was in time.
        applied_at=first.created_at if first is not None else now,
    )


async def correction_defaults(case: Case, side: str | None = None) -> dict[str, str]:
    """The correction form's starting values: the case as it stands. An identity number is
    filled in for the party's own side and for businesses (whose codes are public records);
    another person's resident ID is never shown, its field starts blank."""
    values = {"facts": case.facts, "requested_outcome": case.requested_outcome}
    for party in await Party.filter(case=case).order_by("id"):
        values.setdefault(f"{party.side}_service_address", party.service_address)
        if party.side == side or party.kind != PartyKind.NATURAL_PERSON:
            values.setdefault(f"{party.side}_id_number", party.id_number or "")
    return values


async def _apply_correction(case: Case, correction: Correction) -> list[str]:
    changed = []
    updates: dict[str, Any] = {}
    if correction.facts is not None and correction.facts != case.facts:
        updates["facts"] = correction.facts
    if (
        correction.requested_outcome is not None
        and correction.requested_outcome != case.requested_outcome
    ):
        updates["requested_outcome"] = correction.requested_outcome
    if updates:
        await Case.filter(id=case.id).update(**updates)
        for name, value in updates.items():
            setattr(case, name, value)
        changed += sorted(updates)
    for side, number in correction.id_numbers.items():
        # Compared here, not in SQL: a missing number is NULL, which no filter finds unequal.
        party = await Party.get_or_none(case=case, side=side)
        if party is not None and party.id_number != number:
            await Party.filter(id=party.id).update(id_number=number)
            changed.append(f"{side}_id_number")
    for side, address in correction.service_addresses.items():
        moved = (
            await Party.filter(case=case, side=side)
            .exclude(service_address=address)
            .update(service_address=address)
        )
        if moved:
            changed.append(f"{side}_service_address")
    return changed


# --- what the case page shows -------------------------------------------------------------------


@dataclass(frozen=True)
class FilingLine:
    filing_id: str
    kind: str
    status: str
    wire_format: str
    applicants: dict[str, str]
    court_case_number: str | None
    court_reason: str
    corrects: str | None
    created_at: datetime
    decided_at: datetime | None
    delivery: str  # pending | retrying | delivered | dead | "" (not queued yet)
    precheck: dict[str, Any]


@dataclass(frozen=True)
class CourtOverview:
    end_record: EndRecord | None
    filings: list[FilingLine]
    returned: FilingLine | None  # the latest filing, when the court returned it
    awaiting: FilingLine | None  # a confirmation waiting for the other party


async def court_overview(case: Case) -> CourtOverview:
    end = await EndRecord.get_or_none(case=case)
    filings = await CourtFiling.filter(case=case).order_by("-id").prefetch_related("corrects")
    rows = {
        row.filing_id: row
        for row in await OutboxMessage.filter(filing_id__in=[f.id for f in filings])
    }
    lines = []
    for filing in filings:
        row = rows.get(filing.id)
        if row is None:
            delivery = ""
        elif row.status == OutboxStatus.PENDING:
            delivery = "retrying" if row.attempts else "pending"
        else:
            delivery = str(row.status)
        lines.append(
            FilingLine(
                filing_id=filing.filing_id,
                kind=str(filing.kind),
                status=str(filing.status),
                wire_format=filing.wire_format,
                applicants=dict(filing.applicants or {}),
                court_case_number=filing.court_case_number,
                court_reason=filing.court_reason,
                corrects=filing.corrects.filing_id if filing.corrects else None,
                created_at=filing.created_at,
                decided_at=filing.decided_at,
                delivery=delivery,
                precheck=dict(filing.precheck or {}),
            )
        )
    latest = lines[0] if lines else None
    return CourtOverview(
        end_record=end,
        filings=lines,
        returned=latest if latest and latest.status == FilingStatus.RETURNED else None,
        awaiting=latest if latest and latest.status == FilingStatus.AWAITING_PARTIES else None,
    )


# --- the admin's replay -------------------------------------------------------------------------


async def do_replay_dead_letter(viewer: Viewer, row_id: int, now: datetime) -> OutboxMessage:
    """A platform admin puts a dead letter back in the queue (after fixing the cause)."""
    if viewer.role != "platform_admin":
        raise CaseNotFound("not_found")
    row = await OutboxMessage.get_or_none(id=row_id)
    if row is None:
        raise CaseNotFound("not_found")
    async with atomic():
        if not await replay_dead_letter(row_id, now):
            raise CaseConflict("not_a_dead_letter")
        if row.filing_id is not None:
            filing = await CourtFiling.get(id=row.filing_id)
            case = await Case.get(id=filing.case_id)
            await record_event(
                case,
                EventKind.COURT_FILING_REPLAYED,
                now,
                actor_id=viewer.user_id,
                filing_id=filing.filing_id,
            )
    return row


# --- what a court's capability link serves ------------------------------------------------------


@dataclass(frozen=True)
class ServedFile:
    filename: str
    media_type: str
    sha256: str


class CourtLinkRevoked(Exception):
    """The filing's links were revoked (replaced by a correction, or by an admin)."""


async def access_court_link(link: EvidenceLink) -> ServedFile:
    """The file a signed link names, only if it belongs to that filing's case: a link made for
    one case never fetches another's evidence, even with the same digest; and only while the
    filing's links are not revoked."""
    filing = await CourtFiling.get_or_none(filing_id=link.filing_id)
    if filing is None:
        raise CaseNotFound("evidence_not_found")
    if filing.links_revoked_at is not None:
        raise CourtLinkRevoked
    if link.kind == "agreement_pdf":
        case = await Case.get(id=filing.case_id)
        version = await AgreementVersion.filter(
            case_id=case.id, pdf_sha256=link.sha256, status=AgreementStatus.EFFECTIVE
        ).first()
        if version is None:
            raise CaseNotFound("evidence_not_found")
        return ServedFile(f"调解协议书-{case.number}.pdf", "application/pdf", link.sha256)
    evidence = (
        await Evidence.filter(case_id=filing.case_id, sha256=link.sha256).order_by("id").first()
    )
    if evidence is None:
        raise CaseNotFound("evidence_not_found")
    return ServedFile(evidence.filename, evidence.media_type, evidence.sha256)


async def do_revoke_court_links(
    filing_id: str, reason: str, now: datetime, *, actor_id: int | None = None
) -> bool:
    """Make every evidence link of a filing stop working (False: they already were).

    The system does it when a correction replaces a returned filing (the correction carries
    links of its own); an admin does it on the court deliveries page or with `mediation court
    revoke-links FILING_ID` (a filing sent by mistake, a link that leaked), which the case's
    timeline records. The court keeps what it already fetched.
    """
    if reason not in LINK_REVOCATION_REASONS:
        raise ValueError(f"unknown revocation reason {reason!r}")
    async with atomic():
        filing = await CourtFiling.get_or_none(filing_id=filing_id)
        if filing is None:
            raise CaseNotFound("filing_not_found")
        changed = await CourtFiling.filter(id=filing.id, links_revoked_at__isnull=True).update(
            links_revoked_at=now, links_revoked_reason=reason, updated_at=now
        )
        if changed and reason == "admin":
            case = await Case.get(id=filing.case_id)
            await record_event(
                case, EventKind.COURT_LINKS_REVOKED, now, actor_id=actor_id, filing_id=filing_id
            )
    return changed > 0


async def do_admin_revoke_court_links(viewer: Viewer, filing_id: str, now: datetime) -> bool:
    """A platform admin withdraws a filing's evidence links (the court deliveries page)."""
    if viewer.role != "platform_admin":
        raise CaseNotFound("not_found")
    return await do_revoke_court_links(filing_id.strip(), "admin", now, actor_id=viewer.user_id)


LINK_REVOCATION_REASONS = ("corrected", "admin")


async def evidence_of(case: Case) -> list[Evidence]:
    return await Evidence.filter(case=case).order_by("created_at", "id")
