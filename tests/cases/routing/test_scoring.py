"""Mediator scoring: every exclusion, every score part, tie-breaks, determinism, cost."""

from __future__ import annotations

import random
from collections.abc import Iterator, Mapping
from dataclasses import replace
from datetime import date
from typing import Any

import pytest

from cases.routing import scoring
from cases.routing.scoring import (
    CaseForScoring,
    Exclusion,
    MediatorCandidate,
    Score,
    ScoredChoice,
    explain,
    rank_mediators,
)

TODAY = date(2026, 3, 2)
COMPANY = "91310105MA1FL0000X"
PERSON = "31010519900101123X"

CASE = CaseForScoring(
    case_id=100,
    category="goods_quality",
    languages_needed=frozenset({"zh"}),
    region="长宁区",
    party_codes=frozenset({COMPANY}),
    party_ids=frozenset({PERSON}),
    today=TODAY,
)


def mediator(user_id: int, **changes: Any) -> MediatorCandidate:
    base = MediatorCandidate(
        user_id=user_id,
        organisation_id=1,
        specialties=frozenset({"goods_quality"}),
        languages=frozenset({"zh"}),
        regions=frozenset({"长宁区"}),
        capacity=10,
        open_cases=0,
        on_leave=(),
        affiliations=frozenset(),
        past_party_codes=frozenset(),
        past_party_ids=frozenset(),
        disclosed_conflict_case_ids=frozenset(),
        settlement_rate=None,
        cases_closed=0,
    )
    return replace(base, **changes)


def ranked_ids(choice: ScoredChoice) -> tuple[int, ...]:
    return tuple(s.user_id for s in choice.ranked)


# --- exclusions ---------------------------------------------------------------------------------

EXCLUSIONS = [
    pytest.param({"affiliations": frozenset({COMPANY})}, "conflict_affiliation", id="affiliation"),
    pytest.param(
        {"affiliations": frozenset({COMPANY.lower()})},
        "conflict_affiliation",
        id="affiliation-letter-case-does-not-hide-it",
    ),
    pytest.param(
        {"past_party_codes": frozenset({COMPANY})},
        "conflict_prior_involvement",
        id="prior-involvement-organisation",
    ),
    pytest.param(
        {"past_party_ids": frozenset({PERSON.lower()})},
        "conflict_prior_involvement",
        id="prior-involvement-person-lower-case-x",
    ),
    pytest.param(
        {"disclosed_conflict_case_ids": frozenset({100})}, "conflict_disclosed", id="disclosed"
    ),
    pytest.param(
        {"on_leave": ((date(2026, 3, 2), date(2026, 3, 6)),)}, "on_leave", id="leave-starts-today"
    ),
    pytest.param(
        {"on_leave": ((date(2026, 1, 1), date(2026, 1, 5)), (date(2026, 2, 20), TODAY))},
        "on_leave",
        id="second-leave-ends-today",
    ),
    pytest.param({"open_cases": 10}, "at_capacity", id="open-equals-capacity"),
    pytest.param({"open_cases": 12}, "at_capacity", id="over-capacity"),
    pytest.param({"capacity": 0}, "at_capacity", id="zero-capacity"),
    pytest.param({"languages": frozenset({"en"})}, "language_missing", id="language"),
    pytest.param(
        {"affiliations": frozenset({COMPANY}), "on_leave": ((TODAY, TODAY),), "open_cases": 10},
        "conflict_affiliation",
        id="conflict-reported-before-availability",
    ),
    pytest.param(
        {"on_leave": ((TODAY, TODAY),), "open_cases": 10, "languages": frozenset()},
        "on_leave",
        id="leave-before-capacity-before-language",
    ),
    pytest.param(
        {"disclosed_conflict_case_ids": frozenset({99})},
        None,
        id="conflict-disclosed-in-another-case-only",
    ),
    pytest.param(
        {"on_leave": ((date(2026, 2, 1), date(2026, 3, 1)), (date(2026, 3, 3), date(2026, 4, 1)))},
        None,
        id="leave-ended-yesterday-and-starts-tomorrow",
    ),
    pytest.param({"open_cases": 9}, None, id="one-slot-left"),
    pytest.param(
        {"affiliations": frozenset({"913101000000000000"}), "past_party_ids": frozenset({""})},
        None,
        id="unrelated-ties-and-empty-ids",
    ),
]


