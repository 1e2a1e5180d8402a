"""The live mediation room in real browsers: the mediator at a desk, the parties on phones.

Messages go both ways in the joint room; an offer is proposed by a party and accepted by the
mediator; a caucus message reaches only its party (never the other party's page); a phone
that loses its connection gets the messages it missed exactly once, in order, after it comes
back; and the mediator's ending of the session shows on every page.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

import pytest
from playwright.sync_api import Browser, Locator, Page, expect

from tests.support.live_server import run_server, run_with_orm
from tests.support.rooms import (
    APPLICANT,
    MEDIATOR,
    RESPONDENT,
    RoomWorld,
    build_room_world,
    cheap_hashing,
)

if TYPE_CHECKING:
    from mediation.settings import Settings
    from tests.support.browser import Phones

pytest_plugins = ["tests.support.browser"]
pytestmark = pytest.mark.browser

DESKTOP = {"viewport": {"width": 1280, "height": 800}, "locale": "zh-CN"}
LIVE = re.compile(r"\blive\b")
ENDED_NOTICE = "调解员已结束本次调解。"


@dataclass(frozen=True)
class LiveSite:
    base: str
    world: RoomWorld

    @property
    def room_path(self) -> str:
        return f"/sessions/{self.world.session_id}"


@pytest.fixture
def site(database_url: str, settings: Settings) -> Iterator[LiveSite]:
    with cheap_hashing():  # sign-in then checks the cheap hashes cheaply too
        world = run_with_orm(database_url, lambda: build_room_world(settings))
    with run_server({"DATABASE_URL": database_url}) as base:
        yield LiveSite(base, world)


@pytest.fixture
def desk(browser: Browser) -> Iterator[Page]:
    """The mediator's desktop browser."""
    from tests.support.browser import TIMEOUT_MS  # after pytest_plugins has loaded it

    context = browser.new_context(**DESKTOP)
    context.set_default_timeout(TIMEOUT_MS)
    try:
        yield context.new_page()
    finally:
        context.close()


def enter_room(page: Page, site: LiveSite, identifier: str, password: str) -> None:
    """Sign in through the sign-in page, which then opens the room, and wait until live."""
    page.goto(f"{site.base}/signin?next={site.room_path}")
    page.get_by_label("手机号、电子邮箱或工作人员用户名").fill(identifier)
    page.get_by_label("密码", exact=True).fill(password)
    page.get_by_role("button", name="登录", exact=True).click()
    expect(page).to_have_url(site.base + site.room_path)
    expect(page.get_by_role("heading", level=1)).to_have_text("调解室")
    expect(page.locator("#conn")).to_have_class(LIVE)


def say(page: Page, text: str) -> None:
    """Write in the composer and send (the button by place: its label is not the point)."""
    page.locator("#text").fill(text)
    page.locator("#composer button[type=submit]").click()
    expect(page.locator("#text")).to_have_value("")


def messages(page: Page, text: str) -> Locator:
    return page.locator("#messages li", has_text=text)


