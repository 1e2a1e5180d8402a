"""Delivering notices recorded by the actions: email over SMTP, SMS through a provider.

Notices are rows written in the same transaction as the change that causes them; this module
delivers them after commit and retries with backoff, so a mail server that is down delays a
notice but never loses it. Safe in several processes: each notice is claimed by a lease.
"""

from __future__ import annotations

import asyncio
import logging
import smtplib
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from typing import Protocol

from cases.models import Notice, NoticeChannel, NoticeStatus
from cases.pause import pause_point
from mediation.settings import Settings

log = logging.getLogger("mediation.notify")
MAX_ATTEMPTS = 8
LEASE = timedelta(minutes=2)


class SmsSender(Protocol):
    async def send(self, mobile: str, text: str) -> None: ...


class LogSmsSender:
    """The development SMS provider: writes each message to the log instead of a gateway."""

    async def send(self, mobile: str, text: str) -> None:
        log.info("SMS to %s: %s", mobile, text)


class SmtpEmailSender:
    def __init__(self, host: str, port: int, sender: str) -> None:
        self.host, self.port, self.sender = host, port, sender

    def _send_blocking(self, to: str, subject: str, body: str) -> None:
        message = EmailMessage()
        message["From"] = self.sender
        message["To"] = to
        message["Subject"] = subject
        message["Date"] = formatdate(localtime=False)
        message["Message-ID"] = make_msgid(domain="mediation.changning.example")
        message.set_content(body, charset="utf-8")
        with smtplib.SMTP(self.host, self.port, timeout=10) as smtp:
            smtp.send_message(message)

    async def send(self, to: str, subject: str, body: str) -> None:
        await asyncio.to_thread(self._send_blocking, to, subject, body)


class Notifier:
    def __init__(self, email: SmtpEmailSender, sms: SmsSender) -> None:
        self.email, self.sms = email, sms

    @classmethod
    def from_settings(cls, settings: Settings) -> Notifier:
        return cls(
            SmtpEmailSender(settings.smtp_host, settings.smtp_port, settings.smtp_sender),
            LogSmsSender(),
        )

    async def deliver_due(self, now: datetime, limit: int = 100) -> int:
        """Deliver pending notices whose time has come; returns how many were sent."""
        due = (
            await Notice.filter(status=NoticeStatus.PENDING, next_attempt_at__lte=now)
            .order_by("next_attempt_at", "id")
            .limit(limit)
            .values_list("id", "next_attempt_at")
        )
        sent = 0
        for notice_id, seen_at in due:
            # Where the concurrency tests hold two notifiers that both saw the notice due.
            await pause_point("notice_claim")
            # Claim by moving the lease forward only if nobody else did since we looked.
            claimed = await Notice.filter(id=notice_id, next_attempt_at=seen_at).update(
                next_attempt_at=now + LEASE
            )
            if claimed:
                sent += await self._deliver_one(await Notice.get(id=notice_id), now)
        return sent

    async def _deliver_one(self, notice: Notice, now: datetime) -> int:
        try:
            if notice.channel == NoticeChannel.EMAIL:
                await self.email.send(notice.recipient, notice.subject, notice.body)
            else:
                await self.sms.send(notice.recipient, notice.body)
        except Exception as error:  # any failure of a sender is retried, never lost
            attempts = notice.attempts + 1
            give_up = attempts >= MAX_ATTEMPTS
            await Notice.filter(id=notice.id).update(
                attempts=attempts,
                last_error=f"{type(error).__name__}: {error}"[:1000],
                status=NoticeStatus.FAILED if give_up else NoticeStatus.PENDING,
                # 30 s, 1 min, 2 min ... capped at one hour.
                next_attempt_at=now
                + min(timedelta(seconds=30 * 2 ** (attempts - 1)), timedelta(hours=1)),
            )
            log.warning("notice %s not delivered (attempt %s): %s", notice.id, attempts, error)
            return 0
        await Notice.filter(id=notice.id).update(
            status=NoticeStatus.SENT, sent_at=now, attempts=notice.attempts + 1
        )
        return 1