@pytest.mark.parametrize(("changes", "reason"), EXCLUSIONS)
def test_exclusions(changes: dict[str, Any], reason: str | None) -> None:
    choice = rank_mediators(CASE, [mediator(7, **changes)])
    if reason is None:
        assert (choice.chosen, choice.excluded) == (7, ())
    else:
        assert (choice.chosen, choice.ranked, choice.excluded) == (
            None,
            (),
            (Exclusion(7, reason),),
        )


def test_language_needs_every_language() -> None:
    case = replace(CASE, languages_needed=frozenset({"zh", "EN"}))
    choice = rank_mediators(
        case,
        [mediator(1), mediator(2, languages=frozenset({"zh", "en", "ja"}))],
    )
    assert choice.chosen == 2
    assert choice.excluded == (Exclusion(1, "language_missing"),)


def test_every_exclusion_reason_is_covered() -> None:
    reasons = {p.values[1] for p in EXCLUSIONS} - {None}
    assert reasons == set(scoring.EXCLUSION_ORDER)


def test_all_excluded_chooses_nobody() -> None:
    candidates = [
        mediator(4, open_cases=10),
        mediator(2, affiliations=frozenset({COMPANY})),
        mediator(3, on_leave=((TODAY, TODAY),)),
    ]
    choice = rank_mediators(CASE, candidates)
    assert choice == ScoredChoice(
        None,
        (),
        (
            Exclusion(2, "conflict_affiliation"),
            Exclusion(3, "on_leave"),
            Exclusion(4, "at_capacity"),
        ),
    )
    assert explain(choice) == []


def test_no_candidates() -> None:
    assert rank_mediators(CASE, []) == ScoredChoice(None, (), ())


# --- score parts (weighted) ---------------------------------------------------------------------

PARTS = [
    pytest.param({}, (0.40, 0.10, 0.25, 0.10, 0.075), 0.925, id="perfect-new-mediator"),
    pytest.param(
        {"specialties": frozenset({"food_delivery"})},
        (0.20, 0.10, 0.25, 0.10, 0.075),
        0.725,
        id="same-domain-specialty-half",
    ),
    pytest.param(
        {"specialties": frozenset({"tour_contract"})},
        (0.0, 0.10, 0.25, 0.10, 0.075),
        0.525,
        id="other-domain-specialty",
    ),
    pytest.param(
        {"specialties": frozenset()}, (0.0, 0.10, 0.25, 0.10, 0.075), 0.525, id="no-specialty"
    ),
    pytest.param({"open_cases": 5}, (0.40, 0.10, 0.125, 0.10, 0.075), 0.8, id="half-loaded"),
    pytest.param(
        {"regions": frozenset({"徐汇区"})},
        (0.40, 0.10, 0.25, 0.0, 0.075),
        0.825,
        id="other-region",
    ),
    pytest.param(
        {"settlement_rate": 0.9, "cases_closed": 10},
        (0.40, 0.10, 0.25, 0.10, 0.105),
        0.955,
        id="record-shrunk-0.9-of-10",
    ),
    pytest.param(
        {"settlement_rate": 1.0, "cases_closed": 2},
        (0.40, 0.10, 0.25, 0.10, 0.0875),
        0.9375,
        id="record-shrunk-perfect-of-2",
    ),
    pytest.param(
        {"settlement_rate": 0.0, "cases_closed": 90},
        (0.40, 0.10, 0.25, 0.10, 0.0075),
        0.8575,
        id="record-shrunk-zero-of-90",
    ),
    pytest.param(
        {"settlement_rate": None, "cases_closed": 50},
        (0.40, 0.10, 0.25, 0.10, 0.075),
        0.925,
        id="no-rate-means-prior",
    ),
]


