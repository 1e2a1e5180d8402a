"""Scoring: which mediator an organisation should appoint to a case.

A pure core: plain frozen inputs, a ranked choice out, no I/O, no ORM, no clock (`today` is an
input). The online mediation rules of the people's courts (人民法院在线调解规则) set the frame:
the parties may jointly choose a mediator, otherwise one is appointed within 3 working days
(Art. 10); this module proposes that appointment. The mediator then confirms or declines
(Art. 12) and must disclose ties to a party or an interest in the dispute (Art. 13); a party
may ask for a change (Art. 14), in which case the action layer leaves the previous mediator
out of `candidates`.

Two stages:
1. hard exclusions (`Exclusion`): conflicts of interest first, because Art. 13 makes them
   grounds that fairness cannot be traded against, then availability (leave, capacity) and the
   ability to talk with the parties (language). One reason per excluded candidate, the first
   that applies in `EXCLUSION_ORDER`;
2. a weighted score over the rest, each part documented at its weight below.

Cost: one pass over the candidates with constant work each (set-disjointness checks, a few
float operations, one small tuple), then a partial sort (O(n log k)); the part mappings and
`Score` objects are built only for the `top_n` that are returned.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from types import MappingProxyType

from cases.categories import BY_CODE

# --- weights (sum to 1.0, so a total reads as a share of a perfect match) ---------------------

# Specialty matters most: a mediator who knows the dispute type settles it better and faster.
WEIGHT_SPECIALTY = 0.40
# Spreading the load keeps the Art. 24 time limits (30 days pre-litigation) reachable.
WEIGHT_LOAD = 0.25
# Past results count, but less than fit and availability, and shrunk (see RECORD_PRIOR_*).
WEIGHT_RECORD = 0.15
# A mediator in the parties' region can meet them in person if an online session fails.
WEIGHT_REGION = 0.10
# Every ranked candidate speaks all needed languages (otherwise excluded), so this part is the
# same for all of them; it is kept so that totals stay on one 0..1 scale and the explanation
# shows that language was checked.
WEIGHT_LANGUAGE = 0.10

# Share of the specialty part for a mediator whose specialties are in the case's domain
# (tourism or internet) but not its exact category.
SAME_DOMAIN_CREDIT = 0.5
# The settlement rate is shrunk towards RECORD_PRIOR as if the mediator had RECORD_PRIOR_WEIGHT
# more cases at that rate: 2 settlements out of 2 must not outrank 160 out of 200, and a new
# mediator with no record (None) starts at the prior, neither favoured nor shut out.
RECORD_PRIOR = 0.5
RECORD_PRIOR_WEIGHT = 10
# Totals are rounded so that float noise (0.1 + 0.2 != 0.3) cannot decide between candidates
# whose scores are equal; the tie-break rules decide instead.
TOTAL_DIGITS = 6

PART_NAMES: tuple[str, ...] = ("specialty", "language", "load", "region", "record")

# --- exclusion reasons, in the order they are checked ------------------------------------------

CONFLICT_AFFILIATION = "conflict_affiliation"  # declared tie with an organisation party
CONFLICT_PRIOR_INVOLVEMENT = "conflict_prior_involvement"  # mediated/represented a party before
CONFLICT_DISCLOSED = "conflict_disclosed"  # the mediator disclosed a conflict in this case
ON_LEAVE = "on_leave"
AT_CAPACITY = "at_capacity"
LANGUAGE_MISSING = "language_missing"
EXCLUSION_ORDER: tuple[str, ...] = (
    CONFLICT_AFFILIATION,
    CONFLICT_PRIOR_INVOLVEMENT,
    CONFLICT_DISCLOSED,
    ON_LEAVE,
    AT_CAPACITY,
    LANGUAGE_MISSING,
)


def _identifiers(values: frozenset[str]) -> frozenset[str]:
    # USCCs and resident ID numbers are compared for conflicts; a lower-case check letter
    # ("x" in an ID number) or stray spaces must not hide a conflict (Art. 13). Empty values
    # are dropped so that two missing codes never "match".
    return frozenset(v.strip().upper() for v in values if v.strip())


def _languages(values: frozenset[str]) -> frozenset[str]:
    return frozenset(v.strip().lower() for v in values if v.strip())


@dataclass(frozen=True)
class CaseForScoring:
    case_id: int
    category: str  # a cases.categories code
    languages_needed: frozenset[str]  # e.g. {"zh"} or {"zh", "en"}
    region: str  # e.g. "长宁区"
    party_codes: frozenset[str]  # unified social credit codes (USCC) of organisation parties
    party_ids: frozenset[str]  # resident ID numbers of natural-person parties
    today: date

    def __post_init__(self) -> None:
        # Normalised once here, so the per-candidate checks are plain set operations.
        object.__setattr__(self, "languages_needed", _languages(self.languages_needed))
        object.__setattr__(self, "party_codes", _identifiers(self.party_codes))
        object.__setattr__(self, "party_ids", _identifiers(self.party_ids))


@dataclass(frozen=True)
class MediatorCandidate:
    user_id: int
    organisation_id: int
    specialties: frozenset[str]  # cases.categories codes
    languages: frozenset[str]
    regions: frozenset[str]
    capacity: int  # how many open cases the mediator can carry
    open_cases: int
    on_leave: tuple[tuple[date, date], ...]  # inclusive (first day, last day) ranges
    affiliations: frozenset[str]  # USCCs of organisations the mediator declared ties with
    past_party_codes: frozenset[str]  # USCCs of parties in earlier cases mediated/represented
    past_party_ids: frozenset[str]  # ID numbers of parties in earlier cases
    disclosed_conflict_case_ids: frozenset[int]
    settlement_rate: float | None  # 0..1 over closed cases, None when there is no record
    cases_closed: int

    def __post_init__(self) -> None:
        if self.capacity < 0 or self.open_cases < 0 or self.cases_closed < 0:
            raise ValueError(f"mediator {self.user_id}: negative capacity or case counts")
        if self.settlement_rate is not None and not 0.0 <= self.settlement_rate <= 1.0:
            raise ValueError(f"mediator {self.user_id}: settlement rate outside 0..1")
        for first, last in self.on_leave:
            if first > last:
                raise ValueError(f"mediator {self.user_id}: leave ends before it starts")
        object.__setattr__(self, "languages", _languages(self.languages))
        object.__setattr__(self, "affiliations", _identifiers(self.affiliations))
        object.__setattr__(self, "past_party_codes", _identifiers(self.past_party_codes))
        object.__setattr__(self, "past_party_ids", _identifiers(self.past_party_ids))


@dataclass(frozen=True)
class Score:
    user_id: int
    total: float  # sum of the parts, rounded to TOTAL_DIGITS
    parts: Mapping[str, float]  # PART_NAMES -> weighted value (already multiplied by weight)

    def __hash__(self) -> int:
        return hash((self.user_id, self.total, tuple(self.parts.items())))


@dataclass(frozen=True)
class Exclusion:
    user_id: int
    reason: str  # one of EXCLUSION_ORDER


@dataclass(frozen=True)
class ScoredChoice:
    chosen: int | None  # user id of the best candidate, None when everyone is excluded
    ranked: tuple[Score, ...]  # best first, at most top_n
    excluded: tuple[Exclusion, ...]  # by user id


@lru_cache(maxsize=64)
def _domain_categories(category: str) -> frozenset[str]:
    """The categories of `category`'s domain (empty for an unknown category)."""
    known = BY_CODE.get(category)
    if known is None:
        return frozenset()
    return frozenset(code for code, c in BY_CODE.items() if c.domain is known.domain)


