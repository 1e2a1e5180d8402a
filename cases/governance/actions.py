"""The view log's one writer, and its reader."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, is_dataclass
from datetime import date, datetime
from typing import Any

from cases.accounts.models import User
from cases.governance.models import Audience, FigureView


def filter_words(filters: Any) -> dict[str, Any]:
    """A filter (a dataclass such as FigureFilter, or a mapping) as the log keeps it: only
    what was set, dates as YYYY-MM-DD, enumerations as their values."""
    items: Mapping[str, Any]
    if is_dataclass(filters) and not isinstance(filters, type):
        items = asdict(filters)
    elif isinstance(filters, Mapping):
        items = filters
    else:
        raise TypeError("a filter is a dataclass or a mapping")
    kept: dict[str, Any] = {}
    for name, value in items.items():
        if value is None or value == "":
            continue
        if isinstance(value, date | datetime):
            kept[name] = value.isoformat()
        elif isinstance(value, bool | int | float | str):
            kept[name] = value if not isinstance(value, str) else str(value)
        else:
            kept[name] = str(value)
    return kept


async def log_figure_view(
    viewer: User | None,
    audience: Audience,
    view: str,
    filters: Any,
    now: datetime,
    *,
    partner_id: int | None = None,
) -> FigureView:
    """Keep who looked at which figures, with which filter, and when (one row)."""
    return await FigureView.create(
        user_id=viewer.id if viewer is not None else None,
        partner_id=partner_id,
        audience=audience,
        view=view[:40],
        filters=filter_words(filters),
        viewed_at=now,
    )


async def figure_views(limit: int = 100) -> list[FigureView]:
    """The latest views, newest first, with their accounts and partners."""
    return (
        await FigureView.all()
        .order_by("-viewed_at", "-id")
        .limit(limit)
        .prefetch_related("user", "partner")
    )
