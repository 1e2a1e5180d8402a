"""The court package: the only shape in which a case crosses to a court, on either side.

The platform builds it through the privilege filter (`cases.court.privilege`); the ECF
messages (`courtwire.ecf`) are written from it alone, and the desk reads it back. Pure data.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class CourtParty:
    name: str
    kind: str  # natural_person | organisation | merchant | platform
    id_number: str | None  # resident ID, or unified social credit code for an organisation
    service_address: str  # Art. 8 / Civil Procedure interpretation Art. 354: where to serve
    side: str  # applicant | respondent


@dataclass(frozen=True)
class CourtEvidence:
    filename: str
    sha256: str
    media_type: str
    size: int
    side: str


@dataclass(frozen=True)
class FailureRecord:
    """What Art. 21 lets a failed mediation tell the court, written by the mediator."""

    undisputed_facts: str
    reasons_for_failure: str
    cost_raising_conduct: str


@dataclass(frozen=True)
class SignedAgreement:
    text: str
    sha256: str
    signed_at: str  # ISO 8601, when the last required signature was made (Art. 19)


@dataclass(frozen=True)
class CourtTimelineEvent:
    kind: str
    at: str
    data: Mapping[str, str]


@dataclass(frozen=True)
class CourtPackage:
    """The only shape in which a case reaches a court: no room content of any kind."""

    case_number: str
    category: str
    claim_amount: str
    facts: str
    requested_outcome: str
    parties: tuple[CourtParty, ...]
    evidence: tuple[CourtEvidence, ...]
    failure: FailureRecord | None
    agreement: SignedAgreement | None
    timeline: tuple[CourtTimelineEvent, ...]


def package_to_json(package: CourtPackage) -> dict[str, object]:
    """The package as plain JSON-ready data (the documented JSON case package)."""
    return {
        field.name: _plain(getattr(package, field.name)) for field in dataclasses.fields(package)
    }


def _plain(value: object) -> object:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {
            field.name: _plain(getattr(value, field.name)) for field in dataclasses.fields(value)
        }
    if isinstance(value, Mapping):
        return {str(key): _plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    return value
