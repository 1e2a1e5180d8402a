"""From the database to what crosses to the court: the case record, the pre-check's facts, and
the signed filing's body in either wire format.

The package is built only through `cases.court.privilege.filter_for_court` from a record
that holds *everything* (the room's messages of every session included), and checked by
`assert_privileged_absent` before it is queued: caucus content, concessions and offers never
leave the platform (online mediation rules Art. 18). docs/court-wire.md is the contract.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

from lxml import etree

from cases.agreements.models import AgreementSignature, AgreementStatus, AgreementVersion
from cases.agreements.rules import verify_seal
from cases.clock import local_date
from cases.court.precheck import (
    AgreementFacts,
    ConfirmationFacts,
    PartyFacts,
    Precheck,
    Term,
    check_confirmation,
    check_transfer,
)
from cases.court.privilege import (
    CaseRecordForCourt,
    NegotiationEntry,
    RoomMessage,
    TimelineEntry,
    assert_privileged_absent,
    filter_for_court,
)
from cases.deadlines.calendar_cn import official_calendar
from cases.deadlines.rules import Regime, deadline_for
from cases.endings.models import EndRecord
from cases.models import Case, CourtFiling, Evidence, FilingKind, Party, TimelineEvent
from cases.negotiation.models import NegotiationMessage
from cases.sessions.models import MediationSession, SessionStatus
from cases.timeline import event_kind
from courtwire import ecf
from courtwire.evidence_links import EvidenceLink, link_path
from courtwire.package import (
    CourtEvidence,
    CourtPackage,
    CourtParty,
    FailureRecord,
    SignedAgreement,
    package_to_json,
)
from realtime.models import RoomMessage as StoredRoomMessage

log = logging.getLogger("cases.court")

PACKAGE_VERSION = "1"
SOURCE = "urn:cn:changning-mediation:platform"
DATASCHEMA = "urn:cn:changning-mediation:court-package:1"
CLOUDEVENTS_JSON = "application/cloudevents+json"
XML = "application/xml"
WIRE_FORMATS = ("json", "ecf")
SIDES = ("applicant", "respondent")


class CourtSettings(Protocol):
    """What the handoff needs of the shell's settings (mediation.settings.Settings)."""

    @property
    def secret_key(self) -> str: ...
    @property
    def court_desk_url(self) -> str: ...
    @property
    def court_filing_secret(self) -> str: ...


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


# --- the record --------------------------------------------------------------------------------


async def effective_agreement(case: Case) -> AgreementVersion | None:
    """The case's agreement in effect (the last required signature made), if any."""
    return (
        await AgreementVersion.filter(case_id=case.id, status=AgreementStatus.EFFECTIVE)
        .order_by("-number")
        .first()
    )


def _signed_agreement(version: AgreementVersion) -> SignedAgreement:
    assert version.effective_at is not None  # an effective version
    return SignedAgreement(
        text=version.text, sha256=version.sha256, signed_at=_iso(version.effective_at)
    )


async def room_messages(case: Case) -> list[StoredRoomMessage]:
    """Every durable item said in any room of any of the case's sessions."""
    session_ids = await MediationSession.filter(case_id=case.id).values_list("id", flat=True)
    if not session_ids:
        return []
    return await StoredRoomMessage.filter(session_id__in=list(session_ids)).order_by(
        "session_id", "room", "seq"
    )


