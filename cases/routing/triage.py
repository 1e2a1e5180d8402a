"""Triage: which mediation track (调解类型) and which organisation an accepted case should go to.

A pure core: plain frozen inputs, a recommendation out, no I/O, no ORM, no clock. The action
layer loads the case and the organisations, calls `recommend`, shows the reasons (stable codes
the shell translates) and records any override a staff member makes.

The policy is the ordered table `POLICY`: the first rule whose predicate holds decides the
track. Then `recommend` picks the organisation of that track that takes the case's category;
if that track has none, it falls back to another track's organisation, because a case that
reaches an organisation which can mediate it serves the parties better than no recommendation.

Track and party-kind values mirror `cases.accounts.models.Track` and `cases.models.PartyKind`; they
are repeated here as plain strings so that this module does not import the ORM (a test checks
that the two stay in step).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from types import MappingProxyType

# Tracks (cases.accounts.models.Track).
PEOPLES = "peoples"  # 人民调解
ADMINISTRATIVE = "administrative"  # 行政调解
ARBITRATION = "arbitration"  # 仲裁调解
INDUSTRY = "industry"  # 行业性专业性 / 社会组织调解
TRACKS = frozenset({PEOPLES, ADMINISTRATIVE, ARBITRATION, INDUSTRY})

# Party kinds (cases.models.PartyKind).
NATURAL_PERSON = "natural_person"
ORGANISATION = "organisation"
MERCHANT = "merchant"
PLATFORM = "platform"
PARTY_KINDS = frozenset({NATURAL_PERSON, ORGANISATION, MERCHANT, PLATFORM})

# Domains (cases.categories.Domain).
TOURISM = "tourism"
INTERNET = "internet"
DOMAINS = frozenset({TOURISM, INTERNET})

# Claims below this go to the bodies that handle consumer complaints as a public service (the
# tourism quality office, the consumer council); larger claims need more formal handling.
SMALL_CLAIM_LIMIT = Decimal("50000")
# From this amount the stakes justify arbitration mediation, whose statement (调解书) is
# enforceable once signed for (仲裁法 Art. 51-52), where an arbitration body takes the category.
LARGE_CLAIM_FLOOR = Decimal("500000")
# Many claimants with a common claim (a tour group): people's mediation committees handle
# these free of charge (人民调解法 Art. 4) and can work with appointed representatives.
GROUP_MIN_SIZE = 5

# The district the platform serves: among organisations of the same track, local ones first.
HOME_AREA = "长宁区"

# When the recommended track has no organisation for the category, other tracks are tried in
# this order: people's mediation first because it is free of charge (人民调解法 Art. 4), the
# public-service administrative and industry/social bodies next, arbitration mediation last,
# because it runs inside an arbitration commission and presupposes the parties' agreement to
# arbitrate (仲裁法 Art. 4), which a case sent there by fallback does not have.
FALLBACK_TRACK_ORDER: tuple[str, ...] = (PEOPLES, ADMINISTRATIVE, INDUSTRY, ARBITRATION)
_TRACK_RANK: Mapping[str, int] = {track: rank for rank, track in enumerate(FALLBACK_TRACK_ORDER)}

BUSINESS_KINDS = frozenset({ORGANISATION, MERCHANT, PLATFORM})
# A travel agency, hotel or scenic spot appears as a merchant or an organisation; an online
# travel operator as a platform. All are tourism operators (旅游经营者) a tourist may complain
# about (旅游法 Art. 91).
TOURISM_OPERATOR_KINDS = frozenset({ORGANISATION, MERCHANT, PLATFORM})
# E-commerce businesses: merchants on a platform and the platform itself (电子商务法 Art. 9).
ECOMMERCE_KINDS = frozenset({MERCHANT, PLATFORM})

# Reason codes (stable: the shell translates them; do not rename).
R_ARBITRATION_CLAUSE = "arbitration_clause"
R_COURT_ENTRUSTED = "court_entrusted"
R_SMALL_CONSUMER_CLAIM = "small_consumer_claim"
R_TOURISM_QUALITY_OFFICE = "tourism_quality_office"
R_INDUSTRY_COMMITTEE = "industry_committee"
R_LARGE_CLAIM = "large_claim"
R_BUSINESS_DISPUTE = "business_dispute"
R_GROUP_DISPUTE = "group_dispute"
R_PEOPLES_DEFAULT = "peoples_default"
R_NO_ARBITRATION_ORGANISATION = "no_arbitration_organisation"
R_CATEGORY_MATCH = "category_match"
R_FALLBACK_OTHER_TRACK = "fallback_other_track"
R_NO_ORGANISATION_TAKES_CATEGORY = "no_organisation_takes_category"
R_NO_ORGANISATION_ACCEPTS_COURT_ENTRUSTED = "no_organisation_accepts_court_entrusted"


@dataclass(frozen=True)
class CaseProfile:
    """What triage needs to know about an accepted case."""

    domain: str  # "tourism" | "internet"
    category: str  # a cases.categories code
    claim_amount: Decimal  # CNY, the total claimed (for a group: all members together)
    applicant_kind: str  # a PartyKind value
    respondent_kind: str  # a PartyKind value
    has_arbitration_clause: bool
    court_entrusted: bool  # 诉前委派调解: sent by the court and going back to it
    group_size: int = 1  # claimants with a common claim

    def __post_init__(self) -> None:
        # Wrong strings here are wiring bugs; failing loudly beats a silently wrong track.
        if self.domain not in DOMAINS:
            raise ValueError(f"unknown domain {self.domain!r}")
        for kind in (self.applicant_kind, self.respondent_kind):
            if kind not in PARTY_KINDS:
                raise ValueError(f"unknown party kind {kind!r}")
        if not self.claim_amount.is_finite() or self.claim_amount < 0:
            raise ValueError(f"claim amount must be finite and >= 0, got {self.claim_amount}")
        if self.group_size < 1:
            raise ValueError(f"group size must be >= 1, got {self.group_size}")


@dataclass(frozen=True)
class OrganisationProfile:
    """A mediation organisation as triage sees it."""

    id: int
    code: str
    track: str  # a Track value
    categories: frozenset[str]
    service_areas: frozenset[str]
    accepts_court_entrusted: bool

    def __post_init__(self) -> None:
        if self.track not in TRACKS:
            raise ValueError(f"unknown track {self.track!r}")


@dataclass(frozen=True)
class Reason:
    """One reason for a recommendation: a stable code plus the values its message needs."""

    code: str
    params: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        # A read-only copy: the recommendation is a value, callers must not be able to edit it.
        object.__setattr__(self, "params", MappingProxyType(dict(self.params)))

    def __hash__(self) -> int:
        return hash((self.code, tuple(sorted(self.params.items()))))


@dataclass(frozen=True)
class Recommendation:
    track: str
    organisation_id: int | None
    reasons: tuple[Reason, ...]
    alternatives: tuple[int, ...]  # other organisations taking the category, best first


# --- predicates -------------------------------------------------------------------------------


def _has_arbitration_clause(case: CaseProfile) -> bool:
    return case.has_arbitration_clause


def _is_court_entrusted(case: CaseProfile) -> bool:
    return case.court_entrusted


def _is_small_tourism_complaint(case: CaseProfile) -> bool:
    return (
        case.domain == TOURISM
        and case.applicant_kind == NATURAL_PERSON
        and case.respondent_kind in TOURISM_OPERATOR_KINDS
        and case.claim_amount < SMALL_CLAIM_LIMIT
    )


def _is_small_internet_consumer_claim(case: CaseProfile) -> bool:
    return (
        case.domain == INTERNET
        and case.applicant_kind == NATURAL_PERSON
        and case.respondent_kind in ECOMMERCE_KINDS
        and case.claim_amount < SMALL_CLAIM_LIMIT
    )


def _is_large_claim(case: CaseProfile) -> bool:
    return case.claim_amount >= LARGE_CLAIM_FLOOR


def _is_between_organisations(case: CaseProfile) -> bool:
    return case.applicant_kind in BUSINESS_KINDS and case.respondent_kind in BUSINESS_KINDS


def _is_group(case: CaseProfile) -> bool:
    return case.group_size >= GROUP_MIN_SIZE


def _always(case: CaseProfile) -> bool:
    return True


# --- track choices ----------------------------------------------------------------------------

# Given the case's takers (eligible organisations taking its category), the track and any
# extra reason the choice needs.
TrackChoice = Callable[[Sequence[OrganisationProfile]], tuple[str, tuple[Reason, ...]]]


def _fixed(track: str) -> TrackChoice:
    def choose(takers: Sequence[OrganisationProfile]) -> tuple[str, tuple[Reason, ...]]:
        return track, ()

    return choose


def _arbitration_if_taken(takers: Sequence[OrganisationProfile]) -> tuple[str, tuple[Reason, ...]]:
    # Arbitration mediation only where an arbitration body takes the category; otherwise the
    # free people's mediation rather than an unrelated track.
    if any(org.track == ARBITRATION for org in takers):
        return ARBITRATION, ()
    return PEOPLES, (Reason(R_NO_ARBITRATION_ORGANISATION),)


@dataclass(frozen=True)
class Rule:
    """One row of the policy: if `applies`, the track comes from `choose`, explained by `codes`."""

    codes: tuple[str, ...]
    applies: Callable[[CaseProfile], bool]
    choose: TrackChoice


POLICY: tuple[Rule, ...] = (
    # An arbitration agreement takes the dispute out of the courts (仲裁法 Art. 5); the
    # arbitration commission may mediate before it rules (仲裁法 Art. 51).
    Rule((R_ARBITRATION_CLAUSE,), _has_arbitration_clause, _fixed(ARBITRATION)),
    # Court-entrusted pre-litigation mediation (诉前委派调解) goes to the people's mediation
    # committees on the court's roster. Only organisations that accept court-entrusted cases
    # are eligible at all (see `recommend`); if no people's committee among them takes the
    # category, the fallback picks another track's organisation that accepts court-entrusted
    # cases for it. A people's committee is preferred when both exist: it is free of charge
    # (人民调解法 Art. 4) and the parties never chose a fee-charging track.
    Rule((R_COURT_ENTRUSTED,), _is_court_entrusted, _fixed(PEOPLES)),
    # A tourist's complaint against a tourism operator goes to the complaint body the district
    # designates (旅游法 Art. 91; 上海市旅游条例 Art. 65): the tourism quality office.
    Rule(
        (R_SMALL_CONSUMER_CLAIM, R_TOURISM_QUALITY_OFFICE),
        _is_small_tourism_complaint,
        _fixed(ADMINISTRATIVE),
    ),
    # An online consumer's claim against a merchant or platform: the consumer council mediates
    # consumer disputes (消保法 Art. 37, 39; 电子商务法 Art. 60).
    Rule(
        (R_SMALL_CONSUMER_CLAIM, R_INDUSTRY_COMMITTEE),
        _is_small_internet_consumer_claim,
        _fixed(INDUSTRY),
    ),
    # High stakes: arbitration mediation, whose statement is enforceable (仲裁法 Art. 51-52).
    Rule((R_LARGE_CLAIM,), _is_large_claim, _arbitration_if_taken),
    # Two businesses: commercial parties are used to arbitration; same choice as above.
    Rule((R_BUSINESS_DISPUTE,), _is_between_organisations, _arbitration_if_taken),
    # Many claimants with a common claim: people's mediation, which works with representatives.
    Rule((R_GROUP_DISPUTE,), _is_group, _fixed(PEOPLES)),
    # Everything else: people's mediation, free of charge (人民调解法 Art. 4).
    Rule((R_PEOPLES_DEFAULT,), _always, _fixed(PEOPLES)),
)


def _rule_params(code: str, case: CaseProfile) -> dict[str, str]:
    """The values a rule's message shows, so the user sees why the rule applied."""
    if code == R_SMALL_CONSUMER_CLAIM:
        return {"claim_amount": str(case.claim_amount), "limit": str(SMALL_CLAIM_LIMIT)}
    if code == R_LARGE_CLAIM:
        return {"claim_amount": str(case.claim_amount), "floor": str(LARGE_CLAIM_FLOOR)}
    if code == R_BUSINESS_DISPUTE:
        return {"applicant_kind": case.applicant_kind, "respondent_kind": case.respondent_kind}
    if code == R_GROUP_DISPUTE:
        return {"group_size": str(case.group_size), "min_size": str(GROUP_MIN_SIZE)}
    return {}