def test_room_between_a_desk_and_two_phones(site: LiveSite, desk: Page, phones: Phones) -> None:
    mediator = desk
    party = phones.new_page()  # the applicant
    other = phones.new_page()  # the respondent
    enter_room(mediator, site, *MEDIATOR)
    enter_room(party, site, *APPLICANT)
    enter_room(other, site, *RESPONDENT)
    phones.assert_fits(party)

    # The joint room, both ways.
    say(mediator, "各位好，今天我们先核对一下行程取消的经过。")
    expect(messages(party, "各位好，今天我们先核对一下行程取消的经过。")).to_have_count(1)
    expect(messages(other, "各位好，今天我们先核对一下行程取消的经过。")).to_have_count(1)
    party.locator("#text").fill("好的，出发前三天旅行社通知取消，团费一直没退。")
    party.locator("#composer button[type=submit]").tap()
    expect(messages(mediator, "出发前三天旅行社通知取消")).to_have_count(1)
    expect(messages(party, "出发前三天旅行社通知取消")).to_have_class(re.compile(r"\bmine\b"))

    # The party proposes terms; the mediator sees the amount and accepts. A message that
    # arrives while the party is typing the terms leaves the page where it was.
    # The offer panel starts folded on a phone, so the composer stays above the fold.
    party.locator(".offer-panel summary").tap()
    party.locator("#offer-amount").fill("3000")
    party.locator("#offer-text").fill("七日内退还团费3000元，")
    expect(party.locator("#offer-text")).to_be_in_viewport()
    scrolled = party.evaluate("window.scrollY")
    say(mediator, "请申请人提出具体方案。")
    expect(messages(party, "请申请人提出具体方案。")).to_have_count(1)
    assert party.evaluate("window.scrollY") == scrolled
    expect(party.locator("#offer-text")).to_be_in_viewport()
    party.locator("#offer-text").press_sequentially("其余不再追究。")
    party.get_by_role("button", name="提出", exact=True).tap()
    offer = messages(mediator, "七日内退还团费3000元")
    expect(offer).to_have_count(1)
    expect(offer.locator(".amount")).to_have_text("方案 人民币3,000.00元")
    offer_seq = offer.get_attribute("data-seq")
    assert offer_seq
    # The proposer gets no buttons on their own offer.
    expect(messages(party, "七日内退还团费3000元").get_by_role("button")).to_have_count(0)
    offer.get_by_role("button", name="接受", exact=True).click()
    accepted = f"#{offer_seq} 已接受"
    for page in (mediator, party, other):
        expect(messages(page, accepted)).to_have_count(1)
        expect(messages(page, accepted).locator(".answered")).to_have_text("方案 人民币3,000.00元")
    phones.assert_fits(party)

    # A caucus with the applicant: the applicant sees it under their private tab; the
    # respondent's page never receives it.
    secret = "私下说一句：对方其实愿意再让一步，您考虑一下2800元可否接受？"
    mediator.get_by_role("tab", name="单独沟通：申请人", exact=True).click()
    say(mediator, secret)
    party.get_by_role("tab", name="与调解员单独沟通", exact=True).tap()
    expect(messages(party, secret)).to_have_count(1)
    expect(messages(party, secret)).to_be_visible()
    expect(messages(party, "各位好")).to_be_hidden()  # the joint room is behind its tab
    assert "愿意再让一步" not in other.content()
    phones.assert_fits(party)
    phones.screenshot(party, "browser-room-party-caucus")
    party.get_by_role("tab", name="共同调解", exact=True).tap()
    mediator.get_by_role("tab", name="共同调解", exact=True).click()

    # The applicant's phone loses its connection; three joint messages meanwhile.
    missed = [f"第{n}条：请双方核对合同第{n}条的约定。" for n in (1, 2, 3)]
    party.context.set_offline(True)
    expect(party.locator("#conn")).not_to_have_class(LIVE)
    expect(party.locator("#conn")).to_have_text("没有网络。网络恢复后，您的消息会自动发出。")
    for text in missed:
        say(mediator, text)
        expect(messages(mediator, text)).to_have_count(1)
    for text in missed:
        expect(messages(other, text)).to_have_count(1)
    expect(messages(party, missed[0])).to_have_count(0)
    party.context.set_offline(False)
    expect(party.locator("#conn")).to_have_class(LIVE)
    for text in missed:
        expect(messages(party, text)).to_have_count(1)
    shown = party.locator("#messages li[data-room=joint]").all_inner_texts()
    where = [next(i for i, t in enumerate(shown) if text in t) for text in missed]
    assert where == sorted(where), shown
    seqs = party.locator("#messages li[data-room=joint]").evaluate_all(
        "items => items.map(li => Number(li.dataset.seq))"
    )
    assert seqs == sorted(set(seqs)), seqs  # each once, in sequence order
    # Still nothing of the caucus at the respondent's, after everything since.
    assert "愿意再让一步" not in other.content()
    phones.assert_fits(party)

    # The mediator ends the session; every page shows it.
    mediator.get_by_text("调解员操作", exact=True).click()
    mediator.get_by_role("button", name="结束调解", exact=True).click()
    mediator.locator("#end-confirm").get_by_role("button", name="结束调解").click()
    for page in (mediator, party, other):
        expect(page.locator("#conn")).to_have_class(re.compile(r"\bended\b"))
        expect(page.locator("#conn")).to_have_text(ENDED_NOTICE)
        expect(page.locator("#messages li.kind-control")).to_have_text(re.compile(ENDED_NOTICE))
        expect(page.locator("#text")).to_be_disabled()  # nothing more can be said
        expect(page.locator("#offer-form button")).to_be_disabled()
    phones.assert_fits(party)
    phones.screenshot(party, "browser-room-party")
    phones.screenshot(other, "browser-room-respondent")
    phones.screenshot(mediator, "browser-room-mediator")

    # Coming back later, the room is closed.
    party.reload()
    expect(party.locator(".room-head .notice")).to_have_text("本次调解已结束。")
    expect(party.locator("#room")).to_have_count(0)


