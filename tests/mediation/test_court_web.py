"""The court handoff over HTTP: the mediator's end form, the applicant's transfer, the joint
confirmation with its pre-check shown before anything is sent, the court's signed callbacks
(bad signature, repeated, reordered, late, ECF), correction and resubmission, capability
links for evidence, the admins' dead letters, and who may use each route."""

from __future__ import annotations

import json
import re
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from starlette.testclient import TestClient

from cases.accounts.models import Role, User
from cases.models import (
    Case,
    CourtCallback,
    CourtFiling,
    FilingStatus,
    Notice,
    OutboxMessage,
    OutboxStatus,
    Party,
    TimelineEvent,
)
from cases.status import Status
from courtwire import signing
from courtwire.ecf import ReviewResult, build_review_callback
from courtwire.evidence_links import EvidenceLink, link_path
from mediation.settings import Settings
from tests.support import court_world as w
from tests.support.factories import (
    STAFF_PASSWORD,
    cheap_password_hashing,
    create_staff,
    csrf_of,
    run,
    switch_to,
)
from tests.support.rooms import APPLICANT, MEDIATOR, OTHER_MEDIATOR, OUTSIDER, RESPONDENT

ADMIN = ("court_admin", STAFF_PASSWORD)
CALLBACKS = "/api/v1/court/callbacks"
FAILED_FORM = {
    "ending": "failed",
    "undisputed_facts": w.UNDISPUTED,
    "reasons_for_failure": w.REASONS,
    "cost_raising_conduct": w.COSTS,
}


@pytest.fixture(autouse=True)
def _fast_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    cheap_password_hashing(monkeypatch)


@pytest.fixture
def world(client: TestClient, settings: Settings) -> w.CourtWorld:
    world: w.CourtWorld = run(client, w.build_court_world, settings)
    create_staff(client, ADMIN[0], Role.PLATFORM_ADMIN, display_name="平台管理员")
    org_id = run(client, _org_of, world.case_id)
    create_staff(client, OTHER_MEDIATOR[0], Role.MEDIATOR, org_id, "调解员 赵")
    return world


async def _org_of(case_id: int) -> int:
    return int((await Case.get(id=case_id)).organisation_id or 0)


def post_form(client: TestClient, path: str, data: dict[str, Any], page: str | None = None) -> Any:
    token = csrf_of(client, page or path)
    return client.post(path, data={"csrf_token": token, **data}, follow_redirects=False)


def as_(client: TestClient, who: tuple[str, str]) -> None:
    switch_to(client, *who)


async def _case(number: str) -> Case:
    return await Case.get(number=number)


def status_of(client: TestClient, number: str) -> str:
    return str(run(client, _case, number).status)


def end_as_failed(client: TestClient, world: w.CourtWorld) -> None:
    as_(client, MEDIATOR)
    page = client.get(f"/cases/{world.case_number}/end")
    assert page.status_code == 200
    answer = post_form(client, f"/cases/{world.case_number}/end", FAILED_FORM)
    assert answer.status_code == 303, answer.text[:2000]


def transfer(client: TestClient, world: w.CourtWorld) -> CourtFiling:
    end_as_failed(client, world)
    as_(client, APPLICANT)
    answer = post_form(client, f"/cases/{world.case_number}/court/transfer", {})
    assert answer.status_code == 303, answer.text[:2000]
    filing: CourtFiling = run(client, _latest_filing, world.case_id)
    return filing


async def _latest_filing(case_id: int) -> CourtFiling | None:
    return await CourtFiling.filter(case_id=case_id).order_by("-id").first()


# --- pages --------------------------------------------------------------------------------------


def test_the_mediator_ends_mediation_and_the_parties_see_the_record(
    client: TestClient, world: w.CourtWorld
) -> None:
    as_(client, MEDIATOR)
    case_page = client.get(f"/cases/{world.case_number}")
    assert f'href="/cases/{world.case_number}/end"' in case_page.text
    form = client.get(f"/cases/{world.case_number}/end")
    assert "第二十一条" in form.text or "Art. 21" in form.text
    assert "第二十六条" in form.text  # the other-routes notice, in Chinese first
    bad = post_form(client, f"/cases/{world.case_number}/end", {"ending": "failed"})
    assert bad.status_code == 422
    assert "此项为必填项" in bad.text or "required" in bad.text
    assert status_of(client, world.case_number) == "in_mediation"
    end_as_failed(client, world)
    as_(client, APPLICANT)
    page = client.get(f"/cases/{world.case_number}")
    assert w.UNDISPUTED in page.text and w.REASONS in page.text
    assert f'href="/cases/{world.case_number}/court/transfer"' in page.text
    # The respondent sees the record but is not offered the transfer.
    as_(client, RESPONDENT)
    page = client.get(f"/cases/{world.case_number}")
    assert w.REASONS in page.text
    assert "/court/transfer" not in page.text


