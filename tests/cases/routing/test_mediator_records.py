"""A mediator's load and record are counted from the cases, whatever ended them."""

from __future__ import annotations

from datetime import UTC, datetime

from cases.models import Case
from cases.routing.roster import MediatorRecord, mediator_records
from cases.status import Status

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
    from cases.accounts.actions import do_create_staff
    from cases.accounts.models import Organisation, Role, Track

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


async def test_average_days_run_from_acceptance_to_the_end_of_mediation(db: None) -> None:
    from datetime import timedelta

    from cases.accounts.actions import do_create_staff
    from cases.accounts.models import Organisation, Role, Track
    from cases.journal import transition
    from cases.routing.roster import average_days
    from cases.status import Actor

    org = await Organisation.create(code="O", name="组织", name_en="Org", track=Track.PEOPLES)
    wang = await do_create_staff(
        username="wang",
        password="long enough pw",
        role=Role.MEDIATOR,
        display_name="王",
        organisation_id=org.id,
    )
    assert await average_days([wang.id]) == {wang.id: None}
    for n, days in ((1, 10), (2, 20)):
        await _case(n, wang.id, Status.IN_MEDIATION)
        case = await Case.get(number=f"CNM-2026-T-{n:05d}")
        case.mediator_accepted_at = NOW
        await case.save(update_fields=["mediator_accepted_at"])
        await transition(case, Status.TIMED_OUT, Actor.SYSTEM, NOW + timedelta(days=days))
        assert (await Case.get(id=case.id)).mediation_ended_at == NOW + timedelta(days=days)

    assert await average_days([wang.id]) == {wang.id: 15.0}
