"""The early warnings' pages: who may see them, an alert acknowledged and resolved with
notes, the partner and the regulator told, a letter drafted, edited and issued (its PDF
downloaded with its SHA-256), the monthly report made on demand."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime

import pytest
from starlette.testclient import TestClient

from cases.accounts.actions import do_create_partner
from cases.accounts.models import Role
from cases.clock import SHANGHAI
from cases.models import Notice
from cases.warnings.models import Alert, AlertNote, MonthlyReport, SuggestionLetter
from cases.webhooks.actions import do_add_endpoint
from cases.webhooks.catalogue import GOVERNANCE_ALERT
from cases.webhooks.models import WebhookDelivery
from mediation.settings import Settings
from tests.support.factories import (
    STAFF_PASSWORD,
    cheap_password_hashing,
    create_staff,
    csrf_of,
    run,
    sign_in,
    switch_to,
)
from tests.support.warning_figures import seeded_surge

_ = cheap_password_hashing
NOW = datetime(2026, 12, 4, 10, tzinfo=SHANGHAI).astimezone(UTC)


@pytest.fixture
def world(client: TestClient, settings: Settings) -> int:
    create_staff(client, "gov", Role.GOVERNANCE, display_name="区司法局 王科长")
    create_staff(client, "clerk", Role.COURT_CLERK)
    return int(run(client, seeded_surge, settings, NOW))


def test_only_governance_staff_see_alerts(client: TestClient, world: int) -> None:
    assert client.get("/governance/alerts", follow_redirects=False).status_code == 303
    sign_in(client, "clerk", STAFF_PASSWORD)
    for path in ("/governance/alerts", f"/governance/alerts/{world}", "/governance/reports"):
        assert client.get(path).status_code == 403, path
    switch_to(client, "gov", STAFF_PASSWORD)
    page = client.get("/governance/alerts")
    assert page.status_code == 200 and "旅游费用退还" in page.text
    assert client.get("/governance/alerts/999999").status_code == 404


def test_an_alert_handled(client: TestClient, settings: Settings, world: int) -> None:
    partner, _ = run(client, do_create_partner, "某旅游平台")
    run(
        client,
        do_add_endpoint,
        partner.id,
        "https://hooks.example.com/in",
        [GOVERNANCE_ALERT],
        "",
        NOW,
    )
    sign_in(client, "gov", STAFF_PASSWORD)
    path = f"/governance/alerts/{world}"
    page = client.get(path)
    assert "<svg" in page.text and 'role="img"' in page.text  # the chart, and its table
    assert "张三" not in page.text and "13812345678" not in page.text
    token = csrf_of(client, path)
    done = client.post(
        f"{path}/move", data={"csrf_token": token, "action": "acknowledge", "text": "已核实"}
    )
    assert done.status_code == 200 and run(client, Alert.get, id=world).state == "acknowledged"
    # Resolving needs a note.
    refused = client.post(f"{path}/move", data={"csrf_token": token, "action": "resolve"})
    assert refused.status_code == 422
    # The same move twice: told, nothing changes.
    again = client.post(f"{path}/move", data={"csrf_token": token, "action": "acknowledge"})
    assert again.status_code == 409
    client.post(f"{path}/note", data={"csrf_token": token, "note": "旅行社承诺退款"})
    told = client.post(
        f"{path}/partner", data={"csrf_token": token, "partner": partner.id, "message": "请核查"}
    )
    assert told.status_code == 200
    assert run(client, WebhookDelivery.filter(event_type=GOVERNANCE_ALERT).count) == 1
    client.post(
        f"{path}/regulator",
        data={"csrf_token": token, "recipient": "scjgj@changning.example", "regulator_message": ""},
    )
    assert run(client, Notice.filter(recipient="scjgj@changning.example").count) == 1
    client.post(f"{path}/move", data={"csrf_token": token, "action": "resolve", "text": "已退款"})
    assert run(client, Alert.get, id=world).state == "resolved"
    page = client.get(path)
    for words in ("已核实", "旅行社承诺退款", "请核查", "scjgj@changning.example", "已退款"):
        assert words in page.text, words
    assert run(client, AlertNote.filter(alert_id=world).count) == 5


def test_a_letter_drafted_edited_issued(client: TestClient, settings: Settings, world: int) -> None:
    sign_in(client, "gov", STAFF_PASSWORD)
    token = csrf_of(client, f"/governance/alerts/{world}")
    drafted = client.post(
        f"/governance/alerts/{world}/letters",
        data={"csrf_token": token, "kind": "governance"},
        follow_redirects=False,
    )
    assert drafted.status_code == 303
    letter_path = drafted.headers["location"]
    page = client.get(letter_path)
    assert "诉源治理建议书" in page.text and "近7日涉及" in page.text
    letter_id = int(letter_path.rsplit("/", 1)[1])
    body = run(client, SuggestionLetter.get, id=letter_id).body + "\n特此建议。"
    blank = client.post(
        f"{letter_path}/edit",
        data={"csrf_token": token, "addressee": "", "title": "诉源治理建议书", "body": body},
    )
    assert blank.status_code == 422
    issued = client.post(
        f"{letter_path}/edit",
        data={
            "csrf_token": token,
            "addressee": "某旅行社",
            "title": "诉源治理建议书",
            "body": body,
            "then": "issue",
        },
    )
    assert issued.status_code == 200
    letter = run(client, SuggestionLetter.get, id=letter_id)
    assert letter.state == "issued" and letter.pdf_sha256 in issued.text
    pdf = client.get(f"{letter_path}.pdf")
    assert pdf.headers["content-type"] == "application/pdf"
    assert hashlib.sha256(pdf.content).hexdigest() == letter.pdf_sha256
    # Issued: fixed.
    changed = client.post(
        f"{letter_path}/edit",
        data={"csrf_token": token, "addressee": "x", "title": "y", "body": "z"},
    )
    assert changed.status_code == 409


def test_the_monthly_report_on_demand(client: TestClient, world: int) -> None:
    sign_in(client, "gov", STAFF_PASSWORD)
    token = csrf_of(client, "/governance/reports")
    assert (
        client.post(
            "/governance/reports", data={"csrf_token": token, "month": "12/2026"}
        ).status_code
        == 422
    )
    made = client.post("/governance/reports", data={"csrf_token": token, "month": "2026-12"})
    assert made.status_code == 200 and "2026-12" in made.text
    report = run(client, MonthlyReport.get, month="2026-12")
    pdf = client.get("/governance/reports/2026-12.pdf")
    assert hashlib.sha256(pdf.content).hexdigest() == report.pdf_sha256
    assert client.get("/governance/reports/2026-13.pdf").status_code == 404


def test_in_english_on_request(client: TestClient, world: int) -> None:
    sign_in(client, "gov", STAFF_PASSWORD)
    page = client.get(f"/governance/alerts/{world}", headers={"accept-language": "en"})
    assert page.status_code == 200
    for words in ("Surge of filings", "week 49 of 2026", "more than 3 times the median week"):
        assert words in page.text, words
    assert "Alerts" in client.get("/governance/alerts", headers={"accept-language": "en"}).text