def test_transfer_page_shows_the_record_and_the_precheck_before_sending(
    client: TestClient, world: w.CourtWorld
) -> None:
    end_as_failed(client, world)
    as_(client, APPLICANT)
    page = client.get(f"/cases/{world.case_number}/court/transfer")
    assert page.status_code == 200
    assert w.UNDISPUTED in page.text
    assert 'class="precheck ok"' in page.text
    # The wire format is the platform's business, not a disputant's (issue 11): no choice of
    # JSON or ECF on the party's page, the platform's default goes.
    assert "wire_format" not in page.text and "ECF" not in page.text
    assert "技术选项" not in page.text and "JSON" not in page.text
    assert run(client, _latest_filing, world.case_id) is None  # looking sends nothing
    filing = transfer_after_end(client, world)
    assert filing.status == FilingStatus.QUEUED
    assert status_of(client, world.case_number) == "transferred"
    page = client.get(f"/cases/{world.case_number}")
    assert "court" in page.text and filing.filing_id in page.text


def transfer_after_end(client: TestClient, world: w.CourtWorld) -> CourtFiling:
    answer = post_form(client, f"/cases/{world.case_number}/court/transfer", {})
    assert answer.status_code == 303, answer.text[:2000]
    filing: CourtFiling = run(client, _latest_filing, world.case_id)
    return filing


def test_confirmation_shows_blocking_findings_and_sends_nothing(
    client: TestClient, world: w.CourtWorld, settings: Settings
) -> None:
    run(
        client,
        w.make_effective_agreement,
        settings,
        world,
        effective_at=datetime.now(UTC) - timedelta(days=40),
    )
    as_(client, APPLICANT)
    page = client.get(f"/cases/{world.case_number}/court/confirmation")
    assert page.status_code == 200
    assert 'class="precheck blocked"' in page.text
    assert 'data-code="confirmation_deadline_passed"' in page.text
    assert re.search(r'value="apply"\s+disabled', page.text)
    answer = post_form(
        client,
        f"/cases/{world.case_number}/court/confirmation",
        {"action": "apply"},
        f"/cases/{world.case_number}/court/confirmation",
    )
    assert answer.status_code == 422
    assert 'data-code="confirmation_deadline_passed"' in answer.text
    assert run(client, _latest_filing, world.case_id) is None
    assert status_of(client, world.case_number) == "settled"


def test_both_parties_apply_for_confirmation_through_the_pages(
    client: TestClient, world: w.CourtWorld, settings: Settings
) -> None:
    run(client, w.make_effective_agreement, settings, world)
    path = f"/cases/{world.case_number}/court/confirmation"
    as_(client, RESPONDENT)
    page = client.get(path)
    assert 'class="precheck ok"' in page.text
    assert post_form(client, path, {"action": "apply"}).status_code == 303
    assert status_of(client, world.case_number) == "settled"
    filing = run(client, _latest_filing, world.case_id)
    assert filing.status == FilingStatus.AWAITING_PARTIES
    as_(client, APPLICANT)
    case_page = client.get(f"/cases/{world.case_number}")
    assert "awaiting_parties" in case_page.text
    assert post_form(client, path, {"action": "apply"}).status_code == 303
    assert status_of(client, world.case_number) == "confirmation_requested"
    assert run(client, _latest_filing, world.case_id).status == FilingStatus.QUEUED


