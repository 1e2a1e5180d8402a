"""What the case page shows of the order a partner platform provided (evidence at the
source): every field as the platform sent it, in the page's words (times in Beijing time,
amounts in yuan), with the snapshot's SHA-256 and the time the platform received it."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from cases.models import Case
from cases.partners.actions import order_snapshots
from cases.partners.models import OrderSnapshot
from cases.partners.rules import read_time
from mediation.i18n import N_

SPEAKER_LABELS = {
    "customer": N_("Customer"),
    "merchant": N_("Merchant"),
    "platform": N_("Platform customer service"),
}


@dataclass(frozen=True)
class OrderView:
    position: int  # 1, 2, ...: the page's anchor (#order-1)
    partner_name: str
    order_number: str
    sha256: str
    received_at: datetime
    placed_at: datetime | None
    paid_at: datetime | None
    total_amount: str
    paid_amount: str | None
    merchant_name: str | None
    merchant_uscc: str | None
    items: list[dict[str, Any]] = field(default_factory=list)
    booking: dict[str, Any] | None = None
    chat: list[dict[str, Any]] = field(default_factory=list)


def _time(value: object) -> datetime | None:
    return read_time(value)


async def order_views(case: Case) -> list[OrderView]:
    """Every order provided for the case (a merged filing brings its own), oldest first."""
    return [_view(n, snapshot) for n, snapshot in enumerate(await order_snapshots(case), 1)]


def _view(position: int, snapshot: OrderSnapshot) -> OrderView:
    order: dict[str, Any] = json.loads(snapshot.canonical)
    booking = order.get("booking")
    if isinstance(booking, dict):
        booking = {
            **booking,
            "departure_at": _time(booking.get("departure_at")),
            "return_at": _time(booking.get("return_at")),
        }
    return OrderView(
        position=position,
        partner_name=snapshot.partner.name,
        order_number=snapshot.order_number,
        sha256=snapshot.sha256,
        received_at=snapshot.received_at,
        placed_at=_time(order.get("placed_at")),
        paid_at=_time(order.get("paid_at")),
        total_amount=order["total_amount"],
        paid_amount=order.get("paid_amount"),
        merchant_name=order.get("merchant_name"),
        merchant_uscc=order.get("merchant_uscc"),
        items=list(order.get("items") or []),
        booking=booking if isinstance(booking, dict) else None,
        chat=[
            {**line, "at": _time(line.get("at")), "speaker_label": SPEAKER_LABELS[line["speaker"]]}
            for line in order.get("chat_excerpt") or []
        ],
    )
