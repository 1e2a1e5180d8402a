"""Every kind of event a case's timeline records, and each one's label (vocabulary).

`cases.journal.record_event` accepts only these kinds (a typo fails loudly), the presenters
and the agreement pages read the labels from here, the court package carries only these kinds
(`cases.court.records`), and the court desk shows them with the same labels. A new kind is
added here, with its label, before anything records it; `tests/cases/test_timeline.py` fails
on a kind recorded anywhere in the tree that is not listed.

Labels are English message ids in plain words a disputant or a clerk understands, translated
where they are shown (both catalogs extract this module). Pure: imports only the other
vocabularies (cases.categories, cases.clock).

Below the registry: the words of an event's data (`event_words`), one catalogue per code.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from types import MappingProxyType

from cases.categories import BY_CODE
from cases.clock import say_date, say_time


def N_(message: str) -> str:
    """Mark a string for extraction (this module may import nothing of the project)."""
    return message


class EventKind(StrEnum):
    # the case record (cases.actions, cases.journal)
    FILED = "filed"
    CASE_CLAIMED = "case_claimed"
    EVIDENCE_ADDED = "evidence_added"
    # the same dispute filed again (any channel) joined this case (cases.duplicates)
    FILING_MERGED = "filing_merged"
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
    # a reminder sent by the job: a term due soon, or overdue (data: term, due_on, reminder)
    PERFORMANCE_REMINDED = "performance_reminded"
    # merchants answer first (cases.negotiation): what was offered stays out of the
    # timeline's data (amounts and words are in the negotiation thread, privileged)
    NEGOTIATION_OPENED = "negotiation_opened"
    REMEDY_PROPOSED = "remedy_proposed"
    MERCHANT_ASKED = "merchant_asked"
    NEGOTIATION_REPLIED = "negotiation_replied"
    MERCHANT_DECLINED = "merchant_declined"
    REMEDY_ACCEPTED = "remedy_accepted"
    REMEDY_REFUSED = "remedy_refused"
    NEGOTIATION_EXPIRED = "negotiation_expired"
    REMEDY_MARKED_PERFORMED = "remedy_marked_performed"
    REMEDY_PERFORMANCE_CONFIRMED = "remedy_performance_confirmed"
    REMEDY_PERFORMANCE_DISPUTED = "remedy_performance_disputed"
    SETTLEMENT_REOPENED = "settlement_reopened"
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
        EventKind.CASE_CLAIMED: N_(
            "The applicant claimed the case filed for them by a partner platform"
        ),
        EventKind.EVIDENCE_ADDED: N_("Evidence added"),
        EventKind.FILING_MERGED: N_(
            "The same dispute was filed again and added to this case instead of a new one"
        ),
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
        EventKind.PERFORMANCE_REMINDED: N_("Reminder sent: a term is due soon or overdue"),
        EventKind.NEGOTIATION_OPENED: N_(
            "Sent to the merchant to answer first (the merchant is a first-response enterprise)"
        ),
        EventKind.REMEDY_PROPOSED: N_("The merchant proposed a remedy"),
        EventKind.MERCHANT_ASKED: N_("The merchant asked the consumer a question"),
        EventKind.NEGOTIATION_REPLIED: N_("A reply in the negotiation"),
        EventKind.MERCHANT_DECLINED: N_(
            "The merchant declined to settle directly: the case goes on to mediation"
        ),
        EventKind.REMEDY_ACCEPTED: N_(
            "Settled by negotiation: the consumer accepted the merchant's remedy"
        ),
        EventKind.REMEDY_REFUSED: N_(
            "The consumer refused the merchant's remedy: the case goes on to mediation"
        ),
        EventKind.NEGOTIATION_EXPIRED: N_(
            "The merchant's time to answer passed: the case goes on to mediation"
        ),
        EventKind.REMEDY_MARKED_PERFORMED: N_("The merchant says the remedy was performed"),
        EventKind.REMEDY_PERFORMANCE_CONFIRMED: N_(
            "The consumer confirmed the remedy was performed"
        ),
        EventKind.REMEDY_PERFORMANCE_DISPUTED: N_("The consumer says the remedy was not performed"),
        EventKind.SETTLEMENT_REOPENED: N_(
            "The remedy was not performed: the consumer re-opened the dispute to mediation"
        ),
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


# --- the words of an event's data --------------------------------------------------------------
# A timeline is a record a party or a clerk reads: who acted, and what the event's data mean,
# said in words in the reader's language, never as the codes stored. These catalogues are the
# one place each of those codes gets its words; the platform's pages (mediation.presenters,
# mediation.routing_view) and the court desk read them from here.

# Case.status (cases.status.Status): what a case's status means to the people of the case.
STATUS_LABELS: Mapping[str, str] = MappingProxyType(
    {
        "submitted": N_("Submitted"),
        "awaiting_consent": N_("Waiting for the respondent's consent"),
        "awaiting_merchant": N_("Waiting for the merchant's answer (negotiation first)"),
        "settled_by_negotiation": N_("Settled by negotiation with the merchant"),
        "refused": N_("Closed: the respondent refused mediation"),
        "no_response": N_("Closed: the respondent did not answer in time"),
        "accepted": N_("Accepted: the respondent consented"),
        "assigning": N_("Assigning a mediator"),
        "awaiting_mediator": N_("Waiting for the mediator to accept"),
        "in_mediation": N_("In mediation"),
        "settled": N_("Settled: agreement signed"),
        "failed": N_("Mediation failed"),
        "withdrawn": N_("Withdrawn"),
        "timed_out": N_("Ended: time limit reached"),
        "confirmation_requested": N_("Judicial confirmation requested"),
        "confirmed": N_("Judicially confirmed"),
        "confirmation_rejected": N_("Judicial confirmation rejected"),
        "transferred": N_("Transferred to the court"),
        "returned_for_correction": N_("Returned by the court for correction"),
        "docketed": N_("Docketed by the court"),
    }
)

# cases.deadlines.rules.Regime: the time limits, by name.
REGIME_LABELS: Mapping[str, str] = MappingProxyType(
    {
        "online_mediation": N_("Mediation time limit (30 days)"),
        "consumer_mediation": N_("Consumer mediation time limit (45 working days)"),
        "party_choice": N_("Parties' joint choice of mediator (2 working days)"),
        "appointment": N_("Appointment of a mediator (3 working days)"),
        "mediator_answer": N_("Mediator's answer (3 working days)"),
        "judicial_confirmation": N_("Joint application for judicial confirmation"),
        "post_filing_ordinary": N_("Mediation after filing, ordinary procedure (15 days)"),
        "post_filing_simple": N_("Mediation after filing, simple procedure (7 days)"),
        "respondent_notice": N_("Notice to the respondent (3 working days)"),
        "tourism_complaint_window": N_("Time to make a tourism complaint (90 days)"),
        "tourism_acceptance": N_("Tourism complaint office's decision to accept (5 working days)"),
        "tourism_decision_shanghai": N_("Tourism complaint decided, Shanghai (45 days)"),
        "consumer_acceptance": N_(
            "Market regulator's decision to accept the complaint (7 working days)"
        ),
        "merchant_answer": N_("The merchant's answer (negotiation first)"),
    }
)

# Who acted (TimelineEvent.actor_label, cases.status.Actor) when no person's name is known,
# and a side named in an event's data ("side": "applicant").
ACTOR_LABELS: Mapping[str, str] = MappingProxyType(
    {
        "applicant": N_("Applicant"),
        "respondent": N_("Respondent"),
        "mediator": N_("Mediator"),
        "org_admin": N_("The mediation organisation's administrator"),
        "platform_admin": N_("The platform's administrator"),
        "court": N_("The court"),
        "system": N_("The platform"),
    }
)

# MediationSession.mode
SESSION_MODE_LABELS: Mapping[str, str] = MappingProxyType(
    {"joint": N_("joint session"), "back_to_back": N_("back-to-back session")}
)

# cases.deadlines.rules.Unit: the unit of an extension.
UNIT_LABELS: Mapping[str, str] = MappingProxyType(
    {"calendar_days": N_("%(n)s days"), "working_days": N_("%(n)s working days")}
)

# Why a filing was merged into a case (cases.duplicates.rules.MatchReason, the
# filing-merged event's "matched_by"), and where it came from (its "channel").
MERGE_REASON_LABELS: Mapping[str, str] = MappingProxyType(
    {
        "same_order_number": N_("Same order number"),
        "same_credit_code_similar_facts": N_("Same business, much the same facts"),
    }
)
CHANNEL_LABELS: Mapping[str, str] = MappingProxyType(
    {"web": N_("Filed through the web form"), "partner": N_("Filed through a partner platform")}
)

# What a correction changed (the court-correction event's "changed").
CORRECTED_FIELD_LABELS: Mapping[str, str] = MappingProxyType(
    {
        "facts": N_("the facts"),
        "requested_outcome": N_("what is asked for"),
        "applicant_service_address": N_("the applicant's address for service"),
        "respondent_service_address": N_("the respondent's address for service"),
        "applicant_id_number": N_("the applicant's identity number"),
        "respondent_id_number": N_("the respondent's identity number"),
    }
)

Say = Callable[[str], str]


def say_amount(value: object, locale: str) -> str:
    """An amount of money as a record says it: 人民币3,200.00元, or CNY 3,200.00."""
    try:
        amount = Decimal(str(value).replace(",", ""))
    except InvalidOperation:
        return str(value)
    if locale.startswith("zh"):
        return f"人民币{amount:,.2f}元"
    return f"CNY {amount:,.2f}"


def joined(items: Sequence[str], locale: str) -> str:
    """A list inside a sentence: 甲、乙 in Chinese, "a, b" in English."""
    return ("、" if locale.startswith("zh") else ", ").join(items)


@dataclass(frozen=True)
class EventWords:
    """One timeline event in the reader's words: what happened, who did it, and details."""

    what: str
    who: str
    details: tuple[str, ...]