# --- who may use each route ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("who", "end", "transfer", "confirm"),
    [
        (MEDIATOR, 200, 403, 403),
        (OTHER_MEDIATOR, 404, 404, 404),
        (APPLICANT, 403, 200, 200),
        (RESPONDENT, 403, 200, 200),
        (OUTSIDER, 404, 404, 404),
        (ADMIN, 403, 403, 403),
    ],
)
def test_who_may_open_each_page(
    client: TestClient,
    world: w.CourtWorld,
    who: tuple[str, str],
    end: int,
    transfer: int,
    confirm: int,
) -> None:
    as_(client, who)
    number = world.case_number
    for path, expected in (
        (f"/cases/{number}/end", end),
        (f"/cases/{number}/court/transfer", transfer),
        (f"/cases/{number}/court/confirmation", confirm),
    ):
        answer = client.get(path)
        assert answer.status_code == expected, (who, path)
        if expected == 404:
            # No data of the case (the path itself is echoed in the language switch).
            assert "张三" not in answer.text and "云南六日游" not in answer.text
    # Nobody may correct what was never returned, and an outsider cannot learn that.
    assert client.get(f"/cases/{number}/court/correction").status_code in (403, 404)
    # Posting is refused the same way, and changes nothing.
    answer = client.post(
        f"/cases/{number}/end",
        data={"csrf_token": csrf_of(client, "/cases"), **FAILED_FORM},
        follow_redirects=False,
    )
    assert answer.status_code in (303, 403, 404)
    if who != MEDIATOR:
        assert status_of(client, number) == "in_mediation"
    # The parties' forms: refused as the pages are (a party is told the case is not ready).
    for path, expected in (
        (f"/cases/{number}/court/transfer", transfer),
        (f"/cases/{number}/court/confirmation", confirm),
    ):
        answer = client.post(
            path,
            data={"csrf_token": csrf_of(client, "/cases"), "action": "apply"},
            follow_redirects=False,
        )
        if expected == 200:
            # Not ready: the applicant is told so; the respondent never asks for a transfer.
            expected = 403 if (who, path.rsplit("/", 1)[1]) == (RESPONDENT, "transfer") else 409
        assert answer.status_code == expected, (who, path)
    assert run(client, _latest_filing, world.case_id) is None


def test_signed_out_visitors_are_sent_to_sign_in(client: TestClient, world: w.CourtWorld) -> None:
    for path in (
        f"/cases/{world.case_number}/end",
        f"/cases/{world.case_number}/court/transfer",
        f"/cases/{world.case_number}/court/confirmation",
        f"/cases/{world.case_number}/court/correction",
        "/admin/court/outbox",
    ):
        answer = client.get(path, follow_redirects=False)
        assert answer.status_code == 303 and answer.headers["location"].startswith("/signin")


def test_the_transfer_form_needs_its_csrf_token(client: TestClient, world: w.CourtWorld) -> None:
    end_as_failed(client, world)
    as_(client, APPLICANT)
    answer = client.post(
        f"/cases/{world.case_number}/court/transfer", data={}, follow_redirects=False
    )
    assert answer.status_code == 403
    assert run(client, _latest_filing, world.case_id) is None


# --- callbacks ----------------------------------------------------------------------------------

OTHER_SECRET = signing.secret_from_key(b"\x09" * 32)


def callback_body(filing: CourtFiling, number: str, status: str, **data: Any) -> bytes:
    event = {
        "specversion": "1.0",
        "id": str(uuid.uuid4()),
        # The form desks sent before the source was percent-encoded: still read.
        "source": "urn:cn:court:沪0105",
        "type": f"cn.court.filing.{status}.v1",
        "subject": filing.filing_id,
        "time": datetime.now(UTC).isoformat(),
        "datacontenttype": "application/json",
        "data": {
            "filing_id": filing.filing_id,
            "case_number": number,
            "status": status,
            "court_case_number": None,
            "reason": None,
            "decided_at": datetime.now(UTC).isoformat(),
            **data,
        },
    }
    return json.dumps(event, ensure_ascii=False).encode("utf-8")


def send_callback(
    client: TestClient,
    settings: Settings,
    body: bytes,
    *,
    webhook_id: str | None = None,
    content_type: str = "application/cloudevents+json",
    secret: str | None = None,
) -> Any:
    msg_id = webhook_id or str(uuid.uuid4())
    headers = signing.headers_for(
        secret or settings.court_callback_secret, msg_id, int(time.time()), body
    )
    headers["content-type"] = content_type
    return client.post(CALLBACKS, content=body, headers=headers)


async def _callbacks() -> list[CourtCallback]:
    return await CourtCallback.all().order_by("id")


async def _filing(filing_id: str) -> CourtFiling:
    return await CourtFiling.get(filing_id=filing_id)


DOCKET = "(2026)沪0105民初321号"


