"""The signed agreement as a PDF, and its public check.

When an agreement takes effect (online mediation rules Art. 19) it is rendered once to an A4
PDF: the full text, who signed it and how, the organisation's seal over the text's hash, and
a link and QR code to the public verification page. The bytes are stored content-addressed
beside the evidence, and the version records their SHA-256, so any copy of the PDF can be
checked against what was issued (`presented_matches`).

Issuing is idempotent and safe in several processes: the PDF is rendered and stored first,
then recorded by a conditional update (only where no PDF is recorded yet). Of two processes
racing, one records its PDF; the other's file is never referenced and the evidence sweeper
removes it later. A crash between the signature's commit and the PDF leaves an effective
version without a PDF, which `do_issue_missing_pdfs` (a background job) issues.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import re
import secrets
import string
import threading
import warnings
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from cases.access import Viewer
from cases.accounts.models import Organisation
from cases.actions import access_case
from cases.agreements.models import (
    AgreementSignature,
    AgreementStatus,
    AgreementVersion,
)
from cases.agreements.rules import verify_seal
from cases.errors import CaseConflict, CaseNotFound
from cases.evidence_store import blob_path, store_blob
from cases.journal import record_event
from cases.models import Case
from cases.pause import pause_point
from cases.timeline import EventKind, name_without_title
from cases.transactions import atomic
from mediation.labels import SIGNATURE_METHOD_LABELS, SIGNER_ROLE_LABELS
from mediation.settings import Settings
from mediation.web import ENVIRONMENTS

log = logging.getLogger("mediation.agreement_pdf")

VERIFY_PATH = "/verify/"
# 15 random bytes: 20 URL-safe characters, far beyond guessing.
CODE_BYTES = 15
CODE_PATTERN = re.compile(r"^[A-Za-z0-9_-]{16,32}$")
# The job leaves fresh versions to the signer's own request, which issues right after its
# commit; it steps in only when that did not happen (a crash, a failed render).
ISSUE_GRACE = timedelta(minutes=1)
# What the verification page accepts as a presented copy: a PDF far larger than any we issue
# cannot match, so it is refused before it is read.
MAX_PRESENTED_BYTES = 20 * 1024 * 1024
PDF_MEDIA_TYPE = "application/pdf"

ROLE_ORDER = {"applicant": 0, "respondent": 1, "mediator": 2}


def new_verification_code() -> str:
    return secrets.token_urlsafe(CODE_BYTES)


def verification_url(settings: Settings, code: str) -> str:
    return f"{settings.base_url}{VERIFY_PATH}{code}"


# --- rendering --------------------------------------------------------------------------------


@dataclass(frozen=True)
class SignatureLine:
    role: str
    name: str
    method: str
    signed_at: datetime


@dataclass(frozen=True)
class AgreementDocument:
    """Everything printed on the PDF."""

    case_number: str
    version_number: int
    organisation_name: str
    effective_at: datetime
    title: str  # the text's first line (调解协议书 and its kind)
    body: str  # the rest of the text: title and body together are the signed text
    text_sha256: str
    signatures: list[SignatureLine]
    sealed: bool
    seal_organisation: str
    sealed_at: datetime
    seal_sha256: str
    verification_url: str
    qr_svg: str


def qr_svg(url: str) -> str:
    import segno

    # Medium error correction survives a smudged print; inline SVG needs no file or fetch.
    svg: str = segno.make(url, error="m", micro=False).svg_inline(scale=4, border=2)
    return svg


def render_html(document: AgreementDocument) -> str:
    # The agreement is a Chinese legal document whatever the signer's interface language.
    template = ENVIRONMENTS["zh_CN"].get_template("documents/agreement.html")
    return template.render(
        doc=document, role_labels=SIGNER_ROLE_LABELS, method_labels=SIGNATURE_METHOD_LABELS
    )


# WeasyPrint shares Pango and fontconfig state that is not safe to use from two threads at
# once; one render at a time per process also keeps a burst of signatures from taking every
# core.
_render_lock = threading.Lock()


# Signed agreements are kept for years (electronic archives, GB/T 18894): PDF/A-2b (ISO
# 19005-2, level B) keeps them readable as they look today: every font embedded, an sRGB
# output intent, XMP metadata saying which PDF/A it is, nothing fetched from outside.
PDF_VARIANT = "pdf/a-2b"


def render_pdf(html: str) -> bytes:
    """HTML to PDF/A-2b bytes. CPU-heavy (about a second): call it in a worker thread."""
    with warnings.catch_warnings():
        # Without HarfBuzz's subsetting library (libharfbuzz-subset0, absent from some
        # machines) WeasyPrint embeds whole fonts instead of the glyphs used: a larger PDF,
        # the same document. It says so on import; the PDF is still correct.
        warnings.filterwarnings("ignore", message="HarfBuzz-Subset", category=DeprecationWarning)
        from weasyprint import HTML
        from weasyprint.urls import URLFetcher

    # Nothing may be fetched while rendering (the text is escaped, this is belt and braces).
    fetcher = URLFetcher(allowed_protocols=())
    with _render_lock, warnings.catch_warnings():
        # WeasyPrint 70 opens its sRGB profile (the PDF/A output intent) without closing
        # it; the file is closed when dropped, with a ResourceWarning that is only noise.
        warnings.filterwarnings("ignore", message=r".*sRGB2014\.icc", category=ResourceWarning)
        pdf: bytes = HTML(string=html, url_fetcher=fetcher).write_pdf(pdf_variant=PDF_VARIANT)
    return pdf


def _parse_time(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        return value
    if isinstance(value, str) and value:
        try:
            return datetime.fromisoformat(value)
        except ValueError:
            return None
    return None


async def _document(version: AgreementVersion, settings: Settings, code: str) -> AgreementDocument:
    case = await Case.get(id=version.case_id)
    organisation: Organisation | None = None
    if version.sealed_by_id is not None:
        organisation = await Organisation.get_or_none(id=version.sealed_by_id)
    if organisation is None and case.organisation_id is not None:
        organisation = await Organisation.get_or_none(id=case.organisation_id)
    signatures = await AgreementSignature.filter(version=version).prefetch_related("signer")
    seal = version.seal or {}
    effective_at = version.effective_at or datetime.now(UTC)
    organisation_name = organisation.name if organisation else ""
    url = verification_url(settings, code)
    title, _, body = version.text.partition("\n")
    return AgreementDocument(
        case_number=case.number,
        version_number=version.number,
        organisation_name=organisation_name,
        effective_at=effective_at,
        title=title,
        body=body,
        text_sha256=version.sha256,
        signatures=sorted(
            (
                SignatureLine(
                    role=str(s.role),
                    name=name_without_title(s.signer.display_name),
                    method=str(s.method),
                    signed_at=s.signed_at,
                )
                for s in signatures
            ),
            key=lambda s: (ROLE_ORDER.get(s.role, 9), s.signed_at),
        ),
        sealed=bool(seal),
        seal_organisation=str(seal.get("name") or organisation_name),
        sealed_at=_parse_time(seal.get("sealed_at")) or effective_at,
        seal_sha256=str(seal.get("sha256") or version.sha256),
        verification_url=url,
        qr_svg=qr_svg(url),
    )


# --- issuing ----------------------------------------------------------------------------------


async def issue_signed_pdf(version_id: int, settings: Settings) -> str:
    """Render, store and record the signed PDF of an effective version; returns its SHA-256.

    Idempotent: a version that has its PDF returns the recorded hash without rendering.
    Raises CaseNotFound for no such version and CaseConflict for one not effective. Call it
    after the signature's transaction has committed (it must see the effective version)."""
    version = await AgreementVersion.get_or_none(id=version_id)
    if version is None:
        raise CaseNotFound("signed_pdf_version_not_found")
    if version.pdf_sha256:
        return version.pdf_sha256
    if version.status != AgreementStatus.EFFECTIVE:
        raise CaseConflict("signed_pdf_not_effective")
    code = new_verification_code()
    html = render_html(await _document(version, settings, code))
    data = await asyncio.to_thread(render_pdf, html)
    digest = await asyncio.to_thread(store_blob, settings.evidence_dir, data)
    now = datetime.now(UTC)
    await pause_point("pdf_record")  # rendered and stored, not yet recorded (cases.pause)
    async with atomic():
        won = await AgreementVersion.filter(
            id=version_id, status=AgreementStatus.EFFECTIVE, pdf_sha256__isnull=True
        ).update(pdf_sha256=digest, pdf_size=len(data), verification_code=code)
        if won:
            case = await Case.get(id=version.case_id)
            await record_event(
                case,
                EventKind.AGREEMENT_PDF_ISSUED,
                now,
                actor_label="system",
                version=version.number,
                sha256=digest,
            )
    if won:
        log.info("signed PDF of agreement version %s issued: %s", version_id, digest)
        return digest
    # Another process recorded its PDF first; ours stays unreferenced and is swept later.
    recorded = (await AgreementVersion.get(id=version_id)).pdf_sha256
    if not recorded:
        raise CaseConflict("signed_pdf_not_effective")
    return recorded


