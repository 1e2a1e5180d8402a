"""The main pages under the platform's Content-Security-Policy, in a real browser: no
violation is reported (no inline script, style or handler left), and the pages' own
scripts still work: the filing form's category filter, the room's WebSocket."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from playwright.sync_api import Page, expect

from mediation.settings import Settings
from tests.support import court_world as w
from tests.support.live_server import run_server, run_with_orm
from tests.support.rooms import (
    APPLICANT,
    LiveRoom,
    cheap_hashing,
    fresh_database,
    live_room,
    session_cookie,
)

if TYPE_CHECKING:
    from tests.support.browser import Phones

pytest_plugins = ["tests.support.browser"]
pytestmark = pytest.mark.browser

# Runs before any page script (injected by the browser, so not subject to the CSP itself).
RECORD_VIOLATIONS = """
window.__violations = [];
document.addEventListener("securitypolicyviolation", function (e) {
  window.__violations.push(e.violatedDirective + " " + (e.blockedURI || "inline") + " " +
                           (e.sourceFile || "") + ":" + e.lineNumber);
});
"""
LIVE = re.compile(r"\blive\b")


@pytest.fixture(scope="module")
def live(template_database: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveRoom]:
    with live_room(template_database, tmp_path_factory.mktemp("csp")) as room:
        yield room


class Watched:
    """A phone whose every CSP violation is collected: the browser fires a
    `securitypolicyviolation` event for each (the same report it logs to the console; a
    console listener is not used, as Playwright subscribes to it outside the browser
    fixture's event loop handling)."""

    def __init__(self, phones: Phones, live: LiveRoom, who: str | None) -> None:
        self.page: Page = phones.new_page(base_url=live.base)
        self.page.add_init_script(RECORD_VIOLATIONS)
        if who is not None:
            name, _, value = live.cookies[who].partition("=")
            self.page.context.add_cookies([{"name": name, "value": value, "url": live.base}])

    def visit(self, path: str) -> None:
        response = self.page.goto(path)
        assert response is not None and response.ok, f"{path}: {response and response.status}"
        assert "script-src 'self'" in response.headers["content-security-policy"]
        self.page.wait_for_load_state("load")

    def assert_no_violations(self, path: str) -> None:
        violations = self.page.evaluate("window.__violations")
        assert violations == [], f"{path}: {violations}"


def test_public_and_disputant_pages_keep_to_the_policy(live: LiveRoom, phones: Phones) -> None:
    visitor = Watched(phones, live, None)
    for path in ["/", "/signin", "/register"]:
        visitor.visit(path)
        visitor.assert_no_violations(path)

    applicant = Watched(phones, live, "applicant")
    for path in ["/cases", f"/cases/{live.world.room.case_number}"]:
        applicant.visit(path)
        applicant.assert_no_violations(path)

    # The filing form's script (now a file of its own) still filters the categories.
    applicant.visit("/file")
    page = applicant.page
    page.locator("input[name=domain][value=tourism]").check()
    tourism = page.locator("#category option[data-domain=tourism]").first
    internet = page.locator("#category option[data-domain=internet]").first
    expect(tourism).not_to_be_disabled()
    expect(internet).to_be_disabled()
    page.locator("input[name=domain][value=internet]").check()
    expect(tourism).to_be_disabled()
    applicant.assert_no_violations("/file")


def test_the_room_connects_under_the_policy(live: LiveRoom, phones: Phones) -> None:
    for who in ("mediator", "applicant"):
        watched = Watched(phones, live, who)
        path = f"/sessions/{live.world.room.session_id}"
        watched.visit(path)
        # room.js loaded and its WebSocket (connect-src 'self', our own Origin) is live.
        expect(watched.page.locator("#conn")).to_have_class(LIVE)
        watched.assert_no_violations(path)
    mediator = Watched(phones, live, "mediator")
    for path in ["/work", f"/cases/{live.world.room.case_number}"]:
        mediator.visit(path)
        mediator.assert_no_violations(path)


async def _agreement_world(settings: Settings) -> tuple[str, str]:
    """A settled case with an effective agreement, its performance terms and a check page;
    returns (case number, verification code)."""
    from cases.agreements import rules
    from cases.agreements.models import AgreementVersion
    from cases.performance.models import PerformanceItem

    world = await w.build_court_world(settings)
    version_id = await w.make_effective_agreement(settings, world)
    version = await AgreementVersion.get(id=version_id)
    for item in rules.performance_plan(version.content):
        await PerformanceItem.create(
            version_id=version.id,
            case_id=world.case_id,
            term_number=item.term_number,
            obligor_side=item.obligor_side,
            description=item.description,
            due_on=item.due_on,
        )
    from mediation.agreement_pdf import new_verification_code

    code = new_verification_code()
    await AgreementVersion.filter(id=version_id).update(verification_code=code)
    return world.case_number, code


def test_the_agreement_pages_keep_to_the_policy(
    template_database: str, tmp_path: Path, phones: Phones
) -> None:
    with fresh_database(template_database, tmp_path) as url:
        settings = Settings(
            database_url=url,
            secret_key="live-server-secret-key-not-for-production",
            data_dir=tmp_path / "data",
        )
        with cheap_hashing():
            number, code = run_with_orm(url, lambda: _agreement_world(settings))
        env = {"DATABASE_URL": url, "MEDIATION_DATA_DIR": str(settings.data_dir)}
        with run_server(env) as base:
            cookie = session_cookie(base, *APPLICANT)
            live = LiveRoom([base], url, None, {"applicant": cookie})  # type: ignore[arg-type]
            visitor = Watched(phones, live, None)
            visitor.visit(f"/verify/{code}")
            expect(visitor.page.locator("ul.signed-roles")).to_have_css("list-style-type", "none")
            visitor.assert_no_violations("/verify")
            applicant = Watched(phones, live, "applicant")
            applicant.visit(f"/cases/{number}")
            performance = applicant.page.locator("ol.performance-list")
            expect(performance).to_have_css("list-style-type", "none")
            applicant.assert_no_violations("/cases/<number> (settled, with its terms)")
