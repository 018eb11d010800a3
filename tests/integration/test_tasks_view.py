"""The stored task view on SQLite and PostgreSQL: the work queue read from it equals the pure
work queue, whatever the arrival order, duplicates and late touchpoints."""

from __future__ import annotations

import random
from datetime import UTC, datetime

from journey.demo_data import generate
from journey.engine import Engine
from journey.policies.kpis import callback_kpis
from journey.policies.queue import task_schedule, work_queue
from journey.policies.task import task_json
from journey.projections.standards import standards_lookup
from journey.timeparse import parse_month
from journey.touchpoints import AnyTouchpoint, parse_touchpoint
from tests.builders import callback, complaint, complaint_resolved, day, maintenance

AS_OF = (
    datetime(2025, 3, 1, tzinfo=UTC),
    datetime(2026, 2, 14, 12, tzinfo=UTC),
    datetime(2026, 10, 31, tzinfo=UTC),
)


def demo_touchpoints(customers: int = 40) -> list[AnyTouchpoint]:
    return [parse_touchpoint(raw) for raw in generate(seed=11, customers=customers)]


def ingest_shuffled_with_duplicates(engine: Engine, tps: list[AnyTouchpoint], seed: int = 5) -> None:
    rnd = random.Random(seed)
    arrived = tps + rnd.sample(tps, k=len(tps) // 3)
    rnd.shuffle(arrived)
    for start in range(0, len(arrived), 300):
        engine.app.ingest(arrived[start : start + 300])
    engine.views.catch_up()


def test_stored_work_queue_equals_the_pure_work_queue(engine: Engine) -> None:
    # given
    tps = demo_touchpoints()
    ingest_shuffled_with_duplicates(engine, tps)
    standards = standards_lookup([tp for tp in tps if tp.customer_id is None])
    dealers = sorted({tp.dealer_id for tp in tps})

    for at in AS_OF:
        queue = work_queue(tps, at, engine.rules, standards)
        for dealer in dealers:
            # when
            stored = engine.tasks(dealer, at)

            # then
            expected = [task_json(t, at) for t in queue if t.dealer_id == dealer]
            assert stored["tasks"] == expected
            assert stored["counts"]["open"] == len(expected)
            assert stored["counts"]["overdue"] == sum(1 for t in expected if t["overdue"])


def test_overdue_filter_and_paging_are_slices_of_the_queue(engine: Engine) -> None:
    # given
    tps = demo_touchpoints(25)
    ingest_shuffled_with_duplicates(engine, tps)
    dealer, at = tps[0].dealer_id, AS_OF[-1]

    # when
    everything = engine.tasks(dealer, at)["tasks"]
    overdue = engine.tasks(dealer, at, overdue_only=True)["tasks"]
    page = engine.tasks(dealer, at, limit=3, offset=2)["tasks"]

    # then
    assert overdue == [t for t in everything if t["overdue"]]
    assert everything[: len(overdue)] == overdue  # overdue first
    assert page == everything[2:5]


def test_late_touchpoint_that_completes_a_task_changes_the_stored_view(engine: Engine) -> None:
    # given: a Monday service, its callback due Thursday, not made by Friday
    engine.app.ingest([maintenance(day(0), customer="C-late")])
    engine.views.catch_up()
    before = engine.tasks("D1", day(4))["tasks"]
    assert [(t["kind"], t["overdue"]) for t in before if t["kind"] == "post_service_callback"] == [
        ("post_service_callback", True)
    ]

    # when: the call center's reached callback of Tuesday arrives late
    late = callback(day(1), reason="post_service", customer="C-late")
    engine.app.ingest([late])
    engine.views.catch_up()

    # then
    after = engine.tasks("D1", day(4))
    assert [t["kind"] for t in after["tasks"]] == ["maintenance_reminder"]
    assert after["counts"]["by_kind"]["post_service_callback"] == {"open": 0, "overdue": 0}
    still_open_before_the_call = engine.tasks("D1", day(0, hours=12))["tasks"]
    assert "post_service_callback" in [t["kind"] for t in still_open_before_the_call]


def test_late_touchpoint_that_cancels_a_task_changes_the_stored_view(engine: Engine) -> None:
    # given: a complaint never called back, escalated after 48 hours
    engine.app.ingest([complaint(day(0), customer="C-late")])
    engine.views.catch_up()
    before = [t["kind"] for t in engine.tasks("D1", day(3))["tasks"]]
    assert before == ["complaint_callback", "complaint_escalation"]

    # when: its resolution on day 1 arrives late
    engine.app.ingest([complaint_resolved(day(1), customer="C-late")])
    engine.views.catch_up()

    # then: the callback was cancelled before its breach, so nothing is left
    assert engine.tasks("D1", day(3))["tasks"] == []
    assert [t["kind"] for t in engine.tasks("D1", day(0, hours=12))["tasks"]] == ["complaint_callback"]


def test_stored_kpis_equal_the_pure_kpis(engine: Engine) -> None:
    # given
    tps = demo_touchpoints()
    ingest_shuffled_with_duplicates(engine, tps)
    schedule = task_schedule(
        tps, engine.rules, standards_lookup([tp for tp in tps if tp.customer_id is None])
    )

    for month in ("2025-06", "2026-09"):
        start, end = parse_month(month)
        for dealer in sorted({tp.dealer_id for tp in tps}):
            # when
            stored = engine.kpis(dealer, month)

            # then
            expected = callback_kpis(dealer, schedule, tps, start, end, engine.rules)
            assert {k: stored[k] for k in expected} == expected
