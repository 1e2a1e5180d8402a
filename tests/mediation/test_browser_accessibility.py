"""WCAG 2.2 AA on every page of the walk, measured by axe-core in Chromium, in Chinese and in
English: the filing form, the case page, the room, the agreement editor and signing page,
the public verification page, the work queue and the roster (the court desk's inbox and
filing page are measured in tests/courtdesk/test_desk_accessibility.py). Each page is seen
as the person who uses it, signed in, with real data: a case in mediation with a session
open and an agreement out for signature, then the same case once the agreement is signed.
A second walk measures the transcript and the court pages: the transfer request, the
correction of a returned filing (with its errors) and the application for judicial
confirmation."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.support.accessibility import assert_accessible
from tests.support.agreements import draft
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
    from tests.support.court_world import CourtWorld

pytest_plugins = ["tests.support.browser"]
pytestmark = pytest.mark.browser

ORG_ADMIN = ("walk_org_admin", MEDIATOR[1])
DESKTOP = {"viewport": {"width": 1280, "height": 900}}
PHONE = {
    "viewport": {"width": 390, "height": 844},
    "device_scale_factor": 3,
    "is_mobile": True,
    "has_touch": True,
}
LOCALES = {"zh_CN": "zh-CN", "en": "en"}


@dataclass(frozen=True)
class Walk:
    base: str
    world: RoomWorld
    database_url: str
    invitation: str  # the path of a second case's invitation to its respondent


async def build_walk(settings: Settings) -> tuple[RoomWorld, str]:
    """The room's world, an organisation administrator, version 1 out for signature, and a
    second case whose respondent has yet to answer its invitation (its link's path)."""
    from cases.accounts.actions import do_create_staff
    from cases.accounts.models import Role, User
    from cases.actions import Filer
    from cases.agreements.actions import do_put_up_for_signature, do_save_draft
    from cases.intake import file_dispute, invitation_token
    from cases.models import Case, Invitation
    from tests.support.factories import filing_fields

    world = await build_room_world(settings)
    case = await Case.get(number=world.case_number)
    await do_create_staff(
        username=ORG_ADMIN[0],
        password=ORG_ADMIN[1],
        role=Role.ORG_ADMIN,
        display_name="组织管理员",
        organisation_id=case.organisation_id,
    )
    mediator = await User.get(id=world.user_ids["mediator"])
    now = datetime.now(UTC)
    await do_save_draft(mediator, world.case_number, draft(), now, settings)
    await do_put_up_for_signature(mediator, world.case_number, 1, now, settings)
    second = await file_dispute(
        settings, filing_fields(), [], Filer(user_id=world.user_ids["applicant"]), now
    )
    token = invitation_token(settings, await Invitation.get(case=second))
    return world, f"/invitations/{token}"


async def sign_everything(settings: Settings, world: RoomWorld) -> str:
    """Everyone signs version 1; its PDF is issued. Returns the verification code."""
    from cases.accounts.models import User
    from cases.agreements.actions import do_sign
    from cases.agreements.models import AgreementVersion, SignatureMethod
    from mediation.agreement_pdf import issue_signed_pdf

    version = await AgreementVersion.get(case__number=world.case_number, number=1)
    for who, password in (("applicant", APPLICANT[1]), ("respondent", RESPONDENT[1])):
        user = await User.get(id=world.user_ids[who])
        await do_sign(
            user,
            world.case_number,
            1,
            sha256=version.sha256,
            method=SignatureMethod.PASSWORD,
            secret=password,
            now=datetime.now(UTC),
            settings=settings,
        )
    mediator = await User.get(id=world.user_ids["mediator"])
    await do_sign(
        mediator,
        world.case_number,
        1,
        sha256=version.sha256,
        method=SignatureMethod.PASSWORD,
        secret=MEDIATOR[1],
        now=datetime.now(UTC),
        settings=settings,
    )
    await issue_signed_pdf(version.id, settings)
    version = await AgreementVersion.get(id=version.id)
    assert version.verification_code
    return version.verification_code


@pytest.fixture
def walk(database_url: str, settings: Settings) -> Iterator[Walk]:
    with cheap_hashing():
        world, invitation = run_with_orm(database_url, lambda: build_walk(settings))
        # The settings' secret, so the server reads the invitation's signed link.
        env = {"DATABASE_URL": database_url, "SECRET_KEY": settings.secret_key}
        with run_server(env) as base:
            yield Walk(base, world, database_url, invitation)


class People:
    """A signed-in browser context per person and language."""

    def __init__(self, browser: Browser, walk: Walk) -> None:
        self._browser = browser
        self._walk = walk
        self._contexts: list = []

    large_text = False

    def page(self, locale: str, who: tuple[str, str] | None, *, phone: bool = False) -> Page:
        from tests.support.browser import TIMEOUT_MS

        shape = PHONE if phone else DESKTOP
        context = self._browser.new_context(**shape, locale=LOCALES[locale])
        context.set_default_timeout(TIMEOUT_MS)
        self._contexts.append(context)
        base = self._walk.base
        cookies = [{"name": "lang", "value": locale, "url": base}]
        if self.large_text:
            cookies.append({"name": "display", "value": "large", "url": base})
        if who is not None:
            name, value = session_cookie(base, *who).split("=", 1)
            cookies.append({"name": name, "value": value, "url": base})
        context.add_cookies(cookies)  # type: ignore[arg-type]
        return context.new_page()

    def close(self) -> None:
        for context in self._contexts:
            context.close()


@pytest.fixture
def people(browser: Browser, walk: Walk) -> Iterator[People]:
    found = People(browser, walk)
    try:
        yield found
    finally:
        found.close()


async def everyone_chooses_large_text() -> None:
    from cases.accounts.models import User

    await User.all().update(large_text=True)


def visit(page: Page, url: str, what: str, lang: str, large: bool = False) -> None:
    page.goto(url)
    expect(page.locator("html")).to_have_attribute("lang", lang)
    if large:
        expect(page.locator("html")).to_have_class("large-text")
    assert_accessible(page, what)


def tell_of_the_open_case(page: Page) -> None:
    """File the walk's dispute again: the form asks first ("you already have CNM-...")."""
    from cases.filing import REQUIRED_CONSENTS
    from tests.support.factories import filing_fields

    fields = filing_fields()
    for name in (
        "applicant_id_number",
        "applicant_address",
        "respondent_name",
        "respondent_id_number",
        "respondent_mobile",
        "claim_amount",
        "facts",
        "requested_outcome",
    ):
        page.locator(f"#{name}").fill(fields[name])
    page.locator("#category").select_option(fields["category"])
    for consent in REQUIRED_CONSENTS:
        page.locator(f"#{consent}").check()
    page.locator("form button[type=submit]").last.click()
    expect(page.locator("#duplicate-notice")).to_be_visible()


@pytest.mark.parametrize(
    ("locale", "large"),
    [("zh_CN", False), ("en", False), ("zh_CN", True)],
    ids=["zh_CN", "en", "zh_CN-large-text"],
)
def test_every_page_of_the_walk_has_no_wcag_violation(
    walk: Walk, people: People, settings: Settings, locale: str, large: bool
) -> None:
    """In Chinese and English; and in Chinese once more in the large-text, high-contrast
    display (适老化), chosen by every account and on the visitor's device."""
    if large:
        run_with_orm(walk.database_url, everyone_chooses_large_text)
        people.large_text = True
    base, world, lang = walk.base, walk.world, LOCALES[locale]
    number = world.case_number
    visitor = people.page(locale, None, phone=True)
    for path in ("/", "/signin", "/register"):
        visit(visitor, base + path, path, lang, large)

    visit(visitor, base + walk.invitation, "the respondent's invitation", lang, large)
    visitor.locator("form[action$='/refuse'] button[type=submit]").click()
    expect(visitor.locator(".error").first).to_be_visible()
    assert_accessible(visitor, "the invitation, declined without a reason")

    applicant = people.page(locale, APPLICANT, phone=True)
    visit(applicant, f"{base}/file", "the filing form", lang, large)
    applicant.locator("form.filing button[type=submit], form button[type=submit]").last.click()
    expect(applicant.locator("#error-summary")).to_be_visible()
    assert_accessible(applicant, "the filing form with its errors")
    tell_of_the_open_case(applicant)
    assert_accessible(applicant, "the filing form telling of a case the applicant already has")
    visit(applicant, f"{base}/cases", "the applicant's cases", lang, large)
    visit(applicant, f"{base}/cases/{number}", "the case page (applicant)", lang, large)
    visit(applicant, f"{base}/sessions/{world.session_id}", "the room (applicant)", lang, large)
    expect(applicant.locator("#conn")).to_have_class(re.compile(r"\blive\b"))
    assert_accessible(applicant, "the live room (applicant)")
    visit(applicant, f"{base}/cases/{number}/agreement/1", "the signing page", lang, large)

    mediator = people.page(locale, MEDIATOR)
    visit(mediator, f"{base}/work", "the work queue", lang, large)
    visit(mediator, f"{base}/cases/{number}", "the case page (mediator)", lang, large)
    visit(mediator, f"{base}/sessions/{world.session_id}", "the room (mediator)", lang, large)
    visit(mediator, f"{base}/cases/{number}/agreement/edit", "the agreement editor", lang, large)
    visit(mediator, f"{base}/cases/{number}/agreement/1", "the agreement (mediator)", lang, large)
    visit(mediator, f"{base}/cases/{number}/end", "ending mediation", lang, large)
    # Ending cannot be undone: the final button is behind a step that says what will happen.
    mediator.locator("form[action$='/end'] details.confirm-step summary").click()
    mediator.locator("form[action$='/end'] button[type=submit]").click()
    expect(mediator.locator(".error-summary")).to_be_visible()
    assert_accessible(mediator, "ending mediation, with its errors")

    admin = people.page(locale, ORG_ADMIN)
    visit(admin, f"{base}/admin/roster", "the roster", lang, large)
    visit(admin, f"{base}/admin/roster/{world.user_ids['mediator']}", "a roster entry", lang, large)
    visit(admin, f"{base}/admin/staff", "the staff page", lang, large)

    with cheap_hashing():
        code = run_with_orm(walk.database_url, lambda: sign_everything(settings, world))
    visit(applicant, f"{base}/cases/{number}/agreement", "the effective agreement", lang, large)
    visit(applicant, f"{base}/cases/{number}", "the settled case page", lang, large)
    visit(visitor, f"{base}/verify/{code}", "the verification page", lang, large)


# --- the transcript and the court pages ---------------------------------------------------------


@dataclass(frozen=True)
class CourtWalk:
    base: str
    world: CourtWorld
    database_url: str
    claim: str  # the path of a partner-filed case's claim link

    @property
    def case_number(self) -> str:
        return self.world.case_number

    @property
    def case_id(self) -> int:
        return self.world.case_id

    @property
    def session_id(self) -> int:
        return self.world.session_id


@pytest.fixture
def court_walk(database_url: str, settings: Settings) -> Iterator[CourtWalk]:
    """A case whose session was held (its room messages stored, its transcript made) and that
    ended without agreement, with the mediator's record of the ending complete."""

    async def build() -> tuple[CourtWorld, str]:
        from cases.endings.models import EndRecord
        from cases.models import Case
        from cases.sessions.actions import make_transcript
        from cases.sessions.models import MediationSession
        from cases.status import Status
        from mediation.web import record_reader
        from tests.support.court_world import build_court_world

        world = await build_court_world(settings)
        now = datetime.now(UTC)
        session = await MediationSession.get(id=world.session_id)
        await make_transcript(session, now, reader=record_reader())
        await Case.filter(id=world.case_id).update(status=Status.FAILED, mediation_ended_at=now)
        await EndRecord.create(
            case_id=world.case_id,
            ending=Status.FAILED,
            undisputed_facts="被申请人于出发前三日取消行程。",
            reasons_for_failure="双方对退款金额分歧较大。",
            created_at=now,
        )
        # A case a partner platform filed for an applicant who has no account yet.
        from cases.accounts.models import PartnerPlatform
        from cases.actions import Filer
        from cases.intake import claim_token, file_dispute
        from cases.models import Party, Side
        from tests.support.factories import filing_fields, party_ids

        partner = await PartnerPlatform.create(
            name="某旅游平台", key_prefix="walk", key_sha256="0" * 64, created_at=now
        )
        filed = await file_dispute(
            settings,
            filing_fields(**party_ids(3)),
            [],
            Filer(partner_id=partner.id, partner_name=partner.name),
            now,
        )
        applicant = await Party.get(case=filed, side=Side.APPLICANT)
        return world, f"/claims/{claim_token(settings, applicant)}"

    with cheap_hashing():
        world, claim = run_with_orm(database_url, build)
        env = {"DATABASE_URL": database_url, "SECRET_KEY": settings.secret_key}
        with run_server(env) as base:
            yield CourtWalk(base, world, database_url, claim)


async def returned_transfer(case_id: int) -> None:
    from cases.models import Case, CourtFiling, FilingKind, FilingStatus
    from cases.status import Status

    now = datetime.now(UTC)
    await CourtFiling.create(
        filing_id="f-walk-returned",
        case_id=case_id,
        kind=FilingKind.TRANSFER,
        status=FilingStatus.RETURNED,
        court_reason="请补充被申请人的统一社会信用代码。",
        created_at=now,
        updated_at=now,
    )
    await Case.filter(id=case_id).update(status=Status.RETURNED_FOR_CORRECTION)


@pytest.mark.parametrize("locale", ["zh_CN", "en"])
def test_the_transcript_and_the_court_pages_have_no_wcag_violation(
    court_walk: CourtWalk, browser: Browser, settings: Settings, locale: str
) -> None:
    """A partner-filed case's claim page (signed out, then signed in), the transcript (a party
    who has not confirmed it yet, and the mediator), the transfer
    request, the correction of a returned filing (also with its errors) and the application
    for judicial confirmation."""
    from tests.support.court_world import make_effective_agreement

    walk = Walk(court_walk.base, None, court_walk.database_url, "")  # type: ignore[arg-type]
    lang = LOCALES[locale]
    people = People(browser, walk)
    try:
        base, number = court_walk.base, court_walk.case_number
        visitor = people.page(locale, None, phone=True)
        visit(visitor, base + court_walk.claim, "a partner-filed case's claim link", lang)
        applicant = people.page(locale, APPLICANT, phone=True)
        visit(applicant, base + court_walk.claim, "the claim link, signed in", lang)
        mediator = people.page(locale, MEDIATOR)
        transcript = f"{base}/sessions/{court_walk.session_id}/transcript"
        visit(applicant, transcript, "the transcript (a party)", lang)
        expect(applicant.locator("main form button").last).to_be_visible()
        visit(mediator, transcript, "the transcript (the mediator)", lang)

        visit(applicant, f"{base}/cases/{number}/court/transfer", "the transfer request", lang)
        expect(applicant.locator("form[action$='/court/transfer']")).to_be_visible()

        run_with_orm(court_walk.database_url, lambda: returned_transfer(court_walk.case_id))
        correction = f"{base}/cases/{number}/court/correction"
        visit(applicant, correction, "the correction of a returned filing", lang)
        applicant.locator("textarea[name=facts]").fill("")
        applicant.locator("form[action$='/court/correction'] button[type=submit]").last.click()
        expect(applicant.locator(".error").first).to_be_visible()
        assert_accessible(applicant, "the correction, with its errors")

        run_with_orm(
            court_walk.database_url, lambda: make_effective_agreement(settings, court_walk.world)
        )
        visit(
            applicant,
            f"{base}/cases/{number}/court/confirmation",
            "the application for judicial confirmation",
            lang,
        )
        expect(applicant.locator("form[action$='/court/confirmation']").first).to_be_visible()
    finally:
        people.close()
