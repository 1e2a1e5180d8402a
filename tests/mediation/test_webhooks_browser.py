"""The partner admin pages in Chromium: WCAG 2.2 AA (axe-core) in Chinese and English, on a
phone and on a desktop, in the large-text display too; and a partner admin on a phone
rotates the secret, sees the new one once, and replays a dead delivery."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.support.accessibility import assert_accessible
from tests.support.live_server import run_server, run_with_orm
from tests.support.rooms import cheap_hashing, session_cookie

if TYPE_CHECKING:
    from mediation.settings import Settings

pytest_plugins = ["tests.support.browser"]
pytestmark = pytest.mark.browser

PASSWORD = "partner password 1"
PARTNER_ADMIN = ("ctrip", PASSWORD)
PLATFORM_ADMIN = ("admin", PASSWORD)
DESKTOP = {"viewport": {"width": 1280, "height": 900}}
PHONE = {
    "viewport": {"width": 390, "height": 844},
    "device_scale_factor": 3,
    "is_mobile": True,
    "has_touch": True,
}
LOCALES = {"zh_CN": "zh-CN", "en": "en"}


@dataclass(frozen=True)
class World:
    base: str
    endpoint_id: int
    dead_id: int
    database_url: str


async def build() -> tuple[int, int]:
    from cases.accounts.actions import do_create_partner, do_create_staff
    from cases.accounts.models import Role
    from cases.models import OutboxStatus
    from cases.webhooks import catalogue as c
    from cases.webhooks.actions import (
        do_add_endpoint,
        do_create_partner_admin,
        do_rotate_secret,
        do_send_test_event,
    )
    from cases.webhooks.models import WebhookDelivery

    now = datetime.now(UTC)
    partner, _ = await do_create_partner("携程演示")
    await do_create_partner_admin(
        partner.id, username=PARTNER_ADMIN[0], password=PASSWORD, display_name="携程对接"
    )
    await do_create_staff(
        username=PLATFORM_ADMIN[0], password=PASSWORD, role=Role.PLATFORM_ADMIN, display_name="周敏"
    )
    endpoint, _ = await do_add_endpoint(
        partner.id,
        "https://hooks.ctrip.example.com/mediation",
        [c.DISPUTE_FILED, c.SETTLED_BY_NEGOTIATION],
        "生产环境",
        now,
    )
    await do_rotate_secret(partner.id, endpoint.id, now, timedelta(hours=24))
    delivered = await do_send_test_event(partner.id, endpoint.id, now - timedelta(minutes=5))
    await WebhookDelivery.filter(id=delivered.id).update(
        status=OutboxStatus.DELIVERED, attempts=1, last_status_code=200, delivered_at=now
    )
    dead = await do_send_test_event(partner.id, endpoint.id, now)
    await WebhookDelivery.filter(id=dead.id).update(
        status=OutboxStatus.DEAD,
        attempts=10,
        last_status_code=500,
        last_error="HTTP 500",
        response=json.loads('{"status_code": 500}'),
    )
    waiting = await do_send_test_event(partner.id, endpoint.id, now)
    await WebhookDelivery.filter(id=waiting.id).update(attempts=2, last_error="ConnectError")
    return endpoint.id, dead.id


@pytest.fixture
def world(database_url: str, settings: Settings) -> Iterator[World]:
    with cheap_hashing():
        endpoint_id, dead_id = run_with_orm(database_url, build)
        env = {"DATABASE_URL": database_url, "SECRET_KEY": settings.secret_key}
        with run_server(env) as base:
            yield World(base, endpoint_id, dead_id, database_url)


async def everyone_chooses_large_text() -> None:
    from cases.accounts.models import User

    await User.all().update(large_text=True)


def page_for(
    browser: Browser, world: World, who: tuple[str, str], locale: str, *, phone: bool, large: bool
) -> Page:
    from tests.support.browser import TIMEOUT_MS

    context = browser.new_context(**(PHONE if phone else DESKTOP), locale=LOCALES[locale])
    context.set_default_timeout(TIMEOUT_MS)
    cookies = [{"name": "lang", "value": locale, "url": world.base}]
    if large:
        cookies.append({"name": "display", "value": "large", "url": world.base})
    name, value = session_cookie(world.base, *who).split("=", 1)
    cookies.append({"name": name, "value": value, "url": world.base})
    context.add_cookies(cookies)  # type: ignore[arg-type]
    return context.new_page()


@pytest.mark.parametrize(
    ("locale", "phone", "large"),
    [("zh_CN", True, False), ("en", False, False), ("zh_CN", False, True)],
    ids=["zh_CN-phone", "en-desktop", "zh_CN-large-text"],
)
def test_the_partner_pages_have_no_wcag_violation(
    browser: Browser, world: World, locale: str, phone: bool, large: bool
) -> None:
    if large:
        run_with_orm(world.database_url, everyone_chooses_large_text)
    page = page_for(browser, world, PARTNER_ADMIN, locale, phone=phone, large=large)
    lang = LOCALES[locale]
    for url, what in (
        ("/partner", "the partner's endpoints"),
        (f"/partner/endpoints/{world.endpoint_id}", "an endpoint and its delivery log"),
    ):
        page.goto(world.base + url)
        expect(page.locator("html")).to_have_attribute("lang", lang)
        if large:
            expect(page.locator("html")).to_have_class("large-text")
        assert_accessible(page, what)
    # The form with its errors.
    page.goto(world.base + "/partner")
    page.fill("#url", "http://10.0.0.1/x")
    page.locator("form[action='/partner/endpoints'] button[type=submit]").click()
    expect(page.locator("#url")).to_have_attribute("aria-invalid", "true")
    assert_accessible(page, "the endpoint form with its errors")
    admin = page_for(browser, world, PLATFORM_ADMIN, locale, phone=phone, large=large)
    admin.goto(world.base + "/admin/partners")
    assert_accessible(admin, "the platform admin's partner platforms")


def test_a_partner_admin_rotates_and_replays_on_a_phone(browser: Browser, world: World) -> None:
    page = page_for(browser, world, PARTNER_ADMIN, "zh_CN", phone=True, large=False)
    page.goto(f"{world.base}/partner/endpoints/{world.endpoint_id}")
    page.locator(f"form[action$='/deliveries/{world.dead_id}/replay'] button").click()
    expect(page.locator("p.notice.success")).to_be_visible()
    expect(page.locator(f"form[action$='/deliveries/{world.dead_id}/replay']")).to_have_count(0)
    page.locator("form[action$='/rotate'] button").click()
    secret = page.locator("#secret")
    expect(secret).to_have_value(re.compile(r"^whsec_"))
    assert_accessible(page, "the new secret, shown once")
    shown = secret.input_value()

    async def current() -> list[str]:
        from cases.webhooks.models import WebhookEndpoint

        endpoint = await WebhookEndpoint.get(id=world.endpoint_id)
        return [endpoint.secret, endpoint.previous_secret]

    now_secret, previous = run_with_orm(world.database_url, current)
    assert now_secret == shown and previous and previous != shown
