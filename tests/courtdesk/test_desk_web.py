"""The clerks' pages over real HTTP: sign-in, the inbox, a filing, decisions and evidence."""

from __future__ import annotations

import hashlib
import re
import threading
import uuid
from collections.abc import Iterator

import httpx
import pytest

from courtdesk.evidence import EvidenceError, platform_link
from courtdesk.i18n import translations
from courtdesk.messages import ERROR_MESSAGES
from courtdesk.models import Filing, FilingStatus, OutboxMessage
from tests.courtdesk.support import (
    CLERK,
    EVIDENCE_BYTES,
    OTHER_CLERK,
    Desk,
    PlatformStub,
    cloudevent,
    csrf_of,
    make_clerk,
    package,
    post_filing,
    run_desk,
    send,
    signed_in_client,
    with_desk_orm,
)

zh = translations("zh_CN").gettext


def status_of(desk: Desk, filing_id: str) -> str:
    async def work() -> str:
        return str((await Filing.get(filing_id=filing_id)).status)

    return with_desk_orm(desk.database_url, work)


def error_on(page: str, element_id: str) -> str:
    found = re.search(rf'id="{element_id}">([^<]*)<', page)
    assert found, page
    return found.group(1)


def test_every_page_needs_a_signed_in_clerk(desk: Desk) -> None:
    with desk.client() as client:
        filing_id, _ = send(client)
        for path in [
            "/",
            "/inbox",
            "/inbox?status=all",
            f"/filings/{filing_id}",
            f"/filings/{filing_id}/evidence/0",
            f"/filings/{filing_id}/agreement.pdf",
            f"/filings/{uuid.uuid4()}",
        ]:
            response = client.get(path)
            assert response.status_code == 303, path
            assert response.headers["location"].startswith("/signin"), path
        # Writes too, even with a CSRF token from the sign-in page's session.
        token = csrf_of(client.get("/signin").text)
        for action in ["accept", "docket", "return"]:
            response = client.post(
                f"/filings/{filing_id}/{action}",
                data={"csrf_token": token, "type_code": "民初", "reason": "x"},
            )
            assert response.status_code == 303
            assert response.headers["location"].startswith("/signin")
        bulk = client.post("/inbox/accept", data={"csrf_token": token, "filing": filing_id})
        assert bulk.status_code == 303 and bulk.headers["location"].startswith("/signin")
        page = client.get(f"/filings/{filing_id}").headers["location"]
    assert page == f"/signin?next=/filings/{filing_id}"
    assert status_of(desk, filing_id) == "received"


def test_signing_in_with_a_wrong_password_shows_a_translated_error(desk: Desk) -> None:
    with desk.client() as client:
        token = csrf_of(client.get("/signin").text)
        wrong = client.post(
            "/signin",
            data={"csrf_token": token, "username": CLERK[0], "password": "not-it", "next": "/"},
        )
        assert wrong.status_code == 400
        assert error_on(wrong.text, "signin-error") == zh(ERROR_MESSAGES["sign_in_failed"])
        assert zh(ERROR_MESSAGES["sign_in_failed"]) == "用户名或密码错误。"
        nobody = client.post(
            "/signin",
            data={"csrf_token": token, "username": "nobody", "password": "x", "next": "/"},
        )
        assert error_on(nobody.text, "signin-error") == "用户名或密码错误。"
        assert client.get("/inbox").status_code == 303
        # In English when the clerk chose English.
        client.cookies.set("desk_lang", "en")
        english = client.post(
            "/signin",
            data={"csrf_token": token, "username": CLERK[0], "password": "not-it", "next": "/"},
        )
        assert error_on(english.text, "signin-error") == "Wrong user name or password."


def test_a_form_without_its_csrf_token_changes_nothing(desk: Desk) -> None:
    with signed_in_client(desk) as clerk:
        filing_id, _ = send(clerk)
        response = clerk.post(f"/filings/{filing_id}/docket", data={"type_code": "民初"})
        assert response.status_code == 403
        assert zh(ERROR_MESSAGES["csrf_failed"]) in response.text
        forged = clerk.post(
            f"/filings/{filing_id}/docket", data={"csrf_token": "guess", "type_code": "民初"}
        )
        assert forged.status_code == 403
    assert status_of(desk, filing_id) == "received"


