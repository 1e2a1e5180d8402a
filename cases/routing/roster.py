"""The organisation's roster: mediator profiles and leave, kept by organisation admins."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from tortoise.functions import Count

from cases.accounts.models import MediatorLeave, MediatorProfile, Role, User
from cases.categories import BY_CODE
from cases.errors import CaseError, CaseNotFound
from cases.identity import is_valid_uscc, normalise_uscc
from cases.models import Case
from cases.status import Status

LANGUAGES = ("zh", "en", "ja", "ko", "fr", "de", "ru", "es")


class RosterInvalid(CaseError):
    status_code = 422

    def __init__(self, field_errors: dict[str, str]) -> None:
        super().__init__("invalid_input")
        self.field_errors = field_errors


@dataclass(frozen=True)
class ProfileInput:
    specialties: list[str]
    languages: list[str]
    regions: list[str]
    capacity: int
    affiliations: list[str]
    is_active: bool = True


def check_profile(
    specialties: Iterable[str],
    languages: Iterable[str],
    regions: Iterable[str],
    capacity: str,
    affiliations: Iterable[str],
    is_active: bool = True,
) -> ProfileInput:
    errors: dict[str, str] = {}
    chosen = [c for c in specialties if c]
    if any(c not in BY_CODE for c in chosen):
        errors["specialties"] = "choose_one"
    langs = [x for x in languages if x]
    if not langs or any(x not in LANGUAGES for x in langs):
        errors["languages"] = "choose_one"
    try:
        cap = int(capacity)
        if not 0 <= cap <= 500:
            raise ValueError
    except ValueError:
        errors["capacity"] = "capacity_invalid"
        cap = 0
    codes = [normalise_uscc(a) for a in affiliations if a.strip()]
    if any(not is_valid_uscc(a) for a in codes):
        errors["affiliations"] = "uscc_invalid"
    if errors:
        raise RosterInvalid(errors)
    return ProfileInput(
        chosen, langs, [r.strip() for r in regions if r.strip()], cap, codes, is_active
    )


async def access_profile(editor: User, mediator_id: int) -> MediatorProfile:
    """A mediator's profile, for an admin of their organisation (or a platform admin)."""
    profile = await MediatorProfile.get_or_none(user_id=mediator_id).prefetch_related("user")
    if profile is None:
        raise CaseNotFound("not_found")
    if editor.role == Role.PLATFORM_ADMIN:
        return profile
    if editor.role == Role.ORG_ADMIN and profile.organisation_id == editor.organisation_id:  # type: ignore[attr-defined]
        return profile
    raise CaseNotFound("not_found")


async def do_update_profile(editor: User, mediator_id: int, data: ProfileInput) -> MediatorProfile:
    profile = await access_profile(editor, mediator_id)
    profile.specialties = data.specialties
    profile.languages = data.languages
    profile.regions = data.regions
    profile.capacity = data.capacity
    profile.affiliations = data.affiliations
    profile.is_active = data.is_active
    await profile.save()
    return profile


async def do_add_leave(
    editor: User, mediator_id: int, starts_on: date, ends_on: date, reason: str
) -> MediatorLeave:
    await access_profile(editor, mediator_id)
    if ends_on < starts_on:
        raise RosterInvalid({"ends_on": "pause_end_before_start"})
    return await MediatorLeave.create(
        mediator_id=mediator_id, starts_on=starts_on, ends_on=ends_on, reason=reason[:200]
    )


# A mediator carries a case from the moment it is put to them until it leaves mediation.
OPEN_STATUSES = (Status.AWAITING_MEDIATOR, Status.IN_MEDIATION)
# Mediation ended: with an agreement (and whatever the court did with it afterwards) ...
SETTLED_STATUSES = (
    Status.SETTLED,
    Status.CONFIRMATION_REQUESTED,
    Status.CONFIRMED,
    Status.CONFIRMATION_REJECTED,
)
# ... or without one.
UNSETTLED_STATUSES = (
    Status.FAILED,
    Status.TIMED_OUT,
    Status.TRANSFERRED,
    Status.RETURNED_FOR_CORRECTION,
    Status.DOCKETED,
)


@dataclass(frozen=True)
class MediatorRecord:
    """A mediator's load and record, counted from the cases themselves (one grouped query on
    the (mediator_id, status) index), so no ending of a case can leave a counter stale."""

    open_cases: int = 0
    closed: int = 0
    settled: int = 0

    @property
    def settlement_rate(self) -> float | None:
        return self.settled / self.closed if self.closed else None


async def mediator_records(mediator_ids: Iterable[int]) -> dict[int, MediatorRecord]:
    ids = list(mediator_ids)
    if not ids:
        return {}
    counted = OPEN_STATUSES + SETTLED_STATUSES + UNSETTLED_STATUSES
    rows = (
        await Case.filter(mediator_id__in=ids, status__in=counted)
        .group_by("mediator_id", "status")
        .annotate(n=Count("id"))
        .values_list("mediator_id", "status", "n")
    )
    tally: dict[int, list[int]] = {i: [0, 0, 0] for i in ids}
    for mediator_id, status, n in rows:
        counts = tally[int(mediator_id)]
        if status in OPEN_STATUSES:
            counts[0] += int(n)
        else:
            counts[1] += int(n)
            if status in SETTLED_STATUSES:
                counts[2] += int(n)
    return {i: MediatorRecord(*counts) for i, counts in tally.items()}


async def average_days(mediator_ids: Iterable[int]) -> dict[int, float | None]:
    """Average calendar days from the mediator's acceptance to the end of mediation, over
    the cases they closed (the figure the best platforms publish, e.g. 23.33 days in 2020)."""
    ids = list(mediator_ids)
    rows = await Case.filter(
        mediator_id__in=ids,
        status__in=SETTLED_STATUSES + UNSETTLED_STATUSES,
        mediator_accepted_at__isnull=False,
    ).values_list("mediator_id", "mediator_accepted_at", "mediation_ended_at")
    spans: dict[int, list[float]] = {i: [] for i in ids}
    for mediator_id, accepted, ended in rows:
        if ended is not None:
            spans[int(mediator_id)].append((ended - accepted).total_seconds() / 86400)
    return {i: (sum(d) / len(d) if d else None) for i, d in spans.items()}


async def open_case_counts(mediator_ids: Iterable[int]) -> dict[int, int]:
    return {i: r.open_cases for i, r in (await mediator_records(mediator_ids)).items()}


async def roster_of(editor: User) -> list[MediatorProfile]:
    query = MediatorProfile.all().prefetch_related("user", "organisation")
    if editor.role != Role.PLATFORM_ADMIN:
        query = query.filter(organisation_id=editor.organisation_id)
    return sorted(await query, key=lambda p: (p.organisation_id, p.user_id))  # type: ignore[attr-defined]