def test_a_bad_signature_is_refused_and_nothing_is_kept(
    client: TestClient, world: w.CourtWorld, settings: Settings
) -> None:
    filing = transfer(client, world)
    body = callback_body(filing, world.case_number, "docketed", court_case_number=DOCKET)
    wrong = signing.secret_from_key(b"not the court's key at all, no")
    answer = send_callback(client, settings, body, secret=wrong)
    assert answer.status_code == 401
    assert answer.json() == {"error": "bad_signature"}
    # A good signature over other bytes is just as bad.
    headers = signing.headers_for(settings.court_callback_secret, "cb-1", int(time.time()), b"{}")
    headers["content-type"] = "application/cloudevents+json"
    assert client.post(CALLBACKS, content=body, headers=headers).status_code == 401
    # Old timestamps are replays.
    old = signing.headers_for(settings.court_callback_secret, "cb-2", int(time.time()) - 3600, body)
    old["content-type"] = "application/cloudevents+json"
    answer = client.post(CALLBACKS, content=body, headers=old)
    assert (answer.status_code, answer.json()["error"]) == (401, "timestamp_out_of_tolerance")
    assert client.post(CALLBACKS, content=body).status_code == 401  # unsigned
    assert run(client, _callbacks) == []
    assert run(client, _filing, filing.filing_id).status == FilingStatus.QUEUED
    assert status_of(client, world.case_number) == "transferred"


def test_docketed_then_a_repeat_then_a_late_acceptance(
    client: TestClient, world: w.CourtWorld, settings: Settings
) -> None:
    filing = transfer(client, world)
    docketed = callback_body(filing, world.case_number, "docketed", court_case_number=DOCKET)
    first = send_callback(client, settings, docketed, webhook_id="cb-docketed")
    assert (first.status_code, first.json()) == (200, {"applied": True})
    case = run(client, _case, world.case_number)
    assert case.status == Status.DOCKETED
    stored = run(client, _filing, filing.filing_id)
    assert (stored.status, stored.court_case_number) == (FilingStatus.DOCKETED, DOCKET)
    # The same callback again (the desk's relay retried): kept once, applied once.
    again = send_callback(client, settings, docketed, webhook_id="cb-docketed")
    assert (again.status_code, again.json()) == (200, {"applied": False})
    # "accepted" overtaken by "docketed" arrives late: recorded, changes nothing.
    late = send_callback(
        client, settings, callback_body(filing, world.case_number, "accepted"), webhook_id="cb-acc"
    )
    assert (late.status_code, late.json()) == (200, {"applied": False})
    callbacks = run(client, _callbacks)
    assert [(c.webhook_id, c.applied) for c in callbacks] == [
        ("cb-docketed", True),
        ("cb-acc", False),
    ]
    assert run(client, _filing, filing.filing_id).status == FilingStatus.DOCKETED
    assert status_of(client, world.case_number) == "docketed"
    # The parties were told, with the court case number.
    notices = run(client, _notices_with, DOCKET)
    assert notices >= 2
    # The applicant sees the court's number on the case page.
    as_(client, APPLICANT)
    assert DOCKET in client.get(f"/cases/{world.case_number}").text


async def _notices_with(text: str) -> int:
    return len([n for n in await Notice.all() if text in n.body])


def test_accepted_then_docketed_in_order(
    client: TestClient, world: w.CourtWorld, settings: Settings
) -> None:
    filing = transfer(client, world)
    for status, extra in (("accepted", {}), ("docketed", {"court_case_number": DOCKET})):
        body = callback_body(filing, world.case_number, status, **extra)
        assert send_callback(client, settings, body).json() == {"applied": True}
    assert status_of(client, world.case_number) == "docketed"