@dataclass(frozen=True)
class Reader:
    """Who reads a timeline: their catalog's gettext and language, the names of the people
    and organisations the events point to by id, and the platform's own catalogues of codes
    that only its pages show (filing kinds, signature methods, signer roles, the court's
    decisions as the parties read them); a code no catalogue has is left out, never shown."""

    say: Say
    locale: str
    names: Mapping[int, str] = field(default_factory=dict)
    labels: Mapping[str, Mapping[str, str]] = field(default_factory=dict)

    def word(self, catalogue: Mapping[str, str], code: object) -> str:
        label = catalogue.get(str(code))
        return self.say(label) if label else ""

    def fmt(self, message: str, **params: object) -> str:
        return self.say(message) % params


# Titles some accounts carry in their display name ("调解员 孙立"): a record that names the
# role itself ("调解员：孙立") would otherwise say it twice.
_TITLES = ("人民调解员", "调解组织管理员", "平台管理员", "调解员", "书记员", "Mediator")


def name_without_title(name: str) -> str:
    """A person's name without a role title in front of it: "调解员 孙立" -> "孙立"."""
    stripped = name.strip()
    for title in _TITLES:
        rest = stripped[len(title) :]
        if stripped.startswith(title) and rest[:1] in (" ", "\u3000", ":", "："):
            return rest.lstrip(" \u3000:：") or stripped
    return stripped