# --- The caucus slip (issue 9, finding 8) ------------------------------------------------------

CAUCUS_TAB, JOINT_TAB = "与调解员单独沟通", "共同调解"
WARNING = "调解员正在单独与您沟通，您确定要发到所有人都能看到的共同调解室吗？"


def send_button(page: Page) -> Locator:
    return page.locator("#composer button[type=submit]")


def in_room(page: Page, text: str, room: str) -> Locator:
    return page.locator(f'#messages li[data-room="{room}"]', has_text=text)


def test_a_party_written_to_in_caucus_sees_it_at_once_and_is_warned_before_answering_everyone(
    site: LiveSite, desk: Page, phones: Phones
) -> None:
    mediator = desk
    party = phones.new_page()  # the applicant
    other = phones.new_page()  # the respondent
    enter_room(mediator, site, *MEDIATOR)
    enter_room(party, site, *APPLICANT)
    enter_room(other, site, *RESPONDENT)
    banner = party.locator("#caucus-alert")
    caucus_tab = party.get_by_role("tab", name=CAUCUS_TAB, exact=True)
    joint_tab = party.get_by_role("tab", name=JOINT_TAB, exact=True)
    expect(banner).to_be_hidden()
    expect(caucus_tab.locator(".badge")).to_be_hidden()

    # The mediator opens the applicant's caucus tab and writes there, without moving the
    # applicant, whose phone stays on the joint room.
    mediator.get_by_role("tab", name="单独沟通：申请人", exact=True).click()
    first = "私下问一句：对方提出退2800元，您能接受吗？"
    say(mediator, first)
    expect(in_room(mediator, first, "caucus:applicant")).to_have_count(1)
    # The applicant cannot miss it: a banner in view saying so, and a count on the tab.
    expect(banner).to_be_visible()
    expect(banner).to_be_in_viewport()
    expect(banner).to_contain_text("调解员正在单独与您沟通：1 条未读消息")
    expect(caucus_tab.locator(".badge")).to_be_visible()
    expect(caucus_tab.locator(".badge")).to_have_text("1")
    expect(caucus_tab).to_have_accessible_description("1 条未读")
    expect(joint_tab).to_have_attribute("aria-selected", "true")
    second = "只有您和我能看到这里的内容。"
    say(mediator, second)
    expect(caucus_tab.locator(".badge")).to_have_text("2")
    expect(banner).to_contain_text("2 条未读消息")
    phones.assert_fits(party)
    phones.screenshot(party, "browser-room-caucus-banner")
    # The respondent sees nothing of it: no banner, no count, no text.
    expect(other.locator("#caucus-alert")).to_be_hidden()
    expect(other.locator(".tab .badge:visible")).to_have_count(0)
    assert "2800" not in other.content()

    # The applicant answers in the joint room: asked first, in the page; nothing goes out yet.
    reply = "2800元可以，但要七日内付清。"
    party.locator("#text").fill(reply)
    send_button(party).tap()
    dialog = party.get_by_role("dialog", name="发给所有人？")
    expect(dialog).to_be_visible()
    expect(dialog).to_contain_text(WARNING)
    phones.assert_fits(party)
    phones.screenshot(party, "browser-room-joint-warning")
    # Escape (or the back gesture) cancels: nothing sent, the draft kept.
    party.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    expect(party.locator("#text")).to_have_value(reply)
    send_button(party).tap()
    expect(dialog).to_be_visible()
    # "Read the private messages first": the caucus opens with the draft still there.
    dialog.get_by_role("button", name="先看单独沟通消息", exact=True).tap()
    expect(dialog).to_be_hidden()
    expect(caucus_tab).to_have_attribute("aria-selected", "true")
    expect(in_room(party, first, "caucus:applicant")).to_be_visible()
    expect(party.locator("#text")).to_have_value(reply)
    expect(banner).to_be_hidden()
    expect(caucus_tab.locator(".badge")).to_be_hidden()
    send_button(party).tap()
    expect(party.locator("#text")).to_have_value("")
    expect(in_room(mediator, reply, "caucus:applicant")).to_have_count(1)
    # The joint room never had it: a joint message sent after it reaches the respondent,
    # and the reply does not.
    mediator.get_by_role("tab", name=JOINT_TAB, exact=True).click()
    say(mediator, "我们继续共同调解。")
    expect(messages(other, "我们继续共同调解。")).to_have_count(1)
    assert "七日内付清" not in other.content()
    expect(in_room(mediator, reply, "joint")).to_have_count(0)

    # Asked again while a new private message is unread, the applicant may still choose to
    # send to everyone: it then goes to the joint room.
    party.get_by_role("tab", name=JOINT_TAB, exact=True).tap()
    mediator.get_by_role("tab", name="单独沟通：申请人", exact=True).click()
    say(mediator, "好的，我去和对方谈。")
    expect(caucus_tab.locator(".badge")).to_have_text("1")
    public = "我同意调解员的安排。"
    party.locator("#text").fill(public)
    send_button(party).tap()
    expect(dialog).to_be_visible()
    dialog.get_by_role("button", name="仍然发给所有人", exact=True).tap()
    expect(messages(other, public)).to_have_count(1)
    expect(party.locator("#text")).to_have_value("")
    # With nothing unread (the party has read the caucus), the joint room asks nothing.
    caucus_tab.tap()
    joint_tab.tap()
    expect(banner).to_be_hidden()
    say(party, "谢谢。")
    expect(dialog).to_be_hidden()
    expect(messages(other, "谢谢。")).to_have_count(1)