@pytest.mark.parametrize(
    ("change", "error"),
    [
        ({"status": "docketed"}, "docketed_without_court_case_number"),
        ({"status": "returned"}, "reason_required"),
        ({"status": "docketed", "court_case_number": "2026民初1号"}, "bad_court_case_number"),
        ({"status": "archived"}, "type_does_not_match_status"),
        ({"decided_at": "yesterday"}, "bad_decided_at"),
        # Read by the platform's one JSON reader (issue 9): no text that could not be stored,
        # no nesting past what a CloudEvent needs.
        ({"reason": "补正\ud800"}, "bad_text"),
        ({"reason": "补正\x00"}, "bad_text"),
        ({"extra": [[[[[[[[[[]]]]]]]]]]}, "json_too_deep"),
    ],
)
def test_a_malformed_callback_is_422_and_changes_nothing(
    client: TestClient,
    world: w.CourtWorld,
    settings: Settings,
    change: dict[str, Any],
    error: str,
) -> None:
    filing = transfer(client, world)
    event = json.loads(callback_body(filing, world.case_number, "accepted"))
    event["data"].update(change)
    if "status" in change and change["status"] != "archived":
        event["type"] = f"cn.court.filing.{change['status']}.v1"
    body = json.dumps(event).encode()
    answer = send_callback(client, settings, body)
    assert answer.status_code == 422
    assert answer.json() == {"error": "invalid_callback", "details": [error]}
    assert run(client, _callbacks) == []
    assert run(client, _filing, filing.filing_id).status == FilingStatus.QUEUED


def test_not_json_and_unknown_filings(
    client: TestClient, world: w.CourtWorld, settings: Settings
) -> None:
    filing = transfer(client, world)
    answer = send_callback(client, settings, b"not json")
    assert (answer.status_code, answer.json()["details"]) == (422, ["not_json"])
    ghost = CourtFiling(filing_id=str(uuid.uuid4()))
    body = callback_body(ghost, world.case_number, "accepted")
    answer = send_callback(client, settings, body)
    assert (answer.status_code, answer.json()) == (404, {"error": "unknown_filing"})
    assert run(client, _callbacks) == []
    assert run(client, _filing, filing.filing_id).status == FilingStatus.QUEUED


def test_a_callback_secret_without_base64_padding_works(database_url: str) -> None:
    """Once a 500 (the secret could not be decoded); the reference libraries accept it. A
    platform process configured with the unpadded secret verifies callbacks signed with it."""
    import httpx

    from tests.support.live_server import run_server

    padded = signing.secret_from_key(b"\x05" * 31)  # base64 ends in "=="
    unpadded = padded.rstrip("=")
    ghost = CourtFiling(filing_id=str(uuid.uuid4()))
    body = callback_body(ghost, "CNM-2026-T-00001", "accepted")
    env = {"DATABASE_URL": database_url, "COURT_CALLBACK_SECRET": unpadded}
    with run_server(env) as platform:

        def post(secret: str) -> httpx.Response:
            headers = signing.headers_for(secret, str(uuid.uuid4()), int(time.time()), body)
            headers["content-type"] = "application/cloudevents+json"
            return httpx.post(f"{platform}{CALLBACKS}", content=body, headers=headers)

        # Verified (then: no such filing here), with either spelling of the secret.
        for secret in (padded, unpadded):
            answer = post(secret)
            assert (answer.status_code, answer.json()) == (404, {"error": "unknown_filing"})
        assert post(OTHER_SECRET).status_code == 401


def test_an_ecf_review_callback_dockets_the_case(
    client: TestClient, world: w.CourtWorld, settings: Settings
) -> None:
    filing = transfer(client, world)
    xml = build_review_callback(
        ReviewResult(
            filing_id=filing.filing_id,
            status="accepted",
            case_tracking_id=world.case_number,
            reviewed_at=datetime.now(UTC),
            case_docket_id="（2026）沪0105民初77号",
        )
    )
    answer = send_callback(client, settings, xml, content_type="application/xml")
    assert (answer.status_code, answer.json()) == (200, {"applied": True})
    stored = run(client, _filing, filing.filing_id)
    # Stored in canonical form, whatever parentheses the clerk typed.
    assert stored.court_case_number == "(2026)沪0105民初77号"
    assert status_of(client, world.case_number) == "docketed"


