"""The signed agreement's PDF: what it says (read back with poppler), that its font is
embedded, that the stored bytes are what the version records, and that issuing happens once
however many times and processes ask."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import os
import subprocess
import sys
import textwrap
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path

import pytest

from cases.actions import do_sweep_unreferenced_evidence
from cases.agreements.models import AgreementStatus, AgreementVersion
from cases.evidence_store import blob_path, store_blob
from cases.models import TimelineEvent
from mediation.agreement_pdf import (
    CODE_PATTERN,
    do_issue_missing_pdfs,
    issue_signed_pdf,
    parse_sha256,
    verification_url,
)
from mediation.settings import Settings
from tests.mediation.signed_agreement import (
    APPLICANT_NAME,
    RESPONDENT_NAME,
    TERM_REFUND,
    TERM_WITHDRAW,
    build_signed_world,
)

ROOT = Path(__file__).resolve().parents[2]


def pdf_text(path: Path) -> str:
    out = subprocess.run(["pdftotext", "-enc", "UTF-8", str(path), "-"], capture_output=True)
    assert out.returncode == 0, out.stderr
    return out.stdout.decode("utf-8")


def pdf_fonts(path: Path) -> list[list[str]]:
    out = subprocess.run(["pdffonts", str(path)], capture_output=True, text=True, check=True)
    # Rows after the two header lines: name, type..., emb, sub, uni, object, id
    return [line.split() for line in out.stdout.splitlines()[2:] if line.strip()]


def pdf_metadata(path: Path) -> str:
    """The XMP metadata, as poppler's pdfinfo reads it."""
    out = subprocess.run(["pdfinfo", "-meta", str(path)], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    return out.stdout


def squashed(text: str) -> str:
    """Text without any whitespace: the PDF wraps long lines wherever they fit."""
    return "".join(text.split())


async def test_the_signed_pdf_carries_the_agreement_the_signatures_and_the_link(
    db: None, settings: Settings
) -> None:
    world = await build_signed_world(settings)
    digest = await issue_signed_pdf(world.version_id, settings)

    version = await AgreementVersion.get(id=world.version_id)
    assert version.pdf_sha256 == digest
    path = blob_path(settings.evidence_dir, digest)
    data = path.read_bytes()
    assert data.startswith(b"%PDF-")
    assert hashlib.sha256(data).hexdigest() == digest and version.pdf_size == len(data)
    assert version.verification_code and CODE_PATTERN.match(version.verification_code)

    text = squashed(pdf_text(path))
    for expected in (
        APPLICANT_NAME,
        RESPONDENT_NAME,
        TERM_REFUND,
        TERM_WITHDRAW,
        world.case_number,
        world.organisation_name,
        version.sha256,  # the text's hash, which signatures and seal cover
        verification_url(settings, version.verification_code),
    ):
        assert squashed(expected) in text, expected
    # Each signature: role, signer, method and time (Beijing time).
    for expected in ("申请人", "被申请人", "调解员王", "某旅行社", "短信", "北京时间", "电子印章"):
        assert expected in text, expected

    fonts = pdf_fonts(path)
    assert fonts, "no fonts in the PDF"
    assert any("Noto-Sans-CJK-SC" in row[0] for row in fonts)
    # Every font is embedded (the "emb" column), so the PDF reads the same on any machine.
    assert all(row[-5] == "yes" for row in fonts), fonts

    events = await TimelineEvent.filter(case_id=world.case_id, kind="agreement_pdf_issued")
    assert len(events) == 1 and events[0].data["sha256"] == digest


def pdf_objects(data: bytes) -> bytes:
    """The PDF's bytes with every Flate stream inflated (object streams hold the catalog)."""
    import re
    import zlib

    inflated = [data]
    for match in re.finditer(rb"stream\r?\n(.*?)\r?\nendstream", data, re.S):
        with contextlib.suppress(zlib.error):  # not a Flate stream
            inflated.append(zlib.decompress(match.group(1)))
    return b"\n".join(inflated)


async def test_the_signed_pdf_is_pdf_a_2b(
    db: None, settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    """Kept for years in e-archives: PDF/A-2b (ISO 19005-2 level B)."""
    world = await build_signed_world(settings)
    with caplog.at_level(logging.WARNING, logger="weasyprint"):
        digest = await issue_signed_pdf(world.version_id, settings)
    # WeasyPrint warns about what it cannot make conform (transparency, missing fonts, ...).
    assert [r.getMessage() for r in caplog.records if r.name.startswith("weasyprint")] == []
    path = blob_path(settings.evidence_dir, digest)
    data = path.read_bytes()
    # The XMP metadata names the part and conformance level.
    meta = pdf_metadata(path)
    assert 'pdfaid:part="2"' in meta and 'pdfaid:conformance="B"' in meta
    # An output intent for PDF/A with its ICC profile (the colours' meaning, kept inside).
    objects = pdf_objects(data)
    assert b"/OutputIntents" in objects
    assert b"/GTS_PDFA1" in objects and b"/DestOutputProfile" in objects
    # PDF/A-2 is PDF 1.7 based; no encryption, every font embedded.
    assert data.startswith(b"%PDF-1.7") and b"/Encrypt" not in objects
    fonts = pdf_fonts(path)
    assert fonts and all(row[-5] == "yes" for row in fonts), fonts


async def test_issuing_again_returns_the_same_pdf_without_rendering(
    db: None, settings: Settings
) -> None:
    world = await build_signed_world(settings)
    first = await issue_signed_pdf(world.version_id, settings)
    code = (await AgreementVersion.get(id=world.version_id)).verification_code
    blobs = sorted(settings.evidence_dir.rglob("*"))

    assert await issue_signed_pdf(world.version_id, settings) == first
    assert (await AgreementVersion.get(id=world.version_id)).verification_code == code
    assert sorted(settings.evidence_dir.rglob("*")) == blobs  # nothing new written
    assert await TimelineEvent.filter(kind="agreement_pdf_issued").count() == 1


async def test_a_version_not_yet_effective_gets_no_pdf(db: None, settings: Settings) -> None:
    from cases.errors import CaseConflict, CaseNotFound

    world = await build_signed_world(settings)
    await AgreementVersion.filter(id=world.version_id).update(status=AgreementStatus.SIGNING)
    with pytest.raises(CaseConflict):
        await issue_signed_pdf(world.version_id, settings)
    with pytest.raises(CaseNotFound):
        await issue_signed_pdf(world.version_id + 1000, settings)
    assert (await AgreementVersion.get(id=world.version_id)).pdf_sha256 is None
    assert not settings.evidence_dir.exists() or not any(settings.evidence_dir.rglob("*.pdf"))


ISSUE_IN_ANOTHER_PROCESS = textwrap.dedent(
    """
    import asyncio, sys
    from pathlib import Path
    from tortoise import Tortoise
    from mediation.agreement_pdf import issue_signed_pdf
    from mediation.db import tortoise_config
    from mediation.settings import Settings

    async def main():
        url, data_dir, version_id = sys.argv[1], Path(sys.argv[2]), int(sys.argv[3])
        settings = Settings(database_url=url, secret_key="test-secret-key-not-for-production",
                            data_dir=data_dir, base_url="http://testserver")
        await Tortoise.init(config=tortoise_config(url))
        try:
            print(await issue_signed_pdf(version_id, settings))
        finally:
            await Tortoise.close_connections()

    asyncio.run(main())
    """
)


async def _issue_in_another_process(settings: Settings, version_id: int) -> str:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        ISSUE_IN_ANOTHER_PROCESS,
        settings.database_url,
        str(settings.data_dir),
        str(version_id),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT), "PAUSE_POINTS": "pdf_record=3"},
    )
    out, err = await process.communicate()
    assert process.returncode == 0, err.decode()
    return out.decode().strip().splitlines()[-1]


