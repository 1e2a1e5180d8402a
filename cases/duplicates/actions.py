"""One dispute, one number: finding the open case a filing repeats, merging the filing into
it, recording every source of a case, linking a case filed anyway for staff, and what staff
handling a case see of all this (with the repeat-claimant signal).

Called by `cases.intake`, the one seam every channel files through; only this module writes
the models of `cases.duplicates.models`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from tortoise.expressions import Q

from cases.actions import Filer, Repeated, StoredEvidence, _add_evidence
from cases.duplicates.models import CaseSource, DisputeLock, DuplicateLink
from cases.duplicates.rules import (
    OPEN_STATUSES,
    DisputeKey,
    Existing,
    Incoming,
    Match,
    PastFiling,
    RepeatSignal,
    RepeatThresholds,
    best_match,
    dispute_key,
    normal_order_number,
    repeat_claimant,
)
from cases.filing import Filing
from cases.journal import record_event
from cases.models import Case, Party, PartyKind, Side, Source
from cases.pause import pause_point

# `_add_evidence` is the case record's one writer of evidence rows (each with its timeline
# event, each content once), called with the case locked as `do_file_case` does.
from cases.rows import Row, insert_rows
from cases.status import Status
from cases.timeline import EventKind
from cases.transactions import lock_case


@dataclass(frozen=True)
class Received:
    """Where a filing came from, as its `CaseSource` records it."""

    filer: Filer
    received_at: datetime
    idempotency_key: str | None = None

    @property
    def channel(self) -> Source:
        return Source.PARTNER if self.filer.partner_id else Source.WEB


def key_of(filing: Filing) -> DisputeKey:
    respondent = filing.respondent
    return dispute_key(
        filing.applicant.id_number or "",
        respondent.id_number,
        respondent.name,
        respondent.kind is PartyKind.NATURAL_PERSON,
    )


def _key_of_parties(applicant: Party, respondent: Party) -> DisputeKey:
    return dispute_key(
        applicant.id_number or "",
        respondent.id_number,
        respondent.name,
        respondent.kind is PartyKind.NATURAL_PERSON,
    )


async def lock_dispute(key: DisputeKey, now: datetime) -> None:
    """Hold the pair's lock row for the rest of the current transaction (see
    `lock_disputes`)."""
    await lock_disputes([key], now)


async def lock_disputes(keys: Iterable[DisputeKey], now: datetime) -> None:
    """Hold the lock rows of these pairs for the rest of the current transaction: a write,
    so on SQLite the database's write lock, on PostgreSQL each row's lock (a second filing of
    a pair waits here until the first has committed its case, then finds it).

    One statement inserts each missing row and touches each existing one, locking them one
    after another in the order of their digests: every filing (one or a batch) takes its
    pairs in that order, so two batches sharing pairs never wait on each other in a circle."""
    digests = sorted({key.digest() for key in keys})
    await DisputeLock.bulk_create(
        [DisputeLock(key=digest, touched_at=now) for digest in digests],
        on_conflict=["key"],
        update_fields=["touched_at"],
    )


@dataclass(frozen=True)
class Found:
    """The open case a filing repeats, and whether the filer may be told of it (a person at
    the web form is told only of cases they are the applicant of: anyone can type an ID
    number)."""

    match: Match
    case: Case
    respondent_name: str
    visible_to_filer: bool


async def find_open_match(
    filing: Filing, filer: Filer, now: datetime, *, only: str | None = None
) -> Found | None:
    """The open case the filing repeats (`only`: if it is that case, by number)."""
    query = Party.filter(
        side=Side.APPLICANT,
        id_number=filing.applicant.id_number,
        case__status__in=list(OPEN_STATUSES),
    )
    if only is not None:
        query = query.filter(case__number=only)
    return (await _matches([filing], filer, now, query))[0]


async def find_open_matches(
    filings: Sequence[Filing], filer: Filer, now: datetime
) -> list[Found | None]:
    """The open case each filing repeats, for a whole batch with two queries."""
    numbers = {f.applicant.id_number for f in filings}
    named = Q(id_number__in=sorted(n for n in numbers if n is not None))
    if None in numbers:
        named |= Q(id_number__isnull=True)
    query = Party.filter(named, side=Side.APPLICANT, case__status__in=list(OPEN_STATUSES))
    return await _matches(filings, filer, now, query)


async def _matches(
    filings: Sequence[Filing], filer: Filer, now: datetime, applicants_query: Any
) -> list[Found | None]:
    """Each filing's best match among the open cases of the applicants the query finds."""
    applicants: list[Party] = await applicants_query.prefetch_related("case")
    if not applicants:
        return [None] * len(filings)
    by_case = {p.case_id: p for p in applicants}
    respondents = {
        p.case_id: p for p in await Party.filter(case_id__in=list(by_case), side=Side.RESPONDENT)
    }
    candidates: dict[str | None, list[Existing]] = {}
    for case_id, applicant in by_case.items():
        if case_id not in respondents:
            continue
        candidates.setdefault(applicant.id_number, []).append(
            Existing(
                case_id=case_id,
                number=applicant.case.number,
                status=Status(applicant.case.status),
                created_at=applicant.case.created_at,
                key=_key_of_parties(applicant, respondents[case_id]),
                order_number=applicant.case.order_number,
                facts=applicant.case.facts,
            )
        )
    results: list[Found | None] = []
    for filing in filings:
        theirs = candidates.get(filing.applicant.id_number, [])
        incoming = Incoming(key_of(filing), filing.order_number, filing.facts)
        # A filer at the web form is matched against their own cases first: of two matches,
        # the one they may be told of is the one to tell.
        own = [c for c in theirs if filer.user_id and by_case[c.case_id].user_id == filer.user_id]
        found = best_match(incoming, own, now) or best_match(incoming, theirs, now)
        if found is None:
            results.append(None)
            continue
        applicant = by_case[found.case_id]
        results.append(
            Found(
                found,
                applicant.case,
                respondents[found.case_id].name,
                visible_to_filer=filer.user_id is not None and applicant.user_id == filer.user_id,
            )
        )
    return results


