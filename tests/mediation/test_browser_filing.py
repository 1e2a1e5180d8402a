"""The filing acceptance test in a real browser on a phone: a new disputant files a dispute
(correcting a wrong ID number on the way), the respondent is invited by a real email from the
server's background job, agrees through the link, and both parties see the case accepted."""

from __future__ import annotations

import email
import email.policy
import hashlib
import re
import threading
import time
from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from aiosmtpd.controller import Controller
from playwright.sync_api import Locator, Page, expect

from cases.filing import REQUIRED_CONSENTS
from mediation.i18n import translations
from mediation.messages import ERROR_MESSAGES
from tests.support.factories import resident_id
from tests.support.live_server import free_port, run_server

if TYPE_CHECKING:
    from tests.support.browser import Phones

pytest_plugins = ["tests.support.browser"]
pytestmark = pytest.mark.browser

zh = translations("zh_CN").gettext

MAIL_TIMEOUT = 20.0  # the server's background job delivers notices every 5 s
CASE_NUMBER = re.compile(r"^CNM-\d{4}-T-\d{5}$")
APPLICANT_MOBILE = "13812345678"
RESPONDENT_EMAIL = "service@travel.example.com"
RESPONDENT_MOBILE = "13900001111"
RESPONDENT_NAME = "上海某某国际旅行社有限公司"
FACTS = "2026年10月报名参加云南六日游，出发前三天旅行社单方取消行程，至今未退还团费。"
OUTCOME = "退还全部团费3680元。"
PDF = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"


