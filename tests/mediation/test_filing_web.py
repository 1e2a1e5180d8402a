"""Filing a dispute through the web form: errors save nothing; a filing stores and invites."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from cases.accounts.models import Role
from cases.identity import mask_resident_id
from cases.models import Case, Evidence, Notice, NoticeChannel, Party, Side, TimelineEvent
from mediation.settings import Settings
from tests.cases.test_evidence_files import png
from tests.support.factories import (
    PDF_BYTES,
    PNG_BYTES,
    STAFF_PASSWORD,
    cheap_password_hashing,
    create_staff,
    csrf_of,
    file_case,
    filing_fields,
    invitation_path,
    register,
    resident_id,
    row_counts,
    run,
    switch_to,
    uscc,
)

A_ID, A_PASSWORD = "13812345678", "applicant pass 1"
R_ID, R_PASSWORD = "13900001111", "respondent pass 1"
APPLICANT_ID = resident_id()
FACTS = filing_fields()["facts"]


@pytest.fixture(autouse=True)
def _fast_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    cheap_password_hashing(monkeypatch)


def blobs(settings: Settings) -> list[Path]:
    root = settings.evidence_dir
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


def post_filing(  # type: ignore[no-untyped-def]
    client: TestClient, files: list[tuple[str, bytes]] | None = None, **overrides: str
):
    return client.post(
        "/file",
        data={"csrf_token": csrf_of(client, "/file"), **filing_fields(**overrides)},
        files=[("evidence", (n, d, "application/octet-stream")) for n, d in files or []] or None,
        follow_redirects=False,
    )


def field_error(field: str, message: str) -> str:
    return f'<p class="error" id="{field}-error" role="alert">{message}</p>'


# --- Invalid filings save nothing ---


def test_invalid_filing_shows_translated_field_errors_and_saves_nothing(
    client: TestClient, settings: Settings
) -> None:
    register(client, A_ID, A_PASSWORD)
    before = row_counts(client)
    response = post_filing(
        client,
        files=[("合同.pdf", PDF_BYTES)],
        claim_amount="abc",
        applicant_id_number=APPLICANT_ID[:17] + "0",
        respondent_mobile="",
        respondent_email="",
        consent_voluntary="__omit__",
    )
    assert response.status_code == 422
    text = response.text
    assert field_error("claim_amount", "请输入以元为单位的金额，例如 1280.50。") in text
    assert (
        field_error("applicant_id_number", "居民身份证号无效（应为 18 位，请核对最后一位校验码）。")
        in text
    )
    assert (
        field_error("respondent_mobile", "请填写被申请人的手机号或电子邮箱，以便送达调解邀请。")
        in text
    )
    assert field_error("consent_voluntary", "请阅读并勾选确认此项。") in text
    assert text.count('class="error"') == 4
    # What was typed is kept, so nothing has to be entered twice.
    assert 'value="abc"' in text
    assert FACTS in text
    assert row_counts(client) == before
    # The good file is kept for the corrected submission (stored by its hash, referenced
    # by nothing), so a mistake in a field never costs the person their attachment.
    assert [p.name for p in blobs(settings)] == [hashlib.sha256(PDF_BYTES).hexdigest()]
    assert "以下文件已保留，无需重新上传：" in text and "<li>合同.pdf</li>" in text


def test_the_corrected_filing_carries_the_kept_file(client: TestClient, settings: Settings) -> None:
    register(client, A_ID, A_PASSWORD)
    first = post_filing(client, files=[("合同.pdf", PDF_BYTES)], claim_amount="abc")
    token = re.search(r'name="kept_evidence" value="([^"]+)"', first.text)
    assert token
    response = client.post(
        "/file",
        data={
            "csrf_token": csrf_of(client, "/file"),
            "kept_evidence": token.group(1),
            **filing_fields(),
        },
        follow_redirects=False,
    )
    assert response.status_code == 303
    number = response.headers["location"].split("/")[2].split("?")[0]
    evidence = run(client, Evidence.get, case__number=number)
    assert (evidence.filename, evidence.sha256) == (
        "合同.pdf",
        hashlib.sha256(PDF_BYTES).hexdigest(),
    )


def test_a_forged_kept_token_brings_nothing(client: TestClient, settings: Settings) -> None:
    register(client, A_ID, A_PASSWORD)
    forged = "W1si5ZCI5ZCMLnBkZiIsImFwcGxpY2F0aW9uL3BkZiIsMSwiMDAiXV0.bad-signature"
    response = client.post(
        "/file",
        data={"csrf_token": csrf_of(client, "/file"), "kept_evidence": forged, **filing_fields()},
        follow_redirects=False,
    )
    assert response.status_code == 303
    number = response.headers["location"].split("/")[2].split("?")[0]
    assert run(client, Evidence.filter(case__number=number).count) == 0


def test_invalid_filing_in_english(client: TestClient, settings: Settings) -> None:
    register(client, A_ID, A_PASSWORD)
    client.cookies.set("lang", "en")
    before = row_counts(client)
    response = post_filing(client, claim_amount="0", facts="短")
    assert response.status_code == 422
    assert field_error("claim_amount", "The amount must be greater than zero.") in response.text
    assert (
        field_error(
            "facts", "Please describe this in a little more detail (at least 10 characters)."
        )
        in response.text
    )
    assert row_counts(client) == before
    assert blobs(settings) == []


BIG = b"%PDF-1.4\n" + b"0" * (20 * 1024 * 1024)  # one byte over... and then some

BAD_FILES = [
    pytest.param(
        "发票.pdf",
        b"MZ\x90\x00\x03\x00\x00\x00" + b"\x00" * 100,
        "文件 发票.pdf 的类型不受支持（可上传 PDF、图片、音频、视频、Word 或文本文件）。",
        id="exe-renamed-pdf",
    ),
    pytest.param(
        "page.html",
        b"<!doctype html><html><script>alert(1)</script></html>",
        "文件 page.html 的类型不受支持（可上传 PDF、图片、音频、视频、Word 或文本文件）。",
        id="html",
    ),
    pytest.param(
        "notes.txt",
        b"<html><body onload=alert(1)></body></html>",
        "文件 notes.txt 的类型不受支持（可上传 PDF、图片、音频、视频、Word 或文本文件）。",
        id="html-named-txt",
    ),
    pytest.param("scan.jpg", PDF_BYTES, "文件 scan.jpg 的内容与其扩展名不符。", id="pdf-as-jpg"),
    pytest.param("空.pdf", b"", "文件 空.pdf 是空文件。", id="empty"),
    pytest.param("big.pdf", BIG, "文件 big.pdf 超过 20 MB。", id="over-20mb"),
    pytest.param(
        "截图.png",
        png(100_000, 100_000),  # a decompression bomb: 10 gigapixels in a hundred bytes
        "图片 截图.png 过大（超过5000万像素），无法显示。请发送较小的副本。",
        id="png-bomb",
    ),
]


@pytest.mark.parametrize(("name", "data", "message"), BAD_FILES)
def test_bad_evidence_is_rejected_and_nothing_saved(
    client: TestClient, settings: Settings, name: str, data: bytes, message: str
) -> None:
    register(client, A_ID, A_PASSWORD)
    before = row_counts(client)
    # A good file alongside: kept for the retry; the bad one is never stored.
    response = post_filing(client, files=[("合同.pdf", PDF_BYTES), (name, data)])
    assert response.status_code == 422
    assert message in response.text
    assert row_counts(client) == before
    assert [p.name for p in blobs(settings)] == [hashlib.sha256(PDF_BYTES).hexdigest()]


def test_exactly_20mb_is_accepted(client: TestClient, settings: Settings) -> None:
    register(client, A_ID, A_PASSWORD)
    data = b"%PDF-1.4\n" + b"0" * (20 * 1024 * 1024 - 9)
    assert len(data) == 20 * 1024 * 1024
    number = file_case(client, files=[("大文件.pdf", data)])
    evidence = run(client, Evidence.get, case__number=number)
    assert evidence.size == len(data)
    assert [p.read_bytes() == data for p in blobs(settings)] == [True]


def test_more_than_ten_files_are_refused(client: TestClient, settings: Settings) -> None:
    register(client, A_ID, A_PASSWORD)
    before = row_counts(client)
    response = post_filing(client, files=[(f"{i}.pdf", PDF_BYTES) for i in range(11)])
    assert response.status_code == 422
    assert "一次最多上传 10 个文件。" in response.text
    assert row_counts(client) == before
    assert blobs(settings) == []


def test_every_bad_file_is_named(client: TestClient) -> None:
    register(client, A_ID, A_PASSWORD)
    response = post_filing(client, files=[("a.pdf", b""), ("b.jpg", PDF_BYTES)])
    assert response.status_code == 422
    assert "文件 a.pdf 是空文件。" in response.text
    assert "文件 b.jpg 的内容与其扩展名不符。" in response.text


def test_file_errors_in_english(client: TestClient) -> None:
    register(client, A_ID, A_PASSWORD)
    client.cookies.set("lang", "en")
    response = post_filing(client, files=[("scan.jpg", PDF_BYTES)])
    assert response.status_code == 422
    assert "The content of scan.jpg does not match its file name extension." in response.text


# --- A valid filing ---


def test_valid_filing_stores_evidence_by_content(client: TestClient, settings: Settings) -> None:
    register(client, A_ID, A_PASSWORD)
    number = file_case(client, files=[("合同.pdf", PDF_BYTES), ("聊天截图.png", PNG_BYTES)])

    pdf_sha = hashlib.sha256(PDF_BYTES).hexdigest()
    png_sha = hashlib.sha256(PNG_BYTES).hexdigest()
    pdf_blob = settings.evidence_dir / pdf_sha[:2] / pdf_sha
    png_blob = settings.evidence_dir / png_sha[:2] / png_sha
    assert pdf_blob.read_bytes() == PDF_BYTES
    assert png_blob.read_bytes() == PNG_BYTES
    assert blobs(settings) == sorted([pdf_blob, png_blob])

    rows = run(
        client,
        Evidence.filter(case__number=number).order_by("id").values_list,
        "filename",
        "media_type",
        "size",
        "sha256",
        "side",
    )
    assert rows == [
        ("合同.pdf", "application/pdf", len(PDF_BYTES), pdf_sha, Side.APPLICANT),
        ("聊天截图.png", "image/png", len(PNG_BYTES), png_sha, Side.APPLICANT),
    ]

    page = client.get(f"/cases/{number}?filed=1")
    assert page.status_code == 200
    assert f"SHA-256 {pdf_sha}" in page.text
    assert f"SHA-256 {png_sha}" in page.text
    assert number in page.text


def test_same_content_twice_is_one_blob_and_one_evidence_item(
    client: TestClient, settings: Settings
) -> None:
    register(client, A_ID, A_PASSWORD)
    response = post_filing(client, files=[("一.pdf", PDF_BYTES), ("二.pdf", PDF_BYTES)])
    assert response.status_code == 303
    page = client.get(response.headers["location"])
    number = response.headers["location"].split("/")[2].split("?")[0]
    assert len(blobs(settings)) == 1
    assert run(client, Evidence.filter(case__number=number).values_list, "filename") == [
        ("一.pdf",)
    ]
    assert "二.pdf 与已附的 一.pdf 内容相同" in page.text


def test_a_kept_file_picked_again_after_an_error_is_filed_once(
    client: TestClient, settings: Settings
) -> None:
    """The finding: after a form error the page keeps the good files, the file picker looks
    empty, and a person who picks the same file again used to file it twice."""
    register(client, A_ID, A_PASSWORD)
    first = post_filing(client, files=[("合同.pdf", PDF_BYTES)], claim_amount="abc")
    assert first.status_code == 422
    token = re.search(r'name="kept_evidence" value="([^"]+)"', first.text)
    assert token
    # Corrected, and the same file picked again (under another name, and its own name).
    response = client.post(
        "/file",
        data={
            "csrf_token": csrf_of(client, "/file"),
            "kept_evidence": token.group(1),
            **filing_fields(),
        },
        files=[
            ("evidence", ("合同.pdf", PDF_BYTES, "application/pdf")),
            ("evidence", ("合同(1).pdf", PDF_BYTES, "application/pdf")),
            ("evidence", ("截图.png", PNG_BYTES, "image/png")),
        ],
        follow_redirects=False,
    )
    assert response.status_code == 303
    number = response.headers["location"].split("/")[2].split("?")[0]
    rows = run(client, Evidence.filter(case__number=number).order_by("id").values_list, "filename")
    assert rows == [("合同.pdf",), ("截图.png",)]
    events = run(client, TimelineEvent.filter(case__number=number, kind="evidence_added").count)
    assert events == 2
    page = client.get(response.headers["location"]).text
    assert "以下文件已经附上，未重复添加：" in page
    assert "合同.pdf 已经附上。" in page
    assert "合同(1).pdf 与已附的 合同.pdf 内容相同" in page


def test_a_kept_file_picked_again_with_another_error_is_kept_once(
    client: TestClient, settings: Settings
) -> None:
    register(client, A_ID, A_PASSWORD)
    first = post_filing(client, files=[("合同.pdf", PDF_BYTES)], claim_amount="abc")
    token = re.search(r'name="kept_evidence" value="([^"]+)"', first.text)
    assert token
    second = client.post(
        "/file",
        data={
            "csrf_token": csrf_of(client, "/file"),
            "kept_evidence": token.group(1),
            **filing_fields(claim_amount="still wrong"),
        },
        files=[("evidence", ("合同.pdf", PDF_BYTES, "application/pdf"))],
        follow_redirects=False,
    )
    assert second.status_code == 422
    assert second.text.count("<li>合同.pdf</li>") == 1
    assert "合同.pdf 已经附上。" in second.text


def test_uploading_a_file_the_case_already_has_says_so_and_adds_nothing(
    client: TestClient, settings: Settings
) -> None:
    register(client, A_ID, A_PASSWORD)
    number = file_case(client, files=[("合同.pdf", PDF_BYTES)])
    response = client.post(
        f"/cases/{number}/evidence",
        data={"csrf_token": csrf_of(client, f"/cases/{number}")},
        files=[
            ("evidence", ("合同-再次.pdf", PDF_BYTES, "application/pdf")),
            ("evidence", ("截图.png", PNG_BYTES, "image/png")),
        ],
        follow_redirects=False,
    )
    assert response.status_code == 303
    page = client.get(response.headers["location"]).text
    assert "合同-再次.pdf 与已附的 合同.pdf 内容相同" in page
    rows = run(client, Evidence.filter(case__number=number).order_by("id").values_list, "filename")
    assert rows == [("合同.pdf",), ("截图.png",)]
    # A forged notice is not shown.
    forged = client.get(f"/cases/{number}?repeated=W1siYSIsImIiXV0.forged").text
    assert "未重复添加" not in forged


def test_valid_filing_records_the_timeline(client: TestClient) -> None:
    register(client, A_ID, A_PASSWORD)
    number = file_case(client, files=[("合同.pdf", PDF_BYTES)])
    case = run(client, Case.get, number=number)
    assert case.status == "awaiting_consent"
    assert case.respondent_reply_due is not None

    events = run(client, TimelineEvent.filter(case__number=number).order_by("at", "id").all)
    assert [e.kind for e in events] == ["filed", "evidence_added", "status_changed"]
    filed, added, changed = events
    assert filed.data["number"] == number
    assert filed.data["claim_amount"] == "3680.00"
    assert added.data == {"filename": "合同.pdf", "sha256": hashlib.sha256(PDF_BYTES).hexdigest()}
    assert changed.data["status"] == ["submitted", "awaiting_consent"]
    assert changed.actor_label == "system"
    assert sorted(changed.data["channels"]) == ["email", "sms"]
    applicant_user = run(client, Party.get, case__number=number, side=Side.APPLICANT)
    assert filed.actor_id == applicant_user.user_id
    assert added.actor_id == applicant_user.user_id


def test_valid_filing_invites_the_respondent(client: TestClient) -> None:
    register(client, A_ID, A_PASSWORD)
    number = file_case(client)
    notices = run(client, Notice.filter(case__number=number).order_by("id").all)
    assert [(n.channel, n.recipient) for n in notices] == [
        (NoticeChannel.EMAIL, "service@travel.example.com"),
        (NoticeChannel.SMS, "13900001111"),
    ]
    links = [re.findall(r"http://testserver/invitations/[A-Za-z0-9_\-.]+", n.body) for n in notices]
    assert len(links[0]) == 2  # in the Chinese and the English paragraph
    assert len(set(links[0])) == 1
    assert links[1] == [links[0][0]]
    assert all(number in n.body for n in notices)
    assert all(n.status == "pending" for n in notices)

    client.cookies.clear()
    page = client.get(invitation_path(client, number))
    assert page.status_code == 200
    assert number in page.text
    assert FACTS in page.text


def test_respondent_reachable_only_by_email_gets_only_an_email(client: TestClient) -> None:
    register(client, A_ID, A_PASSWORD)
    number = file_case(client, respondent_mobile="")
    channels = run(client, Notice.filter(case__number=number).values_list, "channel", flat=True)
    assert channels == [NoticeChannel.EMAIL]


def test_filing_shows_on_the_applicants_list(client: TestClient) -> None:
    register(client, A_ID, A_PASSWORD)
    number = file_case(client)
    assert number in client.get("/cases").text


def test_staff_cannot_file(client: TestClient) -> None:
    create_staff(client, "admin", Role.PLATFORM_ADMIN)
    switch_to(client, "admin", STAFF_PASSWORD)
    before = row_counts(client)
    response = client.post(
        "/file", data={"csrf_token": csrf_of(client, "/cases"), **filing_fields()}
    )
    assert response.status_code == 403
    assert row_counts(client) == before


# --- Masking ---


def respondent_signs_up(client: TestClient, number: str) -> None:
    client.cookies.clear()
    path = invitation_path(client, number)
    response = client.post(
        f"{path}/consent",
        data={
            "csrf_token": csrf_of(client, path),
            "display_name": "上海某某国际旅行社有限公司",
            "identifier": R_ID,
            "password": R_PASSWORD,
            "consent_voluntary": "on",
            "consent_service_address": "on",
            "consent_false_mediation": "on",
        },
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text
    assert response.headers["location"] == f"/cases/{number}"


def party_block(page: str, heading: str) -> str:
    """The HTML of one party's block on the case page."""
    blocks = re.findall(r'<div class="party">(.*?)</div>', page, flags=re.S)
    matching = [b for b in blocks if f"<h3>{heading}" in b]
    assert len(matching) == 1, blocks
    return matching[0]


