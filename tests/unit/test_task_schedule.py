"""Invariants of the work queue (hypothesis): the queue at T is the schedule filtered at T, it does
not depend on arrival order or duplicates, and it agrees with the intent and retention rules."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from journey.policies.queue import task_schedule, tasks_at, work_queue
from journey.policies.task import Task, known_at
from journey.projections.history import TICK
from journey.projections.intent import FOLLOWED_UP, intent_at
from journey.projections.retention import retention_at
from journey.projections.standards import StandardsLookup, standards_lookup
from journey.touchpoints import AnyTouchpoint
from tests.builders import (
    T0,
    callback,
    complaint,
    complaint_resolved,
    csi,
    delivery,
    lead_lost,
    maintenance,
    order,
    standard_set,
    test_drive,
    visit,
)

OFFSETS = (UTC, timezone(timedelta(hours=8)), timezone(timedelta(hours=-5)))
SIGNALS = ("model_undecided", "revisit", "terms_negotiated", "payment_method_set")
REASONS = ("lead_follow_up", "complaint", "post_service", "post_delivery", "win_back")
KINDS = (
    "visit",
    "service_visit",
    "test_drive",
    "callback",
    "order",
    "lead_lost",
    "delivery",
    "maintenance",
    "complaint",
    "complaint_resolved",
    "csi",
)


def build(i: int, kind: str, at: datetime, variant: int, flag: bool) -> AnyTouchpoint:
    """One customer touchpoint from drawn numbers (event ids e0001, ... so that a duplicate is equal)."""
    kw: dict[str, Any] = {"event_id": f"e{i:04d}"}
    complaint_id = ("K1", "K2")[variant % 2]
    if kind == "visit":
        return visit(at, *(s for j, s in enumerate(SIGNALS) if variant >> j & 1), **kw)
    if kind == "service_visit":
        return visit(at, purpose="service", **kw)
    if kind == "callback":
        reason = REASONS[variant % len(REASONS)]
        cid = (None, "K1", "K2")[variant % 3] if reason == "complaint" else None
        return callback(at, reason=reason, reached=flag, complaint_id=cid, **kw)
    simple: dict[str, Any] = {
        "test_drive": lambda: test_drive(at, **kw),
        "order": lambda: order(at, **kw),
        "lead_lost": lambda: lead_lost(at, **kw),
        "delivery": lambda: delivery(at, **kw),
        "maintenance": lambda: maintenance(at, **kw),
        "complaint": lambda: complaint(at, complaint_id, **kw),
        "complaint_resolved": lambda: complaint_resolved(at, complaint_id, **kw),
        "csi": lambda: csi(at, 60 + variant % 40, **kw),
    }
    return simple[kind]()  # type: ignore[no-any-return]


@st.composite
def journeys(draw: st.DrawFn) -> list[AnyTouchpoint]:
    """One customer's touchpoints over about 15 months (often within 20 days), on half-days so that
    instants often tie."""
    specs = draw(
        st.lists(
            st.tuples(
                st.sampled_from(KINDS),
                st.integers(0, 40) | st.integers(0, 900),
                st.sampled_from(OFFSETS),
                st.integers(0, 15),
                st.booleans(),
            ),
            max_size=25,
        )
    )
    return [
        build(i, kind, (T0 + timedelta(hours=12 * half)).astimezone(tz), variant, flag)
        for i, (kind, half, tz, variant, flag) in enumerate(specs)
    ]


@st.composite
def standards(draw: st.DrawFn) -> StandardsLookup:
    """The dealer's standards: none, or one set at some instant."""
    when = draw(st.none() | st.integers(0, 900))
    if when is None:
        return standards_lookup([])
    hours = draw(st.sampled_from([12.0, 24.0, 72.0]))
    days = draw(st.integers(0, 5))
    return standards_lookup(
        [
            standard_set(
                T0 + timedelta(hours=12 * when),
                complaint_callback_hours=hours,
                post_service_callback_working_days=days,
                post_delivery_callback_days=days,
            )
        ]
    )


instants = (st.integers(-2, 45) | st.integers(-2, 1000)).map(lambda half: T0 + timedelta(hours=12 * half))
nudges = st.sampled_from([timedelta(0), TICK, -TICK, timedelta(hours=5)])


def in_force_keys(schedule: list[Task], at: datetime) -> list[str]:
    return [t.key for t in schedule if t.in_force(at)]


@settings(max_examples=300, deadline=None)
@given(journeys(), standards(), st.lists(st.tuples(instants, nudges), min_size=1, max_size=6))
def test_tasks_known_at_t_are_the_schedule_filtered_at_t(
    tps: list[AnyTouchpoint], lookup: StandardsLookup, times: list[tuple[datetime, timedelta]]
) -> None:
    # given
    schedule = task_schedule(tps, standards=lookup)

    for base, nudge in times:
        at = base + nudge
        # when
        known = tasks_at(tps, at, standards=lookup)

        # then
        assert known == known_at(schedule, at)
        keys = in_force_keys(schedule, at)
        assert len(keys) == len(set(keys)), "one version of a task in force at a time"


@settings(max_examples=200, deadline=None)
@given(journeys(), st.randoms(use_true_random=False), instants)
def test_work_queue_does_not_depend_on_arrival_order_or_duplicates(
    tps: list[AnyTouchpoint], rnd: Any, at: datetime
) -> None:
    # given
    arrived = tps + rnd.sample(tps, k=len(tps) // 2)
    rnd.shuffle(arrived)

    # when
    queue, shuffled = work_queue(tps, at), work_queue(arrived, at)

    # then
    assert queue == shuffled
    assert task_schedule(tps) == task_schedule(arrived)


@settings(max_examples=300, deadline=None)
@given(journeys(), instants, nudges)
def test_follow_up_in_the_queue_is_the_intent_rules_next_follow_up(
    tps: list[AnyTouchpoint], base: datetime, nudge: timedelta
) -> None:
    # given
    at = base + nudge
    intent = intent_at(tps, at)

    # when
    open_follow_ups = [t for t in work_queue(tps, at) if t.kind == "follow_up"]

    # then
    if intent.level in FOLLOWED_UP:
        assert [t.due_at for t in open_follow_ups] == [intent.next_follow_up_due]
        assert open_follow_ups[0].is_overdue(at) == intent.follow_up_overdue
    else:
        assert open_follow_ups == []


@settings(max_examples=300, deadline=None)
@given(journeys(), standards(), instants, nudges)
def test_open_escalation_is_the_retention_complaint_overdue_flag(
    tps: list[AnyTouchpoint], lookup: StandardsLookup, base: datetime, nudge: timedelta
) -> None:
    # given
    at = base + nudge

    # when
    escalated = [t for t in work_queue(tps, at, standards=lookup) if t.kind == "complaint_escalation"]

    # then
    flags = retention_at(tps, at, standards=lookup).flags
    assert bool(escalated) == ("complaint_overdue" in flags)


@settings(max_examples=200, deadline=None)
@given(journeys())
def test_win_back_is_created_when_the_retention_status_turns_marginal(tps: list[AnyTouchpoint]) -> None:
    # when
    win_backs = [t for t in task_schedule(tps) if t.kind == "win_back"]

    # then
    for task in win_backs:
        assert retention_at(tps, task.created_at).status == "marginal"
        assert retention_at(tps, task.created_at - TICK).status != "marginal"
