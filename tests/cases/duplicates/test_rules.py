"""Table tests (and generated inputs) of the pure rules of one dispute, one number and of the
repeat-claimant signal."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cases.duplicates.rules import (
    OPEN_STATUSES,
    SIMILAR_FACTS_THRESHOLD,
    DisputeKey,
    Existing,
    Incoming,
    MatchReason,
    PastFiling,
    RepeatSignal,
    RepeatThresholds,
    best_match,
    dispute_key,
    facts_similarity,
    match,
    normal_order_number,
    repeat_claimant,
)
from cases.status import Status
from tests.support.factories import resident_id, uscc

NOW = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)
ME = resident_id()
SOMEONE_ELSE = resident_id("31010519851111002")
SHOP = uscc()
OTHER_SHOP = uscc("91310105MA1FL0042")
FACTS = "2026年10月报名参加云南六日游，出发前三天旅行社单方取消行程，至今未退还团费。"
RETOLD = "我10月报名了云南六日游，旅行社在出发前三天单方面取消了行程，团费至今没有退还。"
OTHER_TRIP = "2026年10月报名参加海南三日游，行程中酒店被降级，旅行社至今未赔偿差价。"
OTHER_STORY = "在线购买的空气净化器收到后无法开机，商家拒绝换货，客服也不再回复消息。"


def key(applicant: str = ME, respondent: str | None = SHOP, name: str = "某旅行社") -> DisputeKey:
    return dispute_key(applicant, respondent, name, respondent_is_person=False)


def existing(
    *,
    k: DisputeKey | None = None,
    order: str | None = None,
    facts: str = FACTS,
    status: Status = Status.AWAITING_CONSENT,
    age: timedelta = timedelta(days=3),
    case_id: int = 1,
) -> Existing:
    return Existing(
        case_id, f"CNM-2026-T-{case_id:05d}", status, NOW - age, k or key(), order, facts
    )


@pytest.mark.parametrize(
    ("incoming", "case", "reason"),
    [
        pytest.param(
            Incoming(key(), "A-1", "完全不同的事实，说的是别的事情"),
            existing(order="A-1", facts=OTHER_STORY),
            MatchReason.SAME_ORDER,
            id="same-order-different-words",
        ),
        pytest.param(
            Incoming(key(), " a-1 ", OTHER_STORY),
            existing(order="Ａ-1"),
            MatchReason.SAME_ORDER,
            id="order-number-normalised",
        ),
        pytest.param(
            Incoming(key(), "A-1", OTHER_STORY),
            existing(order="A-1", age=timedelta(days=400)),
            MatchReason.SAME_ORDER,
            id="same-order-no-window",
        ),
        pytest.param(
            Incoming(key(), None, RETOLD),
            existing(),
            MatchReason.SIMILAR_FACTS,
            id="same-code-retold-facts",
        ),
        pytest.param(
            Incoming(key(), "B-2", FACTS),
            existing(order="A-1"),
            MatchReason.SIMILAR_FACTS,
            id="other-order-same-facts",
        ),
        pytest.param(
            Incoming(key(), None, FACTS),
            existing(age=timedelta(days=89)),
            MatchReason.SIMILAR_FACTS,
            id="inside-90-days",
        ),
        pytest.param(
            Incoming(key(), None, FACTS),
            existing(age=timedelta(days=91)),
            None,
            id="outside-90-days",
        ),
        pytest.param(
            Incoming(key(), None, OTHER_STORY), existing(), None, id="same-code-other-story"
        ),
        pytest.param(
            Incoming(key(), None, OTHER_TRIP), existing(), None, id="same-agency-another-trip"
        ),
        pytest.param(
            Incoming(key(applicant=SOMEONE_ELSE), "A-1", FACTS),
            existing(order="A-1"),
            None,
            id="another-applicant",
        ),
        pytest.param(
            Incoming(key(respondent=OTHER_SHOP), "A-1", FACTS),
            existing(order="A-1"),
            None,
            id="another-respondent",
        ),
        pytest.param(
            Incoming(key(respondent=None), None, FACTS),
            existing(k=key(respondent=None)),
            None,
            id="no-code-similar-facts-is-not-enough",
        ),
        pytest.param(
            Incoming(key(respondent=None), "A-1", OTHER_STORY),
            existing(k=key(respondent=None), order="A-1"),
            MatchReason.SAME_ORDER,
            id="no-code-same-name-same-order",
        ),
        pytest.param(
            Incoming(key(respondent=None, name="某 旅行社"), "A-1", OTHER_STORY),
            existing(k=key(respondent=None, name="某旅行社"), order="A-1"),
            MatchReason.SAME_ORDER,
            id="name-spacing-ignored",
        ),
        pytest.param(
            Incoming(key(respondent=None), "A-1", FACTS),
            existing(order="A-1"),
            None,
            id="code-vs-name-only-differ",
        ),
        pytest.param(
            Incoming(key(), "A-1", FACTS),
            existing(order="A-1", status=Status.WITHDRAWN),
            None,
            id="withdrawn-case-is-over",
        ),
        pytest.param(
            Incoming(key(), "A-1", FACTS),
            existing(order="A-1", status=Status.SETTLED),
            None,
            id="settled-case-is-over",
        ),
        pytest.param(
            Incoming(key(), "A-1", FACTS),
            existing(order="A-1", status=Status.IN_MEDIATION),
            MatchReason.SAME_ORDER,
            id="in-mediation-is-open",
        ),
        pytest.param(
            Incoming(key(), None, FACTS),
            existing(status=Status.AWAITING_MERCHANT),
            MatchReason.SIMILAR_FACTS,
            id="with-the-merchant-is-open",
        ),
    ],
)
def test_match(incoming: Incoming, case: Existing, reason: MatchReason | None) -> None:
    found = match(incoming, case, NOW)
    assert (found.reason if found else None) == reason


def test_a_person_as_respondent_is_known_by_name_and_number_not_as_a_credit_code() -> None:
    person = dispute_key(ME, SOMEONE_ELSE, "李四", respondent_is_person=True)
    assert person.respondent_uscc is None
    assert person.respondent != dispute_key(ME, None, "李四", respondent_is_person=True).respondent
    case = existing(k=person)
    assert match(Incoming(person, None, FACTS), case, NOW) is None  # no code: facts not enough


def test_the_lock_key_hides_the_id_number_and_tells_pairs_apart() -> None:
    digest = key().digest()
    assert len(digest) == 64 and ME not in digest
    assert digest == key().digest()
    assert digest != key(respondent=OTHER_SHOP).digest()
    assert digest != key(applicant=SOMEONE_ELSE).digest()


def test_best_match_prefers_the_same_order_then_closest_facts_then_earliest() -> None:
    by_facts = existing(case_id=1, facts=RETOLD, age=timedelta(days=9))
    exact_facts = existing(case_id=2, facts=FACTS, age=timedelta(days=5))
    same_order = existing(case_id=3, order="A-1", facts=OTHER_STORY, age=timedelta(days=1))
    exact_later = existing(case_id=4, facts=FACTS, age=timedelta(days=2))
    incoming = Incoming(key(), "A-1", FACTS)
    assert best_match(incoming, [by_facts, exact_facts, same_order], NOW).case_id == 3  # type: ignore[union-attr]
    no_order = Incoming(key(), None, FACTS)
    found = best_match(no_order, [by_facts, exact_later, exact_facts], NOW)
    assert found is not None and found.case_id == 2
    assert best_match(no_order, [], NOW) is None


@pytest.mark.parametrize(
    ("a", "b", "low", "high"),
    [
        (FACTS, FACTS, 1.0, 1.0),
        (FACTS, FACTS + "！！", 1.0, 1.0),  # punctuation is not content
        (FACTS, RETOLD, SIMILAR_FACTS_THRESHOLD, 1.0),
        (FACTS, OTHER_STORY, 0.0, 0.1),
        (FACTS, OTHER_TRIP, 0.0, SIMILAR_FACTS_THRESHOLD - 0.01),
        ("", "", 0.0, 0.0),
        ("a", "a", 1.0, 1.0),
        ("Refund NOT received", "refund not RECEIVED", 1.0, 1.0),
    ],
)
def test_facts_similarity(a: str, b: str, low: float, high: float) -> None:
    assert low <= facts_similarity(a, b) <= high


@pytest.mark.parametrize(
    ("raw", "normal"),
    [(None, None), ("", None), ("   ", None), (" ab 12 ", "AB12"), ("ＡＢ１２", "AB12")],
)
def test_normal_order_number(raw: str | None, normal: str | None) -> None:
    assert normal_order_number(raw) == normal


# --- generated inputs ---

texts = st.text(max_size=300)


@given(texts, texts)
def test_similarity_is_symmetric_and_bounded(a: str, b: str) -> None:
    s = facts_similarity(a, b)
    assert 0.0 <= s <= 1.0
    assert s == facts_similarity(b, a)


@given(st.text(alphabet=st.characters(categories=["Lo", "Nd", "Ll"]), min_size=1, max_size=200))
def test_a_text_is_wholly_like_itself(text: str) -> None:
    assert facts_similarity(text, text) == 1.0


statuses = st.sampled_from(list(Status))
ids = st.sampled_from([ME, SOMEONE_ELSE])
codes = st.sampled_from([SHOP, OTHER_SHOP, None])
orders = st.sampled_from([None, "A-1", "a-1", "B-2"])
facts = st.sampled_from([FACTS, RETOLD, OTHER_TRIP, OTHER_STORY])
ages = st.integers(min_value=0, max_value=200).map(lambda d: timedelta(days=d))


@settings(max_examples=300)
@given(ids, codes, orders, facts, ids, codes, orders, facts, statuses, ages)
def test_generated_filings_match_only_the_same_open_dispute(
    applicant: str,
    code: str | None,
    order: str | None,
    text: str,
    their_applicant: str,
    their_code: str | None,
    their_order: str | None,
    their_text: str,
    status: Status,
    age: timedelta,
) -> None:
    incoming = Incoming(key(applicant, code), order, text)
    case = existing(
        k=key(their_applicant, their_code),
        order=their_order,
        facts=their_text,
        status=status,
        age=age,
    )
    found = match(incoming, case, NOW)
    same_pair = applicant == their_applicant and code == their_code
    same_order = order is not None and normal_order_number(order) == normal_order_number(
        their_order
    )
    similar = (
        code is not None
        and age <= timedelta(days=90)
        and facts_similarity(text, their_text) >= SIMILAR_FACTS_THRESHOLD
    )
    expected = status in OPEN_STATUSES and same_pair and (same_order or similar)
    assert (found is not None) == expected
    if found is not None:
        assert found.reason is (MatchReason.SAME_ORDER if same_order else MatchReason.SIMILAR_FACTS)
        assert found.number == case.number


# --- the repeat-claimant signal ---

T = RepeatThresholds(filings=5, respondents=4, days=30)


def filings(*spec: tuple[int, str]) -> list[PastFiling]:
    return [PastFiling(NOW - timedelta(days=d), r) for d, r in spec]


@pytest.mark.parametrize(
    ("past", "signal"),
    [
        pytest.param([], None, id="none"),
        pytest.param(
            filings((1, "a"), (2, "b"), (3, "c"), (4, "d"), (5, "e")),
            RepeatSignal(5, 5, 30),
            id="five-against-five",
        ),
        pytest.param(
            filings((1, "a"), (2, "b"), (3, "c"), (4, "d"), (5, "d")),
            RepeatSignal(5, 4, 30),
            id="five-against-four",
        ),
        pytest.param(
            filings((1, "a"), (2, "b"), (3, "c"), (4, "c"), (5, "c")),
            None,
            id="five-against-three",
        ),
        pytest.param(filings((1, "a"), (2, "b"), (3, "c"), (4, "d")), None, id="four-filings"),
        pytest.param(
            filings((1, "a"), (2, "b"), (3, "c"), (4, "d"), (31, "e")),
            None,
            id="one-outside-the-window",
        ),
        pytest.param(
            filings((0, "a"), (10, "b"), (20, "c"), (29, "d"), (30, "e"), (31, "f")),
            RepeatSignal(5, 5, 30),
            id="window-edge-counts",
        ),
        pytest.param(
            filings((-1, "a"), (2, "b"), (3, "c"), (4, "d"), (5, "e")),
            None,
            id="a-filing-after-now-is-not-counted",
        ),
    ],
)
def test_repeat_claimant(past: list[PastFiling], signal: RepeatSignal | None) -> None:
    assert repeat_claimant(past, NOW, T) == signal


@pytest.mark.parametrize(
    ("thresholds", "signal"),
    [
        (RepeatThresholds(filings=3, respondents=3, days=30), RepeatSignal(3, 3, 30)),
        (RepeatThresholds(filings=3, respondents=3, days=7), None),
        (RepeatThresholds(filings=4, respondents=3, days=30), None),
    ],
)
def test_repeat_claimant_thresholds_are_configurable(
    thresholds: RepeatThresholds, signal: RepeatSignal | None
) -> None:
    assert repeat_claimant(filings((1, "a"), (5, "b"), (20, "c")), NOW, thresholds) == signal


@given(st.lists(st.tuples(st.integers(0, 60), st.sampled_from("abcdef")), max_size=20))
def test_the_signal_counts_what_it_says(spec: list[tuple[int, str]]) -> None:
    past = filings(*spec)
    signal = repeat_claimant(past, NOW, T)
    recent = [f for f in past if f.created_at >= NOW - timedelta(days=30)]
    if signal is None:
        assert len(recent) < 5 or len({f.respondent for f in recent}) < 4
    else:
        assert signal.filings == len(recent) >= 5
        assert signal.respondents == len({f.respondent for f in recent}) >= 4
