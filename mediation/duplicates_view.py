"""What one dispute, one number shows: the notice a person gets at the web form before
filing a dispute they already have a case for, and, to staff handling a case only, its
sources, its possible duplicates and the repeat-claimant signal.

Two audiences, two catalogues of reasons: the applicant is told in their own terms what
looked the same ("you gave the same order number"), staff in the rule's terms.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from cases.access import CaseFacts, Viewer, handles_case
from cases.duplicates.actions import staff_duplicates
from cases.duplicates.rules import MatchReason, RepeatThresholds
from cases.models import Case
from mediation.i18n import N_
from mediation.settings import Settings

REASONS_FOR_APPLICANT = {
    MatchReason.SAME_ORDER: N_("You gave the same order number."),
    MatchReason.SIMILAR_FACTS: N_(
        "You named the same business (by its credit code) and described what happened in "
        "much the same words."
    ),
}

# For staff: why a filing was taken as (or looked like) the same dispute.
REASONS_FOR_STAFF = {
    MatchReason.SAME_ORDER: N_("Same applicant, same respondent, same order number"),
    MatchReason.SIMILAR_FACTS: N_(
        "Same applicant, same respondent credit code, similar facts within 90 days"
    ),
}

CHANNEL_LABELS = {
    "web": N_("The web form"),
    "partner": N_("A partner platform"),
    "court": N_("The court"),
}


def repeat_thresholds(settings: Settings) -> RepeatThresholds:
    return RepeatThresholds(
        filings=settings.repeat_claimant_filings,
        respondents=settings.repeat_claimant_respondents,
        days=settings.repeat_claimant_days,
    )


async def duplicates_context(
    case: Case, viewer: Viewer, facts: CaseFacts, settings: Settings, now: datetime
) -> dict[str, Any]:
    """`staff_duplicates` for the case page: None for anyone but staff handling the case
    (parties, merchants, other staff never see sources, links or the signal)."""
    if not handles_case(viewer, facts):
        return {"duplicates": None}
    seen = await staff_duplicates(case, now, repeat_thresholds(settings))
    return {
        "duplicates": seen,
        "duplicate_reasons": REASONS_FOR_STAFF,
        "channel_labels": CHANNEL_LABELS,
    }