def test_returned_corrected_resubmitted_and_the_old_filing_stays_put(
    client: TestClient, world: w.CourtWorld, settings: Settings
) -> None:
    filing = transfer(client, world)
    reason = "请补充被申请人的准确送达地址及事实经过。"
    returned = callback_body(filing, world.case_number, "returned", reason=reason)
    assert send_callback(client, settings, returned).json() == {"applied": True}
    assert status_of(client, world.case_number) == "returned_for_correction"
    # The applicant sees the court's reason and may correct.
    as_(client, APPLICANT)
    page = client.get(f"/cases/{world.case_number}")
    assert reason in page.text
    assert f'href="/cases/{world.case_number}/court/correction"' in page.text
    form = client.get(f"/cases/{world.case_number}/court/correction")
    assert form.status_code == 200 and reason in form.text
    # A mistake: nothing is sent.
    bad = post_form(
        client,
        f"/cases/{world.case_number}/court/correction",
        {"facts": "", "requested_outcome": "退还团费", "applicant_service_address": "x"},
    )
    assert bad.status_code == 422
    assert run(client, _latest_filing, world.case_id).filing_id == filing.filing_id
    new_facts = "2026年10月报名参加云南六日游，出发前三天旅行社单方取消行程，已多次催要未果。"
    answer = post_form(
        client,
        f"/cases/{world.case_number}/court/correction",
        {
            "facts": new_facts,
            "requested_outcome": "退还全部团费3680元。",
            "applicant_service_address": "zhangsan@example.com",
            "respondent_service_address": "上海市长宁区延安西路200号3楼",
        },
    )
    assert answer.status_code == 303, answer.text[:2000]
    assert status_of(client, world.case_number) == "transferred"
    latest = run(client, _latest_filing, world.case_id)
    assert latest.filing_id != filing.filing_id
    assert latest.corrects_id == run(client, _filing, filing.filing_id).id
    row = run(client, _outbox_of, latest.id)
    data = json.loads(row.body)["data"]
    assert data["corrects"] == filing.filing_id
    # The returned filing's links were revoked by the correction; the correction's work.
    client.cookies.clear()
    old_links = json.loads(run(client, _outbox_of, filing.id).body)["data"]["evidence"]
    gone = client.get(old_links[0]["url"])
    assert (gone.status_code, gone.text) == (410, "link_revoked")
    assert client.get(data["evidence"][0]["url"]).status_code == 200
    assert run(client, _filing, filing.filing_id).links_revoked_reason == "corrected"
    as_(client, APPLICANT)
    assert data["facts"] == new_facts
    respondent = next(p for p in data["parties"] if p["side"] == "respondent")
    assert respondent["service_address"] == "上海市长宁区延安西路200号3楼"
    # A late "docketed" for the returned filing: final already, nothing moves.
    late = callback_body(filing, world.case_number, "docketed", court_case_number=DOCKET)
    assert send_callback(client, settings, late).json() == {"applied": False}
    assert status_of(client, world.case_number) == "transferred"
    assert run(client, _filing, filing.filing_id).status == FilingStatus.RETURNED
    # The respondent may not correct a transfer.
    as_(client, RESPONDENT)
    assert client.get(f"/cases/{world.case_number}/court/correction").status_code == 404


async def _outbox_of(filing_pk: int) -> OutboxMessage:
    return await OutboxMessage.get(filing_id=filing_pk)


def test_a_confirmation_is_confirmed(
    client: TestClient, world: w.CourtWorld, settings: Settings
) -> None:
    run(client, w.make_effective_agreement, settings, world)
    path = f"/cases/{world.case_number}/court/confirmation"
    for who in (APPLICANT, RESPONDENT):
        as_(client, who)
        assert post_form(client, path, {"action": "apply"}).status_code == 303
    filing = run(client, _latest_filing, world.case_id)
    number = "(2026)沪0105诉前调确12号"
    docketed = callback_body(filing, world.case_number, "docketed", court_case_number=number)
    confirmed = callback_body(filing, world.case_number, "confirmed", court_case_number=number)
    # Confirmed overtakes docketed; docketed then changes nothing.
    assert send_callback(client, settings, confirmed).json() == {"applied": True}
    assert send_callback(client, settings, docketed).json() == {"applied": False}
    assert status_of(client, world.case_number) == "confirmed"
    stored = run(client, _filing, filing.filing_id)
    assert (stored.status, stored.court_case_number) == (FilingStatus.CONFIRMED, number)


# --- capability links ---------------------------------------------------------------------------


