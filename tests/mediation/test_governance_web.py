"""The district's figures through the pages (issue 13): who may see the dashboard (district
governance staff and platform admins; an organisation's admin forced to their own
organisation; nobody else), every view logged, the drill-down's anonymised cases, the
downloads, the public statistics page (suppressed) and a partner's own figures through the
API. No page shows a party's name, ID number, mobile or words."""

from __future__ import annotations

import io
import re
from datetime import timedelta

import pytest
from openpyxl import load_workbook
from starlette.testclient import TestClient

from cases.accounts.actions import do_create_partner
from cases.accounts.models import Role, User
from cases.analytics.actions import roll_up_due
from cases.clock import utcnow
from cases.governance.models import Audience, FigureView
from tests.support.factories import (
    STAFF_PASSWORD,
    api_filing_body,
    cheap_password_hashing,
    create_organisation,
    create_staff,
    file_case,
    filing_fields,
    register,
    resident_id,
    run,
    switch_to,
    uscc,
)

VIEWS = ["volume", "ranking", "funnel", "compliance", "workload", "scorecards"]
APPLICANT = filing_fields()
PERSONAL = [
    APPLICANT["applicant_name"],
    APPLICANT["applicant_id_number"],
    APPLICANT["applicant_mobile"],
    APPLICANT["applicant_email"],
    APPLICANT["applicant_address"],
    APPLICANT["facts"],
    APPLICANT["requested_outcome"],
    "李四",
    resident_id("11010119850101002"),
]


@pytest.fixture(autouse=True)
def _fast_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    cheap_password_hashing(monkeypatch)


@pytest.fixture
def world(client: TestClient) -> dict[str, object]:
    home = create_organisation(client, "CN-GOV-A", "长宁区甲调解委员会")
    other = create_organisation(client, "CN-GOV-B", "长宁区乙调解委员会")
    create_staff(client, "gov", Role.GOVERNANCE)
    create_staff(client, "admin", Role.PLATFORM_ADMIN)
    create_staff(client, "orgadmin", Role.ORG_ADMIN, organisation_id=home.id)
    create_staff(client, "mediator", Role.MEDIATOR, organisation_id=home.id)
    create_staff(client, "clerk", Role.COURT_CLERK)
    register(client)
    numbers = [file_case(client)]
    numbers.append(
        file_case(
            client,
            applicant_name="李四",
            applicant_id_number=resident_id("11010119850101002"),
            category="tour_contract",
            respondent_id_number=uscc("91310105MA1FL0002"),
            facts="旅行社临时更换酒店且拒绝退还差价。",
        )
    )
    numbers.append(
        file_case(
            client,
            domain="internet",
            category="goods_quality",
            respondent_name="上海乐购优选电子商务有限公司",
            respondent_id_number=uscc("91310105MA1FL0003"),
            facts="网购的电饭煲收到时外壳破裂，商家拒绝退货。",
        )
    )
    run(client, roll_up_due, utcnow() + timedelta(seconds=1))
    client.cookies.clear()
    return {"home": home.id, "other": other.id, "numbers": numbers}


def _views_logged(client: TestClient) -> list[FigureView]:
    return list(run(client, lambda: FigureView.all().order_by("id")))


def test_only_governance_staff_platform_admins_and_organisation_admins_see_figures(
    client: TestClient, world: dict[str, object]
) -> None:
    page = client.get("/governance/ranking", follow_redirects=False)
    assert page.status_code == 303 and page.headers["location"].startswith("/signin")
    for who in ("13812345678", "mediator", "clerk"):
        password = "correct horse 1" if who.isdigit() else STAFF_PASSWORD
        switch_to(client, who, password)
        for path in [
            "/governance",
            "/governance/funnel",
            "/governance/cases",
            "/governance/volume.csv",
        ]:
            assert client.get(path).status_code == 403, (who, path)
    for who in ("gov", "admin", "orgadmin"):
        switch_to(client, who, STAFF_PASSWORD)
        for view in VIEWS:
            page = client.get(f"/governance/{view}")
            assert page.status_code == 200, (who, view, page.text[:2000])
            assert "<script" not in page.text
    assert client.get("/governance/nothing").status_code == 404


def test_governance_staff_land_on_the_dashboard(
    client: TestClient, world: dict[str, object]
) -> None:
    page = client.post(
        "/signin",
        data={"csrf_token": _csrf(client), "identifier": "gov", "password": STAFF_PASSWORD},
        follow_redirects=False,
    )
    assert page.headers["location"] == "/governance"
    assert 'href="/governance"' in client.get("/governance").text
    # The early warnings are one link away; an organisation admin, who has no alerts, sees none.
    assert 'href="/governance/alerts"' in client.get("/governance").text
    switch_to(client, "orgadmin", STAFF_PASSWORD)
    assert 'href="/governance/alerts"' not in client.get("/governance").text


