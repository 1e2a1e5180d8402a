"""Delivering notices to a real SMTP server (aiosmtpd), with retries, give-up and leases."""

from __future__ import annotations

import asyncio
import email
import email.policy
import logging
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

from cases.actions import Filer
from cases.intake import file_dispute, read_invitation_token
from cases.models import Case, Invitation, Notice, NoticeChannel, NoticeStatus
from mediation.notify import MAX_ATTEMPTS, Notifier
from mediation.settings import Settings
from tests.support.concurrency import rendezvous
from tests.support.factories import filing_fields
from tests.support.live_server import free_port

NOW = datetime(2026, 11, 5, 2, 0, tzinfo=UTC)
RESPONDENT_EMAIL = "service@travel.example.com"
RESPONDENT_MOBILE = "13900001111"


class Collector:
    """An aiosmtpd handler that keeps every envelope it is given."""

    def __init__(self) -> None:
        self.envelopes: list[Envelope] = []

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        self.envelopes.append(envelope)
        return "250 Message accepted for delivery"

    def messages(self) -> list[EmailMessage]:
        parsed = []
        for envelope in self.envelopes:
            assert isinstance(envelope.content, bytes)
            message = email.message_from_bytes(envelope.content, policy=email.policy.default)
            assert isinstance(message, EmailMessage)
            parsed.append(message)
        return parsed


