"""The event store's process recorders: a batch's new events commit together with every upstream
position it covers (one tracking record per Kafka partition of a poll, say), in one transaction.

The library's process recorder takes one ``tracking``; these also take ``positions`` (several
tracking records, each inserted like the library's own: a position that does not advance raises
IntegrityError, so the whole transaction is refused). On PostgreSQL the events are sent as four
column arrays in binary (the library's composite-type array is dumped as text, escaped byte by
byte), and the histories of many aggregates are read in one query.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any
from uuid import UUID

from eventsourcing.persistence import (
    InterfaceError,
    OperationalError,
    ProcessRecorder,
    StoredEvent,
    Tracking,
)
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


def histories(recorder: ProcessRecorder, originator_ids: Sequence[UUID]) -> dict[UUID, list[StoredEvent]]:
    """The stored events of each aggregate that has any, in version order."""
    if isinstance(recorder, PostgresBatchRecorder):
        found: dict[UUID, list[StoredEvent]] = recorder.select_histories(originator_ids)
        return found
    each = {i: list(recorder.select_events(i)) for i in originator_ids}
    return {i: events for i, events in each.items() if events}


class SQLiteBatchRecorder(SQLiteProcessRecorder):
    """SQLite: events and every position of the batch in one transaction."""

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
        found: dict[UUID, list[StoredEvent]] = defaultdict(list)
        if not originator_ids:
            return found
        with self.datastore.get_connection() as conn, conn.cursor() as curs:
            curs.execute(self.select_histories_statement, (list(originator_ids),))
            for row in curs.fetchall():
                found[row["originator_id"]].append(
                    StoredEvent(
                        originator_id=row["originator_id"],
                        originator_version=row["originator_version"],
                        topic=row["topic"],
                        state=bytes(row["state"]),
                    )
                )
        return dict(found)
