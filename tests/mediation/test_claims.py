"""A case a partner platform files reaches its applicant: a notice (email and SMS, queued with
the filing) carrying a signed link to claim the case; the link's page has the applicant sign
in or register, then attaches the applicant's side to their account, once. Every refusal is a
translated sentence and changes nothing."""

from __future__ import annotations

import re

import pytest
from itsdangerous import URLSafeSerializer
from starlette.testclient import TestClient

from cases.accounts.actions import do_create_partner
from cases.accounts.models import Role
from cases.models import Notice, NoticeChannel, Party, Side, TimelineEvent
from mediation.settings import Settings
from tests.support.factories import (
    api_filing_body,
    cheap_password_hashing,
    create_staff,
    csrf_of,
    file_case,
    invitation_path,
    register,
    run,
    sign_in,
    switch_to,
)

A_ID, A_EMAIL, A_PASSWORD = "13812345678", "zhangsan@example.com", "applicant pass 1"
OTHER_ID, OTHER_PASSWORD = "13700002222", "another pass 1"
ALREADY_CLAIMED = "该案件已由其他账号认领，不能再次认领。"
CLAIMED_BY_YOU = "您已认领该案件，案件已在您的账号中。"
STAFF_REFUSED = "只有申请人本人可以使用当事人账号认领案件。"
NOT_VALID = "案件认领链接无效。"
CLAIMED_LABEL = "申请人认领了合作平台代为提交的案件"


@pytest.fixture(autouse=True)
def _fast_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    cheap_password_hashing(monkeypatch)


def partner_files(client: TestClient, reference: str = "ORDER-1") -> str:
    async def create() -> str:
        _, key = await do_create_partner("某旅游平台")
        return key

    key = client.portal.call(create)
    response = client.post(
        "/api/v1/disputes",
        json=api_filing_body(partner_reference=reference),
        headers={"Authorization": f"Bearer {key}", "Idempotency-Key": reference},
    )
    assert response.status_code == 201, response.text
    return str(response.json()["case_number"])


def claim_notices(client: TestClient, number: str) -> list[Notice]:
    notices: list[Notice] = run(
        client,
        Notice.filter(case__number=number, subject__contains="Claim your mediation case")
        .order_by("id")
        .all,
    )
    return notices


def claim_path(client: TestClient, number: str) -> str:
    notice = next(n for n in claim_notices(client, number) if n.channel == NoticeChannel.EMAIL)
    match = re.search(r"http://testserver(/claims/[A-Za-z0-9_\-.]+)", notice.body)
    assert match, notice.body
    return match.group(1)


def applicant_of(client: TestClient, number: str) -> Party:
    party: Party = run(client, Party.get, case__number=number, side=Side.APPLICANT)
    return party


def claimed_events(client: TestClient, number: str) -> int:
    count: int = run(client, TimelineEvent.filter(case__number=number, kind="case_claimed").count)
    return count


def post_claim(client: TestClient, path: str):  # type: ignore[no-untyped-def]
    return client.post(
        path, data={"csrf_token": csrf_of(client, "/signin")}, follow_redirects=False
    )


# --- the notice ---


def test_a_partner_filing_sends_the_applicant_a_claim_link(client: TestClient) -> None:
    number = partner_files(client)
    notices = claim_notices(client, number)
    assert sorted((str(n.channel), n.recipient) for n in notices) == [
        ("email", A_EMAIL),
        ("sms", A_ID),
    ]
    for notice in notices:
        assert re.search(r"http://testserver/claims/\S+", notice.body), notice.body
        assert number in notice.body
    email = next(n for n in notices if n.channel == NoticeChannel.EMAIL)
    assert "某旅游平台" in email.body and "认领" in email.body and "Sign in" in email.body
    assert applicant_of(client, number).user_id is None


def test_a_case_filed_on_the_site_sends_no_claim_link(client: TestClient) -> None:
    register(client, A_ID, A_PASSWORD)
    number = file_case(client)
    assert claim_notices(client, number) == []


# --- the web flow ---


def test_the_applicant_registers_through_the_link_and_claims_the_case(
    client: TestClient,
) -> None:
    number = partner_files(client)
    path = claim_path(client, number)

    page = client.get(path)
    assert page.status_code == 200
    assert "认领您的案件" in page.text and number in page.text and "某旅游平台" in page.text
    assert f'href="/signin?next={path}"' in page.text
    assert f'href="/register?next={path}"' in page.text
    assert 'action="' + path not in page.text  # no claim button before signing in

    # Register from the link: back to the link's page, now with the claim button.
    response = client.post(
        "/register",
        data={
            "csrf_token": csrf_of(client, f"/register?next={path}"),
            "identifier": A_ID,
            "password": A_PASSWORD,
            "display_name": "张三",
            "next": path,
        },
        follow_redirects=False,
    )
    assert response.status_code == 303 and response.headers["location"] == path
    assert client.get(f"/cases/{number}").status_code == 404  # not theirs until claimed
    page = client.get(path)
    assert f'action="{path}"' in page.text and "认领本案" in page.text

    response = post_claim(client, path)
    assert response.status_code == 303
    assert response.headers["location"] == f"/cases/{number}"
    user_id = applicant_of(client, number).user_id
    assert user_id is not None
    case_page = client.get(f"/cases/{number}")
    assert case_page.status_code == 200
    assert CLAIMED_LABEL in case_page.text  # the timeline says it
    assert claimed_events(client, number) == 1
    assert number in client.get("/cases").text

    # The link's page now says it is done; a second claim changes nothing.
    assert CLAIMED_BY_YOU in client.get(path).text
    again = post_claim(client, path)
    assert again.status_code == 409 and CLAIMED_BY_YOU in again.text
    assert claimed_events(client, number) == 1
    assert applicant_of(client, number).user_id == user_id


