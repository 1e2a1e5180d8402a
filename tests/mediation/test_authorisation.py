"""Who may see and touch a case, over real HTTP, for every role.

A forbidden case looks exactly like a case that does not exist: 404, and not a byte of it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import pytest
from starlette.testclient import TestClient

from cases.accounts.actions import do_create_partner
from cases.accounts.models import Role
from cases.models import Case, Evidence
from tests.support.factories import (
    PDF_BYTES,
    PNG_BYTES,
    STAFF_PASSWORD,
    api_filing_body,
    cheap_password_hashing,
    create_organisation,
    create_staff,
    csrf_of,
    file_case,
    filing_fields,
    register,
    resident_id,
    run,
    switch_to,
    uscc,
)

A_ID, A_PASSWORD = "13812345678", "applicant pass 1"
B_ID, B_PASSWORD = "13700002222", "bystander pass 1"
FACTS = filing_fields()["facts"]
OUTCOME = filing_fields()["requested_outcome"]
NOBODY = "CNM-2099-T-99999"


@dataclass
class World:
    number: str
    evidence_id: int
    partner_number: str
    partner_evidence_id: int
    key_one: str
    key_two: str


def build_world(client: TestClient) -> World:
    register(client, A_ID, A_PASSWORD, "张三")
    number = file_case(client, files=[("合同.pdf", PDF_BYTES)])
    client.cookies.clear()
    register(client, B_ID, B_PASSWORD, "李四")
    client.cookies.clear()

    org_one = create_organisation(client, "ORG1")
    org_two = create_organisation(client, "ORG2")
    assigned = create_staff(client, "mediator_assigned", Role.MEDIATOR, org_one.id)
    create_staff(client, "mediator_other", Role.MEDIATOR, org_one.id)
    create_staff(client, "admin_same_org", Role.ORG_ADMIN, org_one.id)
    create_staff(client, "admin_other_org", Role.ORG_ADMIN, org_two.id)
    create_staff(client, "clerk", Role.COURT_CLERK)
    create_staff(client, "platform_admin", Role.PLATFORM_ADMIN)
    run(
        client,
        Case.filter(number=number).update,
        organisation_id=org_one.id,
        mediator_id=assigned.id,
    )

    _, key_one = run(client, do_create_partner, "某电商平台")
    _, key_two = run(client, do_create_partner, "某外卖平台")
    response = client.post(
        "/api/v1/disputes",
        headers={"Authorization": f"Bearer {key_one}", "Idempotency-Key": "order-1"},
        # As the API describes it: the consents are JSON booleans.
        json=api_filing_body(
            partner_reference="ORDER-1",
            evidence=[("截图.png", PNG_BYTES)],
            domain="internet",
            category="goods_quality",
            # Another respondent: the same one would make it the same dispute, merged into
            # the first case (one dispute, one number).
            respondent_id_number=uscc("91310105MA1FL0321"),
        ),
    )
    assert response.status_code == 201, response.text
    partner_number = response.json()["case_number"]

    evidence_id = run(client, Evidence.get, case__number=number).id
    partner_evidence_id = run(client, Evidence.get, case__number=partner_number).id
    return World(number, evidence_id, partner_number, partner_evidence_id, key_one, key_two)


@pytest.fixture(autouse=True)
def _fast_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    cheap_password_hashing(monkeypatch)


@pytest.fixture
def world(client: TestClient) -> World:
    return build_world(client)


def assert_nothing_of_the_case(text: str) -> None:
    for secret in (FACTS, OUTCOME, "张三", resident_id(), "13812345678", "合同.pdf", "3,680.00"):
        assert secret not in text
    assert "138****5678" not in text


def normalised(body: str, number: str) -> str:
    # The page links to the other language with the requested path: the only place the
    # number may appear, and it is what the visitor typed.
    return body.replace(number, "{number}")


def evidence_count(client: TestClient, number: str) -> int:
    count: int = run(client, Evidence.filter(case__number=number).count)
    return count


def upload(client: TestClient, number: str, token: str):  # type: ignore[no-untyped-def]
    return client.post(
        f"/cases/{number}/evidence",
        data={"csrf_token": token},
        # Content of its own: the case already has PDF_BYTES, and one content is one item.
        files=[("evidence", ("补充.pdf", PDF_BYTES + b"% supplement\n", "application/pdf"))],
        follow_redirects=False,
    )


def test_applicant_sees_and_uses_their_case(client: TestClient, world: World) -> None:
    switch_to(client, A_ID, A_PASSWORD)
    page = client.get(f"/cases/{world.number}")
    assert page.status_code == 200
    assert FACTS in page.text
    assert resident_id() in page.text  # their own ID, in full

    download = client.get(f"/cases/{world.number}/evidence/{world.evidence_id}")
    assert download.status_code == 200
    assert download.content == PDF_BYTES
    assert download.headers["content-type"] == "application/pdf"
    assert download.headers["x-content-type-options"] == "nosniff"
    assert download.headers["content-security-policy"] == "sandbox"

    before = evidence_count(client, world.number)
    response = upload(client, world.number, csrf_of(client, f"/cases/{world.number}"))
    assert response.status_code == 303
    assert response.headers["location"] == f"/cases/{world.number}#evidence"
    assert evidence_count(client, world.number) == before + 1


def test_applicant_cannot_reach_another_cases_evidence_through_their_own(
    client: TestClient, world: World
) -> None:
    switch_to(client, A_ID, A_PASSWORD)
    response = client.get(f"/cases/{world.number}/evidence/{world.partner_evidence_id}")
    assert response.status_code == 404
    assert PNG_BYTES not in response.content
    assert "截图.png" not in response.text


DENIED = [
    pytest.param(B_ID, B_PASSWORD, id="other-disputant"),
    pytest.param("mediator_other", STAFF_PASSWORD, id="mediator-not-assigned"),
    pytest.param("admin_other_org", STAFF_PASSWORD, id="org-admin-other-org"),
    pytest.param("clerk", STAFF_PASSWORD, id="court-clerk"),
]


@pytest.mark.parametrize(("identifier", "password"), DENIED)
def test_others_get_404_and_nothing_of_the_case(
    client: TestClient, world: World, identifier: str, password: str
) -> None:
    switch_to(client, identifier, password)
    n = world.number

    page = client.get(f"/cases/{n}")
    missing = client.get(f"/cases/{NOBODY}")
    assert page.status_code == 404
    assert missing.status_code == 404
    assert_nothing_of_the_case(page.text)
    assert "案件不存在，或您无权查看。" in page.text
    assert normalised(page.text, n) == normalised(missing.text, NOBODY)

    download = client.get(f"/cases/{n}/evidence/{world.evidence_id}")
    missing_download = client.get(f"/cases/{NOBODY}/evidence/{world.evidence_id}")
    assert download.status_code == 404
    assert PDF_BYTES not in download.content
    assert_nothing_of_the_case(download.text)
    assert normalised(download.text, n) == normalised(missing_download.text, NOBODY)

    token = csrf_of(client, "/cases")
    before = evidence_count(client, n)
    response = upload(client, n, token)
    assert response.status_code == 404
    assert_nothing_of_the_case(response.text)
    assert evidence_count(client, n) == before
    assert normalised(response.text, n) == normalised(upload(client, NOBODY, token).text, NOBODY)

    listing = client.get("/cases")
    assert listing.status_code == 200
    assert n not in listing.text
    assert world.partner_number not in listing.text


ALLOWED_STAFF = [
    pytest.param("mediator_assigned", id="mediator-assigned"),
    pytest.param("admin_same_org", id="org-admin-same-org"),
    pytest.param("platform_admin", id="platform-admin"),
]


@pytest.mark.parametrize("username", ALLOWED_STAFF)
def test_staff_handling_the_case_see_it(client: TestClient, world: World, username: str) -> None:
    switch_to(client, username, STAFF_PASSWORD)
    page = client.get(f"/cases/{world.number}")
    assert page.status_code == 200
    assert FACTS in page.text
    assert resident_id() in page.text  # staff handling the case see identities in full
    download = client.get(f"/cases/{world.number}/evidence/{world.evidence_id}")
    assert download.status_code == 200
    assert download.content == PDF_BYTES
    assert world.number in client.get("/cases").text

    # Staff are not a party: they may read the case but not file evidence as one.
    before = evidence_count(client, world.number)
    response = upload(client, world.number, csrf_of(client, "/cases"))
    assert response.status_code == 403
    assert evidence_count(client, world.number) == before


def test_platform_admin_lists_every_case(client: TestClient, world: World) -> None:
    switch_to(client, "platform_admin", STAFF_PASSWORD)
    listing = client.get("/cases").text
    assert world.number in listing
    assert world.partner_number in listing


def test_org_admin_lists_only_their_organisations_cases(client: TestClient, world: World) -> None:
    switch_to(client, "admin_same_org", STAFF_PASSWORD)
    listing = client.get("/cases").text
    assert world.number in listing
    assert world.partner_number not in listing


def test_case_list_shows_the_applicant_only_their_case(client: TestClient, world: World) -> None:
    switch_to(client, A_ID, A_PASSWORD)
    listing = client.get("/cases")
    assert listing.status_code == 200
    assert re.findall(r"CNM-\d{4}-[TI]-\d{5}", listing.text) == [world.number, world.number]
    assert world.partner_number not in listing.text

    switch_to(client, B_ID, B_PASSWORD)
    listing = client.get("/cases")
    assert listing.status_code == 200
    assert re.findall(r"CNM-\d{4}-[TI]-\d{5}", listing.text) == []
    assert "暂无案件。" in listing.text


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/cases/{n}"),
        ("GET", "/cases/{n}/evidence/{e}"),
        ("POST", "/cases/{n}/evidence"),
        ("GET", "/cases"),
        ("GET", "/file"),
        ("POST", "/file"),
    ],
)
def test_signed_out_visitors_are_sent_to_sign_in(
    client: TestClient, world: World, method: str, path: str
) -> None:
    client.cookies.clear()
    target = path.format(n=world.number, e=world.evidence_id)
    response = client.request(method, target, follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == f"/signin?next={target}"
    assert_nothing_of_the_case(response.text)


def test_partner_api_reads_only_the_partners_own_cases(client: TestClient, world: World) -> None:
    own = client.get(
        f"/api/v1/disputes/{world.partner_number}",
        headers={"Authorization": f"Bearer {world.key_one}"},
    )
    assert own.status_code == 200
    assert own.json()["case_number"] == world.partner_number
    assert own.json()["partner_reference"] == "ORDER-1"
    assert own.json()["status"] == "awaiting_consent"

    other = client.get(
        f"/api/v1/disputes/{world.partner_number}",
        headers={"Authorization": f"Bearer {world.key_two}"},
    )
    web_case = client.get(
        f"/api/v1/disputes/{world.number}", headers={"Authorization": f"Bearer {world.key_one}"}
    )
    missing = client.get(
        f"/api/v1/disputes/{NOBODY}", headers={"Authorization": f"Bearer {world.key_two}"}
    )
    for response in (other, web_case, missing):
        assert response.status_code == 404
        assert response.json() == {
            "error": "case_not_found",
            "message": "案件不存在，或您无权查看。",
        }
        assert FACTS not in response.text


@pytest.mark.parametrize(
    "authorization",
    [None, "Bearer nonsense", "Basic dXNlcjpwYXNz", "Bearer abcd.efgh"],
)
def test_partner_api_without_a_valid_key_is_401(
    client: TestClient, world: World, authorization: str | None
) -> None:
    headers = {"Authorization": authorization} if authorization else {}
    response = client.get(f"/api/v1/disputes/{world.partner_number}", headers=headers)
    assert response.status_code == 401
    assert response.json()["error"] == "unauthorised"
    assert world.partner_number not in response.text


def test_partner_key_does_not_open_web_pages(client: TestClient, world: World) -> None:
    client.cookies.clear()
    response = client.get(
        f"/cases/{world.partner_number}",
        headers={"Authorization": f"Bearer {world.key_one}"},
        follow_redirects=False,
    )
    assert response.status_code == 303
    assert response.headers["location"].startswith("/signin?next=")