async def case_record_for_court(case: Case, kind: FilingKind) -> CaseRecordForCourt:
    """Everything the platform holds that a handoff of `kind` could draw on.

    A transfer carries the Art. 21 failure record, a confirmation the agreement in effect;
    both carry the whole room history, so that the privilege check has it to look for.
    """
    parties = await Party.filter(case=case).order_by("side", "id")
    evidence = await Evidence.filter(case=case).order_by("created_at", "id")
    events = await TimelineEvent.filter(case=case).order_by("at", "id")
    failure = None
    agreement = None
    if kind == FilingKind.TRANSFER:
        end = await EndRecord.get_or_none(case=case)
        if end is not None:
            failure = FailureRecord(
                undisputed_facts=end.undisputed_facts,
                reasons_for_failure=end.reasons_for_failure,
                cost_raising_conduct=end.cost_raising_conduct,
            )
    else:
        version = await effective_agreement(case)
        if version is not None:
            agreement = _signed_agreement(version)
    return CaseRecordForCourt(
        case_number=case.number,
        category=case.category,
        claim_amount=f"{case.claim_amount:.2f}",
        facts=case.facts,
        requested_outcome=case.requested_outcome,
        parties=tuple(
            CourtParty(
                name=p.name,
                kind=str(p.kind),
                id_number=p.id_number,
                service_address=p.service_address,
                side=str(p.side),
            )
            for p in sorted(parties, key=lambda p: (SIDES.index(str(p.side)), p.id))
        ),
        evidence=tuple(
            CourtEvidence(
                filename=e.filename,
                sha256=e.sha256,
                media_type=e.media_type,
                size=int(e.size),
                side=str(e.side),
            )
            for e in evidence
        ),
        # Only registered kinds (cases.timeline) are read: an unknown one raises ValueError.
        timeline=tuple(TimelineEntry(event_kind(e.kind), _iso(e.at), dict(e.data)) for e in events),
        room_messages=tuple(
            RoomMessage(
                room=m.room,
                kind=m.kind,
                body=dict(m.body),
                concession=m.concession,
                sender_side=m.sender_side,
            )
            for m in await room_messages(case)
        ),
        failure=failure,
        agreement=agreement,
        negotiation=tuple(
            NegotiationEntry(
                kind=str(m.kind),
                side=m.side,
                text=m.text,
                remedy_kind=m.remedy_kind,
                amount=f"{m.amount:.2f}" if m.amount is not None else None,
                conditions=m.conditions,
            )
            for m in await NegotiationMessage.filter(negotiation__case_id=case.id).order_by("id")
        ),
    )


async def package_for_court(
    case: Case, kind: FilingKind
) -> tuple[CourtPackage, CaseRecordForCourt]:
    """The filtered package, checked: raises PrivilegeError rather than return a leak."""
    record = await case_record_for_court(case, kind)
    package = filter_for_court(record)
    assert_privileged_absent(package, record)
    return package, record


# --- the pre-check's facts ---------------------------------------------------------------------


def party_facts(parties: Sequence[Party]) -> tuple[PartyFacts, ...]:
    return tuple(
        PartyFacts(
            side=str(p.side),
            kind=str(p.kind),
            name=p.name,
            id_number=p.id_number,
            service_address=p.service_address,
        )
        for p in parties
    )


async def confirmation_precheck(
    case: Case,
    secret_key: str,
    now: datetime,
    *,
    property_proofs: int = 0,
    applied_at: datetime | None = None,
) -> Precheck:
    """The Art. 354/355/358 pre-check of a joint application for judicial confirmation.

    `applied_at` is when the application was first made (a corrected resubmission keeps the
    original date for the 30 days); `now` otherwise.
    """
    parties = await Party.filter(case=case).order_by("side", "id")
    await case.fetch_related("organisation", "mediator")
    version = await effective_agreement(case)
    agreement = None
    apply_by = None
    if version is not None and version.effective_at is not None:
        signatures = await AgreementSignature.filter(version_id=version.id).values_list(
            "role", flat=True
        )
        effective_on = local_date(version.effective_at)
        agreement = AgreementFacts(
            effective_on=effective_on,
            signed_roles=frozenset(str(role) for role in signatures),
            seal_valid=bool(version.seal) and verify_seal(secret_key, version.seal, version.sha256),
            terms=tuple(Term.of(term) for term in (version.content or {}).get("terms") or []),
        )
        apply_by = deadline_for(Regime.JUDICIAL_CONFIRMATION, effective_on, official_calendar()).due
    organisation = case.organisation
    mediator = case.mediator
    return check_confirmation(
        ConfirmationFacts(
            parties=party_facts(parties),
            organisation=organisation.name if organisation is not None else None,
            mediator=mediator.display_name if mediator is not None else None,
            sessions_held=await MediationSession.filter(
                case_id=case.id, status=SessionStatus.ENDED
            ).count(),
            agreement=agreement,
            apply_by=apply_by,
            today=local_date(applied_at or now),
            property_proofs=property_proofs,
        )
    )


