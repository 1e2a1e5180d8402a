"""Triage policy table: every rule, the organisation choice, fallbacks and determinism."""

from __future__ import annotations

import random
from decimal import Decimal

import pytest

from cases.accounts.models import Track
from cases.categories import BY_CODE, Domain
from cases.models import PartyKind
from cases.routing import triage
from cases.routing.triage import (
    POLICY,
    CaseProfile,
    OrganisationProfile,
    Reason,
    Recommendation,
    recommend,
)

HOME = frozenset({"长宁区"})
CITY = frozenset({"上海市"})


def org(
    id: int,
    code: str,
    track: str,
    categories: str,
    areas: frozenset[str] = HOME,
    court: bool = False,
) -> OrganisationProfile:
    return OrganisationProfile(id, code, track, frozenset(categories.split()), areas, court)


# Modelled on seeds/demo.py, plus a general people's committee (7).
ORGS = (
    org(1, "CN-PMC-TOUR", "peoples", "tour_contract tour_refund guide_service", court=True),
    org(2, "CN-TQO", "administrative", "tour_contract tour_refund accommodation scenic_spot"),
    org(3, "CN-SAMR", "administrative", "goods_quality food_delivery"),
    org(4, "SHAC-MC", "arbitration", "tour_contract platform_service internet_other", CITY),
    org(5, "SHTA-MC", "industry", "tour_contract accommodation travel_booking", CITY, True),
    org(6, "CN-CC", "industry", "goods_quality food_delivery platform_service"),
    org(7, "CN-PMC", "peoples", "goods_quality platform_service internet_other", court=True),
)


def case(
    domain: str = "internet",
    category: str = "goods_quality",
    amount: str = "1000",
    applicant: str = "natural_person",
    respondent: str = "natural_person",
    clause: bool = False,
    court: bool = False,
    group: int = 1,
) -> CaseProfile:
    return CaseProfile(
        domain, category, Decimal(amount), applicant, respondent, clause, court, group
    )


def codes(rec: Recommendation) -> tuple[str, ...]:
    return tuple(r.code for r in rec.reasons)


