"""Webhooks to a partner over real HTTP, with a real receiver process that misbehaves.

The platform's side runs in this process: cases are filed by the partner and answered through
the actions (each timeline event queues its deliveries in its own transaction), and the relay
the background jobs run (`cases.webhooks.actions.webhook_relay`) sends them over HTTP to the
receiver, `tests/support/webhook_receiver.py` (the demo receiver with a fault plan), which
verifies every signature and applies each id once. On the way:

- the receiver answers 500 (nothing applied);
- it applies a delivery, then holds the answer past the relay's timeout (sent again: the
  receiver must see the repeat and not apply it twice);
- it is slow, but within the timeout;
- it is down (stopped: connection refused), then back on the same port;
- the secret is rotated mid-run: the receiver first keeps verifying with the old secret only
  (the grace period), then switches to the new one only.

Afterwards every event was delivered (no delivery pending or dead), the receiver applied each
event id exactly once and rejected no signature, and every fault really happened.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from cases.accounts.actions import do_create_partner, do_register_disputant
from cases.accounts.models import PartnerPlatform
from cases.actions import Filer
from cases.intake import file_dispute
from cases.models import Case, Invitation, OutboxStatus
from cases.routing.assignment import do_respondent_consents
from cases.webhooks import catalogue as c
from cases.webhooks.actions import do_add_endpoint, do_rotate_secret, webhook_relay
from cases.webhooks.models import WebhookDelivery
from courtwire.outbox import Relay
from mediation.settings import Settings
from tests.support.factories import cheap_password_hashing, filing_fields, resident_id
from tests.support.live_server import free_port, run_with_orm, stop_process
from tests.support.rooms import cheap_hashing

RELAY_TIMEOUT = 1.0  # seconds; the receiver's hold (4 s) outlasts it, its slowness (0.6 s) not
WAIT = 60.0


@pytest.fixture(autouse=True)
def _fast_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    cheap_password_hashing(monkeypatch)


class ReceiverProcess:
    def __init__(self, port: int, seen: Path, secrets: list[str], log: Path) -> None:
        self.port = port
        self.seen = seen
        self.secrets = secrets
        self.log = log
        self.url = f"http://127.0.0.1:{port}"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "tests.support.webhook_receiver",
                    str(self.port),
                    str(self.seen),
                    *self.secrets,
                ],
                stdout=out,
                stderr=out,
                stdin=subprocess.DEVNULL,
            )
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            assert self.process.poll() is None, self.log.read_text()
            try:
                if httpx.get(f"{self.url}/healthz", timeout=1.0).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.05)
        raise AssertionError(f"receiver did not start: {self.log.read_text()}")

    def stop(self) -> None:
        if self.process is not None:
            stop_process(self.process)
            self.process = None

    async def control(self, what: str, value: list[str]) -> None:
        async with httpx.AsyncClient(timeout=5.0) as client:
            (await client.post(f"{self.url}/control/{what}", json=value)).raise_for_status()

    async def state(self) -> dict[str, Any]:
        async with httpx.AsyncClient(timeout=5.0) as client:
            answer: dict[str, Any] = (await client.get(f"{self.url}/control/state")).json()
            return answer


@contextmanager
def receiver_process(tmp_path: Path, secret: str) -> Iterator[ReceiverProcess]:
    receiver = ReceiverProcess(free_port(), tmp_path / "seen.jsonl", [secret], tmp_path / "r.log")
    receiver.start()
    try:
        yield receiver
    finally:
        receiver.stop()


async def file_as(settings: Settings, partner: PartnerPlatform, n: int) -> Case:
    filer = Filer(partner_id=partner.id, partner_name=partner.name, partner_reference=f"O-{n}")
    fields = filing_fields(
        applicant_mobile=f"1381234{n:04d}",
        applicant_email=f"buyer{n}@example.com",
        applicant_id_number=resident_id(f"31010519900307{n:03d}"),
    )
    return await file_dispute(settings, fields, [], filer, datetime.now(UTC))


async def consent(case: Case, n: int) -> None:
    respondent = await do_register_disputant(
        identifier=f"1390000{n:04d}", password="respondent password 1", display_name="商家"
    )
    invitation = await Invitation.get(case_id=case.id)
    await do_respondent_consents(invitation, respondent.id, datetime.now(UTC))


async def pending() -> int:
    return await WebhookDelivery.filter(status=OutboxStatus.PENDING).count()


async def drain(relay: Relay, seconds: float = WAIT) -> None:
    """Run the relay (as the background jobs do) until nothing is pending."""
    deadline = time.monotonic() + seconds
    while await pending():
        assert time.monotonic() < deadline, "deliveries still pending"
        await relay.deliver_due(limit=50)
        await asyncio.sleep(0.05)


async def test_every_event_arrives_once_through_faults_and_a_rotation(
    settings: Settings, db: None, tmp_path: Path
) -> None:
    partner, _ = await do_create_partner("携程演示")
    with receiver_process(tmp_path, "whsec_cGxhY2Vob2xkZXI=") as receiver:
        endpoint, old_secret = await do_add_endpoint(
            partner.id,
            receiver.url + "/hooks/mediation",
            [c.DISPUTE_FILED, c.RESPONDENT_ANSWERED],
            "",
            datetime.now(UTC),
            allow_http=True,
        )
        await receiver.control("secrets", [old_secret])
        receiver.secrets = [old_secret]
        relay = webhook_relay(
            settings,
            timeout=RELAY_TIMEOUT,
            base_delay=timedelta(seconds=0.2),
            lease=timedelta(seconds=10),
        )

        # 1. A 500, an answer lost after the receiver applied it, a slow answer.
        await receiver.control("plan", ["error", "timeout_after_record", "slow"])
        cases = [await file_as(settings, partner, n) for n in range(3)]
        await drain(relay)

        # 2. The receiver is down: connection refused, then it comes back on the same port
        # (remembering what it applied, but counting repeats afresh).
        repeats_before_restart = (await receiver.state())["repeats"]
        receiver.stop()
        cases += [await file_as(settings, partner, n) for n in range(3, 5)]
        await relay.deliver_due(limit=50)
        # Refused: the first is tried, the endpoint's other one waits for a later round.
        refused = await WebhookDelivery.filter(last_error__contains="ConnectError").count()
        assert refused == 1
        assert await pending() == 2
        receiver.start()
        await drain(relay)

        # 3. The secret is rotated mid-run; the receiver still knows only the old one.
        new_secret = await do_rotate_secret(partner.id, endpoint.id, datetime.now(UTC))
        await receiver.control("plan", ["error", "slow"])
        for n, case in enumerate(cases[:3]):
            await consent(case, n)
        cases.append(await file_as(settings, partner, 5))
        await drain(relay)

        # 4. The receiver switches to the new secret only (its restarts keep it so).
        await receiver.control("secrets", [new_secret])
        receiver.secrets = [new_secret]
        await receiver.control("plan", ["timeout_after_record"])
        for n, case in enumerate(cases[3:5], start=3):
            await consent(case, n)
        cases.append(await file_as(settings, partner, 6))
        await drain(relay)

        state = await receiver.state()

    rows = await WebhookDelivery.all().order_by("id")
    assert {r.status for r in rows} == {OutboxStatus.DELIVERED}
    types = sorted(r.event_type for r in rows)
    assert types == sorted([c.DISPUTE_FILED] * 7 + [c.RESPONDENT_ANSWERED] * 5)
    # Each event applied exactly once, with the body the platform signed.
    applied = state["applied"]
    assert set(applied) == {r.msg_id for r in rows}
    for row in rows:
        assert applied[row.msg_id]["payload"] == json.loads(row.body)
    numbers = {case.number for case in cases}
    assert {e["payload"]["data"]["number"] for e in applied.values()} == numbers
    # Every signature verified, and every fault happened.
    assert state["rejected"] == 0
    # The two answers held past the timeout were sent again, and seen as repeats.
    assert repeats_before_restart >= 1 and state["repeats"] >= 1
    assert {"error", "timeout_after_record", "slow"} <= set(state["faults_used"])
    assert state["plan_left"] == []
    assert max(r.attempts for r in rows) >= 2


async def test_a_receiver_without_the_secret_refuses_and_the_row_waits_for_a_replay(
    settings: Settings, db: None, tmp_path: Path
) -> None:
    partner, _ = await do_create_partner("携程演示")
    with receiver_process(tmp_path, "whsec_d3Jvbmctc2VjcmV0LWtleQ==") as receiver:
        await do_add_endpoint(
            partner.id,
            receiver.url + "/hooks",
            [c.DISPUTE_FILED],
            "",
            datetime.now(UTC),
            allow_http=True,
        )
        relay = webhook_relay(settings, timeout=RELAY_TIMEOUT)
        await file_as(settings, partner, 1)
        await relay.deliver_due(limit=50)
        state = await receiver.state()
    (row,) = await WebhookDelivery.all()
    # 401 is a permanent refusal: a dead letter at once, for the partner to replay.
    assert row.status == OutboxStatus.DEAD and row.last_status_code == 401
    assert state["rejected"] == 1 and state["applied"] == {}


def test_the_jobs_process_delivers_through_a_failure_and_a_lost_answer(
    settings: Settings, database_url: str, tmp_path: Path
) -> None:
    """The same relay as `mediation jobs` runs it, in its own process, tuned by the
    environment: a 500 and an answer lost after the receiver applied it, then every event
    applied once."""

    async def seed() -> tuple[str, list[str]]:
        partner, _ = await do_create_partner("携程演示")
        _, secret = await do_add_endpoint(
            partner.id,
            f"{receiver.url}/hooks",
            [c.DISPUTE_FILED],
            "",
            datetime.now(UTC),
            allow_http=True,
        )
        for n in range(3):
            await file_as(settings, partner, n)
        rows = await WebhookDelivery.all().order_by("id")
        return secret, [r.msg_id for r in rows]

    async def statuses() -> set[str]:
        return {str(r.status) for r in await WebhookDelivery.all()}

    with cheap_hashing(), receiver_process(tmp_path, "whsec_cGxhY2Vob2xkZXI=") as receiver:
        secret, ids = run_with_orm(database_url, seed)
        asyncio.run(receiver.control("secrets", [secret]))
        asyncio.run(receiver.control("plan", ["error", "timeout_after_record"]))
        env = {
            **os.environ,
            "DATABASE_URL": database_url,
            "MEDIATION_DATA_DIR": str(settings.data_dir),
            "SECRET_KEY": settings.secret_key,
            "WEBHOOK_RELAY_TIMEOUT": str(RELAY_TIMEOUT),
            "WEBHOOK_RELAY_RETRY_BASE_SECONDS": "0.2",
            "SMTP_HOST": "127.0.0.1",
            "SMTP_PORT": "1",
        }
        log = tmp_path / "jobs.log"
        with log.open("ab") as output:
            jobs = subprocess.Popen(
                [sys.executable, "-m", "mediation.cli", "jobs", "--interval", "0.3"],
                env=env,
                stdout=output,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
            )
        try:
            deadline = time.monotonic() + WAIT
            while run_with_orm(database_url, statuses) != {"delivered"}:
                assert jobs.poll() is None, log.read_text()
                assert time.monotonic() < deadline, log.read_text()
                time.sleep(0.3)
            state = asyncio.run(receiver.state())
        finally:
            stop_process(jobs)
    assert sorted(state["applied"]) == sorted(ids)
    assert state["repeats"] >= 1 and state["rejected"] == 0
    assert state["faults_used"][:2] == ["error", "timeout_after_record"]