def _csrf(client: TestClient) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/signin").text)
    assert found
    return found.group(1)


def test_every_page_of_figures_is_free_of_personal_data_and_drills_down(
    client: TestClient, world: dict[str, object]
) -> None:
    switch_to(client, "gov", STAFF_PASSWORD)
    pages = [client.get(f"/governance/{view}").text for view in VIEWS]
    pages.append(client.get("/governance/volume?by=category&grain=month").text)
    drill = client.get("/governance/cases?domain=tourism")
    assert drill.status_code == 200
    pages.append(drill.text)
    for text in pages:
        for personal in PERSONAL:
            assert personal not in text
    numbers = world["numbers"]
    assert isinstance(numbers, list)
    # The drill-down lists the tourism cases by number, not the internet one.
    assert numbers[0] in drill.text and numbers[1] in drill.text
    assert numbers[2] not in drill.text
    # Every figure's table links to the cases behind it.
    ranking = client.get("/governance/ranking?by=category").text
    links = re.findall(r'href="(/governance/cases\?[^"]+)"', ranking)
    assert links
    behind = client.get(links[0].replace("&amp;", "&"))
    assert behind.status_code == 200 and "CNM-" in behind.text
    # Governance staff never reach a case itself: no link to one, and its page is not theirs.
    assert 'href="/cases/' not in drill.text
    assert client.get(f"/cases/{numbers[0]}").status_code == 404
    # A drill-down asked for what is no figure is the whole list, not an error.
    for query in ("dimension=merchant&key=abc", "stage=nowhere", "dimension=x&key=1", "page=0"):
        assert client.get(f"/governance/cases?{query}").status_code == 200, query


def test_every_view_is_logged_with_who_and_the_filter(
    client: TestClient, world: dict[str, object]
) -> None:
    switch_to(client, "gov", STAFF_PASSWORD)
    before = len(_views_logged(client))
    client.get("/governance/volume?domain=tourism&grain=month")
    client.get("/governance/cases?category=tour_refund")
    client.get("/governance/funnel.csv")
    views = _views_logged(client)[before:]
    gov = run(client, User.get, username="gov")
    assert [(v.view, v.user_id, v.audience) for v in views] == [
        ("volume", gov.id, Audience.GOVERNANCE),
        ("cases", gov.id, Audience.GOVERNANCE),
        ("export", gov.id, Audience.GOVERNANCE),
    ]
    assert views[0].filters["domain"] == "tourism" and views[0].filters["grain"] == "month"
    assert views[1].filters["category"] == "tour_refund"
    assert views[2].filters["view"] == "funnel" and views[2].filters["format"] == "csv"


def test_an_organisation_admin_sees_only_their_own_organisation(
    client: TestClient, world: dict[str, object]
) -> None:
    switch_to(client, "orgadmin", STAFF_PASSWORD)
    page = client.get(f"/governance/volume?organisation={world['other']}")
    assert page.status_code == 200
    assert 'id="organisation"' not in page.text  # no choice of organisation
    assert _views_logged(client)[-1].filters["organisation"] == str(world["home"])
    client.get(f"/governance/cases?organisation={world['other']}")
    assert _views_logged(client)[-1].filters["organisation"] == str(world["home"])
    assert _views_logged(client)[-1].audience == Audience.ORGANISATION


def test_every_table_downloads_as_csv_and_excel(
    client: TestClient, world: dict[str, object]
) -> None:
    switch_to(client, "gov", STAFF_PASSWORD)
    for view in VIEWS:
        csv = client.get(f"/governance/{view}.csv")
        assert csv.status_code == 200, (view, csv.text[:500])
        assert csv.headers["content-type"].startswith("text/csv")
        assert csv.content.startswith(b"\xef\xbb\xbf")
        assert "attachment" in csv.headers["content-disposition"]
        xlsx = client.get(f"/governance/{view}.xlsx")
        assert xlsx.status_code == 200
        load_workbook(io.BytesIO(xlsx.content))
    cases = client.get("/governance/cases.csv?domain=tourism").content.decode("utf-8-sig")
    numbers = world["numbers"]
    assert isinstance(numbers, list)
    assert numbers[0] in cases and numbers[2] not in cases
    for personal in PERSONAL:
        assert personal not in cases
    assert client.get("/governance/volume.pdf").status_code == 404


def _numbers_in_tables(html: str) -> list[str]:
    return re.findall(r'<td class="n">\s*([^<]*?)\s*</td>', html)


