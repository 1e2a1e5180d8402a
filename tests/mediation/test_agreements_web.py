"""The agreement over real HTTP: the mediator's editor, putting up for signature, signing by
password and by SMS code in the browser's forms, translated refusals that change nothing,
and who may open or post to every agreement route."""

from __future__ import annotations

import re
from typing import Any

import pytest
from starlette.testclient import TestClient

from cases.agreements.models import AgreementSignature, AgreementStatus, AgreementVersion
from cases.models import Case, Notice, NoticeChannel
from cases.status import Status
from mediation.settings import Settings
from tests.support.agreements import (
    APPLICANT,
    MEDIATOR,
    ORG_ADMIN,
    OTHER_MEDIATOR,
    OTHER_ORG_ADMIN,
    OUTSIDER,
    PLATFORM_ADMIN,
    RESPONDENT,
    AgreementWorld,
    build_agreement_world,
    draft,
)
from tests.support.factories import cheap_password_hashing, csrf_of, run, switch_to

CREDENTIALS = {
    "mediator": MEDIATOR,
    "applicant": APPLICANT,
    "respondent": RESPONDENT,
    "org_admin": ORG_ADMIN,
    "platform_admin": PLATFORM_ADMIN,
    "other_mediator": OTHER_MEDIATOR,
    "other_org_admin": OTHER_ORG_ADMIN,
    "outsider": OUTSIDER,
}


@pytest.fixture(autouse=True)
def _fast_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    cheap_password_hashing(monkeypatch)


@pytest.fixture
def world(client: TestClient, settings: Settings) -> AgreementWorld:
    built: AgreementWorld = run(client, build_agreement_world, settings)
    return built


def as_user(client: TestClient, who: str) -> None:
    switch_to(client, *CREDENTIALS[who])


def form_of(fields: dict[str, Any]) -> dict[str, Any]:
    """The editor's form: sections as fields, terms as repeated columns (with a blank row)."""
    terms = [
        *fields["terms"],
        dict.fromkeys(("text", "obligor_side", "amount", "manner", "due_on"), ""),
    ]
    data: dict[str, Any] = {k: v for k, v in fields.items() if k != "terms"}
    for name in ("text", "obligor_side", "amount", "manner", "due_on"):
        data[f"term_{name}"] = [str(row.get(name) or "") for row in terms]
    return data


def save(client: TestClient, world: AgreementWorld, **changes: Any) -> Any:
    token = csrf_of(client, f"/cases/{world.number}/agreement/edit")
    return client.post(
        f"/cases/{world.number}/agreement/versions",
        data={"csrf_token": token, **form_of(draft(**changes))},
        follow_redirects=False,
    )


def post(client: TestClient, world: AgreementWorld, path: str, **data: str) -> Any:
    token = csrf_of(client, f"/cases/{world.number}/agreement")
    return client.post(
        f"/cases/{world.number}/agreement{path}",
        data={"csrf_token": token, **data},
        follow_redirects=False,
    )


def version_row(client: TestClient, world: AgreementWorld, number: int = 1) -> AgreementVersion:
    row: AgreementVersion = run(client, AgreementVersion.get, case_id=world.case_id, number=number)
    return row


def sms_code(client: TestClient, mobile: str) -> str:
    async def latest() -> str:
        notice = (
            await Notice.filter(
                channel=NoticeChannel.SMS, recipient=mobile, subject__contains="Signing code"
            )
            .order_by("-id")
            .first()
        )
        assert notice is not None
        found = re.search(r"验证码：(\d{6})", notice.body)
        assert found, notice.body
        return found.group(1)

    code: str = client.portal.call(latest)  # type: ignore[union-attr]
    return code


def ready_for_signature(client: TestClient, world: AgreementWorld) -> AgreementVersion:
    as_user(client, "mediator")
    assert save(client, world).status_code == 303
    assert post(client, world, "/1/freeze").status_code == 303
    return version_row(client, world)


