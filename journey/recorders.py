"""The event store's process recorders: a batch's new events commit together with every upstream
position it covers (one tracking record per Kafka partition of a poll, say), in one transaction.

The library's process recorder takes one ``tracking``; these also take ``positions`` (several
tracking records, each inserted like the library's own: a position that does not advance raises
IntegrityError, so the whole transaction is refused). On PostgreSQL the events are sent as four
column arrays in binary (the library's composite-type array is dumped as text, escaped byte by
byte).

The event_id of every recorded touchpoint is also indexed, in the same transaction, with the
ledger it was recorded on (``event_ids``): the contract's idempotency key is unique across the
store, not only within a ledger (``select_event_ledgers``; a store older than the index fills it
from its events once, ``index_event_ids``).

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


def event_ids_of(kwargs: dict[str, Any]) -> Sequence[tuple[str, UUID]]:
    """The (event_id, ledger) pairs an insert_events call indexes."""
    return kwargs.get("event_ids") or ()


def event_ids_table(events_table: str) -> str:
    return f"{events_table}_event_ids"


#: Aggregates read per query (SQLite's bound parameters are limited).
HISTORIES_PER_QUERY = 500


def _by_originator(events: Sequence[StoredEvent]) -> dict[UUID, list[StoredEvent]]:
    found: dict[UUID, list[StoredEvent]] = defaultdict(list)
    for e in events:
        found[cast(UUID, e.originator_id)].append(e)
    return dict(found)


class SQLiteBatchRecorder(SQLiteProcessRecorder):
    """SQLite: events, their event_ids and every position of the batch in one transaction."""

    def construct_create_table_statements(self) -> list[str]:
        return [
            *super().construct_create_table_statements(),
            f"CREATE TABLE IF NOT EXISTS {event_ids_table(self.events_table_name)} "
            "(event_id TEXT PRIMARY KEY, ledger TEXT NOT NULL) WITHOUT ROWID",
        ]

    def select_event_ledgers(self, event_ids: Sequence[str]) -> dict[str, UUID]:
        """The ledger each of these event_ids is recorded on (none: not recorded)."""
        found: dict[str, UUID] = {}
        table = event_ids_table(self.events_table_name)
        with self.datastore.transaction(commit=False) as c:
            for i in range(0, len(event_ids), HISTORIES_PER_QUERY):
                chunk = event_ids[i : i + HISTORIES_PER_QUERY]
                c.execute(
                    f"SELECT event_id, ledger FROM {table} WHERE event_id IN ({', '.join('?' * len(chunk))})",
                    list(chunk),
                )
                found.update((r[0], cast(UUID, self.convert_originator_id(r[1]))) for r in c.fetchall())
        return found

    def index_event_ids(self, topic: str) -> int:
        """Index the event_ids of the stored events of a topic (plain JSON, the touchpoint under
        ``touchpoint``) when the index is empty; the first recorded wins. Returns how many."""
        table = event_ids_table(self.events_table_name)
        with self.datastore.transaction(commit=True) as c:
            c.execute(f"SELECT 1 FROM {table} LIMIT 1")
            if c.fetchone() is not None:
                return 0
            c.execute(
                f"INSERT OR IGNORE INTO {table} SELECT json_extract(CAST(state AS TEXT), "
                f"'$.touchpoint.event_id'), originator_id FROM {self.events_table_name} "
                "WHERE topic = ? AND json_valid(CAST(state AS TEXT)) ORDER BY rowid",
                (topic,),
            )
            c.execute(f"SELECT COUNT(*) FROM {table}")
            return int(c.fetchone()[0])

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
        c.executemany(
            f"INSERT INTO {event_ids_table(self.events_table_name)} VALUES (?, ?)",
            [(event_id, ledger.hex) for event_id, ledger in event_ids_of(kwargs)],
        )
        return returning


class PostgresBatchRecorder(PostgresProcessRecorder):
    """PostgreSQL: events (as binary column arrays), their event_ids and every position of the batch
    in one transaction."""

    def __init__(self, datastore: PostgresDatastore, **kwargs: Any) -> None:
        super().__init__(datastore, **kwargs)
        table = SQL("{0}.{1}").format(Identifier(datastore.schema), Identifier(self.events_table_name))
        id_type = Identifier(datastore.originator_id_type)
        ids = SQL("{0}.{1}").format(
            Identifier(datastore.schema), Identifier(event_ids_table(self.events_table_name))
        )
        self.sql_create_statements.append(
            SQL(
                "CREATE TABLE IF NOT EXISTS {ids} (event_id text PRIMARY KEY, ledger {id_type} NOT NULL)"
            ).format(ids=ids, id_type=id_type)
        )
        self.insert_event_ids_statement = SQL(
            "INSERT INTO {ids} SELECT * FROM unnest(%b::text[], %b::{id_type}[])"
        ).format(ids=ids, id_type=id_type)
        self.select_event_ledgers_statement = SQL(
            "SELECT event_id, ledger FROM {ids} WHERE event_id = ANY(%b::text[])"
        ).format(ids=ids)
        self.index_event_ids_statement = SQL(
            "INSERT INTO {ids} SELECT DISTINCT ON (event_id) event_id, originator_id FROM ("
            "SELECT convert_from(state, 'UTF8')::jsonb #>> '{{touchpoint,event_id}}' AS event_id, "
            "originator_id, notification_id FROM {table} WHERE topic = %s) e "
            "WHERE event_id IS NOT NULL ORDER BY event_id, notification_id ON CONFLICT DO NOTHING"
        ).format(ids=ids, table=table)
        self.any_event_id_statement = SQL("SELECT 1 FROM {ids} LIMIT 1").format(ids=ids)
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
        indexed = event_ids_of(kwargs)
        if indexed:
            curs.execute(
                self.insert_event_ids_statement, ([e for e, _ in indexed], [ledger for _, ledger in indexed])
            )

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
    def select_event_ledgers(self, event_ids: Sequence[str]) -> dict[str, UUID]:
        """The ledger each of these event_ids is recorded on (none: not recorded)."""
        if not event_ids:
            return {}
        with self.datastore.get_connection() as conn, conn.cursor() as curs:
            curs.execute(self.select_event_ledgers_statement, (list(event_ids),))
            return {r["event_id"]: r["ledger"] for r in curs.fetchall()}

    def index_event_ids(self, topic: str) -> int:
        """Index the event_ids of the stored events of a topic (plain JSON, the touchpoint under
        ``touchpoint``) when the index is empty; the first recorded wins. Returns how many."""
        with self.datastore.transaction(commit=True) as curs:
            curs.execute(self.any_event_id_statement)
            if curs.fetchone() is not None:
                return 0
            curs.execute(self.index_event_ids_statement, (topic,))
            return int(curs.rowcount)

    @retry((InterfaceError, OperationalError), max_attempts=10, wait=0.2)
    def select_touched(self, start: int, stop: int) -> list[tuple[UUID, str]]:
        """(aggregate id, topic of its first event) of every aggregate with a notification in (start, stop]."""
        with self.datastore.get_connection() as conn, conn.cursor() as curs:
            curs.execute(self.select_touched_statement, (start, stop))
            return [(r["originator_id"], r["topic"]) for r in curs.fetchall()]


#: What the application's recorder is (PROCESS_RECORDER_TOPIC is one of these).
BatchRecorder = SQLiteBatchRecorder | PostgresBatchRecorder