def test_identity_masking_by_viewer(client: TestClient) -> None:
    register(client, A_ID, A_PASSWORD)
    number = file_case(client)
    respondent_signs_up(client, number)

    masked_id = mask_resident_id(APPLICANT_ID)
    assert masked_id == APPLICANT_ID[:4] + "*" * 10 + APPLICANT_ID[-4:]

    # The respondent sees the applicant masked, themselves in full.
    page = client.get(f"/cases/{number}").text
    applicant = party_block(page, "申请人")
    assert f'<dd class="id-number">{masked_id}</dd>' in applicant
    assert '<dd class="mobile">138****5678</dd>' in applicant
    assert "z*******@example.com" in applicant
    assert "愚园路" not in page  # a person's address is not shown to the other side
    assert APPLICANT_ID not in page
    assert "13812345678" not in page
    assert "zhangsan@example.com" not in page
    respondent = party_block(page, "被申请人")
    assert f'<dd class="id-number">{uscc()}</dd>' in respondent
    assert '<dd class="mobile">13900001111</dd>' in respondent

    # The applicant sees their own details in full; the respondent's phone is masked.
    switch_to(client, A_ID, A_PASSWORD)
    page = client.get(f"/cases/{number}").text
    applicant = party_block(page, "申请人")
    assert f'<dd class="id-number">{APPLICANT_ID}</dd>' in applicant
    assert '<dd class="mobile">13812345678</dd>' in applicant
    assert "zhangsan@example.com" in applicant
    assert "愚园路100号" in applicant
    respondent = party_block(page, "被申请人")
    assert '<dd class="mobile">139****1111</dd>' in respondent
    assert f'<dd class="id-number">{uscc()}</dd>' in respondent  # a business's code is public

    # A platform admin sees both in full.
    create_staff(client, "admin", Role.PLATFORM_ADMIN)
    switch_to(client, "admin", STAFF_PASSWORD)
    page = client.get(f"/cases/{number}").text
    assert f'<dd class="id-number">{APPLICANT_ID}</dd>' in party_block(page, "申请人")
    assert '<dd class="mobile">13812345678</dd>' in party_block(page, "申请人")
    assert '<dd class="mobile">13900001111</dd>' in party_block(page, "被申请人")
    assert "zhangsan@example.com" in page
    assert "service@travel.example.com" in page


def test_natural_person_respondent_is_masked_for_the_applicant(client: TestClient) -> None:
    register(client, A_ID, A_PASSWORD)
    respondent_id = resident_id("11010519491231002")
    number = file_case(
        client,
        respondent_kind="natural_person",
        respondent_name="李四",
        respondent_id_number=respondent_id,
    )
    page = client.get(f"/cases/{number}").text
    respondent = party_block(page, "被申请人")
    assert f'<dd class="id-number">{mask_resident_id(respondent_id)}</dd>' in respondent
    assert respondent_id not in page
    assert "延安西路" not in page