# --- recommendation ---------------------------------------------------------------------------


def _local_first(org: OrganisationProfile) -> tuple[bool, int]:
    # Local organisations first (parties can attend in person if needed), then the lower id so
    # that the same input always gives the same answer.
    return (HOME_AREA not in org.service_areas, org.id)


def recommend(case: CaseProfile, organisations: Sequence[OrganisationProfile]) -> Recommendation:
    """The track and organisation the policy recommends for `case`, with reasons and
    alternatives. Deterministic: the order of `organisations` does not matter."""
    # A court-entrusted case must go back to the court (诉调对接), so only organisations that
    # accept court-entrusted cases can take it, whatever track the policy picks.
    eligible = [
        org for org in organisations if org.accepts_court_entrusted or not case.court_entrusted
    ]
    takers = sorted((org for org in eligible if case.category in org.categories), key=_local_first)

    rule = next(r for r in POLICY if r.applies(case))
    track, extra = rule.choose(takers)
    reasons = [Reason(code, _rule_params(code, case)) for code in rule.codes]
    reasons.extend(extra)

    if not takers:
        # Distinguish "nobody does this" from "nobody who does this accepts court cases": the
        # second is fixed by adding an organisation to the court's roster, not a new category.
        takes_category = any(case.category in org.categories for org in organisations)
        code = (
            R_NO_ORGANISATION_ACCEPTS_COURT_ENTRUSTED
            if takes_category
            else R_NO_ORGANISATION_TAKES_CATEGORY
        )
        reasons.append(Reason(code, {"category": case.category}))
        return Recommendation(track, None, tuple(reasons), ())

    ranked = sorted(
        takers,
        key=lambda org: (org.track != track, _TRACK_RANK[org.track], *_local_first(org)),
    )
    chosen = ranked[0]
    if chosen.track == track:
        reasons.append(
            Reason(R_CATEGORY_MATCH, {"category": case.category, "organisation": chosen.code})
        )
    else:
        # The recommendation follows the organisation's track: mediation is conducted under
        # the rules (and fees) of the track of the organisation that runs it.
        reasons.append(
            Reason(
                R_FALLBACK_OTHER_TRACK,
                {
                    "category": case.category,
                    "organisation": chosen.code,
                    "preferred_track": track,
                    "track": chosen.track,
                },
            )
        )
        track = chosen.track
    return Recommendation(track, chosen.id, tuple(reasons), tuple(org.id for org in ranked[1:]))