@pytest.mark.parametrize(("changes", "parts", "total"), PARTS)
def test_score_parts(changes: dict[str, Any], parts: tuple[float, ...], total: float) -> None:
    (score,) = rank_mediators(CASE, [mediator(1, **changes)]).ranked
    assert tuple(score.parts) == scoring.PART_NAMES
    assert tuple(score.parts.values()) == pytest.approx(parts)
    assert score.total == total


def test_weights_sum_to_one() -> None:
    weights = (
        scoring.WEIGHT_SPECIALTY,
        scoring.WEIGHT_LANGUAGE,
        scoring.WEIGHT_LOAD,
        scoring.WEIGHT_REGION,
        scoring.WEIGHT_RECORD,
    )
    assert sum(weights) == pytest.approx(1.0)


def test_unknown_category_gets_no_domain_credit() -> None:
    case = replace(CASE, category="not_a_category")
    (score,) = rank_mediators(case, [mediator(1)]).ranked
    assert score.parts["specialty"] == 0.0


def test_parts_are_read_only() -> None:
    (score,) = rank_mediators(CASE, [mediator(1)]).ranked
    parts: Any = score.parts
    with pytest.raises(TypeError):
        parts["load"] = 1.0
    assert isinstance(hash(score), int)


# --- ranking and tie-breaks ---------------------------------------------------------------------

RANKINGS = [
    pytest.param(
        [
            mediator(1, settlement_rate=1.0, cases_closed=2),
            mediator(2, settlement_rate=0.8, cases_closed=200),
        ],
        (2, 1),
        id="long-good-record-beats-short-perfect-one",
    ),
    pytest.param(
        [mediator(1, specialties=frozenset()), mediator(2, regions=frozenset())],
        (2, 1),
        id="specialty-outweighs-region",
    ),
    pytest.param([mediator(5), mediator(3), mediator(4)], (3, 4, 5), id="equal-lower-id-first"),
    pytest.param(
        [mediator(1, open_cases=5, capacity=10), mediator(2, open_cases=2, capacity=4)],
        (2, 1),
        id="equal-total-fewer-open-cases-first",
    ),
    pytest.param(
        # 0.8625 both, but the floats are 0.8624999999999999 and 0.8625: rounding makes it a
        # tie, and the tie goes to fewer open cases, not to float noise.
        [
            mediator(1, open_cases=4, capacity=10, settlement_rate=1.0, cases_closed=10),
            mediator(2, open_cases=1, capacity=4),
        ],
        (2, 1),
        id="float-noise-is-a-tie",
    ),
    pytest.param(
        [mediator(i, open_cases=i) for i in (6, 0, 3, 1, 5, 2, 4)],
        (0, 1, 2, 3, 4),
        id="top-five-of-seven",
    ),
]


@pytest.mark.parametrize(("candidates", "expected"), RANKINGS)
def test_ranking(candidates: list[MediatorCandidate], expected: tuple[int, ...]) -> None:
    choice = rank_mediators(CASE, candidates)
    assert ranked_ids(choice) == expected
    assert choice.chosen == expected[0]


def test_top_n() -> None:
    candidates = [mediator(i, open_cases=i) for i in range(8)]
    assert ranked_ids(rank_mediators(CASE, candidates, top_n=2)) == (0, 1)
    assert ranked_ids(rank_mediators(CASE, candidates, top_n=20)) == tuple(range(8))
    with pytest.raises(ValueError):
        rank_mediators(CASE, candidates, top_n=0)


def _pool() -> list[MediatorCandidate]:
    rng = random.Random(2026)
    pool = []
    for uid in range(1, 41):
        pool.append(
            mediator(
                uid,
                specialties=frozenset(
                    rng.sample(
                        ["goods_quality", "food_delivery", "tour_contract"], rng.randint(0, 2)
                    )
                ),
                regions=frozenset(rng.sample(["长宁区", "徐汇区"], rng.randint(0, 2))),
                capacity=rng.randint(0, 6),
                open_cases=rng.randint(0, 5),
                settlement_rate=rng.choice([None, 0.5, 0.75, 1.0]),
                cases_closed=rng.choice([0, 4, 20]),
                on_leave=((TODAY, TODAY),) if uid % 13 == 0 else (),
                affiliations=frozenset({COMPANY}) if uid % 17 == 0 else frozenset(),
            )
        )
    return pool