def _exclusion(case: CaseForScoring, m: MediatorCandidate) -> str | None:
    """The first reason in EXCLUSION_ORDER that keeps `m` off this case, or None."""
    if not m.affiliations.isdisjoint(case.party_codes):
        return CONFLICT_AFFILIATION
    if not (
        m.past_party_codes.isdisjoint(case.party_codes)
        and m.past_party_ids.isdisjoint(case.party_ids)
    ):
        return CONFLICT_PRIOR_INVOLVEMENT
    if case.case_id in m.disclosed_conflict_case_ids:
        return CONFLICT_DISCLOSED
    for first, last in m.on_leave:
        if first <= case.today <= last:
            return ON_LEAVE
    # Also covers capacity 0 (a mediator taking no new cases).
    if m.open_cases >= m.capacity:
        return AT_CAPACITY
    # Every party must be able to follow the mediation in a language they use.
    if not case.languages_needed <= m.languages:
        return LANGUAGE_MISSING
    return None


def _parts(
    case: CaseForScoring, m: MediatorCandidate, domain: frozenset[str]
) -> tuple[float, float, float, float, float]:
    """Weighted parts in PART_NAMES order; `m` has passed `_exclusion` (so capacity > 0)."""
    if case.category in m.specialties:
        specialty = WEIGHT_SPECIALTY
    elif not m.specialties.isdisjoint(domain):
        specialty = WEIGHT_SPECIALTY * SAME_DOMAIN_CREDIT
    else:
        specialty = 0.0
    load = WEIGHT_LOAD * (1.0 - m.open_cases / m.capacity)
    region = WEIGHT_REGION if case.region in m.regions else 0.0
    rate = RECORD_PRIOR if m.settlement_rate is None else m.settlement_rate
    closed = 0 if m.settlement_rate is None else m.cases_closed
    shrunk = (rate * closed + RECORD_PRIOR * RECORD_PRIOR_WEIGHT) / (closed + RECORD_PRIOR_WEIGHT)
    return (specialty, WEIGHT_LANGUAGE, load, region, WEIGHT_RECORD * shrunk)


