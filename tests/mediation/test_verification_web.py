"""The public check page of a signed agreement, and the PDF download for the case's people.

The check page is public, so it must say nothing personal; it writes nothing, so presenting
a file leaves the database and the file store as they were."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from cases.accounts.models import Role
from cases.agreements.models import AgreementVersion
from cases.evidence_store import blob_path
from mediation.agreement_pdf import issue_signed_pdf
from mediation.settings import Settings
from tests.mediation.signed_agreement import PERSONAL_DATA, SignedWorld, build_signed_world
from tests.support.factories import (
    STAFF_PASSWORD,
    cheap_password_hashing,
    create_organisation,
    create_staff,
    row_counts,
    run,
    switch_to,
)
from tests.support.rooms import APPLICANT, MEDIATOR, OUTSIDER, RESPONDENT


@pytest.fixture(autouse=True)
def _fast_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    cheap_password_hashing(monkeypatch)


@pytest.fixture
def signed(client: TestClient, settings: Settings) -> Iterator[tuple[SignedWorld, str, bytes]]:
    """A signed world with its PDF issued: (world, verification code, the PDF's bytes)."""
    world = run(client, build_signed_world, settings)
    digest = run(client, issue_signed_pdf, world.version_id, settings)
    version = run(client, AgreementVersion.get, id=world.version_id)
    yield world, version.verification_code, blob_path(settings.evidence_dir, digest).read_bytes()


def stored_files(settings: Settings) -> list[Path]:
    # The security and access logs (also in the data folder) are not stored files.
    files = settings.data_dir.rglob("*")
    return sorted(p for p in files if p.is_file() and settings.log_dir not in p.parents)


def test_the_check_page_confirms_the_agreement_without_personal_data(
    client: TestClient, signed: tuple[SignedWorld, str, bytes]
) -> None:
    world, code, pdf = signed
    version = run(client, AgreementVersion.get, id=world.version_id)

    page = client.get(f"/verify/{code}")

    assert page.status_code == 200
    html = page.text
    assert "该调解协议已生效" in html
    assert world.organisation_name in html and world.case_number in html
    assert version.sha256 in html and hashlib.sha256(pdf).hexdigest() in html
    # Which roles signed and when, and the seal (checked by the platform).
    for role in ("申请人", "被申请人", "调解员"):
        assert role in html
    assert "已加盖，平台校验有效" in html
    for personal in PERSONAL_DATA:
        assert personal not in html, personal
    # Not even masked forms of phone numbers.
    assert "138****5678" not in html and "139****1111" not in html


def test_the_issued_pdf_matches_and_a_changed_one_does_not(
    client: TestClient, settings: Settings, signed: tuple[SignedWorld, str, bytes]
) -> None:
    _, code, pdf = signed
    counts, files = row_counts(client), stored_files(settings)

    same = client.post(f"/verify/{code}", files={"pdf": ("协议.pdf", pdf, "application/pdf")})
    assert same.status_code == 200
    assert "该文件是签署版调解协议。" in same.text
    assert "不一致" not in same.text

    changed = bytearray(pdf)
    changed[len(changed) // 2] ^= 0x01  # one byte, in the middle of the document
    other = client.post(
        f"/verify/{code}", files={"pdf": ("协议.pdf", bytes(changed), "application/pdf")}
    )
    assert other.status_code == 200
    assert "该文件与签署版调解协议不一致。" in other.text
    assert "该文件是签署版调解协议。" not in other.text
    assert hashlib.sha256(bytes(changed)).hexdigest() in other.text

    # Checking writes nothing: no rows, no files.
    assert row_counts(client) == counts
    assert stored_files(settings) == files


def test_a_pasted_hash_is_checked_and_bad_input_is_refused(
    client: TestClient, signed: tuple[SignedWorld, str, bytes]
) -> None:
    _, code, pdf = signed
    digest = hashlib.sha256(pdf).hexdigest()

    upper = client.post(f"/verify/{code}", files={"sha256": (None, f"  {digest.upper()} ")})
    assert upper.status_code == 200 and "该文件是签署版调解协议。" in upper.text

    wrong = client.post(f"/verify/{code}", data={"sha256": "0" * 64})
    assert wrong.status_code == 200 and "该文件与签署版调解协议不一致。" in wrong.text

    bad = client.post(f"/verify/{code}", data={"sha256": "not-a-hash"})
    assert bad.status_code == 422
    assert "SHA-256应为64个字符" in bad.text
    assert "签署版调解协议。" not in bad.text and "不一致" not in bad.text

    nothing = client.post(f"/verify/{code}", data={"sha256": ""})
    assert nothing.status_code == 422 and "请选择PDF文件或粘贴其SHA-256。" in nothing.text

    empty = client.post(f"/verify/{code}", files={"pdf": ("a.pdf", b"", "application/pdf")})
    assert empty.status_code == 422 and "文件为空。" in empty.text


def test_in_english_too(client: TestClient, signed: tuple[SignedWorld, str, bytes]) -> None:
    _, code, pdf = signed
    client.cookies.set("lang", "en")
    answer = client.post(f"/verify/{code}", files={"pdf": ("a.pdf", pdf, "application/pdf")})
    assert "This is the signed agreement." in answer.text
    bad = client.post(f"/verify/{code}", data={"sha256": "xyz"})
    assert "A SHA-256 is 64 characters" in bad.text


def test_an_oversized_upload_is_refused_before_it_is_read(
    client: TestClient, settings: Settings, signed: tuple[SignedWorld, str, bytes]
) -> None:
    _, code, _ = signed
    files = stored_files(settings)
    big = b"%PDF-1.7\n" + b"0" * (20 * 1024 * 1024 + 1)

    declared = client.post(f"/verify/{code}", files={"pdf": ("big.pdf", big, "application/pdf")})
    assert declared.status_code == 413
    assert "文件超过20 MB" in declared.text

    # A sender that does not declare its length is cut off while streaming.
    boundary = uuid.uuid4().hex

    def chunked() -> Iterator[bytes]:
        yield (
            f'--{boundary}\r\nContent-Disposition: form-data; name="pdf"; filename="big.pdf"'
            f"\r\nContent-Type: application/pdf\r\n\r\n"
        ).encode()
        for _ in range(21):
            yield b"0" * (1024 * 1024)
        yield f"\r\n--{boundary}--\r\n".encode()

    streamed = client.post(
        f"/verify/{code}",
        content=chunked(),
        headers={"Content-Type": f"multipart/form-data; boundary={boundary}"},
    )
    assert streamed.status_code == 413
    assert "文件超过20 MB" in streamed.text
    assert stored_files(settings) == files


def test_an_unknown_code_is_not_found(
    client: TestClient, signed: tuple[SignedWorld, str, bytes]
) -> None:
    _, code, pdf = signed
    for unknown in ("A" * 20, code[:-1] + ("x" if code[-1] != "x" else "y"), "short", "%00"):
        page = client.get(f"/verify/{unknown}")
        assert page.status_code == 404
        assert "没有与该核验地址对应的已生效协议" in page.text
    posted = client.post("/verify/" + "B" * 20, files={"pdf": ("a.pdf", pdf, "application/pdf")})
    assert posted.status_code == 404


def test_a_version_without_its_pdf_has_no_check_page_yet(
    client: TestClient, settings: Settings
) -> None:
    world = run(client, build_signed_world, settings)
    run(
        client,
        AgreementVersion.filter(id=world.version_id).update,
        verification_code="C" * 20,
    )
    assert client.get("/verify/" + "C" * 20).status_code == 404


def test_the_case_people_download_the_signed_pdf_and_nobody_else(
    client: TestClient, settings: Settings, signed: tuple[SignedWorld, str, bytes]
) -> None:
    world, _, pdf = signed
    path = f"/cases/{world.case_number}/agreement.pdf"
    organisation_id = run(client, _organisation_of, world.case_id)
    create_staff(client, "org_admin_1", Role.ORG_ADMIN, organisation_id=organisation_id)
    elsewhere = create_organisation(client, "ELSEWHERE")
    create_staff(client, "other_mediator_1", Role.MEDIATOR, organisation_id=elsewhere.id)
    create_staff(client, "other_admin_1", Role.ORG_ADMIN, organisation_id=elsewhere.id)

    for who in (APPLICANT, RESPONDENT, MEDIATOR, ("org_admin_1", STAFF_PASSWORD)):
        switch_to(client, *who)
        answer = client.get(path)
        assert answer.status_code == 200, who
        assert answer.headers["content-type"] == "application/pdf"
        assert answer.headers["content-disposition"].startswith("attachment;")
        assert answer.content == pdf

    for who in (
        OUTSIDER,
        ("other_mediator_1", STAFF_PASSWORD),
        ("other_admin_1", STAFF_PASSWORD),
    ):
        switch_to(client, *who)
        refused = client.get(path)
        assert refused.status_code == 404, who
        assert not refused.content.startswith(b"%PDF")

    client.cookies.clear()
    anonymous = client.get(path, follow_redirects=False)
    assert anonymous.status_code == 303 and anonymous.headers["location"].startswith("/signin")


async def _organisation_of(case_id: int) -> int:
    from cases.models import Case

    organisation_id = (await Case.get(id=case_id)).organisation_id
    assert organisation_id is not None
    return organisation_id


def test_before_the_pdf_is_issued_the_case_page_says_so(
    client: TestClient, settings: Settings
) -> None:
    world = run(client, build_signed_world, settings)
    switch_to(client, *APPLICANT)
    page = client.get(f"/cases/{world.case_number}")
    assert "签署版PDF正在生成" in page.text
    assert f"/cases/{world.case_number}/agreement.pdf" not in page.text
    missing = client.get(f"/cases/{world.case_number}/agreement.pdf")
    assert missing.status_code == 404 and "签署版调解协议暂不可下载" in missing.text

    run(client, issue_signed_pdf, world.version_id, settings)
    page = client.get(f"/cases/{world.case_number}")
    assert f"/cases/{world.case_number}/agreement.pdf" in page.text
    code = run(client, AgreementVersion.get, id=world.version_id).verification_code
    assert f"/verify/{code}" in page.text