async def test_two_processes_issuing_at_once_record_one_pdf(db: None, settings: Settings) -> None:
    """Both processes are started with a 3-second pause after rendering and storing their
    PDF, before recording it (`pdf_record`), so both have a PDF to record by then and only
    the conditional record lets one win: without it both record, on SQLite and PostgreSQL
    alike (the record is a short transaction of its own in each process)."""
    world = await build_signed_world(settings)

    first, second = await asyncio.gather(
        _issue_in_another_process(settings, world.version_id),
        _issue_in_another_process(settings, world.version_id),
    )

    version = await AgreementVersion.get(id=world.version_id)
    assert first == second == version.pdf_sha256
    assert await TimelineEvent.filter(kind="agreement_pdf_issued").count() == 1
    recorded = blob_path(settings.evidence_dir, first)
    assert hashlib.sha256(recorded.read_bytes()).hexdigest() == first
    # The loser's PDF (when both got as far as storing one) is referenced by nothing: the
    # sweep removes it, and never the recorded one.
    later = datetime.now(UTC) + timedelta(days=2)
    await do_sweep_unreferenced_evidence(settings.evidence_dir, later, timedelta(days=1))
    remaining = [p for p in settings.evidence_dir.rglob("*") if p.is_file()]
    assert remaining == [recorded]