def _who(actor_label: str, actor_name: str, reader: Reader) -> str:
    if actor_label.startswith("partner:"):
        return reader.fmt(N_("Partner platform %(name)s"), name=actor_label.partition(":")[2])
    role = reader.word(ACTOR_LABELS, actor_label)
    if actor_name and role and actor_label in ("applicant", "respondent", "mediator"):
        return f"{role} {name_without_title(actor_name)}"
    return actor_name or role


def _status_pair(data: Mapping[str, object]) -> tuple[str, str]:
    pair = data.get("status")
    if isinstance(pair, (list, tuple)) and len(pair) == 2:
        return str(pair[0]), str(pair[1])
    return str(data.get("from", "")), str(data.get("to", ""))


def _side(data: Mapping[str, object], reader: Reader) -> str:
    return reader.word(ACTOR_LABELS, data.get("side", ""))


def _details(kind: EventKind, data: Mapping[str, object], reader: Reader) -> list[str]:
    r, loc, out = reader, reader.locale, []
    version = data.get("version")
    if kind is EventKind.FILED:
        if data.get("number"):
            out.append(r.fmt(N_("Case number: %(number)s"), number=data["number"]))
        category = BY_CODE.get(str(data.get("category", "")))
        if category is not None:
            name = category.zh if loc.startswith("zh") else category.en
            out.append(r.fmt(N_("Category: %(category)s"), category=name))
        if data.get("claim_amount") not in (None, ""):
            out.append(
                r.fmt(
                    N_("Amount claimed: %(amount)s"), amount=say_amount(data["claim_amount"], loc)
                )
            )
    elif kind is EventKind.EVIDENCE_ADDED:
        if data.get("filename"):
            out.append(r.fmt(N_("File: %(name)s"), name=data["filename"]))
    elif kind is EventKind.FILING_MERGED:
        out.extend(
            w
            for w in (
                r.word(CHANNEL_LABELS, data.get("channel")),
                r.word(MERGE_REASON_LABELS, data.get("matched_by")),
            )
            if w
        )
    elif kind is EventKind.STATUS_CHANGED:
        # Said as the status reached (the event's `what`); the one before is the timeline's
        # previous status change, so it is not said again.
        if data.get("court_case_number"):
            out.append(r.fmt(N_("Court case number: %(number)s"), number=data["court_case_number"]))
    elif kind in (
        EventKind.DEADLINE_OPENED,
        EventKind.DEADLINE_PAUSED,
        EventKind.DEADLINE_RESUMED,
        EventKind.DEADLINE_EXTENDED,
    ):
        regime = r.word(REGIME_LABELS, data.get("regime", ""))
        if regime:
            out.append(regime)
        if kind is EventKind.DEADLINE_PAUSED and data.get("start"):
            out.append(r.fmt(N_("Paused from %(date)s"), date=say_date(str(data["start"]), loc)))
        if kind is EventKind.DEADLINE_RESUMED and data.get("end"):
            out.append(r.fmt(N_("Resumed on %(date)s"), date=say_date(str(data["end"]), loc)))
        if kind is EventKind.DEADLINE_EXTENDED and data.get("days"):
            unit = UNIT_LABELS.get(str(data.get("unit")), UNIT_LABELS["calendar_days"])
            out.append(r.fmt(N_("Extended by %(period)s"), period=r.fmt(unit, n=data["days"])))
        due = data.get("due_on")
        if isinstance(due, (list, tuple)):
            due = due[-1] if due else None
        if due:
            message = (
                N_("Due on %(date)s (provisional: the official calendar for that year is not out)")
                if data.get("provisional")
                else N_("Due on %(date)s")
            )
            out.append(r.fmt(message, date=say_date(str(due), loc)))
    elif kind is EventKind.MEDIATOR_CHOSEN:
        name = r.names.get(int(str(data.get("mediator_id") or 0)), "")
        if name:
            out.append(r.fmt(N_("Mediator chosen: %(name)s"), name=name_without_title(name)))
    elif kind in (EventKind.CONFLICT_DISCLOSED, EventKind.NO_CONFLICT_DECLARED):
        if data.get("statement"):
            out.append(str(data["statement"]))
    elif kind in (EventKind.SESSION_SCHEDULED, EventKind.SESSION_RESCHEDULED):
        starts = data.get("starts_at")
        if isinstance(starts, (list, tuple)) and len(starts) == 2:
            out.append(
                r.fmt(
                    N_("Moved from %(before)s to %(after)s (Beijing time)"),
                    before=say_time(str(starts[0]), loc),
                    after=say_time(str(starts[1]), loc),
                )
            )
        elif starts:
            out.append(r.fmt(N_("Starts %(time)s (Beijing time)"), time=say_time(str(starts), loc)))
        if r.word(SESSION_MODE_LABELS, data.get("mode", "")):
            out.append(r.word(SESSION_MODE_LABELS, data.get("mode", "")))
    elif kind in (
        EventKind.SESSION_NO_SHOW,
        EventKind.TRANSCRIPT_CONFIRMED,
        EventKind.CONFIRMATION_APPLIED,
    ):
        if _side(data, r):
            out.append(r.fmt(N_("Party: %(side)s"), side=_side(data, r)))
    elif kind is EventKind.AGREEMENT_SIGNED:
        if version is not None:
            out.append(r.fmt(N_("Version %(n)s"), n=version))
        role = r.word(r.labels.get("signer_role", ACTOR_LABELS), data.get("role", ""))
        if role:
            out.append(r.fmt(N_("Signed as: %(role)s"), role=role))
        method = r.word(r.labels.get("signature_method", {}), data.get("method", ""))
        if method:
            out.append(r.fmt(N_("Identity confirmed by %(method)s"), method=method))
    elif kind in (
        EventKind.AGREEMENT_DRAFTED,
        EventKind.AGREEMENT_FROZEN,
        EventKind.AGREEMENT_EFFECTIVE,
        EventKind.AGREEMENT_PDF_ISSUED,
        EventKind.AGREEMENT_WITHDRAWN_MEDIATION_ENDED,
        EventKind.AGREEMENT_WITHDRAWN_MEDIATOR_REPLACED,
    ):
        if version is not None:
            out.append(r.fmt(N_("Version %(n)s"), n=version))
        superseded = data.get("superseded")
        if isinstance(superseded, (list, tuple)) and superseded:
            out.append(
                r.fmt(
                    N_("Replaces version %(versions)s"),
                    versions=joined([str(v) for v in superseded], loc),
                )
            )
    elif kind in (
        EventKind.PERFORMANCE_MARKED,
        EventKind.PERFORMANCE_CONFIRMED,
        EventKind.PERFORMANCE_DISPUTED,
        EventKind.PERFORMANCE_REMINDED,
    ):
        if data.get("term") is not None:
            out.append(r.fmt(N_("Term %(term)s"), term=data["term"]))
        if kind is EventKind.PERFORMANCE_REMINDED and data.get("due_on"):
            out.append(r.fmt(N_("Due by %(date)s"), date=say_date(str(data["due_on"]), loc)))
        if data.get("note"):
            out.append(str(data["note"]))
    elif kind is EventKind.NEGOTIATION_OPENED:
        if data.get("merchant"):
            out.append(r.fmt(N_("Merchant: %(name)s"), name=data["merchant"]))
        if data.get("due_on"):
            out.append(r.fmt(N_("Answer due by %(date)s"), date=say_date(str(data["due_on"]), loc)))
    elif kind is EventKind.REMEDY_PROPOSED:
        remedy = r.word(r.labels.get("remedy_kind", {}), data.get("remedy", ""))
        if remedy:
            out.append(r.fmt(N_("Remedy: %(remedy)s"), remedy=remedy))
    elif kind is EventKind.NEGOTIATION_REPLIED:
        side = r.word(r.labels.get("negotiation_side", {}), data.get("side", ""))
        if side:
            out.append(r.fmt(N_("From: %(side)s"), side=side))
    elif kind is EventKind.COURT_FILING_CREATED:
        filing = r.word(r.labels.get("filing_kind", {}), data.get("filing_kind", ""))
        if filing:
            out.append(filing)
        if data.get("corrects"):
            out.append(r.say(N_("A corrected filing, replacing the one the court returned")))
    elif kind is EventKind.COURT_CORRECTION:
        changed = data.get("changed")
        if isinstance(changed, (list, tuple)):
            words = [r.word(CORRECTED_FIELD_LABELS, c) for c in changed]
            if any(words):
                out.append(
                    r.fmt(N_("Corrected: %(fields)s"), fields=joined([w for w in words if w], loc))
                )
    elif kind is EventKind.COURT_DECISION:
        decision = r.word(r.labels.get("court_status", {}), data.get("court_status", ""))
        if decision:
            out.append(decision)
        if data.get("court_case_number"):
            out.append(r.fmt(N_("Court case number: %(number)s"), number=data["court_case_number"]))
    if data.get("reason"):
        out.append(r.fmt(N_("Reason: %(reason)s"), reason=data["reason"]))
    return out


def event_words(
    kind: EventKind | str,
    data: Mapping[str, object],
    reader: Reader,
    *,
    actor_label: str = "",
    actor_name: str = "",
) -> EventWords:
    """A timeline event in the reader's words (its label, who acted, its data in sentences).

    A status change is said as the status reached; every other event by its label. Ids,
    digests and codes that no catalogue names are left out: a record shows what a person can
    read, the stored event keeps the rest."""
    event = event_kind(kind)
    if event is EventKind.STATUS_CHANGED:
        _, after = _status_pair(data)
        what = reader.word(STATUS_LABELS, after) or reader.say(EVENT_LABELS[event])
    else:
        what = reader.say(EVENT_LABELS[event])
    return EventWords(
        what=what,
        who=_who(actor_label, actor_name, reader),
        details=tuple(_details(event, data, reader)),
    )