@pytest.mark.parametrize("seed", range(6))
def test_order_of_candidates_does_not_matter(seed: int) -> None:
    pool = _pool()
    expected = rank_mediators(CASE, pool, top_n=40)
    assert expected.chosen is not None and expected.excluded  # the pool exercises both paths
    shuffled = pool[:]
    random.Random(seed).shuffle(shuffled)
    assert rank_mediators(CASE, shuffled, top_n=40) == expected
    assert rank_mediators(CASE, reversed(shuffled), top_n=40) == expected


# --- validation ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "changes",
    [
        pytest.param({"capacity": -1}, id="negative-capacity"),
        pytest.param({"open_cases": -1}, id="negative-open-cases"),
        pytest.param({"settlement_rate": 1.5}, id="rate-above-one"),
        pytest.param({"on_leave": ((date(2026, 3, 5), date(2026, 3, 1)),)}, id="reversed-leave"),
    ],
)
def test_invalid_candidate_rejected(changes: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        mediator(1, **changes)


def test_duplicate_candidate_rejected() -> None:
    with pytest.raises(ValueError):
        rank_mediators(CASE, [mediator(1), mediator(1, open_cases=3)])


# --- explanation --------------------------------------------------------------------------------


def test_explain() -> None:
    choice = rank_mediators(
        CASE,
        [
            mediator(17),
            mediator(3, open_cases=5, regions=frozenset(), settlement_rate=0.9, cases_closed=10),
        ],
    )
    assert explain(choice) == [
        "#1 user 17 total 0.93: specialty 0.40, language 0.10, load 0.25, region 0.10, record 0.07",
        "#2 user 3 total 0.73: specialty 0.40, language 0.10, load 0.12, region 0.00, record 0.10",
    ]


def test_explain_hand_built_choice() -> None:
    parts: Mapping[str, float] = {"specialty": 0.4, "load": 0.2}
    choice = ScoredChoice(9, (Score(9, 0.6, parts),), ())
    assert explain(choice) == ["#1 user 9 total 0.60: specialty 0.40, load 0.20"]


# --- cost, by counting (no timing) --------------------------------------------------------------


class CountingIterable:
    def __init__(self, items: list[MediatorCandidate]) -> None:
        self.items = items
        self.passes = 0

    def __iter__(self) -> Iterator[MediatorCandidate]:
        self.passes += 1
        return iter(self.items)


def test_one_pass_and_mappings_only_for_the_top(monkeypatch: pytest.MonkeyPatch) -> None:
    calls = {"exclusion": 0, "parts": 0, "mapping": 0}
    real_exclusion, real_parts, real_mapping = (
        scoring._exclusion,
        scoring._parts,
        scoring._parts_mapping,
    )

    def exclusion(*args: Any) -> Any:
        calls["exclusion"] += 1
        return real_exclusion(*args)

    def parts(*args: Any) -> Any:
        calls["parts"] += 1
        return real_parts(*args)

    def mapping(*args: Any) -> Any:
        calls["mapping"] += 1
        return real_mapping(*args)

    monkeypatch.setattr(scoring, "_exclusion", exclusion)
    monkeypatch.setattr(scoring, "_parts", parts)
    monkeypatch.setattr(scoring, "_parts_mapping", mapping)

    candidates = CountingIterable(
        [mediator(i, open_cases=i % 10, capacity=5 if i % 4 == 0 else 10) for i in range(100)]
    )
    choice = rank_mediators(CASE, candidates, top_n=5)
    at_capacity = sum(1 for i in range(100) if i % 4 == 0 and i % 10 >= 5)
    assert candidates.passes == 1
    assert calls == {"exclusion": 100, "parts": 100 - at_capacity, "mapping": 5}
    assert at_capacity == 10
    assert choice.excluded == tuple(
        Exclusion(i, "at_capacity") for i in range(100) if i % 4 == 0 and i % 10 >= 5
    )
    assert ranked_ids(choice) == (0, 10, 20, 30, 40)
