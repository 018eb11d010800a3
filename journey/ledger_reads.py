"""Bulk reads of the event store for the tracked projection: which ledgers a range of
notifications touched, and the histories of many ledgers in one query.

The library reads one aggregate per query and decodes every notification it lists; a
projection catching up on a range only needs the ledgers' ids (and whether each is a
customer's or a dealer's) and then whole histories, many at a time.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import cache
from typing import Any
from uuid import UUID

from eventsourcing.persistence import StoredEvent
from eventsourcing.postgres import PostgresApplicationRecorder
from eventsourcing.sqlite import SQLiteApplicationRecorder
from eventsourcing.utils import get_topic, resolve_topic
from psycopg.sql import SQL, Identifier

from journey.aggregates import Dealer, TouchpointLedger
from journey.application import JourneyApplication, Recorded
from journey.touchpoints import load_touchpoint

DEALER_CREATED = get_topic(Dealer.Created)
#: Ledgers read per query.
BATCH = 500


@dataclass
class Touched:
    """The customer and dealer ledgers (aggregate ids) that a range of notifications touched."""

    customers: list[UUID] = field(default_factory=list)
    dealers: list[UUID] = field(default_factory=list)


def touched(app: JourneyApplication, start: int, stop: int) -> Touched:
    """The ledgers with a notification in (start, stop], told apart by their creation event."""
    out = Touched()
    for originator, first_topic in _dialect(app).touched(start, stop):
        (out.dealers if first_topic == DEALER_CREATED else out.customers).append(originator)
    out.customers.sort()
    out.dealers.sort()
    return out


def histories(app: JourneyApplication, ledgers: Iterable[UUID]) -> dict[UUID, list[Recorded]]:
    """Every touchpoint recorded on each ledger, in recording order (no entry for an unknown id)."""
    wanted = list(ledgers)
    out: dict[UUID, list[Recorded]] = {}
    reads = _dialect(app)
    for i in range(0, len(wanted), BATCH):
        for stored in reads.events(wanted[i : i + BATCH]):
            if not _is_recorded(stored.topic):
                continue
            event: Any = app.mapper.to_domain_event(stored)
            out.setdefault(event.originator_id, []).append(
                Recorded(load_touchpoint(event.touchpoint), event.timestamp)
            )
    return out


@cache
def _is_recorded(topic: str) -> bool:
    """A TouchpointRecorded event (or a per-aggregate subclass of it), not a Created one."""
    cls = resolve_topic(topic)
    return isinstance(cls, type) and issubclass(cls, TouchpointLedger.TouchpointRecorded)


class _SQLite:
    def __init__(self, recorder: SQLiteApplicationRecorder) -> None:
        self.recorder = recorder
        self.table = recorder.events_table_name

    def touched(self, start: int, stop: int) -> list[tuple[UUID, str]]:
        sql = (
            f"SELECT e.originator_id, f.topic FROM (SELECT DISTINCT originator_id FROM {self.table} "
            f"WHERE rowid > ? AND rowid <= ?) e JOIN {self.table} f "
            "ON f.originator_id = e.originator_id AND f.originator_version = 1"
        )
        with self.recorder.datastore.transaction(commit=False) as c:
            c.execute(sql, (start, stop))
            return [(self._id(r[0]), r[1]) for r in c.fetchall()]

    def events(self, ledgers: Sequence[UUID]) -> list[StoredEvent]:
        marks = ", ".join("?" * len(ledgers))
        sql = (
            f"SELECT originator_id, originator_version, topic, state FROM {self.table} "
            f"WHERE originator_id IN ({marks}) ORDER BY originator_id, originator_version"
        )
        with self.recorder.datastore.transaction(commit=False) as c:
            c.execute(sql, [u.hex for u in ledgers])
            return [StoredEvent(self._id(r[0]), r[1], r[2], r[3]) for r in c.fetchall()]

    def _id(self, value: str) -> Any:
        return self.recorder.convert_originator_id(value)


class _Postgres:
    def __init__(self, recorder: PostgresApplicationRecorder) -> None:
        self.recorder = recorder
        self.table = SQL("{}.{}").format(
            Identifier(recorder.datastore.schema), Identifier(recorder.events_table_name)
        )

    def touched(self, start: int, stop: int) -> list[tuple[UUID, str]]:
        sql = SQL(
            "SELECT e.originator_id, f.topic FROM (SELECT DISTINCT originator_id FROM {t} "
            "WHERE notification_id > %s AND notification_id <= %s) e JOIN {t} f "
            "ON f.originator_id = e.originator_id AND f.originator_version = 1"
        ).format(t=self.table)
        with self.recorder.datastore.transaction(commit=False) as curs:
            curs.execute(sql, (start, stop), prepare=False)
            return [(r["originator_id"], r["topic"]) for r in curs.fetchall()]

    def events(self, ledgers: Sequence[UUID]) -> list[StoredEvent]:
        sql = SQL(
            "SELECT originator_id, originator_version, topic, state FROM {t} "
            "WHERE originator_id = ANY(%s) ORDER BY originator_id, originator_version"
        ).format(t=self.table)
        with self.recorder.datastore.transaction(commit=False) as curs:
            curs.execute(sql, (list(ledgers),), prepare=False)
            return [
                StoredEvent(r["originator_id"], r["originator_version"], r["topic"], bytes(r["state"]))
                for r in curs.fetchall()
            ]


def _dialect(app: JourneyApplication) -> _SQLite | _Postgres:
    recorder = app.recorder
    if isinstance(recorder, SQLiteApplicationRecorder):
        return _SQLite(recorder)
    if isinstance(recorder, PostgresApplicationRecorder):
        return _Postgres(recorder)
    raise TypeError(f"no bulk reads for {type(recorder).__name__}")  # pragma: no cover
