"""Table tests of the case status machine."""

from __future__ import annotations

import pytest

from cases.status import (
    CLOSED,
    TRANSITIONS,
    Actor,
    Status,
    Transition,
    TransitionError,
    allowed_targets,
    check_transition,
)

S, A = Status, Actor

EDGES = {(t.source, t.target) for t in TRANSITIONS}


def _edge_id(t: Transition) -> str:
    return f"{t.source.value}->{t.target.value}"


def test_no_edge_is_listed_twice() -> None:
    assert len(EDGES) == len(TRANSITIONS)


def test_every_transition_has_at_least_one_actor() -> None:
    assert all(t.actors for t in TRANSITIONS)


@pytest.mark.parametrize("transition", TRANSITIONS, ids=_edge_id)
def test_transition_allowed_for_its_actors(transition: Transition) -> None:
    for actor in transition.actors:
        assert check_transition(transition.source, transition.target, actor) is transition


@pytest.mark.parametrize("transition", TRANSITIONS, ids=_edge_id)
def test_transition_refused_for_every_other_actor(transition: Transition) -> None:
    others = set(Actor) - transition.actors
    for actor in others:
        with pytest.raises(TransitionError) as caught:
            check_transition(transition.source, transition.target, actor)
        error = caught.value
        assert error.reason == "actor_not_allowed"
        assert (error.source, error.target, error.actor) == (
            transition.source,
            transition.target,
            actor,
        )


# Spot checks of who may do what, written out independently of the table above.
@pytest.mark.parametrize(
    ("source", "target", "actors"),
    [
        (S.SUBMITTED, S.AWAITING_CONSENT, {A.SYSTEM}),
        (S.AWAITING_CONSENT, S.ACCEPTED, {A.RESPONDENT}),
        (S.AWAITING_CONSENT, S.REFUSED, {A.RESPONDENT}),
        (S.AWAITING_CONSENT, S.NO_RESPONSE, {A.SYSTEM}),
        (S.AWAITING_MEDIATOR, S.IN_MEDIATION, {A.MEDIATOR}),
        (S.IN_MEDIATION, S.SETTLED, {A.SYSTEM}),
        (S.IN_MEDIATION, S.WITHDRAWN, {A.APPLICANT, A.RESPONDENT, A.MEDIATOR}),
        (S.CONFIRMATION_REQUESTED, S.CONFIRMED, {A.COURT}),
        (S.TRANSFERRED, S.DOCKETED, {A.COURT}),
        # merchants answer first (先行协商)
        (S.SUBMITTED, S.AWAITING_MERCHANT, {A.SYSTEM}),
        (S.AWAITING_MERCHANT, S.SETTLED_BY_NEGOTIATION, {A.APPLICANT}),
        (S.AWAITING_MERCHANT, S.ACCEPTED, {A.APPLICANT, A.MERCHANT, A.SYSTEM}),
        (S.AWAITING_MERCHANT, S.WITHDRAWN, {A.APPLICANT}),
        (S.SETTLED_BY_NEGOTIATION, S.ACCEPTED, {A.APPLICANT}),
    ],
)
def test_who_may_fire_key_transitions(source: Status, target: Status, actors: set[Actor]) -> None:
    allowed = set()
    for actor in Actor:
        try:
            check_transition(source, target, actor)
        except TransitionError as error:
            assert error.reason == "actor_not_allowed"
        else:
            allowed.add(actor)
    assert allowed == actors


@pytest.mark.parametrize(
    ("source", "target"),
    [
        (S.SUBMITTED, S.ACCEPTED),  # consent needs the invitation first
        (S.SUBMITTED, S.SETTLED),
        (S.AWAITING_CONSENT, S.IN_MEDIATION),
        (S.AWAITING_CONSENT, S.AWAITING_CONSENT),
        (S.ACCEPTED, S.IN_MEDIATION),  # a mediator must be assigned first
        (S.ACCEPTED, S.REFUSED),
        (S.IN_MEDIATION, S.CONFIRMED),  # only after a signed agreement and a request
        (S.IN_MEDIATION, S.DOCKETED),
        (S.SETTLED, S.IN_MEDIATION),
        (S.SETTLED, S.WITHDRAWN),
        (S.FAILED, S.IN_MEDIATION),
        (S.REFUSED, S.ACCEPTED),  # a refusal is final
        (S.NO_RESPONSE, S.AWAITING_CONSENT),
        (S.WITHDRAWN, S.SUBMITTED),
        (S.CONFIRMED, S.CONFIRMATION_REQUESTED),
        (S.DOCKETED, S.TRANSFERRED),
        (S.CONFIRMATION_REJECTED, S.CONFIRMATION_REQUESTED),
    ],
)
def test_non_edges_are_refused_for_everyone(source: Status, target: Status) -> None:
    assert (source, target) not in EDGES
    for actor in Actor:
        with pytest.raises(TransitionError) as caught:
            check_transition(source, target, actor)
        assert caught.value.reason == "no_such_transition"


def test_no_self_loops() -> None:
    for status in Status:
        assert (status, status) not in EDGES


@pytest.mark.parametrize("status", [S.REFUSED, S.NO_RESPONSE, S.WITHDRAWN, S.DOCKETED, S.CONFIRMED])
def test_final_states_have_no_outgoing_transitions(status: Status) -> None:
    assert status in CLOSED
    assert [t for t in TRANSITIONS if t.source is status] == []
    for actor in Actor:
        assert allowed_targets(status, actor) == ()
    for target in Status:
        with pytest.raises(TransitionError) as caught:
            check_transition(status, target, A.PLATFORM_ADMIN)
        assert caught.value.reason == "no_such_transition"


