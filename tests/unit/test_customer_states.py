"""Stored intervals equal the pure view: customer_states sampled anywhere equals state_at."""

from __future__ import annotations

import itertools
import random
from datetime import datetime, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from journey.projections.customer import CustomerState, customer_states, state_at
from journey.rules import DEFAULT_RULES
from journey.touchpoints import AnyTouchpoint
from tests.strategies import journeys

SETTINGS = settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def values(state: CustomerState | None) -> dict[str, object] | None:
    if state is None:
        return None
    return {k: v for k, v in state.__dict__.items() if k not in ("valid_from", "valid_to")}


def stored_at(states: list[CustomerState], at: datetime) -> CustomerState | None:
    for s in states:
        if s.valid_from <= at and (s.valid_to is None or at < s.valid_to):
            return s
    return None


def probe_instants(tps: list[AnyTouchpoint], states: list[CustomerState], seed: int) -> list[datetime]:
    rnd = random.Random(seed)
    edges = [s.valid_from for s in states] + [tp.occurred_at for tp in tps]
    out = []
    for e in edges:
        out += [e, e - timedelta(microseconds=1), e + timedelta(days=rnd.uniform(0, 400))]
    return out


@SETTINGS
@given(journeys, st.integers(0, 2**16))
def test_the_interval_holding_t_equals_the_view_at_t(tps: list[AnyTouchpoint], seed: int) -> None:
    states = customer_states(tps, DEFAULT_RULES)

    for at in probe_instants(tps, states, seed):
        expected, _ = state_at(tps, at, DEFAULT_RULES, None)
        assert values(stored_at(states, at)) == values(expected), at


@SETTINGS
@given(journeys, st.randoms(use_true_random=False))
def test_intervals_do_not_depend_on_arrival_order_or_duplicates(
    tps: list[AnyTouchpoint], rnd: random.Random
) -> None:
    shuffled = tps + rnd.sample(tps, k=len(tps) // 2)
    rnd.shuffle(shuffled)

    assert customer_states(shuffled) == customer_states(tps)


def test_consecutive_intervals_differ_and_touch() -> None:
    from tests.builders import day, delivery, maintenance, visit

    tps = [visit(day(0), "revisit"), delivery(day(10)), maintenance(day(100)), maintenance(day(300))]

    states = customer_states(tps)

    for a, b in itertools.pairwise(states):
        assert a.valid_to == b.valid_from
        assert values(a) != values(b)
    assert states[-1].valid_to is None


@SETTINGS
@given(journeys, st.integers(0, 2**16))
def test_the_view_at_t_is_the_same_knowing_the_future_or_not(tps: list[AnyTouchpoint], seed: int) -> None:
    """The timelines fold a whole history once and answer any T from its prefix; a history cut
    at T (no touchpoint after T to fold) must give the same intent and retention at T."""
    from journey.projections.history import history
    from journey.projections.intent import intent_at
    from journey.projections.retention import retention_at

    states = customer_states(tps, DEFAULT_RULES)
    whole = history(tps)
    for at in probe_instants(tps, states, seed):
        cut = [tp for tp in tps if tp.occurred_at <= at]
        assert intent_at(whole, at) == intent_at(cut, at), at
        assert retention_at(whole, at) == retention_at(cut, at), at
