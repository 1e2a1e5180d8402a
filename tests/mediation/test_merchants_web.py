"""Merchants answer first, through the pages: enrolment and its confirmation, the merchant's
inbox and dispute page, a proposal accepted on the case page, the settlement record, and who
may see what (a merchant sees only its own disputes)."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from cases.accounts.models import Role
from mediation.settings import Settings
from tests.support.factories import (
    PDF_BYTES,
    STAFF_PASSWORD,
    cheap_password_hashing,
    create_staff,
    csrf_of,
    file_case,
    register,
    switch_to,
    uscc,
)

MERCHANT_USCC = uscc("91310105MA1FL7777")
OTHER_USCC = uscc("91310105MA1FL8888")


@pytest.fixture(autouse=True)
def _fast_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    cheap_password_hashing(monkeypatch)


def enrol(client: TestClient, code: str, username: str, name: str) -> None:
    client.cookies.clear()
    token = csrf_of(client, "/merchant/enrol")
    page = client.post(
        "/merchant/enrol",
        data={
            "csrf_token": token,
            "uscc": code,
            "name": name,
            "answer_days": "10",
            "display_name": "客服小王",
            "username": username,
            "password": STAFF_PASSWORD,
            "email": f"{username}@merchant.example.com",
        },
    )
    assert page.status_code == 200, page.text[:2000]
    assert "platform administrator will check it" in page.text or "平台管理员" in page.text


def confirm_all(client: TestClient) -> None:
    switch_to(client, "admin", STAFF_PASSWORD)
    page = client.get("/admin/merchants")
    assert page.status_code == 200
    for merchant_id in re.findall(r'action="/admin/merchants/(\d+)/enrolled"', page.text):
        response = client.post(
            f"/admin/merchants/{merchant_id}/enrolled",
            data={"csrf_token": csrf_of(client, "/admin/merchants")},
            follow_redirects=False,
        )
        assert response.status_code == 303


@pytest.fixture
def filed(client: TestClient) -> str:
    create_staff(client, "admin", Role.PLATFORM_ADMIN)
    enrol(client, MERCHANT_USCC, "shop", "上海某某国际旅行社有限公司")
    enrol(client, OTHER_USCC, "othershop", "上海另一家旅行社有限公司")
    confirm_all(client)
    client.cookies.clear()
    register(client)
    return file_case(client, files=[("合同.pdf", PDF_BYTES)], respondent_id_number=MERCHANT_USCC)


def pdf_text(content: bytes, folder: Path) -> str:
    path = folder / "record.pdf"
    path.write_bytes(content)
    out = subprocess.run(["pdftotext", "-enc", "UTF-8", str(path), "-"], capture_output=True)
    assert out.returncode == 0, out.stderr
    return out.stdout.decode("utf-8")


def test_the_merchant_proposes_and_the_consumer_accepts(
    client: TestClient, filed: str, tmp_path: Path
) -> None:
    case_page = client.get(f"/cases/{filed}?filed=1")
    assert "first-response enterprise" in case_page.text or "先行协商" in case_page.text
    switch_to(client, "shop", STAFF_PASSWORD)
    inbox = client.get("/merchant")
    assert inbox.status_code == 200
    assert filed in inbox.text
    page = client.get(f"/merchant/cases/{filed}")
    assert page.status_code == 200
    assert "旅行社单方取消行程" in page.text  # the consumer's claim
    evidence = re.search(rf'href="(/merchant/cases/{filed}/evidence/\d+)"', page.text)
    assert evidence
    assert client.get(evidence.group(1)).content == PDF_BYTES

    bad = client.post(
        f"/merchant/cases/{filed}/propose",
        data={
            "csrf_token": csrf_of(client, f"/merchant/cases/{filed}"),
            "kind": "refund",
            "propose_amount": "",
            "propose_perform_by": "2020-01-01",
        },
    )
    assert bad.status_code == 422
    assert 'aria-invalid="true"' in bad.text

    sent = client.post(
        f"/merchant/cases/{filed}/propose",
        data={
            "csrf_token": csrf_of(client, f"/merchant/cases/{filed}"),
            "kind": "refund",
            "propose_amount": "3680",
            "propose_conditions": "原路退回支付账户",
            "propose_perform_by": _in_days(5),
        },
        follow_redirects=False,
    )
    assert sent.status_code == 303

    switch_to(client, "13812345678", "correct horse 1")
    page = client.get(f"/cases/{filed}")
    assert "3,680.00" in page.text and "原路退回支付账户" in page.text
    accept = re.search(rf'action="(/cases/{filed}/negotiation/accept/\d+)"', page.text)
    assert accept
    done = client.post(
        accept.group(1),
        data={"csrf_token": csrf_of(client, f"/cases/{filed}")},
        follow_redirects=False,
    )
    assert done.status_code == 303
    page = client.get(f"/cases/{filed}")
    assert 'id="settlement"' in page.text and 'id="remedy-performance"' in page.text
    record = client.get(f"/cases/{filed}/settlement")
    assert record.status_code == 200
    assert "上海某某国际旅行社有限公司" in record.text and "3,680.00" in record.text
    download = client.get(f"/cases/{filed}/settlement?download=1")
    assert "attachment" in download.headers["content-disposition"]
    pdf = client.get(f"/cases/{filed}/settlement?download=pdf")
    assert pdf.headers["content-type"] == "application/pdf"
    assert f'settlement-{filed}.pdf"' in pdf.headers["content-disposition"]
    said = pdf_text(pdf.content, tmp_path)
    for words in ("和解记录", "上海某某国际旅行社有限公司", "人民币3,680.00元", "原路退回支付账户"):
        assert words in said, words
    assert not re.search(r"\d{4}-\d{2}-\d{2}", said)  # dates as records write them

    # The merchant marks the remedy performed; the consumer confirms.
    switch_to(client, "shop", STAFF_PASSWORD)
    assert client.get(f"/cases/{filed}/settlement").status_code == 200
    marked = client.post(
        f"/merchant/cases/{filed}/performed",
        data={"csrf_token": csrf_of(client, f"/merchant/cases/{filed}"), "note": "已退款"},
        follow_redirects=False,
    )
    assert marked.status_code == 303
    switch_to(client, "13812345678", "correct horse 1")
    confirmed = client.post(
        f"/cases/{filed}/negotiation/confirm",
        data={"csrf_token": csrf_of(client, f"/cases/{filed}")},
        follow_redirects=False,
    )
    assert confirmed.status_code == 303


def test_a_merchant_sees_only_its_own_disputes(client: TestClient, filed: str) -> None:
    switch_to(client, "othershop", STAFF_PASSWORD)
    assert filed not in client.get("/merchant").text
    for path in (
        f"/merchant/cases/{filed}",
        f"/merchant/cases/{filed}/evidence/1",
        f"/cases/{filed}/settlement",
        f"/cases/{filed}",
    ):
        assert client.get(path).status_code == 404, path
    token = csrf_of(client, "/merchant")
    refused = client.post(
        f"/merchant/cases/{filed}/decline",
        data={"csrf_token": token, "decline_reason": "不是我们的订单"},
    )
    assert refused.status_code == 404
    assert client.get("/admin/merchants").status_code == 403

    # The consumer cannot act as the merchant, and another disputant sees nothing.
    switch_to(client, "13812345678", "correct horse 1")
    assert client.get("/merchant").status_code == 403
    assert client.get(f"/merchant/cases/{filed}").status_code == 403
    client.cookies.clear()
    register(client, identifier="13812340000", name="李四")
    assert client.get(f"/cases/{filed}/settlement").status_code == 404
    assert client.get(f"/cases/{filed}").status_code == 404

    # The merchant that is the respondent does.
    switch_to(client, "shop", STAFF_PASSWORD)
    assert client.get(f"/merchant/cases/{filed}").status_code == 200


def test_staff_see_each_merchants_figures(client: TestClient, filed: str) -> None:
    switch_to(client, "admin", STAFF_PASSWORD)
    page = client.get("/admin/merchants")
    assert "上海某某国际旅行社有限公司" in page.text
    assert MERCHANT_USCC in page.text
    switch_to(client, "shop", STAFF_PASSWORD)
    assert 'id="figures"' in client.get("/merchant").text


def _in_days(days: int) -> str:
    from datetime import timedelta

    from cases.clock import local_date, utcnow

    return (local_date(utcnow()) + timedelta(days=days)).isoformat()


def test_a_handler_adds_another_handler(client: TestClient, filed: str) -> None:
    switch_to(client, "shop", STAFF_PASSWORD)
    token = csrf_of(client, "/merchant")
    bad = client.post(
        "/merchant/handlers",
        data={"csrf_token": token, "handler_display_name": "客服二号", "handler_username": "shop"},
    )
    assert bad.status_code == 422 and 'aria-invalid="true"' in bad.text
    added = client.post(
        "/merchant/handlers",
        data={
            "csrf_token": token,
            "handler_display_name": "客服二号",
            "handler_username": "shop2",
            "handler_password": STAFF_PASSWORD,
        },
        follow_redirects=False,
    )
    assert added.status_code == 303
    switch_to(client, "shop2", STAFF_PASSWORD)
    assert filed in client.get("/merchant").text
    assert client.get(f"/merchant/cases/{filed}").status_code == 200


def test_the_mediator_sees_the_negotiation_after_a_refusal(client: TestClient, filed: str) -> None:
    from cases.clock import utcnow
    from cases.routing.assignment import do_appoint
    from tests.support.factories import new_mediator, new_organisation, run

    org = run(client, new_organisation, "TQO", track="administrative", categories=("tour_refund",))
    run(client, new_mediator, "wang", org.id, specialties=["tour_refund"])
    switch_to(client, "shop", STAFF_PASSWORD)
    client.post(
        f"/merchant/cases/{filed}/ask",
        data={
            "csrf_token": csrf_of(client, f"/merchant/cases/{filed}"),
            "ask_text": "请提供付款截图和订单号",
        },
    )
    client.post(
        f"/merchant/cases/{filed}/propose",
        data={
            "csrf_token": csrf_of(client, f"/merchant/cases/{filed}"),
            "kind": "compensation",
            "propose_amount": "200",
            "propose_perform_by": _in_days(3),
        },
    )
    switch_to(client, "13812345678", "correct horse 1")
    page = client.get(f"/cases/{filed}")
    reply = re.search(rf'action="(/cases/{filed}/negotiation/reply/\d+)"', page.text)
    assert reply
    client.post(
        reply.group(1), data={"csrf_token": csrf_of(client, f"/cases/{filed}"), "text": "订单号 T1"}
    )
    refuse = re.search(rf'action="(/cases/{filed}/negotiation/refuse/\d+)"', page.text)
    assert refuse
    gone = client.post(
        refuse.group(1),
        data={"csrf_token": csrf_of(client, f"/cases/{filed}"), "reason": "金额太低"},
        follow_redirects=False,
    )
    assert gone.status_code == 303
    case_id = run(client, _case_id, filed)
    run(client, do_appoint, case_id, utcnow())
    switch_to(client, "wang", STAFF_PASSWORD)
    page = client.get(f"/cases/{filed}")
    assert page.status_code == 200
    thread = page.text[page.text.index('id="negotiation"') :]
    for said in ("请提供付款截图和订单号", "订单号 T1", "人民币200.00元", "金额太低"):
        assert said in thread
    assert 'action="/cases/' + filed + "/negotiation/accept" not in page.text  # read only


async def _case_id(number: str) -> int:
    from cases.models import Case

    return (await Case.get(number=number)).id


def test_the_platform_settings_bound_the_answer_time(settings: Settings) -> None:
    import dataclasses

    from mediation.app import create_app

    narrow = dataclasses.replace(settings, merchant_answer_days_max=12)
    with TestClient(create_app(narrow, background_jobs=False)) as client:
        create_staff(client, "admin", Role.PLATFORM_ADMIN)
        enrol(client, MERCHANT_USCC, "shop", "上海某某国际旅行社有限公司")
        switch_to(client, "shop", STAFF_PASSWORD)
        page = client.get("/merchant")
        assert "3 至 12 个工作日" in page.text or "From 3 to 12" in page.text
        token = csrf_of(client, "/merchant")
        refused = client.post("/merchant/settings", data={"csrf_token": token, "answer_days": "15"})
        assert refused.status_code == 422
        saved = client.post(
            "/merchant/settings",
            data={"csrf_token": token, "answer_days": "12"},
            follow_redirects=False,
        )
        assert saved.status_code == 303


def test_merchants_handlers_are_not_staff(client: TestClient, filed: str) -> None:
    switch_to(client, "admin", STAFF_PASSWORD)
    page = client.get("/admin/staff")
    assert page.status_code == 200
    assert "客服小王" not in page.text
    assert 'value="merchant"' not in page.text
    refused = client.post(
        "/admin/staff",
        data={
            "csrf_token": csrf_of(client, "/admin/staff"),
            "role": "merchant",
            "username": "fakeshop",
            "password": STAFF_PASSWORD,
        },
    )
    assert refused.status_code == 403
