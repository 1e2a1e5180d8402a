"""The room on a phone at 200% zoom. Zooming a 390 px wide phone to 200% leaves 195 CSS
pixels of width (and half the height) for the layout, which is what this test gives the
page: a 195 x 422 viewport at six device pixels per CSS pixel, the same physical screen.
Nothing may stick out sideways, and a party can still read, write, switch to the private
conversation and propose terms; in the large-text display (适老化) too."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.support.live_server import run_server, run_with_orm
from tests.support.rooms import (
    APPLICANT,
    MEDIATOR,
    RoomWorld,
    build_room_world,
    cheap_hashing,
    session_cookie,
)

if TYPE_CHECKING:
    from mediation.settings import Settings
    from tests.support.browser import Phones

pytest_plugins = ["tests.support.browser"]
pytestmark = pytest.mark.browser

ZOOMED_PHONE = {
    "viewport": {"width": 195, "height": 422},
    "device_scale_factor": 6,
    "is_mobile": True,
    "has_touch": True,
    "locale": "zh-CN",
}
DESKTOP = {"viewport": {"width": 1280, "height": 800}, "locale": "zh-CN"}
LIVE = re.compile(r"\blive\b")


@dataclass(frozen=True)
class Site:
    base: str
    world: RoomWorld

    @property
    def room(self) -> str:
        return f"{self.base}/sessions/{self.world.session_id}"


@pytest.fixture
def site(database_url: str, settings: Settings) -> Iterator[Site]:
    with cheap_hashing():
        world = run_with_orm(database_url, lambda: build_room_world(settings))
    with run_server({"DATABASE_URL": database_url}) as base:
        yield Site(base, world)


def signed_in(page: Page, site: Site, who: tuple[str, str], large_text: bool = False) -> Page:
    name, value = session_cookie(site.base, *who).split("=", 1)
    cookies = [{"name": name, "value": value, "url": site.base}]
    page.context.add_cookies(cookies)  # type: ignore[arg-type]
    if large_text:  # chosen with the switch in the page's header
        page.goto(site.base + "/")
        page.locator(".display-toggle button").tap()
        expect(page.locator("html")).to_have_class("large-text")
    return page


def fits_sideways(page: Page, selector: str) -> None:
    """The element lies within the screen's width (the page does not scroll sideways)."""
    box = page.locator(selector).bounding_box()
    assert box is not None, selector
    assert box["x"] >= 0 and box["x"] + box["width"] <= 195 + 0.5, (selector, box)


@pytest.mark.parametrize("large_text", [False, True], ids=["standard", "large-text"])
def test_the_room_works_on_a_phone_at_200_percent_zoom(
    site: Site, phones: Phones, browser: Browser, large_text: bool
) -> None:
    party = signed_in(phones.new_page(**ZOOMED_PHONE), site, APPLICANT, large_text)
    mediator = signed_in(phones.new_page(**DESKTOP), site, MEDIATOR)
    for page in (party, mediator):
        page.goto(site.room)
        expect(page.locator("#conn")).to_have_class(LIVE)
    phones.assert_fits(party)

    # Reading and writing.
    mediator.locator("#text").fill("各位好，今天我们核对一下行程取消的经过。")
    mediator.locator("#composer button[type=submit]").click()
    said = party.locator("#messages li", has_text="今天我们核对一下行程取消的经过")
    expect(said).to_be_visible()
    fits_sideways(party, "#messages")
    party.locator("#text").fill("好的，团费一直没退。")
    send = party.locator("#composer button[type=submit]")
    send.scroll_into_view_if_needed()
    expect(send).to_be_in_viewport()
    fits_sideways(party, "#composer button[type=submit]")
    send.tap()
    expect(mediator.locator("#messages li", has_text="团费一直没退")).to_have_count(1)
    phones.assert_fits(party)

    # The private conversation's tab is on the screen and works.
    caucus = party.get_by_role("tab", name="与调解员单独沟通", exact=True)
    caucus.scroll_into_view_if_needed()
    fits_sideways(party, ".tab[data-room^='caucus:']")
    caucus.tap()
    expect(caucus).to_have_attribute("aria-selected", "true")
    party.get_by_role("tab", name="共同调解", exact=True).tap()

    # Terms, in a panel that fits.
    party.locator(".offer-panel summary").tap()
    for field in ("#offer-amount", "#offer-text", "#offer-form button[type=submit]"):
        party.locator(field).scroll_into_view_if_needed()
        fits_sideways(party, field)
    party.locator("#offer-amount").fill("3000")
    party.locator("#offer-text").fill("七日内退还团费3000元")
    party.locator("#offer-form button[type=submit]").tap()
    expect(mediator.locator("#messages li", has_text="七日内退还团费3000元")).to_have_count(1)
    phones.assert_fits(party)
    phones.screenshot(party, f"room-phone-200-percent-{'large' if large_text else 'standard'}")