def _parts_mapping(parts: tuple[float, ...]) -> Mapping[str, float]:
    return MappingProxyType(dict(zip(PART_NAMES, parts, strict=True)))


def rank_mediators(
    case: CaseForScoring, candidates: Iterable[MediatorCandidate], top_n: int = 5
) -> ScoredChoice:
    """Exclude, score and rank `candidates` for `case`; the best is `chosen`.

    Deterministic: ties on the total go to fewer open cases (spreads the load), then to the
    lower user id, so the order of `candidates` never matters. User ids must be unique.
    """
    if top_n < 1:
        raise ValueError(f"top_n must be >= 1, got {top_n}")
    domain = _domain_categories(case.category)
    seen: set[int] = set()
    excluded: list[Exclusion] = []
    # (-total, open_cases, user_id, parts): the first three order the candidates completely.
    entries: list[tuple[float, int, int, tuple[float, ...]]] = []
    for m in candidates:
        if m.user_id in seen:
            raise ValueError(f"mediator {m.user_id} listed twice")
        seen.add(m.user_id)
        reason = _exclusion(case, m)
        if reason is not None:
            excluded.append(Exclusion(m.user_id, reason))
            continue
        parts = _parts(case, m, domain)
        entries.append((-round(sum(parts), TOTAL_DIGITS), m.open_cases, m.user_id, parts))

    best = heapq.nsmallest(top_n, entries)
    ranked = tuple(
        Score(user_id, -negative_total, _parts_mapping(parts))
        for negative_total, _, user_id, parts in best
    )
    excluded.sort(key=lambda e: e.user_id)
    return ScoredChoice(ranked[0].user_id if ranked else None, ranked, tuple(excluded))


def explain(choice: ScoredChoice) -> list[str]:
    """One line per ranked candidate, e.g.
    "#1 user 17 total 0.83: specialty 0.40, language 0.10, load 0.20, region 0.10, record 0.03".
    """
    return [
        f"#{place} user {score.user_id} total {score.total:.2f}: "
        + ", ".join(f"{name} {value:.2f}" for name, value in score.parts.items())
        for place, score in enumerate(choice.ranked, start=1)
    ]
