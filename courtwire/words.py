"""The labels of what crosses the wire, said the same way on the platform and at the court desk.

A filing's kind, a party's kind and side, and the pre-check's legal grounds travel as codes
(docs/court-wire.md); both applications show them with these labels, translated in each one's
own catalog (`scripts/translations.py` extracts this module into both). A code not listed is
shown as it came.

Kept apart on purpose, in each audience's own module: the pre-check's finding sentences
(`mediation.court_view.FINDINGS_FOR_PARTIES` tell a party what to do about a finding,
`courtdesk.messages.FINDINGS_FOR_CLERKS` state it for a clerk reviewing the file) and a
filing's status (the platform's and the desk's filings are different records with their own
status words). The timeline's event kinds and their labels are `cases.timeline`.

Pure: imports nothing of the project.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType


def N_(message: str) -> str:
    """Mark a string for extraction; it is translated where it is shown."""
    return message


# CourtFiling.kind / the package's kind: what the parties asked the court for.
FILING_KIND_LABELS: Mapping[str, str] = MappingProxyType(
    {
        "transfer": N_("Transfer to litigation"),
        "confirmation": N_("Application for judicial confirmation"),
    }
)

# CourtParty.kind
PARTY_KIND_LABELS: Mapping[str, str] = MappingProxyType(
    {
        "natural_person": N_("Natural person"),
        "organisation": N_("Company or other organisation"),
        "merchant": N_("Merchant"),
        "platform": N_("Platform"),
    }
)

# CourtParty.side, CourtEvidence.side: on their own (a table cell, a heading).
SIDE_LABELS: Mapping[str, str] = MappingProxyType(
    {
        "applicant": N_("Applicant"),
        "respondent": N_("Respondent"),
    }
)

# The same sides, and the mediator, inside a sentence: the pre-check's `side` and `roles`
# parameters ("Signatures are missing: respondent、mediator").
SIDE_WORDS: Mapping[str, str] = MappingProxyType(
    {
        "applicant": N_("applicant"),
        "respondent": N_("respondent"),
        "mediator": N_("mediator"),
    }
)

# The pre-check's legal grounds (a finding's `ground`).
GROUND_LABELS: Mapping[str, str] = MappingProxyType(
    {
        "art354": N_("Materials (Civil Procedure interpretation Art. 354)"),
        "art355": N_("Not accepted for confirmation (Art. 355)"),
        "art358": N_("Grounds for rejection (Art. 358)"),
        "art21": N_("Record of failed mediation (online mediation rules Art. 21)"),
        "cpl124": N_("Particulars of the parties in a complaint (Civil Procedure Law Art. 124)"),
    }
)