# (case, expected track, organisation id, reason codes, alternatives)
CASES = [
    pytest.param(
        case("tourism", "tour_contract", "10000", respondent="merchant", clause=True),
        "arbitration",
        4,
        ("arbitration_clause", "category_match"),
        (1, 2, 5),
        id="arbitration-clause-beats-small-tourism-complaint",
    ),
    pytest.param(
        case(category="goods_quality", respondent="merchant", clause=True),
        "peoples",
        7,
        ("arbitration_clause", "fallback_other_track"),
        (3, 6),
        id="arbitration-clause-no-arbitration-body-falls-back-to-peoples-first",
    ),
    pytest.param(
        case("tourism", "tour_contract", "10000", respondent="merchant", court=True),
        "peoples",
        1,
        ("court_entrusted", "category_match"),
        (5,),
        id="court-entrusted-peoples-committee-preferred",
    ),
    pytest.param(
        case("tourism", "accommodation", "10000", respondent="merchant", court=True),
        "industry",
        5,
        ("court_entrusted", "fallback_other_track"),
        (),
        id="court-entrusted-other-track-accepting-court-cases",
    ),
    pytest.param(
        case("tourism", "scenic_spot", "10000", respondent="merchant", court=True),
        "peoples",
        None,
        ("court_entrusted", "no_organisation_accepts_court_entrusted"),
        (),
        id="court-entrusted-taker-does-not-accept-court-cases",
    ),
    pytest.param(
        case("tourism", "tour_contract", "10000", respondent="merchant", clause=True, court=True),
        "peoples",
        1,
        ("arbitration_clause", "fallback_other_track"),
        (5,),
        id="clause-first-but-court-case-needs-court-accepting-organisation",
    ),
    pytest.param(
        case("tourism", "tour_refund", "8000", respondent="merchant"),
        "administrative",
        2,
        ("small_consumer_claim", "tourism_quality_office", "category_match"),
        (1,),
        id="tourism-merchant-small",
    ),
    pytest.param(
        case("tourism", "tour_refund", "49999.99", respondent="organisation"),
        "administrative",
        2,
        ("small_consumer_claim", "tourism_quality_office", "category_match"),
        (1,),
        id="tourism-agency-as-organisation-just-under-limit",
    ),
    pytest.param(
        case("tourism", "tour_refund", "50000", respondent="merchant"),
        "peoples",
        1,
        ("peoples_default", "category_match"),
        (2,),
        id="tourism-at-limit-is-not-small",
    ),
    pytest.param(
        case("tourism", "tour_refund", "100", respondent="natural_person"),
        "peoples",
        1,
        ("peoples_default", "category_match"),
        (2,),
        id="tourism-against-a-person-is-not-a-complaint-against-an-operator",
    ),
    pytest.param(
        case("tourism", "tour_refund", "30000", respondent="merchant", group=20),
        "administrative",
        2,
        ("small_consumer_claim", "tourism_quality_office", "category_match"),
        (1,),
        id="small-tourism-group-complaint-stays-with-quality-office",
    ),
    pytest.param(
        case(category="goods_quality", amount="3000", respondent="platform"),
        "industry",
        6,
        ("small_consumer_claim", "industry_committee", "category_match"),
        (7, 3),
        id="internet-consumer-vs-platform",
    ),
    pytest.param(
        case(category="food_delivery", amount="200", respondent="merchant"),
        "industry",
        6,
        ("small_consumer_claim", "industry_committee", "category_match"),
        (3,),
        id="internet-consumer-vs-merchant",
    ),
    pytest.param(
        case(category="internet_other", amount="1000", respondent="platform"),
        "peoples",
        7,
        ("small_consumer_claim", "industry_committee", "fallback_other_track"),
        (4,),
        id="internet-consumer-no-industry-body-falls-back",
    ),
    pytest.param(
        case(category="goods_quality", amount="49999", respondent="organisation"),
        "peoples",
        7,
        ("peoples_default", "category_match"),
        (3, 6),
        id="internet-vs-non-commerce-organisation-is-not-consumer-rule",
    ),
    pytest.param(
        case(category="platform_service", amount="600000", respondent="platform"),
        "arbitration",
        4,
        ("large_claim", "category_match"),
        (7, 6),
        id="large-claim-arbitration",
    ),
    pytest.param(
        case(category="goods_quality", amount="500000", respondent="merchant"),
        "peoples",
        7,
        ("large_claim", "no_arbitration_organisation", "category_match"),
        (3, 6),
        id="large-claim-at-floor-no-arbitration-body",
    ),
    pytest.param(
        case(
            category="platform_service", amount="10000", applicant="merchant", respondent="platform"
        ),
        "arbitration",
        4,
        ("business_dispute", "category_match"),
        (7, 6),
        id="two-businesses-arbitration",
    ),
    pytest.param(
        case(category="food_delivery", applicant="organisation", respondent="merchant"),
        "administrative",
        3,
        ("business_dispute", "no_arbitration_organisation", "fallback_other_track"),
        (6,),
        id="two-businesses-no-arbitration-no-peoples-falls-back",
    ),
    pytest.param(
        case(category="goods_quality", amount="80000", respondent="merchant", group=5),
        "peoples",
        7,
        ("group_dispute", "category_match"),
        (3, 6),
        id="group-of-five",
    ),
    pytest.param(
        case(category="goods_quality", amount="80000", respondent="merchant", group=4),
        "peoples",
        7,
        ("peoples_default", "category_match"),
        (3, 6),
        id="group-of-four-is-default",
    ),
    pytest.param(
        case(category="platform_service", amount="1000", respondent="natural_person"),
        "peoples",
        7,
        ("peoples_default", "category_match"),
        (6, 4),
        id="default-peoples",
    ),
    pytest.param(
        case("tourism", "forced_shopping", "1000", respondent="natural_person"),
        "peoples",
        None,
        ("peoples_default", "no_organisation_takes_category"),
        (),
        id="nobody-takes-category",
    ),
]


@pytest.mark.parametrize(("profile", "track", "organisation", "reasons", "alternatives"), CASES)
def test_policy_table(
    profile: CaseProfile,
    track: str,
    organisation: int | None,
    reasons: tuple[str, ...],
    alternatives: tuple[int, ...],
) -> None:
    rec = recommend(profile, ORGS)
    assert (rec.track, rec.organisation_id, codes(rec), rec.alternatives) == (
        track,
        organisation,
        reasons,
        alternatives,
    )


def test_every_rule_is_exercised_by_the_table() -> None:
    profiles = [p.values[0] for p in CASES]
    decided = {recommend(p, ORGS).reasons[0].code for p in profiles if isinstance(p, CaseProfile)}
    assert all(isinstance(p, CaseProfile) for p in profiles)
    assert decided == {rule.codes[0] for rule in POLICY}