async def do_record_source(
    case: Case,
    received: Received,
    order_number: str | None,
    *,
    merged_from: Filing | None = None,
    reason: str = "",
) -> CaseSource:
    """The source of a filing (for one merged into the case: what it said); call inside the
    filing's transaction."""
    source = CaseSource(
        **source_row(case, received, order_number, merged_from=merged_from, reason=reason)
    )
    await source.save()
    return source


async def do_record_sources(sources: Sequence[tuple[Case, Received, str | None]]) -> None:
    """The sources of new cases (a batch's), with one statement."""
    await insert_rows(CaseSource, [source_row(*source) for source in sources])


def source_row(
    case: Case,
    received: Received,
    order_number: str | None,
    *,
    merged_from: Filing | None = None,
    reason: str = "",
) -> Row:
    """A source not yet written: for `do_record_source`, or `do_record_sources` with others."""
    filer = received.filer
    said = (
        {
            "claim_amount": str(merged_from.claim_amount),
            "facts": merged_from.facts,
            "requested_outcome": merged_from.requested_outcome,
        }
        if merged_from is not None
        else {}
    )
    return {
        "case_id": case.id,
        "channel": received.channel,
        "partner_id": filer.partner_id,
        "filed_by_id": filer.user_id,
        "partner_reference": filer.partner_reference,
        "idempotency_key": received.idempotency_key,
        "order_number": order_number,
        "merged": merged_from is not None,
        "reason": reason,
        "filed_claim": said,
        "received_at": received.received_at,
    }


@dataclass(frozen=True)
class Merged:
    case: Case
    added: list[StoredEvidence]
    repeated: list[Repeated]


async def do_merge_filing(
    found: Found, filing: Filing, received: Received, evidence: Sequence[StoredEvidence]
) -> Merged | None:
    """Add a filing of the same dispute to its open case: its source, its evidence (each
    content once), a timeline event. None if the case has meanwhile ended (then the filing
    opens a case of its own). Call inside the transaction holding the pair's lock."""
    case = await lock_case(found.case.id, status__in=list(OPEN_STATUSES))
    if case is None:
        return None
    await pause_point("merge_filing")
    filer = received.filer
    # The same partner sending the same reference again (a new key, the same order) is the
    # same source: recorded once.
    again = (
        filer.partner_id is not None
        and filer.partner_reference is not None
        and await CaseSource.filter(
            case_id=case.id, partner_id=filer.partner_id, partner_reference=filer.partner_reference
        ).exists()
    )
    if not again:
        await do_record_source(
            case,
            received,
            filing.order_number,
            merged_from=filing,
            reason=str(found.match.reason),
        )
        await record_event(
            case,
            EventKind.FILING_MERGED,
            received.received_at,
            actor_id=filer.user_id,
            actor_label=filer.label or "applicant",
            channel=str(received.channel),
            matched_by=str(found.match.reason),
        )
    if filing.order_number and not case.order_number:
        case.order_number = filing.order_number
        await case.save(update_fields=["order_number"])
    added, repeated = await _add_evidence(
        case, Side.APPLICANT, evidence, received.received_at, filer.user_id, filer.label
    )
    return Merged(case, added, repeated)