def test_closed_states_are_exactly_these() -> None:
    assert (
        frozenset(
            {
                S.REFUSED,
                S.NO_RESPONSE,
                S.WITHDRAWN,
                S.CONFIRMED,
                S.CONFIRMATION_REJECTED,
                S.DOCKETED,
            }
        )
        == CLOSED
    )


def test_outgoing_transitions_from_closed_states_are_only_the_listed_ones() -> None:
    # Today none: a closed case does not reopen. A new edge out of CLOSED must be added here.
    assert {(t.source, t.target) for t in TRANSITIONS if t.source in CLOSED} == set()


def test_every_status_is_reachable_from_submitted() -> None:
    reached, frontier = {S.SUBMITTED}, [S.SUBMITTED]
    while frontier:
        source = frontier.pop()
        for t in TRANSITIONS:
            if t.source is source and t.target not in reached:
                reached.add(t.target)
                frontier.append(t.target)
    assert reached == set(Status)


def test_every_open_state_has_a_way_out() -> None:
    for status in set(Status) - CLOSED:
        assert any(t.source is status for t in TRANSITIONS), status


@pytest.mark.parametrize(
    ("source", "actor", "expected"),
    [
        (S.SUBMITTED, A.SYSTEM, (S.AWAITING_CONSENT, S.AWAITING_MERCHANT)),
        (S.AWAITING_MERCHANT, A.APPLICANT, (S.SETTLED_BY_NEGOTIATION, S.ACCEPTED, S.WITHDRAWN)),
        (S.AWAITING_MERCHANT, A.MERCHANT, (S.ACCEPTED,)),
        (S.AWAITING_MERCHANT, A.RESPONDENT, ()),
        (S.SUBMITTED, A.APPLICANT, (S.WITHDRAWN,)),
        (S.SUBMITTED, A.RESPONDENT, ()),
        (S.AWAITING_CONSENT, A.RESPONDENT, (S.ACCEPTED, S.REFUSED)),
        (S.AWAITING_CONSENT, A.SYSTEM, (S.NO_RESPONSE,)),
        (S.AWAITING_CONSENT, A.APPLICANT, (S.WITHDRAWN,)),
        (S.AWAITING_CONSENT, A.MEDIATOR, ()),
        (S.ACCEPTED, A.ORG_ADMIN, (S.ASSIGNING,)),
        (S.AWAITING_MEDIATOR, A.MEDIATOR, (S.ASSIGNING, S.IN_MEDIATION)),
        (S.AWAITING_MEDIATOR, A.SYSTEM, (S.ASSIGNING,)),
        (S.IN_MEDIATION, A.MEDIATOR, (S.FAILED, S.WITHDRAWN, S.TIMED_OUT)),
        (S.IN_MEDIATION, A.SYSTEM, (S.SETTLED, S.TIMED_OUT)),
        (S.IN_MEDIATION, A.PLATFORM_ADMIN, (S.ASSIGNING,)),
        # A party may ask for a change of mediator (Art. 14) or withdraw.
        (S.IN_MEDIATION, A.RESPONDENT, (S.ASSIGNING, S.WITHDRAWN)),
        (S.AWAITING_MEDIATOR, A.APPLICANT, (S.ASSIGNING, S.WITHDRAWN)),
        (S.SETTLED, A.RESPONDENT, (S.CONFIRMATION_REQUESTED,)),
        (
            S.CONFIRMATION_REQUESTED,
            A.COURT,
            (S.CONFIRMED, S.CONFIRMATION_REJECTED, S.RETURNED_FOR_CORRECTION),
        ),
        (S.CONFIRMATION_REQUESTED, A.APPLICANT, ()),
        (S.TRANSFERRED, A.COURT, (S.RETURNED_FOR_CORRECTION, S.DOCKETED)),
        (S.RETURNED_FOR_CORRECTION, A.APPLICANT, (S.TRANSFERRED, S.CONFIRMATION_REQUESTED)),
        (S.RETURNED_FOR_CORRECTION, A.RESPONDENT, (S.CONFIRMATION_REQUESTED,)),
        (S.CONFIRMATION_REJECTED, A.APPLICANT, ()),
    ],
)
def test_allowed_targets(source: Status, actor: Actor, expected: tuple[Status, ...]) -> None:
    assert allowed_targets(source, actor) == expected


def test_allowed_targets_agrees_with_check_transition() -> None:
    for source in Status:
        for actor in Actor:
            for target in Status:
                try:
                    check_transition(source, target, actor)
                except TransitionError:
                    assert target not in allowed_targets(source, actor)
                else:
                    assert target in allowed_targets(source, actor)


def test_transition_error_message_names_the_edge() -> None:
    with pytest.raises(TransitionError, match=r"^refused -> accepted by respondent: no_such"):
        check_transition(S.REFUSED, S.ACCEPTED, A.RESPONDENT)


def test_a_merchant_fires_only_its_decline() -> None:
    """A merchant's handler moves a case only by declining (on to mediation)."""
    fired = {(t.source, t.target) for t in TRANSITIONS if A.MERCHANT in t.actors}
    assert fired == {(S.AWAITING_MERCHANT, S.ACCEPTED)}


def test_a_case_waiting_for_its_merchant_can_only_settle_go_on_or_be_withdrawn() -> None:
    assert {t.target for t in TRANSITIONS if t.source is S.AWAITING_MERCHANT} == {
        S.SETTLED_BY_NEGOTIATION,
        S.ACCEPTED,
        S.WITHDRAWN,
    }
