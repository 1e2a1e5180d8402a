"""A mediator's load and record are counted from the cases, whatever ended them."""

from __future__ import annotations

from datetime import UTC, datetime

from cases.models import Case
from cases.status import Status
from mediation.roster import MediatorRecord, mediator_records

NOW = datetime(2026, 11, 27, 2, 0, tzinfo=UTC)


async def _case(n: int, mediator_id: int | None, status: Status) -> None:
    await Case.create(
        number=f"CNM-2026-T-{n:05d}",
        domain="tourism",
        category="tour_refund",
        status=status,
        claim_amount="100.00",
        facts="x" * 10,
        requested_outcome="x",
        mediator_id=mediator_id,
        created_at=NOW,
        updated_at=NOW,
    )


async def test_records_count_every_ending(db: None) -> None:
    from mediation.accounts import do_create_staff
    from mediation.models import Organisation, Role, Track

    org = await Organisation.create(code="O", name="组织", name_en="Org", track=Track.PEOPLES)
    wang, li = [
        await do_create_staff(
            username=u,
            password="long enough pw",
            role=Role.MEDIATOR,
            display_name=u,
            organisation_id=org.id,
        )
        for u in ("wang", "li")
    ]
    statuses = [
        Status.AWAITING_MEDIATOR,
        Status.IN_MEDIATION,  # open
        Status.SETTLED,
        Status.CONFIRMED,  # settled
        Status.FAILED,
        Status.TIMED_OUT,
        Status.DOCKETED,  # ended without agreement
        Status.WITHDRAWN,  # neither: a withdrawal says nothing about the mediator
    ]
    for n, status in enumerate(statuses, start=1):
        await _case(n, wang.id, status)
    await _case(99, None, Status.ASSIGNING)

    records = await mediator_records([wang.id, li.id])

    assert records == {
        wang.id: MediatorRecord(open_cases=2, closed=5, settled=2),
        li.id: MediatorRecord(),
    }
    assert records[wang.id].settlement_rate == 0.4
    assert records[li.id].settlement_rate is None