def test_sign_in_locks_after_repeated_failures(desk: Desk) -> None:
    with desk.client() as client:
        token = csrf_of(client.get("/signin").text)
        form = {"csrf_token": token, "username": CLERK[0], "next": "/"}
        for _ in range(5):
            assert client.post("/signin", data={**form, "password": "wrong"}).status_code == 400
        locked = client.post("/signin", data={**form, "password": CLERK[2]})
    assert locked.status_code == 429
    assert error_on(locked.text, "signin-error") == zh(ERROR_MESSAGES["sign_in_locked"])


def test_signing_out_ends_the_session(desk: Desk) -> None:
    with signed_in_client(desk) as clerk:
        copied = dict(clerk.cookies)
        token = csrf_of(clerk.get("/inbox").text)
        assert clerk.post("/signout", data={"csrf_token": token}).status_code == 303
        assert clerk.get("/inbox").status_code == 303
    # A copy of the old cookie no longer works either.
    with desk.client(cookies=copied) as thief:
        assert thief.get("/inbox").status_code == 303


def test_the_inbox_filters_by_kind_and_status_and_accepts_in_bulk(desk: Desk) -> None:
    with signed_in_client(desk) as clerk:
        transfers = [send(clerk, "transfer") for _ in range(3)]
        confirmation, confirmation_data = send(clerk, "confirmation")
        inbox = clerk.get("/inbox")
        assert inbox.status_code == 200
        listed = set(re.findall(r'name="filing" value="([0-9a-f-]{36})"', inbox.text))
        assert listed == {fid for fid, _ in transfers} | {confirmation}
        only = clerk.get("/inbox", params={"kind": "confirmation"})
        assert set(re.findall(r'name="filing" value="([0-9a-f-]{36})"', only.text)) == {
            confirmation
        }
        search = clerk.get("/inbox", params={"q": confirmation_data["case_number"]})
        assert set(re.findall(r'name="filing" value="([0-9a-f-]{36})"', search.text)) == {
            confirmation
        }

        token = csrf_of(inbox.text)
        picked = [transfers[0][0], transfers[1][0], confirmation]
        bulk = clerk.post(
            "/inbox/accept",
            data={"csrf_token": token, "filing": picked, "back": "/inbox?kind=all&status=open"},
        )
        assert bulk.status_code == 303
        assert bulk.headers["location"] == "/inbox?kind=all&status=open"
        after = clerk.get(bulk.headers["location"])
        assert "已接收 3 件。" in after.text
        accepted = clerk.get("/inbox", params={"status": "accepted"})
        assert set(re.findall(r"/filings/([0-9a-f-]{36})", accepted.text)) == set(picked)
        received = clerk.get("/inbox", params={"status": "received"})
        assert set(re.findall(r"/filings/([0-9a-f-]{36})", received.text)) == {transfers[2][0]}
        none = clerk.post("/inbox/accept", data={"csrf_token": token, "back": "/inbox"})
        assert zh(ERROR_MESSAGES["nothing_selected"]) in clerk.get(none.headers["location"]).text
    for filing_id in picked:
        assert status_of(desk, filing_id) == "accepted"


def test_the_filing_page_shows_the_package_and_its_history(desk: Desk) -> None:
    with signed_in_client(desk) as clerk:
        filing_id, data = send(clerk, "transfer")
        page = clerk.get(f"/filings/{filing_id}")
        assert page.status_code == 200
        for shown in [
            data["case_number"],
            "张三",
            "310105199001011234",  # clerks see identity numbers in full
            "上海市长宁区延安西路1号",
            data["facts"],
            data["failure"]["reasons_for_failure"],
            "旅游合同.pdf",
            data["evidence"][0]["sha256"],
            "调解不成记录",
        ]:
            assert shown in page.text, shown
        token = csrf_of(page.text)
        clerk.post(f"/filings/{filing_id}/accept", data={"csrf_token": token})
        docketed = clerk.post(
            f"/filings/{filing_id}/docket", data={"csrf_token": token, "type_code": "民初"}
        )
        assert docketed.status_code == 303
        after = clerk.get(docketed.headers["location"])
    assert "已立案，案号 (2026)沪0105民初1号。" in after.text
    assert error_on(after.text, "court-case-number") == "(2026)沪0105民初1号"
    history = after.text[after.text.index('id="history"') :]
    assert history.index("已接收") < history.index("已立案")
    assert "王芳" in history
    assert "正在通知调解平台" in history  # no platform listens in this test
    # The case page in English.
    with signed_in_client(desk) as clerk:
        clerk.cookies.set("desk_lang", "en")
        english = clerk.get(f"/filings/{filing_id}")
    assert "Record of failed mediation" in english.text
    assert "Docketed" in english.text


