"""The partner admin pages: endpoints, the secret shown once, rotation, a test event, the
delivery log and the replay of a dead delivery; and nobody reaches another platform's."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import httpx
import pytest
from starlette.testclient import TestClient

from cases.accounts.actions import do_create_partner
from cases.accounts.models import Role, User
from cases.models import OutboxStatus
from cases.webhooks import catalogue as c
from cases.webhooks.actions import do_add_endpoint, do_create_partner_admin, webhook_relay
from cases.webhooks.models import PartnerMember, WebhookDelivery, WebhookEndpoint
from mediation.settings import Settings
from mediation.web import record_time_in
from tests.support.factories import (
    STAFF_PASSWORD,
    cheap_password_hashing,
    create_staff,
    csrf_of,
    register,
    run,
    sign_in,
)

URL = "https://hooks.ctrip.example.com/mediation"


@pytest.fixture(autouse=True)
def _fast_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    cheap_password_hashing(monkeypatch)


@pytest.fixture
def partner_admin(client: TestClient) -> int:
    partner, _ = run(client, do_create_partner, "携程演示")
    other, _ = run(client, do_create_partner, "另一平台")
    run(
        client,
        do_create_partner_admin,
        partner.id,
        username="ctrip",
        password=STAFF_PASSWORD,
        display_name="携程管理员",
    )
    run(
        client,
        do_create_partner_admin,
        other.id,
        username="other",
        password=STAFF_PASSWORD,
        display_name="另一管理员",
    )
    sign_in(client, "ctrip", STAFF_PASSWORD)
    return int(partner.id)


def add(
    client: TestClient, url: str = URL, events: tuple[str, ...] = (c.DISPUTE_FILED,)
) -> httpx.Response:
    return client.post(
        "/partner/endpoints",
        data={"csrf_token": csrf_of(client, "/partner"), "url": url, "events": list(events)},
    )


def shown_secret(page: str) -> str:
    match = re.search(r'value="(whsec_[^"]+)"', page)
    assert match, page[:3000]
    return match.group(1)


def test_a_partner_admin_adds_an_endpoint_and_sees_its_secret_once(
    client: TestClient, partner_admin: int
) -> None:
    home = client.get("/partner")
    assert home.status_code == 200 and "携程演示" in home.text
    page = add(client, events=(c.DISPUTE_FILED, c.MEDIATION_ENDED))
    assert page.status_code == 200
    secret = shown_secret(page.text)
    endpoint = run(client, WebhookEndpoint.get, partner_id=partner_admin)
    assert endpoint.secret == secret and endpoint.events == [c.DISPUTE_FILED, c.MEDIATION_ENDED]
    # Shown once: the endpoint's page never shows it again.
    assert secret not in client.get(f"/partner/endpoints/{endpoint.id}").text
    assert secret not in client.get("/partner").text


def test_bad_input_is_refused_in_words_and_changes_nothing(
    client: TestClient, partner_admin: int
) -> None:
    page = add(client, url="http://10.0.0.1/hook", events=())
    assert page.status_code == 422
    assert 'aria-invalid="true"' in page.text
    assert "https" in page.text  # the sentence of webhook_url_invalid, translated
    assert run(client, WebhookEndpoint.all().count) == 0


def test_rotation_shows_a_new_secret_and_keeps_the_old_one_signing(
    client: TestClient, partner_admin: int
) -> None:
    old = shown_secret(add(client).text)
    endpoint = run(client, WebhookEndpoint.get, partner_id=partner_admin)
    path = f"/partner/endpoints/{endpoint.id}"
    page = client.post(f"{path}/rotate", data={"csrf_token": csrf_of(client, path)})
    assert page.status_code == 200
    new = shown_secret(page.text)
    assert new != old
    endpoint = run(client, WebhookEndpoint.get, id=endpoint.id)
    assert endpoint.signing_secrets(datetime.now(UTC)) == [new, old]
    # Until when the old one signs, in words (Beijing time), on the endpoint's page.
    until = record_time_in("zh_CN", endpoint.previous_secret_until)
    assert until and until in client.get(path).text


def test_a_test_event_appears_in_the_log_and_a_dead_one_is_replayed(
    client: TestClient, partner_admin: int, settings: Settings
) -> None:
    add(client)
    endpoint = run(client, WebhookEndpoint.get, partner_id=partner_admin)
    path = f"/partner/endpoints/{endpoint.id}"
    sent = client.post(
        f"{path}/test", data={"csrf_token": csrf_of(client, path)}, follow_redirects=False
    )
    assert sent.status_code == 303
    row = run(client, WebhookDelivery.get, endpoint_id=endpoint.id)
    assert row.event_type == c.TEST_EVENT
    refusing = httpx.MockTransport(lambda request: httpx.Response(410))
    run(client, webhook_relay(settings, transport=refusing).deliver_due)
    page = client.get(path)
    assert row.msg_id in page.text and "410" in page.text
    assert f"/partner/deliveries/{row.id}/replay" in page.text
    replayed = client.post(
        f"/partner/deliveries/{row.id}/replay",
        data={"csrf_token": csrf_of(client, path)},
        follow_redirects=False,
    )
    assert replayed.status_code == 303
    assert run(client, WebhookDelivery.get, id=row.id).status == OutboxStatus.PENDING
    # A delivery that got no answer at all (refused, timed out) says so in words.
    run(
        client,
        WebhookDelivery.filter(id=row.id).update,
        attempts=1,
        last_status_code=None,
        last_error="ConnectError: All connection attempts failed",
    )
    page = client.get(path)
    assert page.status_code == 200
    assert "ConnectError" not in page.text
    assert "No answer (the connection failed or timed out)" in page.text or "无应答" in page.text


def test_nobody_reaches_another_platforms_endpoints(client: TestClient, partner_admin: int) -> None:
    other = run(client, WebhookEndpoint.filter(partner_id=partner_admin + 1).count)
    assert other == 0
    theirs, _ = run(
        client, do_add_endpoint, partner_admin + 1, URL, [c.DISPUTE_FILED], "", datetime.now(UTC)
    )
    row = run(
        client,
        WebhookDelivery.create,
        msg_id="msg_x",
        endpoint_id=theirs.id,
        partner_id=theirs.partner_id,
        event_type=c.TEST_EVENT,
        body="{}",
        status=OutboxStatus.DEAD,
        next_attempt_at=datetime.now(UTC),
        created_at=datetime.now(UTC),
    )
    token = csrf_of(client, "/partner")
    assert client.get(f"/partner/endpoints/{theirs.id}").status_code == 404
    for action in ("rotate", "test", "edit"):
        answer = client.post(
            f"/partner/endpoints/{theirs.id}/{action}",
            data={"csrf_token": token, "url": URL, "events": [c.DISPUTE_FILED]},
        )
        assert answer.status_code == 404, action
    assert (
        client.post(f"/partner/deliveries/{row.id}/replay", data={"csrf_token": token}).status_code
        == 404
    )
    unchanged = run(client, WebhookEndpoint.get, id=theirs.id)
    assert unchanged.secret == theirs.secret and unchanged.url == URL
    assert run(client, WebhookDelivery.get, id=row.id).status == OutboxStatus.DEAD
    # A disputant is not a partner admin.
    client.cookies.clear()
    register(client)
    assert client.get("/partner").status_code == 403


def test_editing_switches_an_endpoint_off(client: TestClient, partner_admin: int) -> None:
    add(client)
    endpoint = run(client, WebhookEndpoint.get, partner_id=partner_admin)
    path = f"/partner/endpoints/{endpoint.id}"
    saved = client.post(
        f"{path}/edit",
        data={
            "csrf_token": csrf_of(client, path),
            "url": URL + "/v2",
            "events": [c.DOCKETED],
            "description": "生产环境",
        },
        follow_redirects=False,
    )
    assert saved.status_code == 303
    endpoint = run(client, WebhookEndpoint.get, id=endpoint.id)
    assert (endpoint.url, endpoint.events, endpoint.is_active) == (URL + "/v2", [c.DOCKETED], False)


def test_the_platform_admin_creates_a_partner_administrator(client: TestClient) -> None:
    partner, _ = run(client, do_create_partner, "美团演示")
    create_staff(client, "admin", Role.PLATFORM_ADMIN)
    sign_in(client, "admin", STAFF_PASSWORD)
    page = client.get("/admin/partners")
    assert page.status_code == 200 and "美团演示" in page.text
    token = csrf_of(client, "/admin/partners")
    refused = client.post(
        "/admin/partners/admins",
        data={"csrf_token": token, "partner": str(partner.id), "username": "", "password": "x"},
    )
    assert refused.status_code == 422 and 'aria-invalid="true"' in refused.text
    assert run(client, PartnerMember.all().count) == 0
    created = client.post(
        "/admin/partners/admins",
        data={
            "csrf_token": token,
            "partner": str(partner.id),
            "display_name": "美团对接",
            "username": "meituan",
            "password": STAFF_PASSWORD,
        },
        follow_redirects=False,
    )
    assert created.status_code == 303
    member = run(client, PartnerMember.get, partner_id=partner.id)
    assert run(client, User.get, id=member.user_id).role == Role.PARTNER_ADMIN
    # The new account signs in to its platform's pages.
    client.cookies.clear()
    token = csrf_of(client, "/signin")
    signed = client.post(
        "/signin",
        data={"csrf_token": token, "identifier": "meituan", "password": STAFF_PASSWORD},
        follow_redirects=False,
    )
    assert signed.headers["location"] == "/partner"
    assert "美团演示" in client.get("/partner").text
    # Not a page for partner admins or anyone but the platform admin.
    assert client.get("/admin/partners").status_code == 403