class Mailbox:
    """An aiosmtpd handler keeping every message it is sent, parsed."""

    def __init__(self) -> None:
        self.port = free_port()
        self.messages: list[EmailMessage] = []
        self._lock = threading.Lock()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = email.message_from_bytes(envelope.original_content, policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        with self._lock:
            self.messages.append(message)
        return "250 Message accepted for delivery"

    def wait_for(self, recipient: str, timeout: float = MAIL_TIMEOUT) -> EmailMessage:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                for message in self.messages:
                    if message["To"] == recipient:
                        return message
            time.sleep(0.2)
        with self._lock:
            got = [(m["To"], m["Subject"]) for m in self.messages]
        raise AssertionError(f"no mail to {recipient} within {timeout} s; received {got}")


@pytest.fixture
def mailbox() -> Iterator[Mailbox]:
    box = Mailbox()
    controller = Controller(box, hostname="127.0.0.1", port=box.port)
    controller.start()
    try:
        yield box
    finally:
        controller.stop()


@pytest.fixture
def server(database_url: str, tmp_path: Path, mailbox: Mailbox) -> Iterator[str]:
    port = free_port()
    env = {
        "DATABASE_URL": database_url,
        "MEDIATION_DATA_DIR": str(tmp_path / "server-data"),
        "SECRET_KEY": "browser-test-secret-key-not-for-production",
        "SMTP_HOST": "127.0.0.1",
        "SMTP_PORT": str(mailbox.port),
        "BASE_URL": f"http://127.0.0.1:{port}",
    }
    with run_server(env, port=port) as base_url:
        yield base_url


def register(page: Page, name: str, identifier: str, password: str, button: str) -> None:
    page.locator("#display_name").fill(name)
    page.locator("#identifier").fill(identifier)
    page.locator("#password").fill(password)
    page.get_by_role("button", name=button, exact=True).tap()


def tick_consents(page: Page) -> None:
    """Tap each statement's text, as a thumb would (the box itself is small)."""
    for name in REQUIRED_CONSENTS:
        box = page.locator(f"#{name}")
        if not box.is_checked():
            page.locator(f"label[for={name}]").tap()
        expect(box).to_be_checked()


def field(page: Page, name: str) -> Locator:
    """A text box by its accessible name (the label, without the aria-hidden "*")."""
    return page.get_by_role("textbox", name=name, exact=True)


def category(page: Page) -> Locator:
    return page.get_by_role("combobox", name=zh("Category"), exact=True)


def evidence_input(page: Page) -> Locator:
    return page.get_by_label(zh("Files (contracts, receipts, chat screenshots, photos)"))


def fill_filing_form(page: Page, id_number: str) -> None:
    page.get_by_label(zh("Internet (online shopping, platforms)")).tap()
    # The category list follows the domain: tourism categories are not offered for internet.
    expect(page.locator("#category option[value=tour_refund]")).to_be_disabled()
    page.get_by_label("旅游纠纷").tap()
    expect(page.get_by_label("旅游纠纷")).to_be_checked()
    expect(page.locator("#category option[value=goods_quality]")).to_be_disabled()
    category(page).select_option(label="旅游费用退还")

    # Registration filled in the name and mobile number already.
    expect(field(page, zh("Name"))).to_have_value("张三")
    expect(field(page, zh("Mobile number"))).to_have_value(APPLICANT_MOBILE)
    field(page, zh("Resident ID number (or unified social credit code for an organisation)")).fill(
        id_number
    )
    field(page, zh("Address for service")).fill("上海市长宁区愚园路100号")

    expect(page.get_by_label(zh("Merchant"), exact=True)).to_be_checked()
    field(page, zh("Name of the business or person")).fill(RESPONDENT_NAME)
    field(page, zh("Respondent's mobile number")).fill(RESPONDENT_MOBILE)
    field(page, zh("Respondent's email")).fill(RESPONDENT_EMAIL)

    field(page, zh("Amount claimed (yuan)")).fill("3680.00")
    field(page, zh("What happened")).fill(FACTS)
    field(page, zh("What you ask for")).fill(OUTCOME)
    tick_consents(page)


ACCEPTED = "已受理：被申请人同意调解"
# Consent starts the routing to a mediator at once, so the case may already be a step on.
AFTER_CONSENT = re.compile(r"\bstatus-(accepted|assigning|awaiting_mediator|in_mediation)\b")


def expect_accepted(page: Page) -> None:
    """The case shows the respondent's consent: 已受理 in the record, and a status past it."""
    assert zh("Accepted: the respondent consented") == ACCEPTED
    consented = page.locator(".timeline li", has_text=ACCEPTED)
    expect(consented).to_have_count(1)
    # Who acted, in words: their role in the case and their name (issue 11).
    expect(consented.locator(".who")).to_have_text(f"被申请人 {RESPONDENT_NAME}")
    badge = page.locator("span.status").first
    expect(badge).to_have_class(AFTER_CONSENT)
    expect(badge).not_to_have_text(zh("Waiting for the respondent's consent"))


def test_phone_filing_invitation_by_email_and_consent(
    server: str, mailbox: Mailbox, phones: Phones, tmp_path: Path
) -> None:
    evidence = tmp_path / "合同.pdf"
    evidence.write_bytes(PDF)
    good_id = resident_id()
    bad_id = good_id[:-1] + ("0" if good_id[-1] != "0" else "1")

    # A new disputant opens the site on their phone and taps 申请调解.
    applicant = phones.new_page()
    applicant.goto(server + "/")
    applicant.get_by_role("link", name="申请调解", exact=True).tap()
    expect(applicant).to_have_url(re.compile(r"/signin\?next=/file$"))
    applicant.get_by_role("link", name=zh("Create an account"), exact=True).tap()
    expect(applicant.get_by_role("heading", level=1)).to_have_text(zh("Create an account"))
    register(applicant, "张三", APPLICANT_MOBILE, "correct horse 1", zh("Create account"))

    # Back at the filing form, signed in.
    expect(applicant).to_have_url(server + "/file")
    expect(applicant.get_by_role("heading", level=1)).to_have_text("申请调解")
    phones.assert_fits(applicant)
    fill_filing_form(applicant, bad_id)
    evidence_input(applicant).set_input_files(evidence)
    phones.assert_fits(applicant)
    phones.screenshot(applicant, "browser-filing-form")
    applicant.get_by_role("button", name=zh("Submit dispute")).tap()

    # A wrong check character: the translated error under the field, everything else kept.
    id_field = field(
        applicant, zh("Resident ID number (or unified social credit code for an organisation)")
    )
    id_error = applicant.locator("#applicant_id_number-error")
    expected_error = zh(ERROR_MESSAGES["resident_id_invalid"])
    assert "身份证号" in expected_error
    expect(id_error).to_have_text(expected_error)
    expect(id_field).to_have_attribute("aria-invalid", "true")
    expect(applicant.locator("#error-summary")).to_contain_text(expected_error)
    expect(id_field).to_have_value(bad_id)
    expect(applicant.get_by_label("旅游纠纷")).to_be_checked()
    expect(category(applicant)).to_have_value("tour_refund")
    expect(field(applicant, zh("Name of the business or person"))).to_have_value(RESPONDENT_NAME)
    expect(field(applicant, zh("Respondent's email"))).to_have_value(RESPONDENT_EMAIL)
    expect(field(applicant, zh("Respondent's mobile number"))).to_have_value(RESPONDENT_MOBILE)
    expect(field(applicant, zh("Amount claimed (yuan)"))).to_have_value("3680.00")
    expect(field(applicant, zh("What happened"))).to_have_value(FACTS)
    expect(field(applicant, zh("What you ask for"))).to_have_value(OUTCOME)
    for name in REQUIRED_CONSENTS:
        expect(applicant.locator(f"#{name}")).to_be_checked()
    phones.assert_fits(applicant)
    phones.screenshot(applicant, "browser-filing-form-error")

    # A browser never keeps a chosen file across a page load, so the platform kept it: the
    # page says so, and the person does not attach it again.
    expect(applicant.locator("ul.kept li")).to_have_text(["合同.pdf"])
    expect(
        applicant.get_by_text(zh("These files are kept; you do not need to attach them again:"))
    ).to_be_visible()

    # Corrected, and (the file picker looking empty) the same file picked again: it is
    # filed once, and the case page says it was already attached.
    id_field.fill(good_id)
    evidence_input(applicant).set_input_files(evidence)
    applicant.get_by_role("button", name=zh("Submit dispute")).tap()

    expect(applicant).to_have_url(
        re.compile(r"/cases/CNM-\d{4}-T-\d{5}\?filed=1&repeated=[A-Za-z0-9_.\-]+$")
    )
    repeated = applicant.locator(".repeated-evidence")
    expect(repeated).to_contain_text(
        zh("Some files were already attached, so they were not added again:")
    )
    expect(repeated.locator("li")).to_have_text(["合同.pdf 已经附上。"])
    notice = applicant.get_by_role("status")
    expect(notice).to_contain_text(zh("Your dispute has been filed. Case number:"))
    number = notice.locator(".case-number").inner_text().strip()
    assert CASE_NUMBER.match(number), number
    listed = applicant.locator(".evidence-list li", has_text="合同.pdf")
    expect(listed).to_have_count(1)
    digest = re.fullmatch(r"SHA-256 ([0-9a-f]{64})", listed.locator(".hash").inner_text().strip())
    assert digest, listed.inner_text()
    assert digest.group(1) == hashlib.sha256(PDF).hexdigest()
    phones.assert_fits(applicant)

    # The server's background job mails the invitation to the respondent.
    mail = mailbox.wait_for(RESPONDENT_EMAIL)
    assert number in str(mail["Subject"])
    body = mail.get_body(preferencelist=("plain",))
    assert body is not None
    text = body.get_content()
    links = re.findall(r"http://127\.0\.0\.1:\d+/invitations/[A-Za-z0-9_.\-]+", text)
    assert links, text
    assert links[0].startswith(server + "/invitations/")

    # The respondent, on another phone, follows the link and agrees to mediate.
    respondent = phones.new_page()
    respondent.goto(links[0])
    expect(respondent.get_by_role("heading", level=1)).to_have_text(number)
    expect(respondent.locator(".prose").first).to_have_text(FACTS)
    phones.assert_fits(respondent)
    field(respondent, zh("Your name or your business's name")).fill(RESPONDENT_NAME)
    field(respondent, zh("Mobile number or email")).fill(RESPONDENT_MOBILE)
    field(respondent, zh("Choose a password (at least 8 characters)")).fill("respondent pass 9")
    tick_consents(respondent)
    respondent.get_by_role("button", name="我同意调解").tap()

    expect(respondent).to_have_url(f"{server}/cases/{number}")
    expect_accepted(respondent)
    applicant_party = respondent.locator(".party").filter(
        has=respondent.get_by_role("heading", name=zh("Applicant"), exact=True)
    )
    masked = applicant_party.locator(".id-number").inner_text()
    assert "**********" in masked, masked
    assert masked == good_id[:4] + "*" * 10 + good_id[-4:]
    assert good_id not in respondent.content()
    phones.assert_fits(respondent)
    phones.screenshot(respondent, "browser-case-respondent")

    # The applicant's page shows the acceptance too (and their own ID number in full).
    applicant.reload()
    expect_accepted(applicant)
    expect(applicant.locator(".party .id-number").first).to_have_text(good_id)
    phones.assert_fits(applicant)
    phones.screenshot(applicant, "browser-case-applicant")


def test_header_switches_to_english(server: str, phones: Phones) -> None:
    page = phones.new_page()
    page.goto(server + "/")
    expect(page.locator("html")).to_have_attribute("lang", "zh-CN")
    page.get_by_role("link", name="English", exact=True).tap()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Resolve tourism and online shopping disputes online"
    )

    # The choice sticks: through sign-up to the filing form, all in English.
    page.get_by_role("link", name="File a dispute", exact=True).tap()
    expect(page.get_by_role("heading", level=1)).to_have_text("Sign in")
    page.get_by_role("link", name="Create an account", exact=True).tap()
    register(page, "Alex Chen", "alex@example.com", "correct horse 1", "Create account")
    expect(page).to_have_url(server + "/file")
    expect(page.get_by_role("heading", level=1)).to_have_text("File a dispute")
    expect(page.get_by_label("Tourism", exact=True)).to_be_checked()
    expect(page.get_by_label("Category")).to_contain_text("Tour-fee refund")
    phones.assert_fits(page)

    page.get_by_role("link", name="中文", exact=True).tap()
    expect(page.get_by_role("heading", level=1)).to_have_text("申请调解")
    expect(page.locator("html")).to_have_attribute("lang", "zh-CN")