def test_return_for_correction_needs_a_reason_on_the_page(desk: Desk) -> None:
    with signed_in_client(desk) as clerk:
        filing_id, _ = send(clerk)
        token = csrf_of(clerk.get(f"/filings/{filing_id}").text)
        blank = clerk.post(
            f"/filings/{filing_id}/return", data={"csrf_token": token, "reason": " "}
        )
        assert blank.status_code == 400
        assert error_on(blank.text, "decision-error") == "请填写理由。"
        returned = clerk.post(
            f"/filings/{filing_id}/return",
            data={"csrf_token": token, "reason": "请补充被申请人的统一社会信用代码"},
        )
        assert returned.status_code == 303
        page = clerk.get(f"/filings/{filing_id}").text
    assert "请补充被申请人的统一社会信用代码" in page
    assert status_of(desk, filing_id) == "returned"


def test_confirmation_decisions_on_the_page(desk: Desk) -> None:
    with signed_in_client(desk) as clerk:
        transfer, _ = send(clerk, "transfer")
        confirmation, _ = send(clerk, "confirmation")
        page = clerk.get(f"/filings/{confirmation}").text
        token = csrf_of(page)
        assert "/confirm" not in page  # offered only once docketed
        # The platform's pre-check, in the desk's words.
        assert "上海某某旅行社有限公司没有登记送达地址。" in page
        assert "诉讼材料（民诉法解释第三百五十四条）" in page
        early = clerk.post(f"/filings/{confirmation}/confirm", data={"csrf_token": token})
        assert early.status_code == 409
        assert error_on(early.text, "decision-error") == "请先立案，再对申请作出决定。"
        assert 'value="诉前调确" selected' in page  # the default type for a confirmation
        clerk.post(
            f"/filings/{confirmation}/docket", data={"csrf_token": token, "type_code": "诉前调确"}
        )
        clerk.post(f"/filings/{transfer}/docket", data={"csrf_token": token, "type_code": "民初"})
        wrong_kind = clerk.post(f"/filings/{transfer}/confirm", data={"csrf_token": token})
        assert wrong_kind.status_code == 400
        confirmed = clerk.post(f"/filings/{confirmation}/confirm", data={"csrf_token": token})
        assert confirmed.status_code == 303
    assert status_of(desk, confirmation) == "confirmed"
    assert status_of(desk, transfer) == "docketed"


def test_concurrent_docketing_gives_one_number_and_refuses_the_other(
    desk_database_url: str,
) -> None:
    """Two clerks docket the same filing at once, over HTTP to the desk's own process.
    Proves the filing row's lock on PostgreSQL only: the desk is started with a pause of
    one second inside the decision, after the lock and the check (`desk_decision`), so
    without the lock both clerks pass the check and the second is refused by the
    conditional update with "changed meanwhile" instead of being told the case number,
    every time. On SQLite the desk runs one transaction at a time: it checks the answers."""
    make_clerk(desk_database_url)
    make_clerk(desk_database_url, OTHER_CLERK)
    with run_desk(desk_database_url, PAUSE_POINTS="desk_decision=1.0") as desk:
        with desk.client() as plain:
            filing_ids = [send(plain)[0] for _ in range(3)]
        with (
            signed_in_client(desk, CLERK) as first,
            signed_in_client(desk, OTHER_CLERK) as second,
        ):
            clerks = [first, second]
            tokens = [csrf_of(c.get("/inbox").text) for c in clerks]
            for filing_id in filing_ids:
                start = threading.Barrier(2)
                answers: list[httpx.Response] = []
                lock = threading.Lock()

                def docket(
                    n: int,
                    filing_id: str = filing_id,
                    start: threading.Barrier = start,
                    answers: list[httpx.Response] = answers,
                    lock: threading.Lock = lock,
                ) -> None:
                    start.wait()
                    response = clerks[n].post(
                        f"/filings/{filing_id}/docket",
                        data={"csrf_token": tokens[n], "type_code": "民初"},
                    )
                    with lock:
                        answers.append(response)

                threads = [threading.Thread(target=docket, args=(n,)) for n in (0, 1)]
                for thread in threads:
                    thread.start()
                for thread in threads:
                    thread.join()
                codes = sorted(a.status_code for a in answers)
                assert codes == [303, 409], [a.text[:200] for a in answers]
                refused = next(a for a in answers if a.status_code == 409)
                number = error_on(clerks[0].get(f"/filings/{filing_id}").text, "court-case-number")
                assert error_on(refused.text, "decision-error") == (
                    f"该案件已立案，案号为 {number}。"
                )

        async def numbers() -> list[str | None]:
            rows = await Filing.filter(filing_id__in=filing_ids).order_by("docket_serial")
            assert await OutboxMessage.all().count() == 3  # one callback per docketing
            return [row.court_case_number for row in rows]

        assert with_desk_orm(desk_database_url, numbers) == [
            "(2026)沪0105民初1号",
            "(2026)沪0105民初2号",
            "(2026)沪0105民初3号",
        ]