async def do_issue_missing_pdfs(settings: Settings, now: datetime) -> list[int]:
    """Issue the PDF of every effective version that has none (past a short grace, so the
    signer's own request normally does it). One failing version does not stop the others."""
    waiting = await AgreementVersion.filter(
        status=AgreementStatus.EFFECTIVE,
        pdf_sha256__isnull=True,
        effective_at__lte=now - ISSUE_GRACE,
    ).order_by("id")
    issued: list[int] = []
    for version in waiting:
        try:
            await issue_signed_pdf(version.id, settings)
        except Exception:
            log.exception("could not issue the signed PDF of agreement version %s", version.id)
            continue
        issued.append(version.id)
    return issued


# --- download (the case's people) ------------------------------------------------------------


async def access_signed_pdf(
    viewer: Viewer, number: str, root: Path
) -> tuple[AgreementVersion, Path]:
    """The case's effective version and its PDF file, for those who may see the case (its
    parties, mediator and the staff handling it); CaseNotFound for anyone else."""
    case, _ = await access_case(viewer, number)
    version = await AgreementVersion.filter(
        case=case, status=AgreementStatus.EFFECTIVE, pdf_sha256__isnull=False
    ).first()
    if version is None or version.pdf_sha256 is None:
        raise CaseNotFound("agreement_pdf_not_found")
    return version, blob_path(root, version.pdf_sha256)