def test_evidence_links_serve_only_their_own_case(
    client: TestClient, world: w.CourtWorld, settings: Settings
) -> None:
    filing = transfer(client, world)
    client.cookies.clear()  # the court desk has no session here: the link is the permission
    row = run(client, _outbox_of, filing.id)
    items = json.loads(row.body)["data"]["evidence"]
    contract = next(i for i in items if i["filename"] == "旅游合同.pdf")
    # The link crosses as a path: the desk resolves it against its PLATFORM_URL.
    path = contract["url"]
    assert path.startswith("/court/evidence/")
    answer = client.get(path)
    assert answer.status_code == 200
    assert answer.content == w.CONTRACT
    assert answer.headers["x-content-type-options"] == "nosniff"
    # A link for this filing naming another case's evidence: nothing.
    foreign = link_path(
        settings.secret_key,
        EvidenceLink(filing.filing_id, world.other_evidence_sha256),
        signed_at=datetime.now(UTC),
    )
    answer = client.get(foreign)
    assert answer.status_code == 404 and w.FOREIGN not in answer.content
    # Forged or tampered tokens: nothing.
    forged = link_path(
        "another platform's key",
        EvidenceLink(filing.filing_id, contract["sha256"]),
        signed_at=datetime.now(UTC),
    )
    assert client.get(forged).status_code == 404
    token = path.rsplit("/", 1)[1]
    tampered = path[: -len(token)] + token[:-2] + ("AA" if not token.endswith("AA") else "BB")
    assert client.get(tampered).status_code == 404
    assert client.get("/court/evidence/nothing").status_code == 404


def test_evidence_links_expire_after_court_link_days(
    client: TestClient, world: w.CourtWorld, settings: Settings
) -> None:
    filing = transfer(client, world)
    client.cookies.clear()
    sha256 = world.evidence["旅游合同.pdf"]
    days = settings.court_link_days
    assert days == 30  # the default: long enough for the court's review, not forever

    def signed(days_ago: float) -> str:
        moment = datetime.now(UTC) - timedelta(days=days_ago)
        return link_path(settings.secret_key, EvidenceLink(filing.filing_id, sha256), moment)

    assert client.get(signed(days - 0.01)).status_code == 200
    expired = client.get(signed(days + 0.01))
    assert (expired.status_code, expired.text) == (410, "link_expired")
    assert w.CONTRACT not in expired.content


def test_an_admin_revokes_a_filings_links(
    client: TestClient, world: w.CourtWorld, settings: Settings
) -> None:
    filing = transfer(client, world)
    items = json.loads(run(client, _outbox_of, filing.id).body)["data"]["evidence"]
    client.cookies.clear()
    assert all(client.get(item["url"]).status_code == 200 for item in items)
    page = "/admin/court/outbox"
    # Only platform admins may, and only with the form's CSRF token.
    as_(client, MEDIATOR)
    refused = post_form(
        client, "/admin/court/links/revoke", {"filing_id": filing.filing_id}, "/cases"
    )
    assert refused.status_code == 403
    as_(client, ADMIN)
    assert (
        client.post("/admin/court/links/revoke", data={"filing_id": filing.filing_id}).status_code
        == 403
    )
    assert client.get(items[0]["url"]).status_code == 200
    # A mistyped id: a clear error, nothing changes.
    unknown = post_form(client, "/admin/court/links/revoke", {"filing_id": "no-such"}, page)
    assert unknown.status_code == 404
    assert "没有此编号的法院提交材料。" in unknown.text
    done = post_form(client, "/admin/court/links/revoke", {"filing_id": filing.filing_id}, page)
    assert done.status_code == 303
    assert f"{filing.filing_id} 的证据链接已失效" in client.get(done.headers["location"]).text
    assert "的证据链接已失效" not in client.get(f"{page}?revoked=made-up").text
    for item in items:
        revoked = client.get(item["url"])
        assert (revoked.status_code, revoked.text) == (410, "link_revoked")
    stored = run(client, _filing, filing.filing_id)
    assert stored.links_revoked_reason == "admin" and stored.links_revoked_at is not None
    # Recorded on the case's timeline, with who did it; again changes nothing.
    event = run(client, TimelineEvent.get, case_id=world.case_id, kind="court_links_revoked")
    assert event.data["filing_id"] == filing.filing_id
    admin = run(client, User.get, username=ADMIN[0])
    assert event.actor_id == admin.id
    again = post_form(client, "/admin/court/links/revoke", {"filing_id": filing.filing_id}, page)
    assert again.status_code == 303
    assert run(client, TimelineEvent.filter(kind="court_links_revoked").count) == 1
    assert run(client, _filing, filing.filing_id).links_revoked_at == stored.links_revoked_at


# --- dead letters -------------------------------------------------------------------------------


async def _kill(filing_pk: int) -> int:
    row = await OutboxMessage.get(filing_id=filing_pk)
    await OutboxMessage.filter(id=row.id).update(
        status=OutboxStatus.DEAD,
        attempts=1,
        last_status_code=422,
        last_error='HTTP 422: {"error": "invalid_package"}',
    )
    return int(row.id)


