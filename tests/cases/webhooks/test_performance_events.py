"""Performance reminders reach the partner as performance.due / performance.overdue, from the
timeline event the reminder job records in its own transaction (once, however many job
processes run)."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, date, datetime, timedelta

import pytest

from cases.accounts.actions import do_create_partner
from cases.models import Case, TimelineEvent
from cases.performance.actions import do_send_performance_reminders
from cases.webhooks import catalogue as c
from cases.webhooks.actions import do_add_endpoint
from cases.webhooks.models import WebhookDelivery
from mediation.settings import Settings
from tests.mediation.signed_agreement import build_signed_world
from tests.support.concurrency import rendezvous
from tests.support.factories import cheap_password_hashing

NOW = datetime(2026, 12, 1, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai


@pytest.fixture(autouse=True)
def _fast_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    cheap_password_hashing(monkeypatch)


async def test_due_and_overdue_reminders_are_told_once(db: None, settings: Settings) -> None:
    world = await build_signed_world(
        settings,
        effective_at=NOW - timedelta(days=10),
        refund_due=date(2026, 12, 3),
        withdraw_due=date(2026, 12, 30),
    )
    partner, _ = await do_create_partner("携程演示")
    # The case came from the partner (as if filed through its API).
    await Case.filter(id=world.case_id).update(partner_id=partner.id, partner_reference="O-9")
    await do_add_endpoint(
        partner.id,
        "https://hooks.ctrip.example.com/m",
        [c.PERFORMANCE_DUE, c.PERFORMANCE_OVERDUE],
        "",
        NOW,
    )
    with rendezvous("performance_reminder"):
        await asyncio.gather(*(do_send_performance_reminders(NOW) for _ in range(3)))
    after = NOW + timedelta(days=3)
    with rendezvous("performance_reminder"):
        await asyncio.gather(*(do_send_performance_reminders(after) for _ in range(3)))

    bodies = [json.loads(r.body) for r in await WebhookDelivery.all().order_by("id")]
    assert [(b["type"], b["data"]["term"], b["data"]["due_on"]) for b in bodies] == [
        (c.PERFORMANCE_DUE, 1, "2026-12-03"),
        (c.PERFORMANCE_OVERDUE, 1, "2026-12-03"),
    ]
    assert all(b["data"]["number"] == world.case_number for b in bodies)
    assert all(b["data"]["partner_reference"] == "O-9" for b in bodies)
    recorded = await TimelineEvent.filter(case_id=world.case_id, kind="performance_reminded")
    assert sorted(e.data["reminder"] for e in recorded) == ["due_soon", "overdue"]