def test_the_mediator_drafts_from_the_case_and_saves_versions(
    client: TestClient, world: AgreementWorld
) -> None:
    as_user(client, "mediator")
    empty = client.get(f"/cases/{world.number}/agreement")
    assert empty.status_code == 200
    assert "尚未起草调解协议" in empty.text
    editor = client.get(f"/cases/{world.number}/agreement/edit")
    assert editor.status_code == 200
    case: Case = run(client, Case.get, id=world.case_id)
    assert case.facts in editor.text  # prefilled from the case
    assert "张三" in editor.text and "上海某某国际旅行社有限公司" in editor.text

    saved = save(client, world)
    assert saved.status_code == 303
    assert saved.headers["location"] == f"/cases/{world.number}/agreement/1"
    page = client.get(saved.headers["location"])
    assert "人民调解协议书" in page.text
    assert "1. 被申请人向申请人退还团费" in page.text
    assert "叁仟陆佰捌拾元整" in page.text
    assert "提交签署" in page.text  # the mediator may put it up for signature
    assert version_row(client, world).status == AgreementStatus.DRAFT

    assert save(client, world, other="双方再无其他争议，互不追究。").status_code == 303
    second = client.get(f"/cases/{world.number}/agreement/2")
    assert "与第1版相比的修改" in second.text
    assert "diff-added" in second.text and "diff-removed" in second.text
    first = client.get(f"/cases/{world.number}/agreement/1")
    assert "已被新版本取代" in first.text
    assert "查看当前版本" in first.text


def test_an_invalid_draft_comes_back_translated_with_its_rows_and_saves_nothing(
    client: TestClient, world: AgreementWorld
) -> None:
    as_user(client, "mediator")
    bad_term = {**draft()["terms"][0], "due_on": "2020-01-01", "amount": "12.345"}
    answer = save(client, world, facts="", terms=[bad_term])
    assert answer.status_code == 422
    assert "履行期限已经过去" in answer.text
    assert "金额最多保留两位小数" in answer.text or "两位小数" in answer.text
    assert "此项为必填项" in answer.text or "必填" in answer.text
    assert 'value="12.345"' in answer.text  # what was typed is kept
    assert run(client, AgreementVersion.filter(case_id=world.case_id).count) == 0


def test_signing_by_password_and_by_sms_code_until_it_takes_effect(
    client: TestClient, world: AgreementWorld
) -> None:
    version = ready_for_signature(client, world)

    as_user(client, "applicant")
    page = client.get(f"/cases/{world.number}/agreement")
    assert "签署此版本" in page.text
    assert version.sha256 in page.text
    signed = post(
        client, world, "/1/sign", method="password", password=APPLICANT[1], sha256=version.sha256
    )
    assert signed.status_code == 303
    assert signed.headers["location"].endswith("/agreement/1?signed=1")
    assert "您已签署此版本" in client.get(signed.headers["location"]).text

    as_user(client, "respondent")
    assert post(client, world, "/1/code").status_code == 303
    code = sms_code(client, RESPONDENT[0])
    signed = post(client, world, "/1/sign", method="sms_code", code=code, sha256=version.sha256)
    assert signed.status_code == 303

    as_user(client, "mediator")
    last = post(
        client, world, "/1/sign", method="password", password=MEDIATOR[1], sha256=version.sha256
    )
    assert last.status_code == 303
    assert last.headers["location"].endswith("?effective=1")
    page = client.get(last.headers["location"])
    assert "协议已经生效" in page.text or "已生效" in page.text
    assert "/agreement.pdf" in page.text
    assert run(client, Case.get, id=world.case_id).status == Status.SETTLED
    case_page = client.get(f"/cases/{world.number}")
    assert f"/cases/{world.number}/agreement" in case_page.text


def test_wrong_password_or_code_is_refused_in_words_and_signs_nothing(
    client: TestClient, world: AgreementWorld
) -> None:
    version = ready_for_signature(client, world)
    as_user(client, "applicant")
    wrong = post(
        client, world, "/1/sign", method="password", password="nope", sha256=version.sha256
    )
    assert wrong.status_code == 422
    assert "密码不正确" in wrong.text
    assert post(client, world, "/1/code").status_code == 303
    again = post(client, world, "/1/code")
    assert again.status_code == 429
    assert "秒后" in again.text
    bad = post(client, world, "/1/sign", method="sms_code", code="000000", sha256=version.sha256)
    if sms_code(client, APPLICANT[0]) == "000000":  # one time in a million
        bad = post(
            client, world, "/1/sign", method="sms_code", code="111111", sha256=version.sha256
        )
    assert bad.status_code == 422
    assert "验证码不正确" in bad.text
    stale = post(
        client, world, "/1/sign", method="password", password=APPLICANT[1], sha256="0" * 64
    )
    assert stale.status_code == 409
    assert "文本已经变化" in stale.text
    odd = post(client, world, "/1/sign", method="fingerprint", sha256=version.sha256)
    assert odd.status_code == 422
    assert run(client, AgreementSignature.all().count) == 0


