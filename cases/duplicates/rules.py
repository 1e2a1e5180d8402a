"""One dispute, one number: when a new filing is the same dispute as an open case, and when
an applicant's filings make a pattern staff should look at. Pure; table-tested in
tests/cases/duplicates/test_rules.py.

The same dispute is the same applicant (by the ID number they file under: the field the
mediation rules make them state, Art. 8) against the same respondent (by its unified social
credit code, or by its name when no code was given), about the same order, or, when the
respondent is known by its code, with facts that read alike within a short window. Only an
open case counts: a dispute that ended (settled, refused, withdrawn, at court...) may be
filed again.

The repeat-claimant signal is only a signal: it says why a staff member handling a case may
want to look at the applicant's other filings. Nothing is ever decided by it.
"""

from __future__ import annotations

import hashlib
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from cases.status import Status

# A case in one of these states is still being worked on: a new filing of the same dispute
# belongs to it. Every later state is an end (settled, ended, refused, at the court).
OPEN_STATUSES = frozenset(
    {
        Status.SUBMITTED,
        Status.AWAITING_CONSENT,
        Status.AWAITING_MERCHANT,
        Status.ACCEPTED,
        Status.ASSIGNING,
        Status.AWAITING_MEDIATOR,
        Status.IN_MEDIATION,
    }
)

SIMILAR_FACTS_WINDOW = timedelta(days=90)
# Character-bigram Jaccard from which two accounts of facts read as the same story. Chosen
# on the table tests: a story retold in other words (about 0.38) stays above it, another
# trip's complaint against the same travel agency in the same month (about 0.32) below.
# Bigrams of short Chinese texts separate these only so far: the cost of a miss is a
# second case staff can still link, of a false match a filing in the wrong case, so the
# line sits nearer the retelling.
SIMILAR_FACTS_THRESHOLD = 0.35
ORDER_NUMBER_MAX = 64


class MatchReason(StrEnum):
    SAME_ORDER = "same_order_number"
    SIMILAR_FACTS = "same_credit_code_similar_facts"


@dataclass(frozen=True)
class DisputeKey:
    """Who against whom, as a filing names them (normalised)."""

    applicant_id: str
    respondent_uscc: str | None
    respondent_name: str

    @property
    def respondent(self) -> str:
        if self.respondent_uscc:
            return f"uscc:{self.respondent_uscc}"
        return f"name:{self.respondent_name}"

    def digest(self) -> str:
        """The key of the lock every filing of this pair takes (fits a short column and
        keeps the ID number out of it)."""
        return hashlib.sha256(f"{self.applicant_id}|{self.respondent}".encode()).hexdigest()


@dataclass(frozen=True)
class Incoming:
    key: DisputeKey
    order_number: str | None
    facts: str


@dataclass(frozen=True)
class Existing:
    case_id: int
    number: str
    status: Status
    created_at: datetime
    key: DisputeKey
    order_number: str | None
    facts: str


@dataclass(frozen=True)
class Match:
    case_id: int
    number: str
    reason: MatchReason
    similarity: float


def normal_name(name: str) -> str:
    """A name as compared: full-width folded, case and spaces ignored."""
    return "".join(unicodedata.normalize("NFKC", name).casefold().split())


def normal_order_number(value: str | None) -> str | None:
    if value is None:
        return None
    cleaned = "".join(unicodedata.normalize("NFKC", value).split()).upper()
    return cleaned or None


def dispute_key(
    applicant_id: str, respondent_id: str | None, respondent_name: str, respondent_is_person: bool
) -> DisputeKey:
    # A natural person's resident ID is no credit code: such a respondent is known by name
    # and number together, so the "same code, similar facts" rule does not apply to it.
    uscc = None if respondent_is_person or not respondent_id else respondent_id.upper()
    name = normal_name(respondent_name)
    if respondent_is_person and respondent_id:
        name = f"{name}#{respondent_id.upper()}"
    return DisputeKey(applicant_id.upper(), uscc, name)


def _bigrams(text: str) -> set[str]:
    kept = [
        ch
        for ch in unicodedata.normalize("NFKC", text).casefold()
        if unicodedata.category(ch)[0] in ("L", "N")
    ]
    if len(kept) < 2:
        return {"".join(kept)} if kept else set()
    return {kept[i] + kept[i + 1] for i in range(len(kept) - 1)}


def facts_similarity(a: str, b: str) -> float:
    """Jaccard similarity of the two texts' character bigrams (letters and digits only), in
    [0, 1]: Chinese has no spaces to split words on, and bigrams carry most of its meaning."""
    x, y = _bigrams(a), _bigrams(b)
    if not x and not y:
        return 0.0
    return len(x & y) / len(x | y)


def match(
    incoming: Incoming,
    existing: Existing,
    now: datetime,
    threshold: float = SIMILAR_FACTS_THRESHOLD,
    window: timedelta = SIMILAR_FACTS_WINDOW,
) -> Match | None:
    """Whether the filing is the same dispute as the case, and why."""
    if existing.status not in OPEN_STATUSES:
        return None
    if (incoming.key.applicant_id, incoming.key.respondent) != (
        existing.key.applicant_id,
        existing.key.respondent,
    ):
        return None
    order = normal_order_number(incoming.order_number)
    if order is not None and order == normal_order_number(existing.order_number):
        return Match(existing.case_id, existing.number, MatchReason.SAME_ORDER, 1.0)
    if incoming.key.respondent_uscc is None or now - existing.created_at > window:
        return None
    similarity = facts_similarity(incoming.facts, existing.facts)
    if similarity >= threshold:
        return Match(existing.case_id, existing.number, MatchReason.SIMILAR_FACTS, similarity)
    return None


def best_match(
    incoming: Incoming,
    candidates: Iterable[Existing],
    now: datetime,
    threshold: float = SIMILAR_FACTS_THRESHOLD,
) -> Match | None:
    """The case the filing belongs to: the same order first, then the closest facts, then
    the earliest case (the one the dispute was first filed as)."""
    found = [
        (m, c.created_at)
        for c in candidates
        if (m := match(incoming, c, now, threshold)) is not None
    ]
    if not found:
        return None
    found.sort(
        key=lambda mc: (mc[0].reason is not MatchReason.SAME_ORDER, -mc[0].similarity, mc[1])
    )
    return found[0][0]


# --- The repeat-claimant signal ---


@dataclass(frozen=True)
class RepeatThresholds:
    """Many filings against many respondents in a short window (Settings, env-configurable)."""

    filings: int = 5
    respondents: int = 4
    days: int = 30


@dataclass(frozen=True)
class PastFiling:
    created_at: datetime
    respondent: str  # DisputeKey.respondent


@dataclass(frozen=True)
class RepeatSignal:
    filings: int
    respondents: int
    days: int


def repeat_claimant(
    filings: Sequence[PastFiling], now: datetime, thresholds: RepeatThresholds
) -> RepeatSignal | None:
    """The applicant's filings in the window ending now, when they are at least as many as
    the thresholds say, against at least as many distinct respondents; otherwise None."""
    since = now - timedelta(days=thresholds.days)
    recent = [f for f in filings if since <= f.created_at <= now]
    respondents = {f.respondent for f in recent}
    if len(recent) >= thresholds.filings and len(respondents) >= thresholds.respondents:
        return RepeatSignal(len(recent), len(respondents), thresholds.days)
    return None