async def _row(row_id: int) -> OutboxMessage:
    return await OutboxMessage.get(id=row_id)


def test_admins_see_dead_letters_and_replay_them(client: TestClient, world: w.CourtWorld) -> None:
    filing = transfer(client, world)
    row_id = run(client, _kill, filing.id)
    # Only platform admins see the page.
    for who in (APPLICANT, MEDIATOR):
        as_(client, who)
        assert client.get("/admin/court/outbox").status_code == 403
        answer = client.post(
            f"/admin/court/outbox/{row_id}/replay",
            data={"csrf_token": csrf_of(client, "/cases")},
            follow_redirects=False,
        )
        assert answer.status_code == 403
    assert run(client, _row, row_id).status == OutboxStatus.DEAD
    as_(client, ADMIN)
    page = client.get("/admin/court/outbox")
    assert page.status_code == 200
    assert "法院送达" in page.text  # translated: zh-CN first
    assert filing.filing_id in page.text and "invalid_package" in page.text
    # Without its CSRF token the replay is refused.
    answer = client.post(f"/admin/court/outbox/{row_id}/replay", follow_redirects=False)
    assert answer.status_code == 403
    assert run(client, _row, row_id).status == OutboxStatus.DEAD
    answer = post_form(client, f"/admin/court/outbox/{row_id}/replay", {}, "/admin/court/outbox")
    assert answer.status_code == 303
    row = run(client, _row, row_id)
    assert (row.status, row.attempts) == (OutboxStatus.PENDING, 0)
    # Twice: it is no longer dead.
    answer = post_form(client, f"/admin/court/outbox/{row_id}/replay", {}, "/admin/court/outbox")
    assert answer.status_code == 409
    assert (
        post_form(
            client, "/admin/court/outbox/999999/replay", {}, "/admin/court/outbox"
        ).status_code
        == 404
    )


def test_ending_mediation_says_what_will_happen_before_the_final_button(
    client: TestClient, world: w.CourtWorld
) -> None:
    as_(client, MEDIATOR)
    form = client.get(f"/cases/{world.case_number}/end").text
    confirm = form[form.index('<details class="confirm-step">') :]
    assert confirm.index("<summary") < confirm.index("尚在签署中的协议将被撤回")
    assert confirm.index("此操作无法撤销") < confirm.index("确认终止调解")
    assert status_of(client, world.case_number) == "in_mediation"


def test_a_returned_transfer_can_be_completed_with_the_respondents_credit_code(
    client: TestClient, world: w.CourtWorld, settings: Settings
) -> None:
    from tests.support.factories import uscc

    async def forget_respondent_code() -> None:
        await Party.filter(case_id=world.case_id, side="respondent").update(id_number=None)

    run(client, forget_respondent_code)
    filing = transfer(client, world)
    reason = "请补充被申请人的统一社会信用代码。"
    returned = callback_body(filing, world.case_number, "returned", reason=reason)
    assert send_callback(client, settings, returned).json() == {"applied": True}
    as_(client, APPLICANT)
    form = client.get(f"/cases/{world.case_number}/court/correction")
    assert 'name="respondent_id_number"' in form.text
    assert 'name="applicant_id_number"' in form.text
    fields = {
        "facts": "出发前三天旅行社单方取消行程。",
        "requested_outcome": "退还全部团费3680元。",
        "applicant_service_address": "上海市长宁区愚园路100号",
        "respondent_service_address": "上海市长宁区延安西路200号",
    }
    path = f"/cases/{world.case_number}/court/correction"
    bad = post_form(client, path, {**fields, "respondent_id_number": "12345"})
    assert bad.status_code == 422
    assert 'id="respondent_id_number"' in bad.text and 'aria-invalid="true"' in bad.text
    code = uscc()
    answer = post_form(client, path, {**fields, "respondent_id_number": code.lower()})
    assert answer.status_code == 303, answer.text[:2000]
    assert status_of(client, world.case_number) == "transferred"
    latest = run(client, _latest_filing, world.case_id)
    data = json.loads(run(client, _outbox_of, latest.id).body)["data"]
    respondent = next(p for p in data["parties"] if p["side"] == "respondent")
    assert respondent["id_number"] == code
