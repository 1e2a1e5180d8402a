"""The view log (cases/governance/actions.py) on a real database."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from cases.accounts.models import Role, User
from cases.governance.actions import figure_views, filter_words, log_figure_view
from cases.governance.models import Audience, FigureView

pytestmark = pytest.mark.usefixtures("db")

NOW = datetime(2026, 12, 4, 8, 0, tzinfo=UTC)


def test_a_filter_is_kept_as_words() -> None:
    from dataclasses import dataclass

    @dataclass(frozen=True)
    class Filter:
        start: date | None = None
        domain: str | None = None
        partner_id: int | None = None

    assert filter_words(Filter(start=date(2026, 11, 1), partner_id=3)) == {
        "start": "2026-11-01",
        "partner_id": 3,
    }
    assert filter_words({"grain": "week", "key": "", "by": None}) == {"grain": "week"}
    with pytest.raises(TypeError):
        filter_words(3)


async def test_every_view_is_kept_with_who_what_and_when() -> None:
    user = await User.create(
        username="gov1", display_name="区司法局", role=Role.GOVERNANCE, password_hash="x"
    )
    await log_figure_view(user, Audience.GOVERNANCE, "volume", {"grain": "month"}, NOW)
    await log_figure_view(None, Audience.PUBLIC, "statistics", {}, NOW.replace(hour=9))
    views = await figure_views()
    assert [(v.view, v.audience, v.user_id) for v in views] == [
        ("statistics", Audience.PUBLIC, None),
        ("volume", Audience.GOVERNANCE, user.id),
    ]
    assert views[1].filters == {"grain": "month"}
    assert await FigureView.all().count() == 2