def test_a_superseded_version_is_refused_with_a_pointer_to_the_current_one(
    client: TestClient, world: AgreementWorld
) -> None:
    version = ready_for_signature(client, world)
    assert save(client, world, other="新增：双方互不追究。").status_code == 303
    as_user(client, "applicant")
    refused = post(
        client, world, "/1/sign", method="password", password=APPLICANT[1], sha256=version.sha256
    )
    assert refused.status_code == 409
    assert "已被新版本取代" in refused.text or "取代" in refused.text
    assert "查看当前版本" in refused.text
    assert run(client, AgreementSignature.all().count) == 0


def test_forms_need_their_csrf_token(client: TestClient, world: AgreementWorld) -> None:
    as_user(client, "mediator")
    answer = client.post(
        f"/cases/{world.number}/agreement/versions", data=form_of(draft()), follow_redirects=False
    )
    assert answer.status_code == 403
    assert run(client, AgreementVersion.all().count) == 0


# --- authorisation for every route --------------------------------------------------------------

GETS = ["", "/edit", "/1"]
POSTS = ["/versions", "/1/freeze", "/1/code", "/1/sign"]


@pytest.mark.parametrize("who", ["outsider", "other_mediator", "other_org_admin"])
def test_people_unrelated_to_the_case_get_404_and_nothing_of_it(
    client: TestClient, world: AgreementWorld, who: str
) -> None:
    version = ready_for_signature(client, world)
    as_user(client, who)
    token = csrf_of(client, "/cases")
    for path in GETS:
        answer = client.get(f"/cases/{world.number}/agreement{path}")
        assert answer.status_code == 404, path
        assert "张三" not in answer.text and version.sha256 not in answer.text
    for path in POSTS:
        answer = client.post(
            f"/cases/{world.number}/agreement{path}",
            data={
                "csrf_token": token,
                "method": "password",
                "password": CREDENTIALS[who][1],
                "sha256": version.sha256,
                **form_of(draft()),
            },
            follow_redirects=False,
        )
        assert answer.status_code == 404, path
        assert version.sha256 not in answer.text
    assert run(client, AgreementVersion.all().count) == 1
    assert run(client, AgreementSignature.all().count) == 0
    assert run(client, Notice.filter(subject__contains="Signing code").count) == 0


def test_visitors_are_sent_to_sign_in(client: TestClient, world: AgreementWorld) -> None:
    ready_for_signature(client, world)
    client.cookies.clear()
    for path in GETS:
        answer = client.get(f"/cases/{world.number}/agreement{path}", follow_redirects=False)
        assert answer.status_code == 303
        assert answer.headers["location"].startswith("/signin?next=")
    for path in POSTS:
        answer = client.post(f"/cases/{world.number}/agreement{path}", follow_redirects=False)
        assert answer.status_code == 303
        assert answer.headers["location"].startswith("/signin")


@pytest.mark.parametrize("who", ["applicant", "respondent", "org_admin", "platform_admin"])
def test_parties_and_staff_read_but_only_the_mediator_edits(
    client: TestClient, world: AgreementWorld, who: str
) -> None:
    version = ready_for_signature(client, world)
    as_user(client, who)
    page = client.get(f"/cases/{world.number}/agreement")
    assert page.status_code == 200
    assert version.text.splitlines()[0] in page.text
    assert "提交签署" not in page.text
    assert client.get(f"/cases/{world.number}/agreement/1").status_code == 200
    assert client.get(f"/cases/{world.number}/agreement/edit").status_code == 403
    token = csrf_of(client, f"/cases/{world.number}/agreement")
    saved = client.post(
        f"/cases/{world.number}/agreement/versions",
        data={"csrf_token": token, **form_of(draft())},
        follow_redirects=False,
    )
    assert saved.status_code == 403
    assert post(client, world, "/1/freeze").status_code == 403
    staff = who in ("org_admin", "platform_admin")
    assert ("签署此版本" in page.text) is not staff
    if staff:
        signed = post(
            client,
            world,
            "/1/sign",
            method="password",
            password=CREDENTIALS[who][1],
            sha256=version.sha256,
        )
        assert signed.status_code == 403
        assert post(client, world, "/1/code").status_code == 403
    assert run(client, AgreementVersion.all().count) == 1
    assert run(client, AgreementSignature.all().count) == 0


