"""A local mail sink for the embedded demo: accepts SMTP on 127.0.0.1 and keeps each message
as an .eml file (and a line in the log), so invitation links can be followed without a real
mail server. Production points SMTP_HOST/SMTP_PORT at a real relay instead."""

from __future__ import annotations

import email
import email.policy
import logging
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller

log = logging.getLogger("mediation.mail")


class _SaveToFolder:
    def __init__(self, folder: Path) -> None:
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)
        self.count = len(list(folder.glob("*.eml")))

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.count += 1
        path = self.folder / f"{self.count:05d}.eml"
        path.write_bytes(envelope.content)
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        log.info("mail to %s: %s (%s)", ", ".join(envelope.rcpt_tos), message["subject"], path)
        return "250 Message accepted for delivery"


def start_mail_sink(folder: Path, port: int) -> Controller:
    controller = Controller(_SaveToFolder(folder), hostname="127.0.0.1", port=port)
    controller.start()
    return controller