def test_the_public_statistics_page_shows_no_small_number(
    client: TestClient, world: dict[str, object]
) -> None:
    from mediation import statistics_view

    statistics_view._cache.clear()  # kept a few minutes per process: this test's database
    page = client.get("/statistics")
    assert page.status_code == 200
    cells = _numbers_in_tables(page.text)
    assert cells
    for cell in cells:
        assert cell == "" or (cell.isdigit() and (int(cell) == 0 or int(cell) >= 5)), cell
    # Three cases in all: the total is small too, so it is hidden.
    assert ">3<" not in page.text
    for personal in PERSONAL:
        assert personal not in page.text
    assert _views_logged(client)[-1].audience == Audience.PUBLIC


def test_a_partner_reads_its_own_figures_through_the_api(
    client: TestClient, world: dict[str, object]
) -> None:
    partner, key = run(client, do_create_partner, "图表测试平台")
    auth = {"authorization": f"Bearer {key}"}
    filed = client.post(
        "/api/v1/disputes",
        json=api_filing_body(
            partner_reference="FIG-1",
            applicant_name="赵六",
            applicant_id_number=resident_id("31010519880808004"),
            respondent_id_number=uscc("91310105MA1FL0004"),
        ),
        headers={**auth, "Idempotency-Key": "fig-1"},
    )
    assert filed.status_code == 201, filed.text
    run(client, roll_up_due, utcnow() + timedelta(seconds=1))
    answer = client.get("/api/v1/figures?grain=month&by=category", headers=auth)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["grain"] == "month" and body["by"] == "category"
    # Only the dispute filed through this partner counts, not the three filed on the web.
    assert sum(point["count"] for point in body["volume"]) == 1
    assert body["funnel"][0]["count"] == 1
    assert "张三" not in answer.text and "赵六" not in answer.text
    assert {"stage", "label", "count", "rate", "median_days"} <= set(body["funnel"][0])
    logged = _views_logged(client)[-1]
    assert logged.audience == Audience.PARTNER and logged.partner_id == partner.id
    assert logged.filters["partner"] == str(partner.id)
    assert client.get("/api/v1/figures").status_code == 401
    assert client.get("/api/v1/figures?grain=year", headers=auth).status_code == 400
    assert client.get("/api/v1/figures?start=2026-02-30", headers=auth).status_code == 400
    assert client.get("/api/v1/figures?start=1999-01-01", headers=auth).status_code == 200


def test_platform_admins_read_who_looked_at_the_figures(
    client: TestClient, world: dict[str, object]
) -> None:
    switch_to(client, "gov", STAFF_PASSWORD)
    client.get("/governance/funnel?domain=internet")
    switch_to(client, "mediator", STAFF_PASSWORD)
    assert client.get("/governance/log").status_code == 403
    switch_to(client, "orgadmin", STAFF_PASSWORD)
    assert client.get("/governance/log").status_code == 403
    switch_to(client, "admin", STAFF_PASSWORD)
    log = client.get("/governance/log")
    assert log.status_code == 200
    assert "(gov)" in log.text and "funnel" in log.text and "domain=internet" in log.text


def test_the_dashboard_in_english(client: TestClient, world: dict[str, object]) -> None:
    switch_to(client, "gov", STAFF_PASSWORD)
    client.get("/lang/en?next=/governance", follow_redirects=False)
    page = client.get("/governance/ranking")
    assert "Where disputes come from" in page.text and "Download CSV" in page.text


def test_the_downloads_hold_the_numbers_of_the_page(
    client: TestClient, world: dict[str, object]
) -> None:
    import csv as csv_module

    switch_to(client, "gov", STAFF_PASSWORD)
    query = "by=category&domain=tourism"
    page = client.get(f"/governance/ranking?{query}").text
    rows = re.findall(r'<tr>\s*<th scope="row">([^<]+)</th>\s*<td class="n">(\d+)</td>', page)
    assert rows
    download = client.get(f"/governance/ranking.csv?{query}").content.decode("utf-8-sig")
    table = list(csv_module.reader(io.StringIO(download)))
    assert [(row[0], row[1]) for row in table[1:]] == rows
    book = load_workbook(io.BytesIO(client.get(f"/governance/ranking.xlsx?{query}").content))
    sheet = book[book.sheetnames[0]]
    cells = [(str(r[0].value), str(r[1].value)) for r in sheet.iter_rows(min_row=3)]
    assert cells[: len(rows)] == rows
    # An organisation's admin downloads their own organisation's figures only.
    switch_to(client, "orgadmin", STAFF_PASSWORD)
    client.get(f"/governance/ranking.csv?organisation={world['other']}")
    assert _views_logged(client)[-1].filters["organisation"] == str(world["home"])
