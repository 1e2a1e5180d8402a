"""One dispute, one number at the web form and on the case page: the applicant is told
"you already have CNM-... against X" before anything is filed, adds the filing to that case
or files anyway; staff handling a case (and only they) see its sources, its possible
duplicates and the repeat-claimant signal."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from starlette.testclient import TestClient

from cases.accounts.models import Role, User
from cases.duplicates.models import CaseSource, DuplicateLink
from cases.models import Case, Evidence, Party, Side
from mediation.app import create_app
from mediation.settings import Settings
from tests.support.factories import (
    PNG_BYTES,
    STAFF_PASSWORD,
    cheap_password_hashing,
    create_organisation,
    create_staff,
    csrf_of,
    file_case,
    filing_fields,
    register,
    run,
    switch_to,
    uscc,
)

RETOLD = "我10月报名了云南六日游，旅行社在出发前三天单方面取消了行程，团费至今没有退还。"
SIGNAL = "Repeat-claimant signal"
STAFF_PART = "Filings of this dispute (staff only)"


@pytest.fixture(autouse=True)
def _fast_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    cheap_password_hashing(monkeypatch)


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    """Low thresholds, so two filings against two respondents make the signal."""
    low = settings.with_(repeat_claimant_filings=2, repeat_claimant_respondents=2)
    with TestClient(create_app(low, background_jobs=False)) as test_client:
        test_client.cookies.set("lang", "en")
        yield test_client


def post_filing(
    client: TestClient, files: list[tuple[str, bytes]] | None = None, **fields: str
) -> object:
    token = csrf_of(client, "/file")
    data = {"csrf_token": token, **filing_fields(**fields)}
    for extra in ("duplicate_choice", "duplicate_of", "kept_evidence"):
        if extra in fields:
            data[extra] = fields[extra]
    upload = [("evidence", (n, d, "application/octet-stream")) for n, d in (files or [])]
    return client.post("/file", data=data, files=upload or None, follow_redirects=False)


def count(client: TestClient, model: type) -> int:
    return int(run(client, model.all().count))


def signed_in_applicant(client: TestClient) -> str:
    register(client)
    client.cookies.set("lang", "en")
    return file_case(client)


def test_the_applicant_is_told_before_filing_and_nothing_is_filed(client: TestClient) -> None:
    number = signed_in_applicant(client)

    page = post_filing(client, files=[("截图.png", PNG_BYTES)], facts=RETOLD)

    assert page.status_code == 409  # type: ignore[attr-defined]
    text = page.text  # type: ignore[attr-defined]
    assert f"You already have case {number} against 上海某某国际旅行社有限公司" in text
    assert f'href="/cases/{number}"' in text
    assert "Nothing has been filed yet" in text
    assert 'name="duplicate_choice" value="merge"' in text
    assert 'name="duplicate_choice" value="new"' in text
    assert "截图.png" in text  # the file is kept for the next step
    assert 'value="我10月报名了云南六日游' in text or RETOLD in text  # what they entered stays
    assert count(client, Case) == 1


def test_the_applicant_adds_the_filing_to_the_case_they_were_told_of(client: TestClient) -> None:
    number = signed_in_applicant(client)
    asked = post_filing(client, files=[("截图.png", PNG_BYTES)], facts=RETOLD)
    kept = re.search(r'name="kept_evidence" value="([^"]+)"', asked.text)  # type: ignore[attr-defined]
    assert kept

    merged = post_filing(
        client,
        facts=RETOLD,
        duplicate_choice="merge",
        duplicate_of=number,
        kept_evidence=kept.group(1),
    )

    assert merged.status_code == 303, merged.text  # type: ignore[attr-defined]
    assert merged.headers["location"] == f"/cases/{number}?merged=1"  # type: ignore[attr-defined]
    page = client.get(merged.headers["location"])  # type: ignore[attr-defined]
    assert "has been added to your case" in page.text
    assert STAFF_PART not in page.text and SIGNAL not in page.text
    assert count(client, Case) == 1
    assert run(client, Evidence.filter(case__number=number, filename="截图.png").exists)
    assert count(client, CaseSource) == 2
    assert "What this filing said" not in page.text

    create_staff(client, "admin", Role.PLATFORM_ADMIN)
    switch_to(client, "admin", STAFF_PASSWORD)
    client.cookies.set("lang", "en")
    staff = client.get(f"/cases/{number}").text
    assert STAFF_PART in staff and "What this filing said" in staff
    assert RETOLD in staff  # the merged filing's own account, for staff
    assert "Same applicant, same respondent credit code, similar facts within 90 days" in staff


def test_the_applicant_files_anyway_and_staff_see_the_link(client: TestClient) -> None:
    number = signed_in_applicant(client)
    post_filing(client, facts=RETOLD)

    anyway = post_filing(client, facts=RETOLD, duplicate_choice="new", duplicate_of=number)

    assert anyway.status_code == 303, anyway.text  # type: ignore[attr-defined]
    new = re.match(r"^/cases/(CNM-[^?]+)\?filed=1$", anyway.headers["location"])  # type: ignore[attr-defined]
    assert new and new.group(1) != number
    link = run(client, DuplicateLink.get, case__number=new.group(1))
    assert link.applicant_told

    create_staff(client, "admin", Role.PLATFORM_ADMIN)
    switch_to(client, "admin", STAFF_PASSWORD)
    client.cookies.set("lang", "en")
    page = client.get(f"/cases/{new.group(1)}")
    assert STAFF_PART in page.text
    assert f'href="/cases/{number}"' in page.text
    assert "The applicant was told of the other case and filed anyway." in page.text
    earlier = client.get(f"/cases/{number}")
    assert f'href="/cases/{new.group(1)}"' in earlier.text


def test_another_person_typing_the_same_id_number_is_never_told(client: TestClient) -> None:
    number = signed_in_applicant(client)
    client.cookies.clear()
    register(client, identifier="13900002222", name="王五")
    client.cookies.set("lang", "en")

    response = post_filing(client)

    assert response.status_code == 303, response.text  # type: ignore[attr-defined]
    assert number not in response.headers["location"]  # type: ignore[attr-defined]
    page = client.get(response.headers["location"])  # type: ignore[attr-defined]
    assert number not in page.text
    assert count(client, Case) == 2


def test_the_order_number_is_kept_and_checked(client: TestClient) -> None:
    register(client)
    client.cookies.set("lang", "en")
    too_long = post_filing(client, order_number="X" * 65)
    assert too_long.status_code == 422  # type: ignore[attr-defined]
    assert 'id="order_number"' in too_long.text and 'aria-invalid="true"' in too_long.text  # type: ignore[attr-defined]
    assert count(client, Case) == 0

    number = file_case(client, order_number="DD-2026-0001")
    assert run(client, Case.get, number=number).order_number == "DD-2026-0001"
    # The same order, told in other words: still the same dispute.
    asked = post_filing(
        client, order_number="dd-2026-0001", facts="完全是另一种说法的事实描述，很长。"
    )
    assert asked.status_code == 409  # type: ignore[attr-defined]
    assert "You gave the same order number." in asked.text  # type: ignore[attr-defined]


def test_only_staff_handling_the_case_see_sources_links_and_the_signal(
    client: TestClient,
) -> None:
    """Two filings against two respondents (thresholds 2 and 2 here): the signal shows to
    the case's mediator, its organisation's admin and a platform admin, with its reason;
    never to the applicant, the respondent or the merchant, nor to other staff."""
    number = signed_in_applicant(client)
    file_case(client, respondent_id_number=uscc("91310105MA1FL0042"), respondent_name="另一家")
    applicant_id = run(client, User.get, mobile="13812345678").id

    org = create_organisation(client, "ORG1")
    other_org = create_organisation(client, "ORG2")
    mediator = create_staff(client, "med", Role.MEDIATOR, org.id)
    create_staff(client, "med2", Role.MEDIATOR, org.id)
    create_staff(client, "orgadmin", Role.ORG_ADMIN, org.id)
    create_staff(client, "otheradmin", Role.ORG_ADMIN, other_org.id)
    create_staff(client, "admin", Role.PLATFORM_ADMIN)
    run(client, Case.filter(number=number).update, mediator_id=mediator.id, organisation_id=org.id)

    client.cookies.clear()
    register(client, identifier="13900001111", name="旅行社客服")
    respondent = run(client, User.get, mobile="13900001111")
    run(
        client,
        Party.filter(case__number=number, side=Side.RESPONDENT).update,
        user_id=respondent.id,
    )

    def page_as(identifier: str, password: str) -> tuple[int, str]:
        switch_to(client, identifier, password)
        client.cookies.set("lang", "en")
        response = client.get(f"/cases/{number}")
        return response.status_code, response.text

    for who in ("med", "orgadmin", "admin"):
        status, text = page_as(who, STAFF_PASSWORD)
        assert status == 200, who
        assert SIGNAL in text, who
        assert "filed 2 disputes against 2 different respondents in the last 30 days" in text
        assert "nothing has been done because of it" in text
        assert STAFF_PART in text and "Opened this case." in text

    for who, password in (("13812345678", "correct horse 1"), ("13900001111", "correct horse 1")):
        status, text = page_as(who, password)
        assert status == 200, who
        assert SIGNAL not in text and STAFF_PART not in text, who
        assert "disputes against" not in text
    for who in ("med2", "otheradmin"):
        status, text = page_as(who, STAFF_PASSWORD)
        assert status == 404 and SIGNAL not in text, who
    # Nothing acted on it: the case is where filing left it, the applicant unchanged.
    assert str(run(client, Case.get, number=number).status) == "awaiting_consent"
    assert run(client, User.get, id=applicant_id).is_active


def test_a_merchant_never_sees_the_signal(client: TestClient) -> None:
    from tests.mediation.test_merchants_web import confirm_all, enrol

    merchant = uscc("91310105MA1FL7777")
    create_staff(client, "admin", Role.PLATFORM_ADMIN)
    enrol(client, merchant, "shop", "上海某某国际旅行社有限公司")
    confirm_all(client)
    client.cookies.clear()
    register(client)
    number = file_case(client, respondent_id_number=merchant)
    file_case(client, respondent_id_number=uscc("91310105MA1FL0042"), respondent_name="另一家")

    switch_to(client, "admin", STAFF_PASSWORD)
    client.cookies.set("lang", "en")
    assert SIGNAL in client.get(f"/cases/{number}").text  # the signal is there to see

    switch_to(client, "shop", STAFF_PASSWORD)
    client.cookies.set("lang", "en")
    inbox = client.get("/merchant")
    assert number in inbox.text and SIGNAL not in inbox.text
    page = client.get(f"/merchant/cases/{number}")
    assert page.status_code == 200
    assert SIGNAL not in page.text and STAFF_PART not in page.text
    assert "disputes against" not in page.text
    assert client.get(f"/cases/{number}").status_code == 404