async def test_the_sweeper_keeps_signed_pdfs_and_removes_strays(
    db: None, settings: Settings
) -> None:
    world = await build_signed_world(settings)
    digest = await issue_signed_pdf(world.version_id, settings)
    stray = store_blob(settings.evidence_dir, b"%PDF-1.7 a stray render that lost the race")
    later = datetime.now(UTC) + timedelta(days=2)

    removed = await do_sweep_unreferenced_evidence(settings.evidence_dir, later, timedelta(days=1))

    assert removed == 1
    assert blob_path(settings.evidence_dir, digest).exists()
    assert not blob_path(settings.evidence_dir, stray).exists()


async def test_the_job_issues_pdfs_a_crash_left_behind(db: None, settings: Settings) -> None:
    signed_at = datetime.now(UTC) - timedelta(minutes=5)
    world = await build_signed_world(settings, effective_at=signed_at)

    # Right after the signature the signer's own request is issuing: the job leaves it.
    assert await do_issue_missing_pdfs(settings, signed_at + timedelta(seconds=5)) == []
    assert (await AgreementVersion.get(id=world.version_id)).pdf_sha256 is None

    assert await do_issue_missing_pdfs(settings, datetime.now(UTC)) == [world.version_id]
    version = await AgreementVersion.get(id=world.version_id)
    assert version.pdf_sha256 is not None
    assert blob_path(settings.evidence_dir, version.pdf_sha256).exists()
    # Done once: the next round finds nothing to do.
    assert await do_issue_missing_pdfs(settings, datetime.now(UTC)) == []


@pytest.mark.parametrize(
    ("pasted", "parsed"),
    [
        ("a" * 64, "a" * 64),
        ("  " + "AB" * 32 + "\n", "ab" * 32),
        ("abcd " * 16, "abcd" * 16),  # grouped, as some tools print it
        ("a" * 63, None),
        ("a" * 65, None),
        ("g" * 64, None),
        ("", None),
        ("sha256:" + "a" * 64, None),
    ],
)
def test_a_pasted_sha256_is_64_hex_digits(pasted: str, parsed: str | None) -> None:
    assert parse_sha256(pasted) == parsed


async def test_the_last_signature_through_the_signing_actions_issues_the_pdf(
    db: None, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The whole way: draft, put up for signature, three signatures; the signing action
    issues the PDF after its commit, with the real signers and seal on it."""
    from cases.agreements.actions import do_put_up_for_signature, do_save_draft, do_sign
    from cases.agreements.models import SignatureMethod
    from cases.performance.models import PerformanceItem
    from tests.support.agreements import (
        APPLICANT,
        MEDIATOR,
        RESPONDENT,
        build_agreement_world,
        draft,
    )
    from tests.support.factories import cheap_password_hashing

    cheap_password_hashing(monkeypatch)
    world = await build_agreement_world(settings)
    mediator = world.users["mediator"]
    now = datetime.now(UTC)
    version = await do_save_draft(mediator, world.number, draft(), now, settings)
    version = await do_put_up_for_signature(mediator, world.number, version.number, now, settings)
    for who, password in (
        ("applicant", APPLICANT[1]),
        ("respondent", RESPONDENT[1]),
        ("mediator", MEDIATOR[1]),
    ):
        await do_sign(
            world.users[who],
            world.number,
            version.number,
            sha256=version.sha256,
            method=SignatureMethod.PASSWORD,
            secret=password,
            now=datetime.now(UTC),
            settings=settings,
            issue_pdf=partial(issue_signed_pdf, settings=settings),
        )

    version = await AgreementVersion.get(id=version.id)
    assert version.status == AgreementStatus.EFFECTIVE and version.pdf_sha256
    path = blob_path(settings.evidence_dir, version.pdf_sha256)
    assert hashlib.sha256(path.read_bytes()).hexdigest() == version.pdf_sha256
    text = squashed(pdf_text(path))
    assert "王调解" in text and "被申请人向申请人退还团费" in text
    assert squashed(verification_url(settings, str(version.verification_code))) in text
    assert await PerformanceItem.filter(version=version).count() == 2
    # Nothing left for the job.
    assert await do_issue_missing_pdfs(settings, datetime.now(UTC) + timedelta(hours=1)) == []
