"""Who may see a case, and who sees a party's identity data unmasked. Pure; table-tested.

Roles arrive as plain strings, and the accounts' models are imported for type checking only,
so this module runs without the ORM (its table tests build Viewers by hand).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from cases.accounts.models import User


@dataclass(frozen=True)
class Viewer:
    user_id: int
    role: str
    organisation_id: int | None = None
    # A partner platform acting through the API (cases.partners.actions.partner_viewer): it
    # is no user, and may act only as the merchant side of a merchant that delegated to it.
    partner_id: int | None = None


def viewer_of(user: User) -> Viewer:
    """The viewer a signed-in user acts as (one place: every page and action asks this)."""
    return Viewer(user_id=user.id, role=str(user.role), organisation_id=user.organisation_id)


@dataclass(frozen=True)
class CaseFacts:
    party_user_ids: frozenset[int]
    mediator_id: int | None
    organisation_id: int | None


def handles_case(viewer: Viewer, case: CaseFacts) -> bool:
    """Staff who work this case: its mediator, its organisation's admins, platform admins."""
    if viewer.role == "platform_admin":
        return True
    if viewer.role == "mediator":
        return case.mediator_id == viewer.user_id
    if viewer.role == "org_admin":
        return case.organisation_id is not None and case.organisation_id == viewer.organisation_id
    return False


def can_view_case(viewer: Viewer, case: CaseFacts) -> bool:
    # Court clerks work in the court desk, which sees only what crosses the wire.
    if viewer.role == "disputant":
        return viewer.user_id in case.party_user_ids
    return handles_case(viewer, case)


def sees_identity_of(viewer: Viewer, party_user_id: int | None, case: CaseFacts) -> bool:
    """The holder and the staff handling the case see ID numbers and phones in full."""
    if party_user_id is not None and viewer.user_id == party_user_id:
        return True
    return handles_case(viewer, case)