def test_a_party_cannot_put_a_draft_up_for_signature(
    client: TestClient, world: AgreementWorld
) -> None:
    as_user(client, "mediator")
    assert save(client, world).status_code == 303
    as_user(client, "applicant")
    assert post(client, world, "/1/freeze").status_code == 403
    assert version_row(client, world).status == AgreementStatus.DRAFT
    # A draft is readable by the parties (it is drafted in front of them) but not signable.
    page = client.get(f"/cases/{world.number}/agreement")
    assert "草稿" in page.text and "签署此版本" not in page.text


def test_english_pages(client: TestClient, world: AgreementWorld) -> None:
    version = ready_for_signature(client, world)
    as_user(client, "applicant")
    client.cookies.set("lang", "en")
    page = client.get(f"/cases/{world.number}/agreement")
    assert "Mediation agreement" in page.text
    assert "Sign with my password" in page.text
    wrong = post(
        client, world, "/1/sign", method="password", password="nope", sha256=version.sha256
    )
    assert "The password is not correct. Nothing was signed." in wrong.text


def test_after_a_wrong_code_the_code_panel_stays_open_for_another_try(
    client: TestClient, world: AgreementWorld
) -> None:
    version = ready_for_signature(client, world)
    as_user(client, "applicant")
    page = client.get(f"/cases/{world.number}/agreement/1")
    # Each way of signing asks the signer to confirm what a signature means.
    assert page.text.count('name="understood" required') == 2
    assert "签名不能撤回" in page.text
    assert '<details class="code-sign">' in page.text  # folded until it is used
    wrong = post(
        client, world, "/1/sign", method="password", password="nope", sha256=version.sha256
    )
    assert '<details class="code-sign">' in wrong.text  # a wrong password opens nothing
    assert post(client, world, "/1/code").status_code == 303
    code = sms_code(client, APPLICANT[0])
    bad = post(
        client,
        world,
        "/1/sign",
        method="sms_code",
        code="000000" if code != "000000" else "111111",
        sha256=version.sha256,
    )
    assert bad.status_code == 422
    assert '<details class="code-sign" open>' in bad.text
    assert 'aria-invalid="true" aria-describedby="sign-code-error"' in bad.text
    assert "请核对验证码后重试" in bad.text
    assert run(client, AgreementSignature.all().count) == 0


def test_the_first_draft_takes_the_offer_accepted_in_the_joint_room(
    client: TestClient, world: AgreementWorld
) -> None:
    async def offers_in_room() -> None:
        from datetime import UTC, datetime

        from cases.sessions.models import MediationSession
        from realtime.models import RoomMessage

        now = datetime.now(UTC)
        session = await MediationSession.create(
            case_id=world.case_id,
            starts_at=now,
            scheduled_by=world.users["mediator"],
            created_at=now,
        )

        async def say(seq: int, room: str, side: str, kind: str, body: dict[str, Any]) -> None:
            await RoomMessage.create(
                session_id=session.id,
                room=room,
                seq=seq,
                sender_side=side,
                kind=kind,
                body=body,
                client_id=f"c{seq}{room}",
                created_at=now,
                sender_name=side or "调解员",
            )

        await say(1, "joint", "applicant", "offer", {"amount": "3600.00", "text": "全额"})
        await say(
            2,
            "joint",
            "respondent",
            "offer_response",
            {"offer_seq": 1, "response": "counter", "amount": "3200.00", "text": "七日内银行转账"},
        )
        await say(3, "joint", "applicant", "offer_response", {"offer_seq": 2, "response": "accept"})
        # Accepted in a caucus, with the mediator only: binds nobody.
        await say(1, "caucus:applicant", "applicant", "offer", {"amount": "2800.00"})
        await say(
            2,
            "caucus:applicant",
            None,
            "offer_response",  # type: ignore[arg-type]
            {"offer_seq": 1, "response": "accept"},
        )

    run(client, offers_in_room)
    as_user(client, "mediator")
    case_page = client.get(f"/cases/{world.number}")
    # One click from the case page to the editor.
    assert f'href="/cases/{world.number}/agreement/edit"' in case_page.text
    editor = client.get(f"/cases/{world.number}/agreement/edit")
    assert "被申请人向申请人支付人民币3,200.00元" in editor.text
    assert 'value="3200.00"' in editor.text
    assert "七日内银行转账" in editor.text
    assert "2800" not in editor.text
