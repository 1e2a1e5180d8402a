"""Answering first for a merchant that delegated to its partner platform: the same actions as
the merchant's portal, the partner recorded as the author, and no other partner (nor the
partner before the delegation) sees or touches the negotiation."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from starlette.testclient import TestClient

from cases.access import Viewer
from cases.accounts.actions import do_create_partner
from cases.accounts.models import PartnerPlatform, Role
from cases.clock import local_date, utcnow
from cases.errors import CaseError
from cases.models import Case, TimelineEvent
from cases.negotiation.actions import do_delegate_answering, do_vouch_enrolment
from cases.negotiation.models import Negotiation, NegotiationMessage
from tests.support.factories import api_filing_body, run, uscc

URL = "/api/v1/disputes"
MERCHANT_USCC = uscc("91310105MA1FL0077")


def auth(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def new_partner(client: TestClient, name: str) -> tuple[int, str]:
    async def create() -> tuple[int, str]:
        partner, key = await do_create_partner(name)
        return partner.id, key

    return client.portal.call(create)


@pytest.fixture
def setting(client: TestClient) -> dict[str, Any]:
    """An enrolled merchant vouched for by its platform, a dispute against it filed by
    another channel (a second partner), and the merchant delegating to its platform."""
    platform_id, platform_key = new_partner(client, "某电商平台")
    _, filer_key = new_partner(client, "某旅游平台")

    async def enrol() -> int:
        merchant = await do_vouch_enrolment(
            partner_id=platform_id,
            uscc=MERCHANT_USCC,
            name="上海某某网店有限公司",
            answer_days=10,
            handler_username="shop1",
            handler_password="shop password 1",
            handler_name="客服 王",
            handler_email=None,
            handler_mobile=None,
            now=utcnow(),
        )
        return merchant.id

    merchant_id = run(client, enrol)
    body = api_filing_body(
        domain="internet",
        category="goods_quality",
        respondent_kind="merchant",
        respondent_name="上海某某网店有限公司",
        respondent_id_number=MERCHANT_USCC,
        evidence=[],
    )
    filed = client.post(URL, json=body, headers={**auth(filer_key), "Idempotency-Key": "d-1"})
    assert filed.status_code == 201, filed.text
    assert filed.json()["status"] == "awaiting_merchant"
    return {
        "merchant_id": merchant_id,
        "platform_id": platform_id,
        "platform_key": platform_key,
        "filer_key": filer_key,
        "number": filed.json()["case_number"],
    }


def delegate(client: TestClient, merchant_id: int, partner_id: int | None) -> None:
    admin = Viewer(user_id=1, role=str(Role.PLATFORM_ADMIN))
    run(client, do_delegate_answering, admin, merchant_id, partner_id)


def move(client: TestClient, key: str, number: str, what: str, body: Any) -> Any:
    return client.post(f"{URL}/{number}/negotiation/{what}", json=body, headers=auth(key))


def perform_by() -> str:
    return (local_date(utcnow()) + timedelta(days=7)).isoformat()


def test_before_the_delegation_the_platform_cannot_answer(
    client: TestClient, setting: dict[str, Any]
) -> None:
    number, key = setting["number"], setting["platform_key"]

    assert client.get(f"{URL}/{number}/negotiation", headers=auth(key)).status_code == 404
    answer = move(client, key, number, "ask", {"text": "请提供订单截图。"})
    assert answer.status_code == 404
    assert answer.json()["error"] == "case_not_found"


def test_a_delegate_proposes_asks_replies_and_declines_as_the_merchant(
    client: TestClient, setting: dict[str, Any]
) -> None:
    number, key = setting["number"], setting["platform_key"]
    delegate(client, setting["merchant_id"], setting["platform_id"])

    read = client.get(f"{URL}/{number}/negotiation", headers=auth(key))
    assert read.status_code == 200, read.text
    assert read.json()["state"] == "open" and read.json()["messages"] == []

    asked = move(client, key, number, "ask", {"text": "请提供订单截图。"})
    assert asked.status_code == 201, asked.text
    question = asked.json()["messages"][-1]
    assert (question["kind"], question["side"], question["by_partner"]) == (
        "question",
        "merchant",
        True,
    )
    replied = move(client, key, number, "reply", {"thread_id": question["id"], "text": "补充一下"})
    assert replied.status_code == 201, replied.text

    proposed = move(
        client,
        key,
        number,
        "propose",
        {"kind": "refund", "amount": "100.00", "conditions": "", "perform_by": perform_by()},
    )
    assert proposed.status_code == 201, proposed.text
    proposal = proposed.json()["messages"][-1]
    assert (proposal["remedy_kind"], proposal["amount"], proposal["proposal_state"]) == (
        "refund",
        "100.00",
        "open",
    )

    declined = move(client, key, number, "decline", {"reason": "商家认为不属于退款范围。"})
    assert declined.status_code == 201, declined.text
    assert declined.json()["state"] == "declined"
    assert declined.json()["case_status"] not in ("awaiting_merchant",)

    async def recorded() -> tuple[list[tuple[int | None, int | None]], list[str]]:
        messages = await NegotiationMessage.filter(negotiation__case__number=number).order_by("id")
        events = await TimelineEvent.filter(
            case__number=number,
            kind__in=[
                "merchant_asked",
                "negotiation_replied",
                "remedy_proposed",
                "merchant_declined",
            ],
        )
        return [(m.author_id, m.author_partner_id) for m in messages], [
            e.actor_label for e in events
        ]

    authors, labels = run(client, recorded)
    assert authors == [(None, setting["platform_id"])] * 4
    assert labels == ["partner:某电商平台"] * 4


def test_another_partner_never_reaches_a_delegated_negotiation(
    client: TestClient, setting: dict[str, Any]
) -> None:
    number = setting["number"]
    delegate(client, setting["merchant_id"], setting["platform_id"])
    # The partner that filed the case is the consumer's channel, not the merchant's delegate.
    for key in (setting["filer_key"], new_partner(client, "第三方平台")[1]):
        assert client.get(f"{URL}/{number}/negotiation", headers=auth(key)).status_code == 404
        refused = move(client, key, number, "decline", {"reason": "不同意"})
        assert refused.status_code == 404

    async def untouched() -> tuple[int, str]:
        return (
            await NegotiationMessage.filter(negotiation__case__number=number).count(),
            str((await Case.get(number=number)).status),
        )

    assert run(client, untouched) == (0, "awaiting_merchant")


def test_taking_the_delegation_back_ends_the_partners_access(
    client: TestClient, setting: dict[str, Any]
) -> None:
    number, key = setting["number"], setting["platform_key"]
    delegate(client, setting["merchant_id"], setting["platform_id"])
    assert client.get(f"{URL}/{number}/negotiation", headers=auth(key)).status_code == 200

    delegate(client, setting["merchant_id"], None)

    assert client.get(f"{URL}/{number}/negotiation", headers=auth(key)).status_code == 404


@pytest.mark.parametrize(
    ("what", "body", "status", "code"),
    [
        ("propose", {"kind": "refund", "perform_by": "2000-01-01"}, 422, "remedy_invalid"),
        ("propose", {"kind": "cash", "amount": "1", "perform_by": "x"}, 422, "remedy_invalid"),
        ("propose", {"amount": "1"}, 422, "invalid_input"),
        ("ask", {"text": ""}, 422, "text_invalid"),
        ("ask", {"text": 5}, 400, "invalid_field_type"),
        ("ask", {"text": "x", "extra": 1}, 400, "unknown_field"),
        ("ask", ["x"], 400, "invalid_json"),
        ("reply", {"thread_id": 999999, "text": "x"}, 404, "thread_not_found"),
        ("reply", {"thread_id": 2**40, "text": "x"}, 404, "thread_not_found"),
        ("reply", {"thread_id": "1", "text": "x"}, 400, "invalid_field_type"),
        ("decline", {"reason": "x" * 5000}, 422, "text_invalid"),
    ],
)
def test_a_bad_move_is_refused_clearly_and_changes_nothing(
    client: TestClient, setting: dict[str, Any], what: str, body: Any, status: int, code: str
) -> None:
    number, key = setting["number"], setting["platform_key"]
    delegate(client, setting["merchant_id"], setting["platform_id"])

    answer = move(client, key, number, what, body)

    assert answer.status_code == status, answer.text
    assert answer.json()["error"] == code
    assert answer.json()["message"] and answer.json()["message"] != code

    async def untouched() -> tuple[int, str]:
        negotiation = await Negotiation.get(case__number=number)
        return (
            await NegotiationMessage.filter(negotiation=negotiation).count(),
            str(negotiation.state),
        )

    assert run(client, untouched) == (0, "open")


def test_only_the_merchant_or_a_platform_admin_sets_a_delegate(
    client: TestClient, setting: dict[str, Any]
) -> None:
    mediator = Viewer(user_id=1, role=str(Role.MEDIATOR))
    with pytest.raises(CaseError):
        run(client, do_delegate_answering, mediator, setting["merchant_id"], setting["platform_id"])

    async def inactive() -> int:
        partner = await PartnerPlatform.get(id=setting["platform_id"])
        partner.is_active = False
        await partner.save()
        return partner.id

    with pytest.raises(CaseError):
        delegate(client, setting["merchant_id"], run(client, inactive))


def test_the_merchant_delegates_in_its_portal_and_takes_it_back(
    client: TestClient, setting: dict[str, Any]
) -> None:
    from tests.support.factories import csrf_of, sign_in

    number, key = setting["number"], setting["platform_key"]
    sign_in(client, "shop1", "shop password 1")
    page = client.get("/merchant")
    assert page.status_code == 200
    assert 'id="delegated_to"' in page.text and "某电商平台" in page.text

    def choose(value: str) -> Any:
        token = csrf_of(client, "/merchant")
        return client.post(
            "/merchant/delegation",
            data={"csrf_token": token, "delegated_to": value},
            follow_redirects=False,
        )

    assert choose(str(setting["platform_id"])).status_code == 303
    assert client.get(f"{URL}/{number}/negotiation", headers=auth(key)).status_code == 200
    refused = choose("999999")  # no such partner: a clear field error, nothing changed
    assert refused.status_code == 422
    assert 'aria-invalid="true"' in refused.text
    assert client.get(f"{URL}/{number}/negotiation", headers=auth(key)).status_code == 200
    assert choose("").status_code == 303
    assert client.get(f"{URL}/{number}/negotiation", headers=auth(key)).status_code == 404


def test_the_delegates_inbox_lists_only_its_merchants_negotiations(
    client: TestClient, setting: dict[str, Any]
) -> None:
    number, key = setting["number"], setting["platform_key"]
    inbox = "/api/v1/negotiations"
    assert client.get(inbox, headers=auth(key)).json() == {"data": [], "next_cursor": None}

    delegate(client, setting["merchant_id"], setting["platform_id"])

    listed = client.get(inbox, headers=auth(key))
    assert listed.status_code == 200, listed.text
    [row] = listed.json()["data"]
    assert (row["case_number"], row["state"], row["merchant_uscc"]) == (
        number,
        "open",
        MERCHANT_USCC,
    )
    assert row["due_on"] and row["first_answer_at"] is None
    assert client.get(inbox, params={"state": "declined"}, headers=auth(key)).json()["data"] == []
    # The partner that filed the case (the consumer's channel) has no such inbox entry.
    assert client.get(inbox, headers=auth(setting["filer_key"])).json()["data"] == []
    for params, code in (
        ({"state": "nope"}, "state_invalid"),
        ({"cursor": "x"}, "cursor_invalid"),
        ({"limit": "0"}, "limit_invalid"),
    ):
        refused = client.get(inbox, params=params, headers=auth(key))
        assert (refused.status_code, refused.json()["error"]) == (400, code)


def test_the_platform_admin_sets_the_delegate_on_the_merchants_page(
    client: TestClient, setting: dict[str, Any]
) -> None:
    from tests.support.factories import STAFF_PASSWORD, create_staff, csrf_of, sign_in

    number, key = setting["number"], setting["platform_key"]
    create_staff(client, "admin", Role.PLATFORM_ADMIN)
    sign_in(client, "admin", STAFF_PASSWORD)
    page = client.get("/admin/merchants")
    assert f'id="delegated_to-{setting["merchant_id"]}"' in page.text

    def choose(value: str) -> Any:
        return client.post(
            f"/admin/merchants/{setting['merchant_id']}/delegation",
            data={"csrf_token": csrf_of(client, "/admin/merchants"), "delegated_to": value},
            follow_redirects=False,
        )

    assert choose(str(setting["platform_id"])).status_code == 303
    assert client.get(f"{URL}/{number}/negotiation", headers=auth(key)).status_code == 200
    assert choose("999999").status_code == 403  # no such partner: nothing changed
    assert client.get(f"{URL}/{number}/negotiation", headers=auth(key)).status_code == 200
    assert choose("").status_code == 303
    assert client.get(f"{URL}/{number}/negotiation", headers=auth(key)).status_code == 404


def test_every_reader_of_the_thread_sees_the_partner_answered(
    client: TestClient, setting: dict[str, Any]
) -> None:
    from tests.support.factories import STAFF_PASSWORD, create_staff, sign_in, switch_to

    number, key = setting["number"], setting["platform_key"]
    delegate(client, setting["merchant_id"], setting["platform_id"])
    assert move(client, key, number, "ask", {"text": "请提供订单截图。"}).status_code == 201

    sign_in(client, "shop1", "shop password 1")
    merchant_page = client.get(f"/merchant/cases/{number}")
    create_staff(client, "admin", Role.PLATFORM_ADMIN)
    switch_to(client, "admin", STAFF_PASSWORD)
    staff_page = client.get(f"/cases/{number}")

    for page in (merchant_page, staff_page):
        assert page.status_code == 200
        thread = page.text[page.text.index("negotiation-thread") :]
        thread = thread[: thread.index("</ol>")]
        assert "请提供订单截图。" in thread and "某电商平台" in thread