@pytest.fixture
def platform() -> Iterator[PlatformStub]:
    with PlatformStub() as stub:
        yield stub


def test_evidence_is_served_only_when_it_matches_its_digest(
    desk_database_url: str, platform: PlatformStub
) -> None:
    make_clerk(desk_database_url)
    platform.files["/court/evidence/good"] = EVIDENCE_BYTES
    platform.files["/court/evidence/changed"] = EVIDENCE_BYTES.replace(b"tour", b"TOUR")
    platform.files["/court/evidence/longer"] = EVIDENCE_BYTES + b"tail"
    digest = hashlib.sha256(EVIDENCE_BYTES).hexdigest()
    item = {
        "filename": "旅游合同.pdf",
        "sha256": digest,
        "media_type": "application/pdf",
        "size": len(EVIDENCE_BYTES),
        "side": "applicant",
    }
    evidence = [
        {**item, "url": f"{platform.url}/court/evidence/{name}"}
        for name in ["good", "changed", "longer", "missing"]
    ]
    with (
        run_desk(desk_database_url, platform_url=platform.url) as desk,
        signed_in_client(desk) as clerk,
    ):
        filing_id, _ = send(clerk, evidence=evidence)
        good = clerk.get(f"/filings/{filing_id}/evidence/0")
        changed = clerk.get(f"/filings/{filing_id}/evidence/1")
        longer = clerk.get(f"/filings/{filing_id}/evidence/2")
        missing = clerk.get(f"/filings/{filing_id}/evidence/3")
        beyond = clerk.get(f"/filings/{filing_id}/evidence/4")
    assert good.status_code == 200
    assert good.content == EVIDENCE_BYTES
    assert good.headers["content-type"] == "application/pdf"
    assert "sandbox" in good.headers["content-security-policy"]
    assert changed.status_code == 502
    assert EVIDENCE_BYTES.replace(b"tour", b"TOUR") not in changed.content
    assert error_on(changed.text, "evidence-error") == zh(ERROR_MESSAGES["digest_mismatch"])
    assert hashlib.sha256(EVIDENCE_BYTES.replace(b"tour", b"TOUR")).hexdigest() in changed.text
    assert longer.status_code == 502
    assert error_on(longer.text, "evidence-error") == zh(ERROR_MESSAGES["too_large"])
    assert missing.status_code == 502
    assert error_on(missing.text, "evidence-error") == "调解平台未提供该文件（HTTP 404）。"
    assert beyond.status_code == 404


