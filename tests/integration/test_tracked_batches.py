"""Several upstream batches (the partitions of one Kafka poll) in one transaction, each with its
position: all or nothing, each event_id once, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from eventsourcing.persistence import Tracking

from journey.application import TrackedBatch
from journey.engine import Engine
from tests.builders import day, visit

P0, P1 = "kafka:g:touchpoints:0", "kafka:g:touchpoints:1"


class CrashBetweenPartitionsError(Exception):
    """Stands for the process dying after the first partition's position was written."""


def poll() -> list[TrackedBatch]:
    """Two partitions' records: customers C0 and C2 in partition 0, C1 in partition 1."""
    p0 = [visit(day(i), "revisit", customer=f"C{2 * (i % 2)}") for i in range(6)]
    p1 = [visit(day(i), "revisit", customer="C1") for i in range(4)]
    return [TrackedBatch(Tracking(P0, 6), p0), TrackedBatch(Tracking(P1, 4), p1)]


def recorded_ids(engine: Engine) -> dict[str, list[str]]:
    return {c: [r.touchpoint.event_id for r in engine.app.customer_history(c)] for c in ("C0", "C1", "C2")}


def expected_ids(batches: list[TrackedBatch]) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {"C0": [], "C1": [], "C2": []}
    for batch in batches:
        for tp in batch.touchpoints:
            found[str(tp.customer_id)].append(tp.event_id)
    return found


def crash_on_second_position(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    recorder: Any = engine.app.process_recorder
    insert: Callable[..., None] = recorder._insert_tracking
    calls = []

    def crashing(curs: Any, tracking: Tracking) -> None:
        calls.append(tracking.application_name)
        if len(calls) == 2:
            raise CrashBetweenPartitionsError(tracking.application_name)
        insert(curs, tracking)

    monkeypatch.setattr(recorder, "_insert_tracking", crashing)


def test_a_poll_records_every_partition_with_its_position_in_one_transaction(engine: Engine) -> None:
    batches = poll()

    outcome = engine.app.ingest_tracked(batches)

    assert (outcome.applied, outcome.duplicates) == (10, 0)
    assert (engine.app.position(P0), engine.app.position(P1)) == (6, 4)
    assert recorded_ids(engine) == expected_ids(batches)


def test_a_crash_between_the_partitions_of_a_poll_records_neither_and_the_replay_records_each_once(
    engine: Engine, open_engine: Callable[[], Engine], monkeypatch: pytest.MonkeyPatch
) -> None:
    batches = poll()
    crash_on_second_position(engine, monkeypatch)

    with pytest.raises(CrashBetweenPartitionsError):
        engine.app.ingest_tracked(batches)

    assert (engine.app.position(P0), engine.app.position(P1)) == (None, None)
    assert recorded_ids(engine) == {"C0": [], "C1": [], "C2": []}
    monkeypatch.undo()
    restarted = open_engine()
    replay = restarted.app.ingest_tracked(batches)
    again = engine.app.ingest_tracked(batches)  # the crashed process's own retry, from its cache
    assert (replay.applied, replay.duplicates, again.applied, again.duplicates) == (10, 0, 0, 10)
    assert (restarted.app.position(P0), restarted.app.position(P1)) == (6, 4)
    assert recorded_ids(restarted) == expected_ids(batches)


def test_a_partition_already_recorded_by_another_consumer_counts_as_duplicates_and_the_rest_is_applied(
    engine: Engine, open_engine: Callable[[], Engine]
) -> None:
    p0, p1 = poll()
    other = open_engine()
    other.app.ingest_tracked([p1])  # partition 1 moved to another consumer, which recorded it

    outcome = engine.app.ingest_tracked([p0, p1])

    assert (outcome.applied, outcome.duplicates) == (6, 4)
    assert (engine.app.position(P0), engine.app.position(P1)) == (6, 4)
    assert recorded_ids(engine) == expected_ids([p0, p1])


def test_ledgers_recorded_before_a_restart_recognise_their_event_ids(
    engine: Engine, open_engine: Callable[[], Engine]
) -> None:
    first = [visit(day(i), "revisit", customer=f"C{i % 3}") for i in range(12)]
    later = [visit(day(20 + i), "revisit", customer=f"C{i % 3}") for i in range(3)]
    engine.app.ingest(first)
    restarted = open_engine()  # an empty aggregate cache: every ledger is read from the store

    outcome = restarted.app.ingest(first[5:] + later)

    assert (outcome.applied, outcome.duplicates) == (3, 7)
    assert recorded_ids(restarted) == expected_ids([TrackedBatch(Tracking(P0, 1), first + later)])