def test_in_a_back_to_back_session_each_party_starts_in_their_own_caucus(
    site: LiveSite, database_url: str, desk: Page, phones: Phones
) -> None:
    async def back_to_back() -> None:
        from cases.sessions.models import MediationSession, SessionMode

        await MediationSession.filter(id=site.world.session_id).update(
            mode=SessionMode.BACK_TO_BACK
        )

    run_with_orm(database_url, back_to_back)
    mediator = desk
    party = phones.new_page()  # the applicant
    other = phones.new_page()  # the respondent
    enter_room(mediator, site, *MEDIATOR)
    enter_room(party, site, *APPLICANT)
    enter_room(other, site, *RESPONDENT)
    for page in (party, other):
        expect(page.get_by_role("tab", name=CAUCUS_TAB, exact=True)).to_have_attribute(
            "aria-selected", "true"
        )
        expect(page.get_by_role("tab", name=JOINT_TAB, exact=True)).to_have_attribute(
            "aria-selected", "false"
        )
        expect(page.locator(".room-head .meta")).to_contain_text("背对背调解")
        expect(page.locator(".mode-note")).to_contain_text("调解员将分别与各方单独沟通")
        phones.assert_fits(page)
    expect(mediator.get_by_role("tab", name=JOINT_TAB, exact=True)).to_have_attribute(
        "aria-selected", "true"
    )
    phones.screenshot(party, "browser-room-back-to-back")

    # What a party writes first goes to the mediator alone.
    said = "您好，我这边的诉求是退还全部团费。"
    say(party, said)
    expect(in_room(mediator, said, "caucus:applicant")).to_have_count(1)
    mediator.get_by_role("tab", name="单独沟通：申请人", exact=True).click()
    expect(in_room(mediator, said, "caucus:applicant")).to_be_visible()
    answer = "收到，我先听听对方的意见。"
    say(mediator, answer)
    expect(in_room(party, answer, "caucus:applicant")).to_be_visible()
    expect(party.locator("#caucus-alert")).to_be_hidden()  # already in front of them
    # The respondent, in their own caucus, got none of it.
    mediator.get_by_role("tab", name="单独沟通：被申请人", exact=True).click()
    say(mediator, "您好，请说说您的意见。")
    expect(in_room(other, "您好，请说说您的意见。", "caucus:respondent")).to_be_visible()
    assert "退还全部团费" not in other.content()
    assert "先听听对方" not in other.content()
