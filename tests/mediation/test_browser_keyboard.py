"""Without a mouse: a disputant files a dispute with the keyboard alone (Tab, arrows, Space,
Enter, typing), and the parties and the mediator use the room the same way. Each control is
reached by Tab in the page's order (never by clicking or focusing it from the test), and
the focused control shows a visible focus ring."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from playwright.sync_api import Browser, Page, expect

from cases.filing import REQUIRED_CONSENTS
from tests.support.factories import resident_id
from tests.support.live_server import run_server, run_with_orm
from tests.support.rooms import (
    APPLICANT,
    MEDIATOR,
    RESPONDENT,
    RoomWorld,
    build_room_world,
    cheap_hashing,
    session_cookie,
)

if TYPE_CHECKING:
    from mediation.settings import Settings

pytest_plugins = ["tests.support.browser"]
pytestmark = pytest.mark.browser

DESKTOP = {"viewport": {"width": 1280, "height": 900}, "locale": "zh-CN"}
LIVE = re.compile(r"\blive\b")
MAX_TABS = 120
PDF = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"


@dataclass(frozen=True)
class Site:
    base: str
    world: RoomWorld


@pytest.fixture
def site(database_url: str, settings: Settings) -> Iterator[Site]:
    with cheap_hashing():
        world = run_with_orm(database_url, lambda: build_room_world(settings))
    with run_server({"DATABASE_URL": database_url}) as base:
        yield Site(base, world)


@pytest.fixture
def keyboards(browser: Browser, site: Site) -> Iterator[dict[str, Page]]:
    """A signed-in desktop browser per person (a keyboard is a desktop's)."""
    from tests.support.browser import TIMEOUT_MS

    contexts = []
    pages = {}
    for who, credentials in (
        ("applicant", APPLICANT),
        ("respondent", RESPONDENT),
        ("mediator", MEDIATOR),
    ):
        context = browser.new_context(**DESKTOP)
        context.set_default_timeout(TIMEOUT_MS)
        name, value = session_cookie(site.base, *credentials).split("=", 1)
        context.add_cookies([{"name": name, "value": value, "url": site.base}])
        contexts.append(context)
        pages[who] = context.new_page()
    try:
        yield pages
    finally:
        for context in contexts:
            context.close()


def focused_matches(page: Page, selector: str) -> bool:
    return bool(
        page.evaluate(
            "s => !!document.activeElement && document.activeElement.matches(s)", selector
        )
    )


def tab_to(page: Page, selector: str) -> None:
    """Press Tab until the focus is on `selector`; fail if it never gets there."""
    for _ in range(MAX_TABS):
        if focused_matches(page, selector):
            ring = page.evaluate(
                "() => { const s = getComputedStyle(document.activeElement);"
                " return [s.outlineStyle, s.outlineWidth]; }"
            )
            assert ring[0] != "none" and ring[1] != "0px", f"{selector}: no focus ring {ring}"
            return
        page.keyboard.press("Tab")
    raise AssertionError(f"Tab never reached {selector} on {page.url}")


def type_into(page: Page, selector: str, text: str, *, replace: bool = False) -> None:
    tab_to(page, selector)
    if replace:
        page.keyboard.press("Control+A")
        page.keyboard.press("Delete")
    page.keyboard.type(text)


def choose_by_arrows(page: Page, selector: str, value: str) -> None:
    """A focused list or radio group changes with the arrow keys."""
    tab_to(page, selector)
    for _ in range(30):
        current = page.evaluate(
            "s => { const e = document.querySelector(s);"
            " if (e.tagName === 'SELECT') return e.value;"
            " const c = document.querySelector(`input[name=${e.name}]:checked`);"
            " return c ? c.value : ''; }",
            selector,
        )
        if current == value:
            return
        page.keyboard.press("ArrowDown")
    raise AssertionError(f"{selector}: the arrow keys never chose {value}")


def test_filing_with_the_keyboard_alone(
    site: Site, keyboards: dict[str, Page], tmp_path: Path
) -> None:
    page = keyboards["applicant"]
    evidence = tmp_path / "合同.pdf"
    evidence.write_bytes(PDF)
    page.goto(site.base + "/file")
    expect(page.get_by_role("heading", level=1)).to_have_text("申请调解")

    # The first Tab offers a way past the header, straight to the form.
    page.keyboard.press("Tab")
    assert focused_matches(page, "a.skip-link")
    expect(page.locator("a.skip-link")).to_be_in_viewport()
    page.keyboard.press("Enter")
    assert focused_matches(page, "main")

    choose_by_arrows(page, "input[name=domain]", "tourism")
    choose_by_arrows(page, "#category", "tour_refund")
    type_into(page, "#applicant_name", "张三", replace=True)
    type_into(page, "#applicant_id_number", resident_id())
    type_into(page, "#applicant_address", "上海市长宁区愚园路100号")
    type_into(page, "#respondent_name", "上海某某国际旅行社有限公司")
    type_into(page, "#respondent_mobile", "13900001111")
    type_into(page, "#claim_amount", "3680.00")
    type_into(page, "#facts", "出发前三天旅行社单方取消行程，至今未退还团费。")
    type_into(page, "#requested_outcome", "退还全部团费3680元。")
    # The file picker is reached by Tab; what is picked in it is the system's own dialog,
    # so the test hands the file to the focused input as that dialog would.
    tab_to(page, "#evidence")
    page.locator("#evidence:focus").set_input_files(evidence)
    for name in REQUIRED_CONSENTS:
        tab_to(page, f"#{name}")
        page.keyboard.press("Space")
        expect(page.locator(f"#{name}")).to_be_checked()
    tab_to(page, "form[action='/file'] button[type=submit]")
    page.keyboard.press("Enter")

    expect(page).to_have_url(re.compile(r"/cases/CNM-\d{4}-T-\d{5}\?filed=1"))
    expect(page.get_by_role("status")).to_contain_text("调解申请已提交")
    expect(page.locator(".evidence-list li", has_text="合同.pdf")).to_have_count(1)


def test_a_form_error_takes_the_keyboard_to_the_field(
    site: Site, keyboards: dict[str, Page]
) -> None:
    page = keyboards["applicant"]
    page.goto(site.base + "/file")
    tab_to(page, "form[action='/file'] button[type=submit]")
    page.keyboard.press("Enter")
    summary = page.locator("#error-summary")
    expect(summary).to_be_visible()
    assert focused_matches(page, "#error-summary")  # the summary is read first
    # Its first link, followed with Enter, puts the focus in the field it names.
    tab_to(page, "#error-summary a")
    target = page.evaluate("() => document.activeElement.getAttribute('href')")
    page.keyboard.press("Enter")
    assert focused_matches(page, target), target
    assert page.evaluate("() => document.activeElement.getAttribute('aria-invalid')") == "true"


def test_the_room_with_the_keyboard_alone(site: Site, keyboards: dict[str, Page]) -> None:
    room = f"{site.base}/sessions/{site.world.session_id}"
    for page in keyboards.values():
        page.goto(room)
        expect(page.locator("#conn")).to_have_class(LIVE)
    mediator, party, other = keyboards["mediator"], keyboards["applicant"], keyboards["respondent"]

    # The mediator writes in the joint room and sends with the button, by keyboard.
    type_into(mediator, "#text", "各位好，我们开始调解。")
    tab_to(mediator, "#composer button[type=submit]")
    mediator.keyboard.press("Enter")
    expect(party.locator("#messages li", has_text="各位好，我们开始调解。")).to_have_count(1)

    # The party answers the same way.
    type_into(party, "#text", "好的，团费一直没退。")
    tab_to(party, "#composer button[type=submit]")
    party.keyboard.press("Enter")
    expect(mediator.locator("#messages li", has_text="好的，团费一直没退。")).to_have_count(1)

    # The party opens the terms panel with Enter and proposes terms.
    tab_to(party, ".offer-panel summary")
    party.keyboard.press("Enter")
    expect(party.locator(".offer-panel")).to_have_attribute("open", "")
    type_into(party, "#offer-amount", "3000")
    type_into(party, "#offer-text", "七日内退还团费3000元")
    tab_to(party, "#offer-form button[type=submit]")
    party.keyboard.press("Enter")
    offer = mediator.locator("#messages li", has_text="七日内退还团费3000元")
    expect(offer).to_have_count(1)

    # The mediator accepts it from the keyboard.
    answers = "#messages li.kind-offer .offer-actions"
    tab_to(mediator, f"{answers} button:first-child")
    expect(mediator.locator(f"{answers} button:focus")).to_have_text("接受")
    mediator.keyboard.press("Enter")
    seq = offer.get_attribute("data-seq")
    for page in (mediator, party, other):
        expect(page.locator("#messages li", has_text=f"#{seq} 已接受")).to_have_count(1)

    # A private word with the applicant: the tab is chosen with the keyboard.
    tab_to(mediator, ".tab[data-room='caucus:applicant']")
    mediator.keyboard.press("Enter")
    expect(mediator.locator(".tab[data-room='caucus:applicant']")).to_have_attribute(
        "aria-selected", "true"
    )
    type_into(mediator, "#text", "私下问一句：2800元可以吗？")
    tab_to(mediator, "#composer button[type=submit]")
    mediator.keyboard.press("Enter")
    tab_to(party, ".tab[data-room='caucus:applicant']")
    party.keyboard.press("Enter")
    expect(party.locator("#messages li", has_text="2800元可以吗")).to_be_visible()
    assert "2800元可以吗" not in other.content()
