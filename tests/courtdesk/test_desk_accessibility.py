"""WCAG 2.2 AA on the court desk's pages of the walk (sign-in, inbox, a transfer's and a
confirmation's filing page, before and after docketing), measured by axe-core in Chromium,
in Chinese and in English, on a clerk's desktop and on a phone; and once more in the
large-text, high-contrast display, switched on from the page's header."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from playwright.sync_api import Page, expect

from tests.courtdesk.support import CLERK, Desk, send
from tests.support.accessibility import assert_accessible

if TYPE_CHECKING:
    from tests.support.browser import Phones

pytest_plugins = ["tests.support.browser"]
pytestmark = pytest.mark.browser

DESKTOP = {"viewport": {"width": 1366, "height": 900}, "is_mobile": False, "has_touch": False}
LANG = {"zh_CN": "zh-CN", "en": "en"}


def checked(page: Page, url: str, what: str, lang: str) -> None:
    page.goto(url)
    expect(page.locator("html")).to_have_attribute("lang", lang)
    assert_accessible(page, what)


@pytest.mark.parametrize(
    ("locale", "large"),
    [("zh_CN", False), ("en", False), ("zh_CN", True)],
    ids=["zh_CN", "en", "zh_CN-large-text"],
)
def test_the_desk_pages_have_no_wcag_violation(
    desk: Desk, phones: Phones, locale: str, large: bool
) -> None:
    lang = LANG[locale]
    with desk.client() as client:
        transfer, _ = send(client, "transfer")
        confirmation, _ = send(client, "confirmation")

    for page in (phones.new_page(**DESKTOP), phones.new_page()):
        page.goto(f"{desk.url}/lang/{locale}?next=/signin")
        if large:
            switch = page.locator(".display-toggle button")
            expect(switch).to_have_attribute("aria-pressed", "false")
            switch.click()
            expect(page).to_have_url(f"{desk.url}/signin")
            expect(page.locator("html")).to_have_class("large-text")
            expect(switch).to_have_attribute("aria-pressed", "true")
        checked(page, f"{desk.url}/signin", "the sign-in page", lang)
        page.locator("#username, input[name=username]").first.fill(CLERK[0])
        page.locator("input[type=password]").fill("not-the-password")
        page.locator("form button[type=submit]").last.click()
        expect(page.get_by_role("alert")).to_be_visible()
        assert_accessible(page, "the sign-in page with its error")
        page.locator("input[type=password]").fill(CLERK[2])
        page.locator("form button[type=submit]").last.click()
        expect(page).to_have_url(f"{desk.url}/inbox")
        checked(page, f"{desk.url}/inbox", "the inbox", lang)
        if large:  # kept in this browser through signing in
            expect(page.locator("html")).to_have_class("large-text")
        checked(page, f"{desk.url}/filings/{transfer}", "a transfer's filing page", lang)
        checked(page, f"{desk.url}/filings/{confirmation}", "a confirmation's filing page", lang)

    # Docketed: the court case number, the history and the status message.
    page.goto(f"{desk.url}/filings/{transfer}")
    # Docketing cannot be undone: the final button is behind a step saying what will happen.
    page.locator("form[action$='/docket'] details.confirm-step summary").click()
    page.locator("form[action$='/docket'] button[type=submit], button[name=docket]").first.click()
    expect(page.locator("#court-case-number")).not_to_be_empty()
    assert_accessible(page, "a docketed filing page")