def test_evidence_is_fetched_only_from_the_configured_platform(
    desk_database_url: str, platform: PlatformStub
) -> None:
    """Whatever host a package names, the desk asks its own PLATFORM_URL for the token, or
    nothing at all: a filing queued while the platform had another address still opens
    (issue 9, finding 10), and a package cannot send the desk to another server (finding 6)."""
    make_clerk(desk_database_url)
    platform.files["/court/evidence/good"] = EVIDENCE_BYTES
    platform.gone.add("/court/evidence/revoked")
    digest = hashlib.sha256(EVIDENCE_BYTES).hexdigest()
    item = {
        "filename": "旅游合同.pdf",
        "sha256": digest,
        "media_type": "application/pdf",
        "size": len(EVIDENCE_BYTES),
        "side": "applicant",
    }
    with PlatformStub() as elsewhere:
        elsewhere.files["/court/evidence/good"] = EVIDENCE_BYTES
        elsewhere.files["/steal"] = EVIDENCE_BYTES
        links = [
            "/court/evidence/good",  # as the platform sends links now: a path
            f"{elsewhere.url}/court/evidence/good",  # queued under an old BASE_URL
            f"{elsewhere.url}/steal",  # not the platform's evidence path
            "/court/evidence/revoked",  # expired or revoked on the platform
        ]
        with (
            run_desk(desk_database_url, platform_url=platform.url) as desk,
            signed_in_client(desk) as clerk,
        ):
            filing_id, _ = send(clerk, evidence=[{**item, "url": url} for url in links])
            answers = [clerk.get(f"/filings/{filing_id}/evidence/{i}") for i in range(len(links))]
        assert elsewhere.gets == []  # the other host was never asked
    assert [a.status_code for a in answers] == [200, 200, 502, 502]
    assert answers[0].content == answers[1].content == EVIDENCE_BYTES
    assert EVIDENCE_BYTES not in answers[2].content
    assert error_on(answers[2].text, "evidence-error") == zh(ERROR_MESSAGES["not_on_platform"])
    assert error_on(answers[3].text, "evidence-error") == zh(ERROR_MESSAGES["link_gone"])
    assert platform.gets == ["/court/evidence/good"] * 2 + ["/court/evidence/revoked"]


def test_an_image_bomb_is_not_shown_inline(desk_database_url: str, platform: PlatformStub) -> None:
    from tests.cases.test_evidence_files import png

    make_clerk(desk_database_url)
    bomb, photo = png(100_000, 100_000), png(1920, 1080)
    platform.files["/court/evidence/bomb"] = bomb
    platform.files["/court/evidence/photo"] = photo
    evidence = [
        {
            "filename": f"{name}.png",
            "sha256": hashlib.sha256(content).hexdigest(),
            "media_type": "image/png",
            "size": len(content),
            "side": "applicant",
            "url": f"/court/evidence/{name}",
        }
        for name, content in (("bomb", bomb), ("photo", photo))
    ]
    with (
        run_desk(desk_database_url, platform_url=platform.url) as desk,
        signed_in_client(desk) as clerk,
    ):
        filing_id, _ = send(clerk, evidence=evidence)
        shown_bomb = clerk.get(f"/filings/{filing_id}/evidence/0")
        shown_photo = clerk.get(f"/filings/{filing_id}/evidence/1")
    assert shown_bomb.status_code == 200 and shown_bomb.content == bomb
    assert shown_bomb.headers["content-type"] == "application/octet-stream"
    assert shown_bomb.headers["content-disposition"].startswith("attachment;")
    assert shown_photo.headers["content-type"] == "image/png"
    assert shown_photo.headers["content-disposition"].startswith("inline;")


@pytest.mark.parametrize(
    ("link", "fetched"),
    [
        ("/court/evidence/abc.DEF-_1", "https://platform.example/base/court/evidence/abc.DEF-_1"),
        (
            "http://127.0.0.1:8000/court/evidence/t.k",
            "https://platform.example/base/court/evidence/t.k",
        ),
        (
            "https://old.example/prefix/court/evidence/t",
            "https://platform.example/base/court/evidence/t",
        ),
        ("https://evil.example/steal", None),
        ("//evil.example/court/evidence/t", None),
        ("/prefix/court/evidence/t", None),
        ("/court/evidence/t?x=1", None),
        ("/court/evidence/t#x", None),
        ("/court/evidence/a/b", None),
        ("/court/evidence/", None),
        ("ftp://platform.example/court/evidence/t", None),
        ("file:///etc/court/evidence/t", None),
        ("/court/evidence/%2e%2e", None),
    ],
)
def test_which_links_the_desk_fetches_and_where(link: str, fetched: str | None) -> None:
    platform_url = "https://platform.example/base/"
    if fetched is None:
        with pytest.raises(EvidenceError) as refused:
            platform_link(link, platform_url)
        assert refused.value.code == "not_on_platform"
    else:
        assert platform_link(link, platform_url) == fetched


def test_an_unknown_filing_is_not_found(desk: Desk) -> None:
    with signed_in_client(desk) as clerk:
        response = clerk.get(f"/filings/{uuid.uuid4()}")
        token = csrf_of(clerk.get("/inbox").text)
        post = clerk.post(f"/filings/{uuid.uuid4()}/accept", data={"csrf_token": token})
    assert response.status_code == 404
    assert zh(ERROR_MESSAGES["filing_not_found"]) in response.text
    assert post.status_code == 404


