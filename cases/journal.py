"""The case's journal: status transitions, timeline events and queued notices.

Timeline events are of the kinds `cases.timeline` registers; recording any other kind raises
ValueError before anything is written.

Every action that changes a case writes through these, inside its own transaction, so the
change, its audit row and the notices it causes commit (or roll back) together.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime
from typing import Any

from cases.errors import CaseConflict
from cases.models import Case, Notice, NoticeChannel, Party, Side, TimelineEvent
from cases.pause import pause_point
from cases.rows import Row, insert_rows
from cases.status import Actor, Status, check_transition
from cases.timeline import EventKind, event_kind

# Leaving mediation this way ends the mediator's work on the case (their record counts it).
MEDIATION_ENDINGS = frozenset({Status.SETTLED, Status.FAILED, Status.TIMED_OUT, Status.WITHDRAWN})

# What other domains do in the same transaction when a case leaves mediation other than by
# settling (it ends, or goes back to assignment): the agreements domain withdraws a version
# left open for signature. The journal sits below that domain (the agreements import it), so
# the agreements register their handler (`cases.agreements.models`, which every process loads
# with the ORM).
LeavingMediation = Callable[[Case, Status, datetime], Awaitable[None]]
_leaving_mediation: list[LeavingMediation] = []


def on_leaving_mediation(handler: LeavingMediation) -> LeavingMediation:
    if handler not in _leaving_mediation:
        _leaving_mediation.append(handler)
    return handler


# What other domains write in the same transaction as timeline events: the webhooks domain
# queues a delivery to each partner endpoint subscribed to what an event means
# (`cases.webhooks.models`, loaded with the ORM by every process). Registered, because the
# journal sits below every domain that records events. A handler is given every event one
# write recorded (one, or a whole batch of filings'), so it can write its own rows for all of
# them at once.
RecordedEvent = tuple[Case, TimelineEvent]
EventsRecorded = Callable[[Sequence[RecordedEvent]], Awaitable[None]]
_events_recorded: list[EventsRecorded] = []


def on_events_recorded(handler: EventsRecorded) -> EventsRecorded:
    if handler not in _events_recorded:
        _events_recorded.append(handler)
    return handler


async def record_event(
    case: Case,
    kind: EventKind | str,
    now: datetime,
    *,
    actor_id: int | None = None,
    actor_label: str = "",
    **data: Any,
) -> TimelineEvent:
    """Add an event to the case's timeline. `kind` must be registered in `cases.timeline`
    (ValueError otherwise, before anything is written)."""
    event = await TimelineEvent.create(
        **event_row(case, kind, now, actor_id=actor_id, actor_label=actor_label, **data)
    )
    await events_recorded([(case, event)])
    return event


def event_row(
    case: Case,
    kind: EventKind | str,
    now: datetime,
    *,
    actor_id: int | None = None,
    actor_label: str = "",
    **data: Any,
) -> dict[str, Any]:
    """The fields of a timeline event (ValueError for a kind `cases.timeline` does not
    register): for `record_event`, and for a writer that records many at once."""
    registered = event_kind(kind)
    return {
        "case": case,
        "at": now,
        "actor_id": actor_id,
        "actor_label": actor_label,
        "kind": registered.value,
        "data": data,
    }


async def events_recorded(recorded: Sequence[RecordedEvent]) -> None:
    """Run the registered handlers for events just written (in the same transaction)."""
    for handler in _events_recorded:
        await handler(recorded)


async def record_events(rows: Sequence[dict[str, Any]]) -> list[TimelineEvent]:
    """Add many events (each made by `event_row`) with one statement, then run the handlers
    for all of them: for a writer that records a whole batch of filings. The events are
    returned without their ids (the statement does not read them back)."""
    events = [TimelineEvent(**row) for row in rows]
    if events:
        await TimelineEvent.bulk_create(events)
        await events_recorded([(event.case, event) for event in events])
    return events


async def transition(
    case: Case,
    target: Status,
    actor: Actor,
    now: datetime,
    *,
    actor_id: int | None = None,
    actor_label: str = "",
    **data: Any,
) -> None:
    """Move a case along the status machine, guarded against a concurrent change."""
    source = Status(case.status)
    check_transition(source, target, actor)
    changes: dict[str, Any] = {"status": target, "updated_at": now}
    if source is Status.IN_MEDIATION and target in MEDIATION_ENDINGS:
        changes["mediation_ended_at"] = now
        case.mediation_ended_at = now
    changed = await Case.filter(id=case.id, status=source).update(**changes)
    if not changed:
        raise CaseConflict("case_changed_meanwhile")
    case.status = target
    case.updated_at = now
    await record_event(
        case,
        EventKind.STATUS_CHANGED,
        now,
        actor_id=actor_id,
        actor_label=actor_label or actor.value,
        status=[source.value, target.value],
        **data,
    )
    if source is Status.IN_MEDIATION and target is not Status.SETTLED:
        for handler in _leaving_mediation:
            await handler(case, target, now)
        await pause_point("leaving_mediation")


async def transition_together(
    changes: Sequence[tuple[Case, dict[str, Any]]],
    target: Status,
    actor: Actor,
    now: datetime,
    *,
    actor_label: str = "",
) -> None:
    """Move cases that are all in one status to `target` with one UPDATE, each with its own
    event data (a batch of filings inviting their respondents). CaseConflict if any of them
    changed meanwhile (nothing of the batch is then kept: the caller's transaction rolls
    back)."""
    if not changes:
        return
    sources = {Status(case.status) for case, _ in changes}
    if len(sources) != 1:
        raise ValueError("cases moved together must share their status")
    (source,) = sources
    if source is Status.IN_MEDIATION:
        # Leaving mediation runs other domains' handlers per case: one at a time.
        raise ValueError("a case leaves mediation through transition()")
    check_transition(source, target, actor)
    ids = [case.id for case, _ in changes]
    changed = await Case.filter(id__in=ids, status=source).update(status=target, updated_at=now)
    if changed != len(ids):
        raise CaseConflict("case_changed_meanwhile")
    for case, _ in changes:
        case.status = target
        case.updated_at = now
    await record_events(
        [
            event_row(
                case,
                EventKind.STATUS_CHANGED,
                now,
                actor_label=actor_label or actor.value,
                status=[source.value, target.value],
                **data,
            )
            for case, data in changes
        ]
    )


def notice_row(
    case: Case | None,
    channel: NoticeChannel,
    recipient: str,
    subject: str,
    body: str,
    now: datetime,
) -> Row:
    """A notice not yet written: for `queue_notice`, or `queue_notices` with others."""
    return {
        "case_id": case.id if case is not None else None,
        "channel": channel,
        "recipient": recipient,
        "subject": subject,
        "body": body,
        "next_attempt_at": now,
        "created_at": now,
    }


async def queue_notices(notices: Sequence[Row]) -> None:
    """Record many notices (each made by `notice_row`) with one statement, in the current
    transaction; `mediation.notify` delivers them after commit."""
    await insert_rows(Notice, notices)


async def queue_notice(
    case: Case | None,
    channel: NoticeChannel,
    recipient: str,
    subject: str,
    body: str,
    now: datetime,
) -> Notice:
    """Record a notice in the current transaction; `mediation.notify` delivers it after commit."""
    notice = Notice(**notice_row(case, channel, recipient, subject, body, now))
    await notice.save()
    return notice


async def notify_applicant(case: Case, subject: str, body: str, now: datetime) -> None:
    applicant = await Party.get(case=case, side=Side.APPLICANT)
    if applicant.email:
        await queue_notice(case, NoticeChannel.EMAIL, applicant.email, subject, body, now)
    if applicant.mobile:
        await queue_notice(case, NoticeChannel.SMS, applicant.mobile, subject, body, now)


async def notify_parties(
    case: Case, subject: str, body: str, now: datetime, *, also_mediator: bool = False
) -> None:
    """Notify every party (and the mediator, when asked) by each channel they gave."""
    for party in await Party.filter(case=case).order_by("id"):
        if party.email:
            await queue_notice(case, NoticeChannel.EMAIL, party.email, subject, body, now)
        if party.mobile:
            await queue_notice(case, NoticeChannel.SMS, party.mobile, subject, body, now)
    if also_mediator and case.mediator_id is not None:
        await case.fetch_related("mediator")
        if case.mediator is not None and case.mediator.email:
            await queue_notice(case, NoticeChannel.EMAIL, case.mediator.email, subject, body, now)
