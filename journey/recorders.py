"""The event store's process recorders: a batch's new events commit together with every upstream
position it covers (one tracking record per Kafka partition of a poll, say), in one transaction.

The library's process recorder takes one ``tracking``; these also take ``positions`` (several
tracking records, each inserted like the library's own: a position that does not advance raises
IntegrityError, so the whole transaction is refused). On PostgreSQL the events are sent as four
column arrays in binary (the library's composite-type array is dumped as text, escaped byte by
byte).

The library reads one aggregate per query; these also read the histories of many aggregates in
one query (``select_histories``) and list the aggregates a range of notifications touched,
with the topic of each one's first event (``select_touched``), without decoding any.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any, cast
from uuid import UUID

from eventsourcing.persistence import InterfaceError, OperationalError, StoredEvent, Tracking
from eventsourcing.postgres import PostgresDatastore, PostgresProcessRecorder
from eventsourcing.sqlite import SQLiteProcessRecorder
from eventsourcing.utils import retry
from psycopg import Cursor
from psycopg.rows import DictRow
from psycopg.sql import SQL, Identifier

#: eventsourcing's PROCESS_RECORDER_TOPIC for each PERSISTENCE_MODULE.
RECORDER_TOPICS = {
    "eventsourcing.postgres": "journey.recorders:PostgresBatchRecorder",
    "eventsourcing.sqlite": "journey.recorders:SQLiteBatchRecorder",
}


def positions_of(kwargs: dict[str, Any]) -> Sequence[Tracking]:
    """The tracking records an insert_events call carries besides the library's ``tracking``."""
    return kwargs.get("positions") or ()


#: Aggregates read per query (SQLite's bound parameters are limited).
HISTORIES_PER_QUERY = 500


def _by_originator(events: Sequence[StoredEvent]) -> dict[UUID, list[StoredEvent]]:
    found: dict[UUID, list[StoredEvent]] = defaultdict(list)
    for e in events:
        found[cast(UUID, e.originator_id)].append(e)
    return dict(found)


class SQLiteBatchRecorder(SQLiteProcessRecorder):
    """SQLite: events and every position of the batch in one transaction."""

    def select_histories(self, originator_ids: Sequence[UUID]) -> dict[UUID, list[StoredEvent]]:
        """The stored events of each of these aggregates that has any, in version order."""
        events: list[StoredEvent] = []
        for i in range(0, len(originator_ids), HISTORIES_PER_QUERY):
            chunk = originator_ids[i : i + HISTORIES_PER_QUERY]
            with self.datastore.transaction(commit=False) as c:
                c.execute(
                    f"SELECT originator_id, originator_version, topic, state FROM {self.events_table_name} "
                    f"WHERE originator_id IN ({', '.join('?' * len(chunk))}) "
                    "ORDER BY originator_id, originator_version",
                    [u.hex for u in chunk],
                )
                events += [
                    StoredEvent(self.convert_originator_id(r[0]), r[1], r[2], r[3]) for r in c.fetchall()
                ]
        return _by_originator(events)

    def select_touched(self, start: int, stop: int) -> list[tuple[UUID, str]]:
        """(aggregate id, topic of its first event) of every aggregate with a notification in (start, stop]."""
        with self.datastore.transaction(commit=False) as c:
            c.execute(
                f"SELECT e.originator_id, f.topic FROM (SELECT DISTINCT originator_id FROM "
                f"{self.events_table_name} WHERE rowid > ? AND rowid <= ?) e JOIN {self.events_table_name} f "
                "ON f.originator_id = e.originator_id AND f.originator_version = 1",
                (start, stop),
            )
            return [(cast(UUID, self.convert_originator_id(r[0])), r[1]) for r in c.fetchall()]

    def _insert_events(
        self, c: Any, stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int] | None:
        returning = super()._insert_events(c, stored_events, **kwargs)  # the events and ``tracking``
        for tracking in positions_of(kwargs):
            self._insert_tracking(c, tracking)
        return returning


class PostgresBatchRecorder(PostgresProcessRecorder):
    """PostgreSQL: events (as binary column arrays) and every position of the batch in one transaction."""

    def __init__(self, datastore: PostgresDatastore, **kwargs: Any) -> None:
        super().__init__(datastore, **kwargs)
        table = SQL("{0}.{1}").format(Identifier(datastore.schema), Identifier(self.events_table_name))
        id_type = Identifier(datastore.originator_id_type)
        self.insert_columns_statement = SQL(
            "INSERT INTO {table} (originator_id, originator_version, topic, state) "
            "SELECT * FROM unnest(%b::{id_type}[], %b::bigint[], %b::text[], %b::bytea[]) "
            "RETURNING notification_id"
        ).format(table=table, id_type=id_type)
        self.select_histories_statement = SQL(
            "SELECT originator_id, originator_version, topic, state FROM {table} "
            "WHERE originator_id = ANY(%b::{id_type}[]) ORDER BY originator_id, originator_version"
        ).format(table=table, id_type=id_type)
        self.select_touched_statement = SQL(
            "SELECT e.originator_id, f.topic FROM (SELECT DISTINCT originator_id FROM {table} "
            "WHERE notification_id > %s AND notification_id <= %s) e JOIN {table} f "
            "ON f.originator_id = e.originator_id AND f.originator_version = 1"
        ).format(table=table)

    def _insert_events(
        self, curs: Cursor[DictRow], stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> None:
        super()._insert_events(curs, stored_events, **kwargs)  # ``tracking``
        for tracking in positions_of(kwargs):
            self._insert_tracking(curs, tracking=tracking)

    def _insert_stored_events(
        self, curs: Cursor[DictRow], stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> None:
        self._lock_table(curs)  # commit order = notification order, as the library's insert
        self._notify_channel(curs)
        curs.execute(
            self.insert_columns_statement,
            (
                [e.originator_id for e in stored_events],
                [e.originator_version for e in stored_events],
                [e.topic for e in stored_events],
                [e.state for e in stored_events],
            ),
        )

    @retry((InterfaceError, OperationalError), max_attempts=10, wait=0.2)
    def select_histories(self, originator_ids: Sequence[UUID]) -> dict[UUID, list[StoredEvent]]:
        """The stored events of each of these aggregates that has any, in one query."""
        if not originator_ids:
            return {}
        with self.datastore.get_connection() as conn, conn.cursor() as curs:
            curs.execute(self.select_histories_statement, (list(originator_ids),))
            return _by_originator(
                [
                    StoredEvent(r["originator_id"], r["originator_version"], r["topic"], bytes(r["state"]))
                    for r in curs.fetchall()
                ]
            )

    @retry((InterfaceError, OperationalError), max_attempts=10, wait=0.2)
    def select_touched(self, start: int, stop: int) -> list[tuple[UUID, str]]:
        """(aggregate id, topic of its first event) of every aggregate with a notification in (start, stop]."""
        with self.datastore.get_connection() as conn, conn.cursor() as curs:
            curs.execute(self.select_touched_statement, (start, stop))
            return [(r["originator_id"], r["topic"]) for r in curs.fetchall()]


#: What the application's recorder is (PROCESS_RECORDER_TOPIC is one of these).
BatchRecorder = SQLiteBatchRecorder | PostgresBatchRecorder