def test_a_signed_out_claim_goes_to_sign_in_and_changes_nothing(client: TestClient) -> None:
    number = partner_files(client)
    path = claim_path(client, number)
    response = post_claim(client, path)
    assert response.status_code == 303 and response.headers["location"] == f"/signin?next={path}"
    assert applicant_of(client, number).user_id is None
    # Signing in from there comes back to the claim.
    register(client, A_ID, A_PASSWORD)
    switch_to(client, A_ID, A_PASSWORD)
    assert post_claim(client, path).status_code == 303
    assert applicant_of(client, number).user_id is not None


# --- refusals ---


def test_another_account_cannot_claim_a_claimed_case(client: TestClient) -> None:
    number = partner_files(client)
    path = claim_path(client, number)
    register(client, A_ID, A_PASSWORD)
    assert post_claim(client, path).status_code == 303
    owner = applicant_of(client, number).user_id

    client.cookies.clear()
    register(client, OTHER_ID, OTHER_PASSWORD, name="李四")
    page = client.get(path)
    assert ALREADY_CLAIMED in page.text and 'action="' + path not in page.text
    response = post_claim(client, path)
    assert response.status_code == 409
    assert ALREADY_CLAIMED in response.text
    assert applicant_of(client, number).user_id == owner
    assert claimed_events(client, number) == 1
    assert client.get(f"/cases/{number}").status_code == 404


def test_staff_cannot_claim(client: TestClient) -> None:
    number = partner_files(client)
    path = claim_path(client, number)
    create_staff(client, "admin1", Role.PLATFORM_ADMIN)
    sign_in(client, "admin1", "staff password 1")
    assert STAFF_REFUSED in client.get(path).text
    response = post_claim(client, path)
    assert response.status_code == 403 and STAFF_REFUSED in response.text
    assert applicant_of(client, number).user_id is None
    assert claimed_events(client, number) == 0


def test_the_respondent_cannot_claim_the_applicants_side(client: TestClient) -> None:
    number = partner_files(client)
    path = claim_path(client, number)
    # The respondent consents with an account of their own...
    invitation = invitation_path(client, number)
    response = client.post(
        f"{invitation}/consent",
        data={
            "csrf_token": csrf_of(client, "/signin"),
            "display_name": "某旅行社",
            "identifier": "13900001111",
            "password": "respondent pass 1",
            "consent_voluntary": "on",
            "consent_service_address": "on",
            "consent_false_mediation": "on",
        },
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text
    # ...and that account cannot also take the applicant's side.
    refused = post_claim(client, path)
    assert refused.status_code == 403
    assert "您的账号已是本案的另一方当事人" in refused.text
    assert applicant_of(client, number).user_id is None


def test_a_forged_or_misused_link_is_not_valid(client: TestClient, settings: Settings) -> None:
    number = partner_files(client)
    register(client, A_ID, A_PASSWORD)
    path = claim_path(client, number)
    token = path.rsplit("/", 1)[1]
    respondent: Party = run(client, Party.get, case__number=number, side=Side.RESPONDENT)
    forged = URLSafeSerializer("not the secret", salt="applicant-claim").dumps([1, 1])
    # Signed with our secret, but naming the respondent's row: not a claim.
    other_row = URLSafeSerializer(settings.secret_key, salt="applicant-claim").dumps(
        [respondent.id, respondent.case_id]
    )
    # The invitation's token is not a claim token either (another salt).
    invitation_token = invitation_path(client, number).rsplit("/", 1)[1]
    for bad in (token[:-2] + "xx", forged, other_row, invitation_token):
        assert client.get(f"/claims/{bad}").status_code == 404
        response = post_claim(client, f"/claims/{bad}")
        assert response.status_code == 404 and NOT_VALID in response.text
    assert applicant_of(client, number).user_id is None


def test_a_claim_needs_the_csrf_token(client: TestClient) -> None:
    number = partner_files(client)
    path = claim_path(client, number)
    register(client, A_ID, A_PASSWORD)
    response = client.post(path, data={}, follow_redirects=False)
    assert response.status_code == 403
    assert applicant_of(client, number).user_id is None


def test_the_claim_page_in_english(client: TestClient) -> None:
    number = partner_files(client)
    path = claim_path(client, number)
    page = client.get(path, headers={"Accept-Language": "en"})
    assert "Claim your case" in page.text and "认领" not in page.text