def test_filing_statuses_after_the_flows(desk: Desk) -> None:
    # A filing returned by one clerk cannot be docketed by another afterwards.
    with signed_in_client(desk) as clerk:
        filing_id, _ = send(clerk)
        token = csrf_of(clerk.get("/inbox").text)
        clerk.post(f"/filings/{filing_id}/return", data={"csrf_token": token, "reason": "缺材料"})
        late = clerk.post(
            f"/filings/{filing_id}/docket", data={"csrf_token": token, "type_code": "民初"}
        )
    assert late.status_code == 409
    assert error_on(late.text, "decision-error") == zh(ERROR_MESSAGES["already_decided"])
    assert status_of(desk, filing_id) == FilingStatus.RETURNED.value


def test_the_signed_agreement_pdf_is_checked_like_evidence(
    desk_database_url: str, platform: PlatformStub
) -> None:
    make_clerk(desk_database_url)
    pdf = b"%PDF-1.7\n% the signed agreement\n%%EOF\n"
    platform.files["/court/evidence/agreement"] = pdf
    platform.files["/court/evidence/forged"] = pdf.replace(b"signed", b"forged")
    with (
        run_desk(desk_database_url, platform_url=platform.url) as desk,
        signed_in_client(desk) as clerk,
    ):
        answers = []
        for name in ["agreement", "forged"]:
            data = package("confirmation")
            data["agreement"] = {
                **data["agreement"],
                "pdf_url": f"{platform.url}/court/evidence/{name}",
                "pdf_sha256": hashlib.sha256(pdf).hexdigest(),
            }
            filing_id, body = cloudevent(data)
            assert post_filing(clerk, filing_id, body).status_code == 201
            page = clerk.get(f"/filings/{filing_id}").text
            assert f"/filings/{filing_id}/agreement.pdf" in page
            assert "与上方协议文本一致" in page  # the stated hash is the text's
            answers.append(clerk.get(f"/filings/{filing_id}/agreement.pdf"))
        transfer, _ = send(clerk)
        no_pdf = clerk.get(f"/filings/{transfer}/agreement.pdf")
    good, forged = answers
    assert (good.status_code, good.content) == (200, pdf)
    assert good.headers["content-type"] == "application/pdf"
    assert forged.status_code == 502
    assert b"forged" not in forged.content
    assert no_pdf.status_code == 404


def test_a_confirmation_shows_the_agreed_amount_and_the_history_in_words(desk: Desk) -> None:
    # Issue 11: the inbox showed a confirmation's claimed amount (what the applicant asked
    # for), not what the parties agreed; the history showed "from: submitted · to: …"; and
    # the wire format ("JSON（CloudEvents）") was shown to clerks who never choose it.
    text = (
        "经调解，双方当事人自愿达成如下协议：\n"
        "1. 被申请人退还团费\n"
        "   （履行义务人：被申请人；金额：人民币3,200.00元（大写：叁仟贰佰元整）；"
        "履行方式：银行转账；履行期限：2027年1月4日前）\n"
    )
    agreement = {
        "text": text,
        "sha256": hashlib.sha256(text.encode()).hexdigest(),
        "signed_at": "2026-11-20T15:00:00+08:00",
        "pdf_url": None,
        "pdf_sha256": None,
    }
    with signed_in_client(desk) as clerk:
        filing_id, data = send(clerk, "confirmation", agreement=agreement)
        row = clerk.get("/inbox").text
        row = row[row.index(data["case_number"]) :]
        row = row[: row.index("</tr>")]
        assert "人民币3,200.00元" in row and "3680" not in row
        page = clerk.get(f"/filings/{filing_id}").text
        assert "人民币3,200.00元" in page and "人民币3,680.00元" in page
        assert "CloudEvents" not in page and "CloudEvents" not in clerk.get("/inbox").text
        assert "from:" not in page and "in_mediation" not in page
        assert "调解不成" in page
        assert "2026年11月20日 16:00" in page  # the timeline in Beijing time, as records say
        # A confirmation is docketed as 诉前调确 by default, never 民初.
        assert re.search(r'<option value="诉前调确"\s+selected', page)
        assert not re.search(r'<option value="民初"\s+selected', page)