# --- the public check -------------------------------------------------------------------------


@dataclass(frozen=True)
class SignedRole:
    role: str
    signed_at: datetime


@dataclass(frozen=True)
class Verification:
    """What anyone holding the link may learn: that the agreement exists and took effect,
    and the hashes to check a copy against. Never a name, ID number or phone number."""

    code: str
    organisation_name: str
    case_number: str
    version_number: int
    effective_at: datetime | None
    signed: list[SignedRole]
    sealed: bool
    seal_verified: bool  # the seal's MAC checks out for this organisation and this text
    sealed_at: datetime | None
    text_sha256: str
    pdf_sha256: str
    pdf_size: int | None


async def access_verification(code: str, settings: Settings) -> Verification:
    if not CODE_PATTERN.match(code):
        raise CaseNotFound("verification_not_found")
    version = await AgreementVersion.get_or_none(
        verification_code=code, status=AgreementStatus.EFFECTIVE, pdf_sha256__isnull=False
    )
    if version is None or version.pdf_sha256 is None:
        raise CaseNotFound("verification_not_found")
    case = await Case.get(id=version.case_id)
    organisation_id = version.sealed_by_id or case.organisation_id
    organisation = await Organisation.get_or_none(id=organisation_id) if organisation_id else None
    signatures = await AgreementSignature.filter(version=version).values_list("role", "signed_at")
    seal = version.seal or {}
    return Verification(
        code=code,
        organisation_name=organisation.name if organisation else "",
        case_number=case.number,
        version_number=version.number,
        effective_at=version.effective_at,
        signed=sorted(
            (SignedRole(str(role), at) for role, at in signatures),
            key=lambda s: (ROLE_ORDER.get(s.role, 9), s.signed_at),
        ),
        sealed=bool(seal),
        seal_verified=bool(seal) and verify_seal(settings.secret_key, seal, version.sha256),
        sealed_at=_parse_time(seal.get("sealed_at")) or version.effective_at,
        text_sha256=version.sha256,
        pdf_sha256=version.pdf_sha256,
        pdf_size=version.pdf_size,
    )


def parse_sha256(text: str) -> str | None:
    """A pasted SHA-256: 64 hex digits, any case, spaces around (or inside, as some tools
    print it in groups) ignored. None when it is not one."""
    cleaned = "".join(text.split()).lower()
    if len(cleaned) == 64 and all(c in string.hexdigits for c in cleaned):
        return cleaned
    return None


def presented_matches(expected_sha256: str, presented_sha256: str) -> bool:
    return secrets.compare_digest(expected_sha256.lower(), presented_sha256.lower())


def sha256_of(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
