"""Invariants of the pure rules (DESIGN.md, "Time-driven change without a clock").

Views are stored as validity intervals computed by sampling each rule at its breakpoints, so
a rule must be constant on every [b_i, b_i+1), before the first breakpoint and after the last.
Views must not depend on the order or repetition of the touchpoints given.
"""

from __future__ import annotations

import itertools
import random
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from journey.projections.intent import intent_at, intent_breakpoints
from journey.projections.retention import RetentionView, retention_at, retention_breakpoints
from journey.projections.service import customer_service_at, service_breakpoints
from journey.rules import ServiceStandards
from journey.touchpoints import AnyTouchpoint
from tests import builders as b
from tests.strategies import FAR, SIGNALS, TICK, ZONES, instants, journeys  # noqa: F401


def standards(tp: AnyTouchpoint) -> ServiceStandards:
    """A fake dealer standard: D2 calls complaints back within 24 hours, D1 within the default."""
    return ServiceStandards(complaint_callback_hours=24 if tp.dealer_id == "D2" else 48)


def _intent(tps: Sequence[AnyTouchpoint], at: datetime) -> object:
    return intent_at(tps, at)


def _retention(tps: Sequence[AnyTouchpoint], at: datetime) -> RetentionView:
    """The retention view without days_since_last_service (recomputed by the reader)."""
    return replace(retention_at(tps, at, standards=standards), days_since_last_service=None)


def _service(tps: Sequence[AnyTouchpoint], at: datetime) -> object:
    return customer_service_at(tps, at)


RULES: list[tuple[Callable[[Sequence[AnyTouchpoint], datetime], object], Callable[[Any], list[datetime]]]] = [
    (_intent, intent_breakpoints),
    (_retention, lambda tps: retention_breakpoints(tps, standards=standards)),
    (_service, service_breakpoints),
]


def _instants_inside(start: datetime, end: datetime, rnd: random.Random) -> list[datetime]:
    """The interval's last instant, one in the middle and one at random in [start, end)."""
    span = end - start
    inside = [start + span / 2, start + span * rnd.random()]  # timedelta * float rounds: clamp
    return [end - TICK, *(min(t, end - TICK) for t in inside)]


# ---------------------------------------------------------------- constancy


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(tps=journeys, seed=st.integers(0, 2**32 - 1))
def test_every_rule_is_constant_between_consecutive_breakpoints(tps: list[AnyTouchpoint], seed: int) -> None:
    # given
    rnd = random.Random(seed)

    for view_at, breakpoints_of in RULES:
        # when
        bps = breakpoints_of(tps)

        # then
        assert bps == sorted(set(bps))
        for start, end in itertools.pairwise(bps):
            expected = view_at(tps, start)
            for t in _instants_inside(start, end, rnd):
                assert view_at(tps, t) == expected, (view_at.__name__, start, t)


@settings(max_examples=100, deadline=None)
@given(tps=journeys)
def test_every_rule_is_constant_before_the_first_and_after_the_last_breakpoint(
    tps: list[AnyTouchpoint],
) -> None:
    for view_at, breakpoints_of in RULES:
        # when
        bps = breakpoints_of(tps) or [b.T0]

        # then
        assert view_at(tps, bps[0] - TICK) == view_at(tps, bps[0] - FAR)
        assert view_at(tps, bps[-1] + FAR) == view_at(tps, bps[-1])


# ---------------------------------------------------------------- order and duplicates


@settings(max_examples=100, deadline=None)
@given(tps=journeys, seed=st.integers(0, 2**32 - 1), probes=st.lists(instants, min_size=1, max_size=4))
def test_shuffled_and_duplicated_touchpoints_give_identical_views(
    tps: list[AnyTouchpoint], seed: int, probes: list[datetime]
) -> None:
    # given
    rnd = random.Random(seed)
    scrambled = tps + rnd.choices(tps, k=len(tps) // 2) if tps else []
    rnd.shuffle(scrambled)

    for view_at, breakpoints_of in RULES:
        # when
        bps = breakpoints_of(tps)

        # then
        assert breakpoints_of(scrambled) == bps
        for t in [*probes, *bps]:
            assert view_at(scrambled, t) == view_at(tps, t)
