"""Actions on the case record itself: filing, the respondent's invitation, evidence. Status
changes go through `cases.journal.transition`, from whichever domain fires them.

Naming follows the Zulip convention: `access_*` fetches with a permission check, `do_*`
changes data in one transaction (`cases.transactions.atomic`) and appends a timeline event
for every change.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from cases.access import CaseFacts, Viewer, can_view_case
from cases.accounts.models import Role, User
from cases.agreements.models import AgreementVersion
from cases.clock import local_date, say_time
from cases.errors import CaseConflict, CaseError, CaseNotFound
from cases.evidence_store import blobs_older_than
from cases.filing import Filing, PartyInput
from cases.journal import (
    event_row,
    notice_row,
    notify_applicant,
    queue_notices,
    record_event,
    record_events,
    transition,
    transition_together,
)
from cases.models import (
    Case,
    Evidence,
    Invitation,
    NoticeChannel,
    Party,
    Side,
    Source,
)
from cases.negotiation.opening import do_open_negotiation, enrolled_merchants, merchant_code
from cases.numbering import next_case_numbers
from cases.pause import pause_point
from cases.rows import Row, insert_rows
from cases.status import Actor, Status
from cases.timeline import EventKind
from cases.transactions import atomic, locked_case


@dataclass(frozen=True)
class StoredEvidence:
    filename: str
    media_type: str
    size: int
    sha256: str


@dataclass(frozen=True)
class Repeated:
    """A file whose content is already among the case's evidence (same SHA-256), so it was
    not added a second time: `filename` as attached now, `kept_as` the evidence it repeats."""

    filename: str
    kept_as: str


def distinct_evidence(
    items: Iterable[StoredEvidence], already: dict[str, str] | None = None
) -> tuple[list[StoredEvidence], list[Repeated]]:
    """One evidence item per content: the items whose SHA-256 is neither among `already`
    (the case's evidence: hash -> file name) nor earlier in `items`, and what was left out.
    A form brought back after an error keeps its good files; picking one of them again must
    not file it twice, and nothing identical goes to the court twice."""
    seen = dict(already or {})
    new: list[StoredEvidence] = []
    repeated: list[Repeated] = []
    for item in items:
        if item.sha256 in seen:
            repeated.append(Repeated(item.filename, seen[item.sha256]))
        else:
            seen[item.sha256] = item.filename
            new.append(item)
    return new, repeated


@dataclass(frozen=True)
class AddedEvidence:
    case: Case
    added: list[StoredEvidence]
    repeated: list[Repeated]


@dataclass(frozen=True)
class Filer:
    """Who files: a signed-in disputant, or a partner platform pushing by API."""

    user_id: int | None = None
    partner_id: int | None = None
    partner_name: str | None = None
    partner_reference: str | None = None

    @property
    def label(self) -> str:
        return f"partner:{self.partner_name}" if self.partner_id else ""


InvitationLink = Callable[[Invitation], str]
ClaimLink = Callable[[Party], str]


def _party_row(
    case: Case, side: Side, party: PartyInput, user_id: int | None, now: datetime
) -> Row:
    return {
        "case_id": case.id,
        "side": side,
        "kind": party.kind,
        "name": party.name,
        "id_number": party.id_number,
        "mobile": party.mobile,
        "email": party.email,
        "service_address": party.service_address,
        "user_id": user_id,
        "created_at": now,
    }


@dataclass(frozen=True)
class NewCase:
    """One dispute to file: what was filed, by whom, and its evidence (already stored)."""

    filing: Filing
    filer: Filer
    evidence: Sequence[StoredEvidence] = ()


async def do_file_case(
    filing: Filing,
    filer: Filer,
    evidence: Sequence[StoredEvidence],
    *,
    now: datetime,
    reply_days: int,
    invitation_link: InvitationLink,
    claim_link: ClaimLink | None = None,
) -> Case:
    """File one dispute (see `do_file_cases`)."""
    (case,) = await do_file_cases(
        [NewCase(filing, filer, evidence)],
        now=now,
        reply_days=reply_days,
        invitation_link=invitation_link,
        claim_link=claim_link,
    )
    return case


async def do_file_cases(
    new: Sequence[NewCase],
    *,
    now: datetime,
    reply_days: int,
    invitation_link: InvitationLink,
    claim_link: ClaimLink | None = None,
) -> list[Case]:
    """File disputes and invite each respondent, in one transaction; a dispute against an
    enrolled merchant goes to the merchant first instead (`cases.negotiation`). A case a
    partner platform files for an applicant who has no account here also asks the applicant,
    by the contacts given, to claim it (`claim_link` names the applicant's row).

    One filing and a partner's batch of hundreds take the same path: each table's rows for
    the whole batch go in with one statement (the ids they get are read back by the case
    numbers), so a batch costs about as many round trips as one filing. Each case's timeline
    reads as if it had been filed alone: filed, its evidence, then its invitation."""
    if not new:
        return []
    async with atomic():
        merchants = await enrolled_merchants([n.filing.respondent for n in new])
        numbers = await _numbers_for(new, now)
        cases = await _insert_cases(
            [
                _case_row(n.filing, n.filer, number, now)
                for n, number in zip(new, numbers, strict=True)
            ]
        )
        parties = await _insert_parties(
            [
                _party_row(case, Side.APPLICANT, n.filing.applicant, n.filer.user_id, now)
                for case, n in zip(cases, new, strict=True)
            ]
            + [
                _party_row(case, Side.RESPONDENT, n.filing.respondent, None, now)
                for case, n in zip(cases, new, strict=True)
            ]
        )
        applicants, respondents = parties[: len(cases)], parties[len(cases) :]
        await record_events(
            [
                event_row(
                    case,
                    EventKind.FILED,
                    now,
                    actor_id=n.filer.user_id,
                    actor_label=n.filer.label,
                    number=case.number,
                    category=n.filing.category,
                    claim_amount=str(n.filing.claim_amount),
                )
                for case, n in zip(cases, new, strict=True)
            ]
        )
        invited: list[tuple[Case, Party]] = []
        for case, respondent, n in zip(cases, respondents, new, strict=True):
            if n.evidence:
                await _add_evidence(
                    case, Side.APPLICANT, n.evidence, now, n.filer.user_id, n.filer.label
                )
            code = merchant_code(respondent)
            merchant = merchants.get(code) if code is not None else None
            if merchant is not None:
                # An enrolled first-response enterprise answers first (cases.negotiation).
                await do_open_negotiation(case, merchant, now)
            else:
                invited.append((case, respondent))
        await _invite_respondents(invited, now, reply_days, invitation_link)
        if claim_link is not None:
            await queue_notices(
                [
                    notice
                    for case, applicant, n in zip(cases, applicants, new, strict=True)
                    if n.filer.partner_id and n.filer.user_id is None
                    for notice in _claim_notices(
                        case, applicant, n.filer.partner_name or "", now, claim_link(applicant)
                    )
                ]
            )
    return cases


async def _numbers_for(new: Sequence[NewCase], now: datetime) -> list[str]:
    """The next case numbers, in the filings' order: one block of serials per domain."""
    year = local_date(now).year
    numbers = [""] * len(new)
    for domain in sorted({n.filing.domain for n in new}):
        indexes = [i for i, n in enumerate(new) if n.filing.domain == domain]
        block = await next_case_numbers(year, domain, len(indexes))
        for index, number in zip(indexes, block, strict=True):
            numbers[index] = number
    return numbers


def _case_row(filing: Filing, filer: Filer, number: str, now: datetime) -> Row:
    return {
        "number": number,
        "domain": filing.domain,
        "category": filing.category,
        "status": Status.SUBMITTED,
        "source": Source.PARTNER if filer.partner_id else Source.WEB,
        "partner_id": filer.partner_id,
        "partner_reference": filer.partner_reference,
        "order_number": filing.order_number,
        "filed_by_id": filer.user_id,
        "claim_amount": filing.claim_amount,
        "facts": filing.facts,
        "requested_outcome": filing.requested_outcome,
        "consents": {c: now.isoformat() for c in filing.consents},
        "language": filing.language,
        "has_arbitration_clause": filing.has_arbitration_clause,
        "created_at": now,
        "updated_at": now,
    }


async def _insert_cases(rows: Sequence[Row]) -> list[Case]:
    """Write new cases with one statement; the cases as written, in the rows' order (read
    back by their unique numbers)."""
    await insert_rows(Case, rows)
    by_number = {
        case.number: case for case in await Case.filter(number__in=[r["number"] for r in rows])
    }
    return [by_number[row["number"]] for row in rows]


async def _insert_parties(rows: Sequence[Row]) -> list[Party]:
    """Write the new cases' parties with one statement (one per side of each case); the
    parties as written, in the rows' order."""
    await insert_rows(Party, rows)
    written = {
        (party.case_id, party.side): party
        for party in await Party.filter(case_id__in=sorted({r["case_id"] for r in rows}))
    }
    return [written[(row["case_id"], row["side"])] for row in rows]


def _claim_notices(
    case: Case, applicant: Party, partner_name: str, now: datetime, link: str
) -> list[Row]:
    subject = f"认领您的调解案件 Claim your mediation case: {case.number}"
    body = (
        f"{applicant.name}：\n\n"
        f"您通过{partner_name}向长宁区在线调解平台申请的调解已受理（案件编号 {case.number}）。"
        f"请通过以下链接登录或注册，认领该案件，即可查看进展、参加调解：\n"
        f"{link}\n\n"
        f"Your request for mediation, sent through {partner_name}, has been filed with the "
        f"Changning online mediation platform (case {case.number}). Sign in or register through "
        f"this link to claim the case, follow it and take part in the mediation:\n{link}\n"
    )
    notices = []
    if applicant.email:
        notices.append(notice_row(case, NoticeChannel.EMAIL, applicant.email, subject, body, now))
    if applicant.mobile:
        sms = f"【长宁调解】您的调解申请已受理（{case.number}），请登录认领案件：{link}"
        notices.append(notice_row(case, NoticeChannel.SMS, applicant.mobile, subject, sms, now))
    return notices


class ClaimRefused(CaseError):
    status_code = 403


async def access_claim(party_id: int, case_id: int) -> Party:
    """The applicant's row a claim link names (only a partner-filed case is claimed)."""
    party = await Party.get_or_none(
        id=party_id, case_id=case_id, side=Side.APPLICANT, case__source=Source.PARTNER
    ).prefetch_related("case")
    if party is None:
        raise CaseNotFound("claim_not_found")
    return party


async def do_claim_case(party: Party, user: User, now: datetime) -> Case:
    """Attach a partner-filed case's applicant side to a disputant's account: once, and only
    while nobody holds it; a second claim (by anyone) changes nothing."""
    if user.role != Role.DISPUTANT:
        raise ClaimRefused("claim_only_by_a_party")
    async with atomic():
        if await Party.filter(case_id=party.case_id, user_id=user.id).exclude(id=party.id).exists():
            raise ClaimRefused("claim_by_the_other_party")
        claimed = await Party.filter(id=party.id, user_id__isnull=True).update(user_id=user.id)
        if not claimed:
            fresh = await Party.get(id=party.id)
            mine = fresh.user_id == user.id
            raise CaseConflict("case_already_claimed_by_you" if mine else "case_already_claimed")
        case = await Case.get(id=party.case_id)
        await record_event(
            case,
            EventKind.CASE_CLAIMED,
            now,
            actor_id=user.id,
            actor_label="applicant",
        )
    return case


async def _invite_respondents(
    invited: Sequence[tuple[Case, Party]],
    now: datetime,
    reply_days: int,
    link_for: InvitationLink,
) -> None:
    """Invite each new case's respondent to consent (one statement per table for them all):
    the invitation with its time limit, the notices carrying its link, the case awaiting
    consent."""
    if not invited:
        return
    expires_at = now + timedelta(days=reply_days)
    invitations = [
        Invitation(
            case=case,
            party=respondent,
            nonce=secrets.token_hex(16),
            expires_at=expires_at,
            created_at=now,
        )
        for case, respondent in invited
    ]
    await Invitation.bulk_create(invitations)
    case_ids = [case.id for case, _ in invited]
    # A new case has one invitation: its id is read back by the case.
    ids = dict(await Invitation.filter(case_id__in=case_ids).values_list("case_id", "id"))
    for invitation in invitations:
        invitation.id = ids[invitation.case_id]
        invitation._saved_in_db = True
    await Case.filter(id__in=case_ids).update(respondent_reply_due=expires_at)
    notices: list[Row] = []
    changes: list[tuple[Case, dict[str, Any]]] = []
    for (case, respondent), invitation in zip(invited, invitations, strict=True):
        case.respondent_reply_due = expires_at
        sent = _invitation_notices(case, respondent, expires_at, link_for(invitation), now)
        notices += sent
        channels = [str(n["channel"]) for n in sent]
        changes.append((case, {"reply_due": expires_at.isoformat(), "channels": channels}))
    await queue_notices(notices)
    await transition_together(changes, Status.AWAITING_CONSENT, Actor.SYSTEM, now)


def _invitation_notices(
    case: Case, respondent: Party, expires_at: datetime, link: str, now: datetime
) -> list[Row]:
    subject = f"调解邀请 Mediation invitation: {case.number}"
    body = (
        f"{respondent.name}：\n\n"
        f"申请人就一起纠纷向长宁区在线调解平台申请调解（案件编号 {case.number}）。"
        f"调解遵循自愿原则。请于 {say_time(expires_at, 'zh_CN')}（北京时间）前"
        f"通过以下链接查看并答复是否同意调解：\n"
        f"{link}\n\n"
        f"An applicant has asked for online mediation of a dispute with you (case {case.number}). "
        f"Mediation is voluntary. Please answer before {say_time(expires_at, 'en')} "
        f"(Beijing time):\n{link}\n"
    )
    notices = []
    if respondent.email:
        notices.append(notice_row(case, NoticeChannel.EMAIL, respondent.email, subject, body, now))
    if respondent.mobile:
        sms = (
            f"【长宁调解】您有一起纠纷调解邀请（{case.number}），"
            f"请于{say_time(expires_at, 'zh_CN')}（北京时间）前答复：{link}"
        )
        notices.append(notice_row(case, NoticeChannel.SMS, respondent.mobile, subject, sms, now))
    return notices


async def access_invitation(invitation_id: int, nonce: str) -> Invitation:
    invitation = await Invitation.get_or_none(id=invitation_id, nonce=nonce).prefetch_related(
        "case", "party"
    )
    if invitation is None:
        raise CaseNotFound("invitation_not_found")
    return invitation


async def do_answer_invitation(
    invitation: Invitation,
    *,
    consent: bool,
    reason: str,
    respondent_user_id: int | None,
    now: datetime,
) -> Case:
    """The respondent consents (linking their account) or refuses with a reason."""
    async with atomic():
        # Claim the invitation first: of two concurrent answers only one changes a row.
        claimed = await Invitation.filter(
            id=invitation.id, answered_at__isnull=True, expires_at__gt=now
        ).update(answered_at=now, answer="consented" if consent else "refused")
        if not claimed:
            fresh = await Invitation.get(id=invitation.id)
            raise CaseConflict(
                "invitation_already_answered"
                if fresh.answered_at and fresh.answer != "expired"
                else "invitation_expired"
            )
        case = await Case.get(id=invitation.case_id)
        if consent:
            await Party.filter(id=invitation.party_id).update(user_id=respondent_user_id)
            await transition(
                case, Status.ACCEPTED, Actor.RESPONDENT, now, actor_id=respondent_user_id
            )
            await notify_applicant(
                case,
                f"被申请人同意调解 Respondent consented: {case.number}",
                f"案件 {case.number}：被申请人已同意调解，平台将为您分派调解组织和调解员。\n"
                f"Case {case.number}: the respondent agreed to mediate.",
                now,
            )
        else:
            case.closed_reason = reason
            await case.save(update_fields=["closed_reason"])
            await transition(
                case,
                Status.REFUSED,
                Actor.RESPONDENT,
                now,
                actor_id=respondent_user_id,
                actor_label="respondent",
                reason=reason,
            )
            await notify_applicant(
                case,
                f"被申请人拒绝调解 Respondent refused: {case.number}",
                f"案件 {case.number}：被申请人拒绝调解，调解终结。理由：{reason}\n"
                f"您可以依法通过诉讼、仲裁等其他途径解决纠纷。\n"
                f"Case {case.number}: the respondent refused mediation ({reason}). "
                f"You may pursue litigation, arbitration or other routes.",
                now,
            )
    return case


async def do_end_unanswered_invitations(now: datetime) -> list[str]:
    """End every case whose respondent did not answer in time (Art. 15, 25).

    Safe in several processes at once: each invitation is claimed by a conditional update.
    """
    ended: list[str] = []
    due = await Invitation.filter(answered_at__isnull=True, expires_at__lte=now).values_list(
        "id", flat=True
    )
    for invitation_id in due:
        async with atomic():
            claimed = await Invitation.filter(id=invitation_id, answered_at__isnull=True).update(
                answered_at=now, answer="expired"
            )
            if not claimed:
                continue
            invitation = await Invitation.get(id=invitation_id).prefetch_related("case")
            case = invitation.case
            if case.status != Status.AWAITING_CONSENT:
                continue
            await pause_point("end_unanswered")
            case.closed_reason = "respondent_no_response"
            await case.save(update_fields=["closed_reason"])
            await transition(case, Status.NO_RESPONSE, Actor.SYSTEM, now)
            await notify_applicant(
                case,
                f"调解未能开始 Mediation could not start: {case.number}",
                f"案件 {case.number}：被申请人未在期限内答复，调解终结。"
                f"您可以依法通过诉讼、仲裁等其他途径解决纠纷。\n"
                f"Case {case.number}: the respondent did not answer in time; mediation has ended.",
                now,
            )
            ended.append(case.number)
    return ended


async def case_facts(case: Case) -> CaseFacts:
    user_ids = await Party.filter(case=case, user_id__isnull=False).values_list(
        "user_id", flat=True
    )
    return CaseFacts(
        party_user_ids=frozenset(int(str(u)) for u in user_ids),
        mediator_id=case.mediator_id,
        organisation_id=case.organisation_id,
    )


async def access_case(viewer: Viewer, number: str) -> tuple[Case, CaseFacts]:
    """The case, if the viewer may see it; otherwise CaseNotFound, never the data."""
    case = await Case.get_or_none(number=number)
    if case is None:
        raise CaseNotFound("case_not_found")
    facts = await case_facts(case)
    if not can_view_case(viewer, facts):
        raise CaseNotFound("case_not_found")
    return case, facts


async def cases_visible_to(viewer: Viewer) -> list[Case]:
    query = Case.all()
    if viewer.role == "disputant":
        query = query.filter(parties__user_id=viewer.user_id)
    elif viewer.role == "mediator":
        query = query.filter(mediator_id=viewer.user_id)
    elif viewer.role == "org_admin":
        query = query.filter(organisation_id=viewer.organisation_id)
    elif viewer.role != "platform_admin":
        return []
    return await query.distinct().order_by("-created_at", "-id")


async def access_evidence(viewer: Viewer, number: str, evidence_id: int) -> Evidence:
    case, _ = await access_case(viewer, number)
    evidence = await Evidence.get_or_none(id=evidence_id, case=case)
    if evidence is None:
        raise CaseNotFound("evidence_not_found")
    return evidence


async def do_add_evidence(
    viewer: Viewer, number: str, side: Side, items: Sequence[StoredEvidence], now: datetime
) -> AddedEvidence:
    """Add evidence to a case; a file whose content the case already has is left out and
    reported (`repeated`), so the person can be told it was already attached."""
    case, _ = await access_case(viewer, number)
    async with atomic():
        # The case row's lock: two uploads of the same file at once are served one after
        # the other, so the second sees the first's row and reports it instead of failing
        # on the (case, sha256) unique index.
        case = await locked_case(case.id)
        added, repeated = await _add_evidence(case, side, items, now, viewer.user_id)
    return AddedEvidence(case, added, repeated)


async def _add_evidence(
    case: Case,
    side: Side,
    items: Sequence[StoredEvidence],
    now: datetime,
    uploader_id: int | None,
    actor_label: str = "",
) -> tuple[list[StoredEvidence], list[Repeated]]:
    """Evidence rows for blobs already stored, each with its timeline event; contents the
    case already has are left out and returned as repeated. Call with the case locked."""
    if not items:
        return [], []  # (most partner filings come without files: no query for nothing)
    already = dict(
        await Evidence.filter(case_id=case.id).order_by("id").values_list("sha256", "filename")
    )
    await pause_point("add_evidence")
    items, repeated = distinct_evidence(items, already)
    for item in items:
        await Evidence.create(
            case=case,
            side=side,
            uploaded_by_id=uploader_id,
            filename=item.filename,
            media_type=item.media_type,
            size=item.size,
            sha256=item.sha256,
            created_at=now,
        )
        await record_event(
            case,
            EventKind.EVIDENCE_ADDED,
            now,
            actor_id=uploader_id,
            actor_label=actor_label,
            filename=item.filename,
            sha256=item.sha256,
        )
    return list(items), repeated


async def do_sweep_unreferenced_evidence(root: Path, now: datetime, keep_for: timedelta) -> int:
    """Delete blobs nothing refers to: files kept for a form that was never resubmitted, a
    signed PDF rendered by a process that lost the race to record its own. Only older ones
    go, so a filing in progress never loses its files."""
    old = blobs_older_than(root, (now - keep_for).timestamp())
    if not old:
        return 0
    digests = list(old)
    referenced = set(await Evidence.filter(sha256__in=digests).values_list("sha256", flat=True))
    # Signed agreement PDFs share the store.
    referenced |= set(
        await AgreementVersion.filter(pdf_sha256__in=digests).values_list("pdf_sha256", flat=True)
    )
    removed = 0
    for digest, path in old.items():
        if digest not in referenced:
            path.unlink(missing_ok=True)
            removed += 1
    return removed