@pytest.fixture
def smtp_server() -> Iterator[tuple[int, Collector]]:
    collector = Collector()
    controller = Controller(collector, hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        yield controller.port, collector
    finally:
        controller.stop()


def with_smtp(settings: Settings, port: int) -> Settings:
    return settings.with_(smtp_port=port)


async def file_one(settings: Settings, **overrides: Any) -> Case:
    return await file_dispute(settings, filing_fields(**overrides), [], Filer(user_id=None), NOW)


def sms_lines(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [
        r.getMessage()
        for r in caplog.records
        if r.name == "mediation.notify" and r.getMessage().startswith("SMS to ")
    ]


async def test_the_respondent_is_invited_by_email_and_sms(
    db: None,
    settings: Settings,
    smtp_server: tuple[int, Collector],
    caplog: pytest.LogCaptureFixture,
) -> None:
    port, collector = smtp_server
    caplog.set_level(logging.INFO, logger="mediation.notify")
    case = await file_one(with_smtp(settings, port))

    sent = await Notifier.from_settings(with_smtp(settings, port)).deliver_due(NOW)

    assert sent == 2
    [envelope] = collector.envelopes
    assert envelope.mail_from == "noreply@mediation.changning.example"
    assert envelope.rcpt_tos == [RESPONDENT_EMAIL]
    assert isinstance(envelope.content, bytes)
    head = envelope.content.split(b"\r\n\r\n", 1)[0]
    assert head.isascii(), "headers must be RFC 2047 encoded"
    [message] = collector.messages()
    assert message["Subject"] == f"调解邀请 Mediation invitation: {case.number}"
    assert message["To"] == RESPONDENT_EMAIL
    assert message["From"].addresses[0].display_name == "调解平台"
    assert message.get_content_charset() == "utf-8"
    body = message.get_content()
    assert case.number in body
    assert "上海某某国际旅行社有限公司" in body
    links = re.findall(r"http://testserver/invitations/(\S+)", body)
    assert links, body
    invitation = await Invitation.get(case=case)
    assert set(links) == {links[0]}
    assert read_invitation_token(settings, links[0]) == (invitation.id, invitation.nonce)

    [sms] = sms_lines(caplog)
    assert sms.startswith(f"SMS to {RESPONDENT_MOBILE}: ")
    assert case.number in sms and "/invitations/" in sms

    notices = await Notice.filter(case=case).order_by("id")
    assert [(n.channel, n.status, n.attempts) for n in notices] == [
        (NoticeChannel.EMAIL, NoticeStatus.SENT, 1),
        (NoticeChannel.SMS, NoticeStatus.SENT, 1),
    ]
    assert all(n.sent_at == NOW and n.last_error == "" for n in notices)

    assert await Notifier.from_settings(with_smtp(settings, port)).deliver_due(NOW) == 0
    assert len(collector.envelopes) == 1


async def test_a_mail_server_that_is_down_delays_the_notice(
    db: None, settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    down = with_smtp(settings, free_port())  # nothing listens there
    caplog.set_level(logging.INFO, logger="mediation.notify")
    case = await file_one(down)
    notifier = Notifier.from_settings(down)

    assert await notifier.deliver_due(NOW) == 1  # the SMS

    mail = await Notice.get(case=case, channel=NoticeChannel.EMAIL)
    assert mail.status == NoticeStatus.PENDING
    assert mail.attempts == 1
    assert mail.last_error
    assert mail.next_attempt_at > NOW
    assert mail.sent_at is None
    sms = await Notice.get(case=case, channel=NoticeChannel.SMS)
    assert sms.status == NoticeStatus.SENT
    assert any("not delivered (attempt 1)" in r.getMessage() for r in caplog.records)

    early = mail.next_attempt_at - timedelta(seconds=1)
    assert await notifier.deliver_due(early) == 0
    again = await Notice.get(id=mail.id)
    assert (again.attempts, again.next_attempt_at, again.status) == (
        1,
        mail.next_attempt_at,
        NoticeStatus.PENDING,
    )
    assert len(sms_lines(caplog)) == 1


async def test_the_notice_is_delivered_once_the_mail_server_is_back(
    db: None, settings: Settings, smtp_server: tuple[int, Collector]
) -> None:
    port, collector = smtp_server
    case = await file_one(with_smtp(settings, free_port()))
    assert await Notifier.from_settings(with_smtp(settings, free_port())).deliver_due(NOW) == 1
    mail = await Notice.get(case=case, channel=NoticeChannel.EMAIL)

    later = mail.next_attempt_at
    sent = await Notifier.from_settings(with_smtp(settings, port)).deliver_due(later)

    assert sent == 1
    assert len(collector.envelopes) == 1
    assert case.number in collector.messages()[0].get_content()
    delivered = await Notice.get(id=mail.id)
    assert (delivered.status, delivered.attempts, delivered.sent_at) == (
        NoticeStatus.SENT,
        2,
        later,
    )


async def test_the_notice_fails_after_the_last_attempt(db: None, settings: Settings) -> None:
    down = with_smtp(settings, free_port())
    case = await file_one(down)
    notifier = Notifier.from_settings(down)
    mail = await Notice.get(case=case, channel=NoticeChannel.EMAIL)

    at = NOW
    for attempt in range(1, MAX_ATTEMPTS + 1):
        await notifier.deliver_due(at)
        mail = await Notice.get(id=mail.id)
        assert mail.attempts == attempt
        if attempt < MAX_ATTEMPTS:
            assert mail.status == NoticeStatus.PENDING
            assert timedelta(0) < mail.next_attempt_at - at <= timedelta(hours=1)
            at = mail.next_attempt_at

    assert mail.status == NoticeStatus.FAILED
    assert mail.attempts == MAX_ATTEMPTS
    assert "ConnectionRefusedError" in mail.last_error
    assert await notifier.deliver_due(at + timedelta(days=30)) == 0
    assert (await Notice.get(id=mail.id)).attempts == MAX_ATTEMPTS


async def test_concurrent_notifiers_send_each_notice_once(
    db: None,
    settings: Settings,
    smtp_server: tuple[int, Collector],
    caplog: pytest.LogCaptureFixture,
) -> None:
    port, collector = smtp_server
    caplog.set_level(logging.INFO, logger="mediation.notify")
    mobiles = ["13900001111", "13900002222", "13900003333"]
    for n, mobile in enumerate(mobiles):
        await file_one(
            with_smtp(settings, port),
            respondent_mobile=mobile,
            respondent_email=f"respondent{n}@example.com",
        )

    first, second = (
        Notifier.from_settings(with_smtp(settings, port)),
        Notifier.from_settings(with_smtp(settings, port)),
    )
    # Both notifiers are held after seeing the first notice due, just before the claim
    # (`notice_claim`), so without the claim both send it, every time: on SQLite and
    # PostgreSQL alike (the claim is a conditional update, committed at once).
    with rendezvous("notice_claim"):
        sent = await asyncio.gather(first.deliver_due(NOW), second.deliver_due(NOW))

    assert sum(sent) == 6
    assert sorted(e.rcpt_tos[0] for e in collector.envelopes) == [
        "respondent0@example.com",
        "respondent1@example.com",
        "respondent2@example.com",
    ]
    assert sorted(line.split(":", 1)[0] for line in sms_lines(caplog)) == [
        f"SMS to {m}" for m in mobiles
    ]
    statuses = await Notice.all().values_list("status", "attempts")
    assert sorted(statuses) == [(NoticeStatus.SENT, 1)] * 6