async def do_link_possible_duplicate(
    case: Case, found: Found, *, applicant_told: bool, now: datetime
) -> None:
    """Staff handling either case see the link; call inside the filing's transaction."""
    await DuplicateLink.create(
        case=case,
        possible_duplicate_of_id=found.case.id,
        reason=str(found.match.reason),
        similarity=round(found.match.similarity, 3),
        applicant_told=applicant_told,
        created_at=now,
    )


# --- What staff handling a case see ---


@dataclass(frozen=True)
class SourceRow:
    channel: str
    partner_name: str | None
    partner_reference: str | None
    idempotency_key: str | None
    order_number: str | None
    merged: bool
    reason: str
    received_at: datetime
    filed_claim: dict[str, str]


@dataclass(frozen=True)
class LinkRow:
    number: str
    status: str
    reason: str
    similarity: float
    applicant_told: bool
    direction: str  # "earlier": this case may repeat it; "later": it may repeat this case


@dataclass(frozen=True)
class StaffDuplicates:
    sources: list[SourceRow]
    links: list[LinkRow]
    repeat: RepeatSignal | None


async def applicant_filings(case: Case) -> list[PastFiling]:
    """Every case filed under the ID number of this case's applicant, with the respondent it
    is against. A filing merged into a case is the same dispute: it does not count again."""
    applicant = await Party.get_or_none(case_id=case.id, side=Side.APPLICANT)
    if applicant is None or not applicant.id_number:
        return []
    applicants = {
        p.case_id: p
        for p in await Party.filter(
            side=Side.APPLICANT, id_number=applicant.id_number
        ).prefetch_related("case")
    }
    respondents = {
        p.case_id: p for p in await Party.filter(case_id__in=list(applicants), side=Side.RESPONDENT)
    }
    return [
        PastFiling(a.case.created_at, _key_of_parties(a, respondents[case_id]).respondent)
        for case_id, a in applicants.items()
        if case_id in respondents
    ]


async def staff_duplicates(
    case: Case, now: datetime, thresholds: RepeatThresholds
) -> StaffDuplicates:
    """For staff handling the case only: the caller checks (`cases.access.handles_case`)."""
    sources = [
        SourceRow(
            channel=str(s.channel),
            partner_name=s.partner.name if s.partner else None,
            partner_reference=s.partner_reference,
            idempotency_key=s.idempotency_key,
            order_number=s.order_number,
            merged=s.merged,
            reason=s.reason,
            received_at=s.received_at,
            filed_claim=dict(s.filed_claim or {}),
        )
        for s in await CaseSource.filter(case_id=case.id)
        .order_by("received_at", "id")
        .prefetch_related("partner")
    ]
    links = [
        LinkRow(
            link.possible_duplicate_of.number,
            str(link.possible_duplicate_of.status),
            link.reason,
            link.similarity,
            link.applicant_told,
            "earlier",
        )
        for link in await DuplicateLink.filter(case_id=case.id)
        .order_by("id")
        .prefetch_related("possible_duplicate_of")
    ] + [
        LinkRow(
            link.case.number,
            str(link.case.status),
            link.reason,
            link.similarity,
            link.applicant_told,
            "later",
        )
        for link in await DuplicateLink.filter(possible_duplicate_of_id=case.id)
        .order_by("id")
        .prefetch_related("case")
    ]
    repeat = repeat_claimant(await applicant_filings(case), now, thresholds)
    return StaffDuplicates(sources, links, repeat)


__all__ = [
    "Found",
    "Merged",
    "Received",
    "StaffDuplicates",
    "do_link_possible_duplicate",
    "do_merge_filing",
    "do_record_source",
    "find_open_match",
    "key_of",
    "lock_dispute",
    "normal_order_number",
    "staff_duplicates",
]
