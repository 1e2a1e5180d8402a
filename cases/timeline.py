"""Every kind of event a case's timeline records, and each one's label (vocabulary).

`cases.journal.record_event` accepts only these kinds (a typo fails loudly), the presenters
and the agreement pages read the labels from here, the court package carries only these kinds
(`cases.court.records`), and the court desk shows them with the same labels. A new kind is
added here, with its label, before anything records it; `tests/cases/test_timeline.py` fails
on a kind recorded anywhere in the tree that is not listed.

Labels are English message ids in plain words a disputant or a clerk understands, translated
where they are shown (both catalogs extract this module). Pure: imports nothing of the project.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from types import MappingProxyType


def N_(message: str) -> str:
    """Mark a string for extraction (this module may import nothing of the project)."""
    return message


class EventKind(StrEnum):
    # the case record (cases.actions, cases.journal)
    FILED = "filed"
    EVIDENCE_ADDED = "evidence_added"
    STATUS_CHANGED = "status_changed"
    # time limits (cases.deadlines.actions)
    DEADLINE_OPENED = "deadline_opened"
    DEADLINE_PAUSED = "deadline_paused"
    DEADLINE_RESUMED = "deadline_resumed"
    DEADLINE_EXTENDED = "deadline_extended"
    # routing (cases.routing.assignment)
    MEDIATOR_CHOSEN = "mediator_chosen"
    NO_MEDIATOR_AVAILABLE = "no_mediator_available"
    CONFLICT_DISCLOSED = "conflict_disclosed"
    NO_CONFLICT_DECLARED = "no_conflict_declared"
    ORGANISATION_OVERRIDDEN = "organisation_overridden"
    # online sessions and their transcript
    SESSION_SCHEDULED = "session_scheduled"
    SESSION_RESCHEDULED = "session_rescheduled"
    SESSION_NO_SHOW = "session_no_show"
    SESSION_ENDED = "session_ended"
    TRANSCRIPT_MADE = "transcript_made"
    TRANSCRIPT_CONFIRMED = "transcript_confirmed"
    # the agreement, its PDF, and its withdrawal when the case leaves mediation
    AGREEMENT_DRAFTED = "agreement_drafted"
    AGREEMENT_FROZEN = "agreement_frozen"
    AGREEMENT_SIGNED = "agreement_signed"
    AGREEMENT_EFFECTIVE = "agreement_effective"
    AGREEMENT_PDF_ISSUED = "agreement_pdf_issued"
    AGREEMENT_WITHDRAWN_MEDIATION_ENDED = "agreement_withdrawn_mediation_ended"
    AGREEMENT_WITHDRAWN_MEDIATOR_REPLACED = "agreement_withdrawn_mediator_replaced"
    # performance of the agreement's terms
    PERFORMANCE_MARKED = "performance_marked"
    PERFORMANCE_CONFIRMED = "performance_confirmed"
    PERFORMANCE_DISPUTED = "performance_disputed"
    # endings (cases.endings.actions)
    END_RECORD_COMPLETED = "end_record_completed"
    # the court handoff (cases.court)
    COURT_FILING_CREATED = "court_filing_created"
    CONFIRMATION_APPLIED = "confirmation_applied"
    COURT_CORRECTION = "court_correction"
    COURT_DECISION = "court_decision"
    COURT_FILING_REPLAYED = "court_filing_replayed"
    COURT_LINKS_REVOKED = "court_links_revoked"


EVENT_LABELS: Mapping[EventKind, str] = MappingProxyType(
    {
        EventKind.FILED: N_("Dispute filed"),
        EventKind.EVIDENCE_ADDED: N_("Evidence added"),
        EventKind.STATUS_CHANGED: N_("Status changed"),
        EventKind.DEADLINE_OPENED: N_("Time limit started"),
        EventKind.DEADLINE_PAUSED: N_("Time limit paused"),
        EventKind.DEADLINE_RESUMED: N_("Time limit resumed"),
        EventKind.DEADLINE_EXTENDED: N_("Time limit extended with the parties' consent"),
        EventKind.MEDIATOR_CHOSEN: N_("A party chose a mediator"),
        EventKind.NO_MEDIATOR_AVAILABLE: N_("No mediator available yet"),
        EventKind.CONFLICT_DISCLOSED: N_("The mediator disclosed a relationship"),
        EventKind.NO_CONFLICT_DECLARED: N_("The mediator declared no conflict of interest"),
        EventKind.ORGANISATION_OVERRIDDEN: N_("Organisation changed by an administrator"),
        EventKind.SESSION_SCHEDULED: N_("Online session scheduled"),
        EventKind.SESSION_RESCHEDULED: N_("Online session rescheduled"),
        EventKind.SESSION_NO_SHOW: N_("A party did not attend the session"),
        EventKind.SESSION_ENDED: N_("Online session ended"),
        EventKind.TRANSCRIPT_MADE: N_("Transcript made"),
        EventKind.TRANSCRIPT_CONFIRMED: N_("A party confirmed the transcript"),
        EventKind.AGREEMENT_DRAFTED: N_("Agreement drafted (new version)"),
        EventKind.AGREEMENT_FROZEN: N_("Agreement put up for signature"),
        EventKind.AGREEMENT_SIGNED: N_("Agreement signed"),
        EventKind.AGREEMENT_EFFECTIVE: N_("Agreement in effect (signed by all, sealed)"),
        EventKind.AGREEMENT_PDF_ISSUED: N_("Signed agreement PDF issued"),
        EventKind.AGREEMENT_WITHDRAWN_MEDIATION_ENDED: N_(
            "The agreement open for signature was withdrawn: mediation ended without it taking "
            "effect, so it can no longer be signed"
        ),
        EventKind.AGREEMENT_WITHDRAWN_MEDIATOR_REPLACED: N_(
            "The agreement open for signature was withdrawn: the mediator was replaced, so it "
            "can no longer be signed (the new mediator drafts a new version)"
        ),
        EventKind.PERFORMANCE_MARKED: N_("A term was marked performed"),
        EventKind.PERFORMANCE_CONFIRMED: N_("Performance of a term was confirmed"),
        EventKind.PERFORMANCE_DISPUTED: N_("Performance of a term was disputed"),
        EventKind.END_RECORD_COMPLETED: N_(
            "The mediator completed the record of the ended mediation"
        ),
        EventKind.COURT_FILING_CREATED: N_("A filing for the court was prepared"),
        EventKind.CONFIRMATION_APPLIED: N_("A party applied for judicial confirmation"),
        EventKind.COURT_CORRECTION: N_("Corrected as the court asked"),
        EventKind.COURT_DECISION: N_("The court decided on a filing"),
        EventKind.COURT_FILING_REPLAYED: N_("An administrator sent a filing to the court again"),
        EventKind.COURT_LINKS_REVOKED: N_("An administrator withdrew a filing's evidence links"),
    }
)


def event_kind(kind: EventKind | str) -> EventKind:
    """The registered kind named `kind`; ValueError for a kind nobody registered."""
    try:
        return EventKind(kind)
    except ValueError:
        raise ValueError(
            f"unknown timeline event kind: {kind!r} (add it to cases.timeline)"
        ) from None