async def transfer_precheck(case: Case) -> Precheck:
    parties = await Party.filter(case=case).order_by("side", "id")
    end = await EndRecord.get_or_none(case=case)
    return check_transfer(
        party_facts(parties),
        end.undisputed_facts if end else "",
        end.reasons_for_failure if end else "",
    )


# --- the filing's body -------------------------------------------------------------------------


@dataclass(frozen=True)
class FilingMessage:
    content_type: str
    body: str
    sha256: str  # of the body's UTF-8 bytes: CourtFiling.payload_sha256


def _link(
    settings: CourtSettings, filing_id: str, sha256: str, now: datetime, kind: str = "evidence"
) -> str:
    # A path, not a URL: the desk resolves it against its PLATFORM_URL (docs/court-wire.md),
    # so the package holds no host that could be stale by the time a clerk opens the file.
    link = EvidenceLink(filing_id, sha256, kind)
    return link_path(settings.secret_key, link, signed_at=now)


async def filing_message(
    filing: CourtFiling, case: Case, settings: CourtSettings, now: datetime
) -> FilingMessage:
    """The body the relay sends for `filing` (built once, when queued: a retry sends the
    same bytes)."""
    kind = FilingKind(filing.kind)
    package, _record = await package_for_court(case, kind)
    urls = {
        item.sha256: _link(settings, filing.filing_id, item.sha256, now)
        for item in package.evidence
    }
    if filing.wire_format == "ecf":
        xml = ecf.build_core_filing(package, filing.filing_id, now, evidence_urls=urls)
        _validate_ecf(xml)
        body = xml.decode("utf-8")
        content_type = XML
    else:
        corrects = None
        if filing.corrects_id is not None:
            corrects = (await CourtFiling.get(id=filing.corrects_id)).filing_id
        data = await package_data(filing, case, package, urls, settings, corrects=corrects, now=now)
        event = {
            "specversion": "1.0",
            "id": filing.filing_id,
            "source": SOURCE,
            "type": f"cn.changning.mediation.court.{kind.value}.v1",
            "subject": case.number,
            "time": _iso(now),
            "datacontenttype": "application/json",
            "dataschema": DATASCHEMA,
            "data": data,
        }
        body = json.dumps(event, ensure_ascii=False, separators=(",", ":"))
        content_type = CLOUDEVENTS_JSON
    return FilingMessage(content_type, body, hashlib.sha256(body.encode("utf-8")).hexdigest())


async def package_data(
    filing: CourtFiling,
    case: Case,
    package: CourtPackage,
    urls: dict[str, str],
    settings: CourtSettings,
    *,
    corrects: str | None,
    now: datetime,
) -> dict[str, Any]:
    """The CloudEvent's `data`: the filtered package plus what the filing adds (links, who
    applies, what it corrects, the pre-check)."""
    data = package_to_json(package)
    evidence = data["evidence"]
    assert isinstance(evidence, list)
    for item in evidence:
        item["url"] = urls[item["sha256"]]
    agreement = data["agreement"]
    if isinstance(agreement, dict):
        version = await effective_agreement(case)
        pdf = version.pdf_sha256 if version is not None else None
        agreement["pdf_sha256"] = pdf
        agreement["pdf_url"] = (
            _link(settings, filing.filing_id, pdf, now, "agreement_pdf") if pdf else None
        )
    applicants = [side for side in SIDES if side in (filing.applicants or {})] or ["applicant"]
    return {
        "package_version": PACKAGE_VERSION,
        "kind": str(filing.kind),
        "corrects": corrects,
        "applicants": applicants,
        **data,
        # The findings only (what the clerk should see); the platform's own bookkeeping
        # (which evidence rows were named as proof) stays behind.
        "precheck": (
            {"ok": filing.precheck.get("ok"), "findings": filing.precheck.get("findings", [])}
            if filing.precheck
            else None
        ),
    }


def _validate_ecf(xml: bytes) -> None:
    """Refuse to queue an ECF filing the court's schema would refuse (a 422, dead at once)."""
    try:
        schema = ecf.core_filing_validator()
    except FileNotFoundError:
        # A deployment without the reference schemas still sends; the desk validates.
        log.warning("ECF schemas not found: filing queued without schema validation")
        return
    root = etree.fromstring(xml)
    if not schema.validate(root):
        raise ecf.EcfError("invalid", str(schema.error_log.last_error))