def test_reason_params() -> None:
    rec = recommend(case("tourism", "tour_refund", "8000", respondent="merchant"), ORGS)
    assert rec.reasons == (
        Reason("small_consumer_claim", {"claim_amount": "8000", "limit": "50000"}),
        Reason("tourism_quality_office"),
        Reason("category_match", {"category": "tour_refund", "organisation": "CN-TQO"}),
    )
    rec = recommend(case(category="goods_quality", amount="600000", respondent="merchant"), ORGS)
    assert rec.reasons[0] == Reason("large_claim", {"claim_amount": "600000", "floor": "500000"})
    rec = recommend(case(category="goods_quality", amount="80000", group=7), ORGS)
    assert rec.reasons[0] == Reason("group_dispute", {"group_size": "7", "min_size": "5"})
    rec = recommend(case(category="internet_other", respondent="platform"), ORGS)
    assert rec.reasons[-1] == Reason(
        "fallback_other_track",
        {
            "category": "internet_other",
            "organisation": "CN-PMC",
            "preferred_track": "industry",
            "track": "peoples",
        },
    )
    rec = recommend(case("tourism", "forced_shopping"), ORGS)
    assert rec.reasons[-1] == Reason(
        "no_organisation_takes_category", {"category": "forced_shopping"}
    )


def test_reason_params_are_read_only() -> None:
    reason = Reason("x", {"a": "1"})
    with pytest.raises(TypeError):
        reason.params["a"] = "2"  # type: ignore[index]
    assert hash(reason) == hash(Reason("x", {"a": "1"}))


SAME_TRACK = [
    pytest.param(
        (
            org(1, "CITY", "peoples", "goods_quality", CITY),
            org(2, "LOCAL", "peoples", "goods_quality", HOME),
        ),
        2,
        (1,),
        id="local-beats-lower-id",
    ),
    pytest.param(
        (
            org(9, "B", "peoples", "goods_quality"),
            org(3, "A", "peoples", "goods_quality"),
            org(5, "C", "peoples", "goods_quality", frozenset({"长宁区", "徐汇区"})),
        ),
        3,
        (5, 9),
        id="ties-broken-by-id",
    ),
    pytest.param(
        (
            org(1, "PEOPLES-OTHER-CAT", "peoples", "tour_contract"),
            org(8, "IND", "industry", "goods_quality", CITY),
            org(4, "ADM", "administrative", "goods_quality", CITY),
            org(6, "ARB", "arbitration", "goods_quality"),
            org(2, "PEOPLES", "peoples", "goods_quality", CITY),
        ),
        2,
        (4, 8, 6),
        id="alternatives-by-track-order-then-area-then-id",
    ),
]


@pytest.mark.parametrize(("orgs", "chosen", "alternatives"), SAME_TRACK)
def test_organisation_choice(
    orgs: tuple[OrganisationProfile, ...], chosen: int, alternatives: tuple[int, ...]
) -> None:
    rec = recommend(case(category="goods_quality", amount="80000"), orgs)
    assert (rec.organisation_id, rec.alternatives) == (chosen, alternatives)


@pytest.mark.parametrize("seed", range(5))
def test_order_of_organisations_does_not_matter(seed: int) -> None:
    shuffled = list(ORGS)
    random.Random(seed).shuffle(shuffled)
    for param in CASES:
        profile = param.values[0]
        assert isinstance(profile, CaseProfile)
        assert recommend(profile, shuffled) == recommend(profile, ORGS)


@pytest.mark.parametrize(
    "kwargs",
    [
        pytest.param({"domain": "finance"}, id="domain"),
        pytest.param({"applicant": "company"}, id="applicant-kind"),
        pytest.param({"respondent": "Merchant"}, id="respondent-kind"),
        pytest.param({"amount": "-1"}, id="negative-amount"),
        pytest.param({"amount": "NaN"}, id="nan-amount"),
        pytest.param({"group": 0}, id="group-size"),
    ],
)
def test_invalid_case_rejected(kwargs: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        case(**kwargs)  # type: ignore[arg-type]


def test_invalid_track_rejected() -> None:
    with pytest.raises(ValueError):
        org(1, "X", "court", "goods_quality")


def test_constants_match_the_enums() -> None:
    assert {triage.PEOPLES, triage.ADMINISTRATIVE, triage.ARBITRATION, triage.INDUSTRY} == {
        t.value for t in Track
    }
    assert {t.value for t in Track} == triage.TRACKS
    assert {k.value for k in PartyKind} == triage.PARTY_KINDS
    assert {d.value for d in Domain} == triage.DOMAINS
    assert set(triage.FALLBACK_TRACK_ORDER) == triage.TRACKS


def test_table_categories_exist() -> None:
    for o in ORGS:
        assert o.categories <= BY_CODE.keys()
