"""View tables in the event store's own database, written with a tracking record in the
same transaction (the eventsourcing library's TrackingRecorder), on SQLite or PostgreSQL.

A view is a set of tables; each table's rows are grouped by a key column (a customer
or a dealer) and a projection replaces a key's rows as a whole, so writing the same
group twice gives the same table: the write is idempotent as well as tracked.
"""

from __future__ import annotations

import hashlib
import sqlite3
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from operator import itemgetter
from typing import Any, Protocol

from eventsourcing.persistence import Tracking
from eventsourcing.postgres import PostgresDatastore, PostgresTrackingRecorder
from eventsourcing.sqlite import SQLiteDatastore, SQLiteTrackingRecorder
from psycopg.rows import tuple_row
from psycopg.sql import SQL, Composed

Row = tuple[Any, ...]
#: changes[table][key] = the complete new rows of that key in that table
Changes = Mapping[str, Mapping[str, Sequence[Row]]]


@dataclass(frozen=True)
class Summary:
    """A table of counts derived from another table's rows, kept by deltas in the transaction
    that replaces them: ``deltas(old, new)`` maps a row of the summary's ``unique`` columns to
    the change of its ``count`` column, old and new being rows of ``source_columns``."""

    table: Table
    source_columns: tuple[str, ...]
    unique: tuple[str, ...]
    count: str
    deltas: Callable[[list[Row], list[Row]], Mapping[tuple[Any, ...], int]]


@dataclass(frozen=True)
class Table:
    """A view table: columns (name, SQL type), the grouping key column, indexes, and the summary
    kept from its rows, if any."""

    name: str
    columns: tuple[tuple[str, str], ...]
    key: str
    indexes: tuple[tuple[str, ...], ...] = ()
    summary: Summary | None = None

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c for c, _ in self.columns)


def with_summaries(tables: Sequence[Table]) -> list[Table]:
    """The tables and the summary tables kept from them."""
    return [*tables, *(t.summary.table for t in tables if t.summary is not None)]


class ViewRecorder(Protocol):
    """What projections and readers need from a view store."""

    prefix: str
    bulk: bool  # tables filled from nothing (see _ddl)

    def write(self, changes: Changes, tracking: Tracking | None, fresh: bool = False) -> None: ...
    def select(self, sql: str, params: Sequence[Any] = ()) -> list[Row]: ...
    def max_tracking_id(self, application_name: str) -> int | None: ...
    def clear(self) -> None: ...
    def drop(self) -> None: ...
    def adopt(self, source_prefix: str, tracking: Tracking | None) -> None: ...
    def fill_summaries(self) -> None: ...


def _ddl(prefix: str, tables: Sequence[Table], bulk: bool = False) -> list[str]:
    """The tables and their indexes. ``bulk``: tables filled from nothing (a rebuild: fresh
    writes, never a look-up by key) get only the indexes their writes use (a summary's unique
    columns); the others are built once, when the tables are adopted as the live ones (and
    any other index of theirs is dropped, see _read_indexes)."""
    statements = []
    for t in with_summaries(tables):
        cols = ", ".join(f"{c} {typ}" for c, typ in t.columns)
        statements.append(f"CREATE TABLE IF NOT EXISTS {prefix}_{t.name} ({cols})")
    if bulk:
        return (
            statements
            + [f"DROP INDEX IF EXISTS {name}" for name, _ in _read_indexes(prefix, tables)]
            + [create for _, create in _summary_indexes(prefix, tables)]
        )
    return statements + [create for _, create in _indexes(prefix, tables)]


def _indexes(prefix: str, tables: Sequence[Table]) -> list[tuple[str, str]]:
    """(name, CREATE statement) of every index of the tables and their summaries."""
    return _read_indexes(prefix, tables) + _summary_indexes(prefix, tables)


def _read_indexes(prefix: str, tables: Sequence[Table]) -> list[tuple[str, str]]:
    """The indexes of the keys and of the readers' look-ups."""
    return [_index(prefix, t.name, idx) for t in with_summaries(tables) for idx in ((t.key,), *t.indexes)]


def _summary_indexes(prefix: str, tables: Sequence[Table]) -> list[tuple[str, str]]:
    """The unique indexes the summaries' upserts find their rows by."""
    return [
        _index(prefix, t.summary.table.name, t.summary.unique, unique=True)
        for t in tables
        if t.summary is not None
    ]


def _index(prefix: str, table: str, columns: Sequence[str], unique: bool = False) -> tuple[str, str]:
    cols = ", ".join(columns)
    name = f"{prefix}_{table}_{hashlib.sha1(cols.encode()).hexdigest()[:10]}"  # a new definition, a new index
    kind = "UNIQUE INDEX" if unique else "INDEX"
    return name, f"CREATE {kind} IF NOT EXISTS {name} ON {prefix}_{table} ({cols})"


#: Keys (or rows) per statement of a look-up by list.
CHUNK = 500


class _Tables:
    """The dialect-neutral part: writing key groups with their tracking record, reading, and
    swapping a prefix's tables in (the recorders below say how each database differs)."""

    placeholder = "?"
    #: the column that locates a stored row for a DELETE, and how a list of them is matched
    locator = "rowid"
    tracking_table_name: str
    _insert_tracking: Callable[[Any, Tracking], None]  # the library's tracking recorder's
    #: a query's rows as plain tuples (the library's cursors make named rows: slower, unneeded)
    _fetch_tuples: Callable[[Any, str, Sequence[Any]], list[Row]]
    datastore: Any
    prefix: str
    tables: dict[str, Table]

    def _setup(self, prefix: str, tables: Sequence[Table], bulk: bool) -> None:
        self.prefix = prefix
        self.bulk = bulk
        self._source_tables = list(tables)
        self.tables = {t.name: t for t in with_summaries(tables)}

    def render(self, sql: str) -> str:
        """Expand ``{name}`` table references to prefixed names and ? to the dialect's placeholder."""
        text = sql.format(**{name: f"{self.prefix}_{name}" for name in self.tables})
        return text.replace("?", self.placeholder) if self.placeholder != "?" else text

    def write(self, changes: Changes, tracking: Tracking | None, fresh: bool = False) -> None:
        """Replace the keys' rows (and adjust the summaries), with the tracking record if given.
        ``fresh``: the keys have no rows (tables cleared, each key written once: a rebuild),
        so the rows are only inserted."""
        with self.datastore.transaction(commit=True) as cursor:
            self._before_write(cursor)
            self._replace(cursor, changes, fresh)
            if tracking is not None:
                self._insert_tracking(cursor, tracking)

    def adopt(self, source_prefix: str, tracking: Tracking | None) -> None:
        """Replace every table by another prefix's table, atomically (see _swap_statements)."""
        with self.datastore.transaction(commit=True) as cursor:
            for statement in self._swap_statements(source_prefix):
                cursor.execute(statement)
            self._forget_tracking(cursor, source_prefix)
            if tracking is not None:
                self._insert_tracking(cursor, tracking)

    def clear(self) -> None:
        """Every row of these tables gone, and their tracking record."""
        with self.datastore.transaction(commit=True) as cursor:
            for name in self.tables:
                cursor.execute(f"DELETE FROM {self.prefix}_{name}")
            self._forget_tracking(cursor, self.prefix)

    def drop(self) -> None:
        """These tables (and their indexes) gone, and their tracking record."""
        with self.datastore.transaction(commit=True) as cursor:
            for name in self.tables:
                cursor.execute(f"DROP TABLE IF EXISTS {self.prefix}_{name}")
            self._forget_tracking(cursor, self.prefix)

    def select(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        with self.datastore.transaction(commit=False) as cursor:
            return self._fetch_tuples(cursor, self.render(sql), tuple(params))

    def fill_summaries(self) -> None:
        """Fill an empty summary from its table's rows (a store made before the summary existed)."""
        with self.datastore.transaction(commit=True) as cursor:
            for table in self._source_tables:
                summary = table.summary
                if summary is None:
                    continue
                if self._fetch_tuples(
                    cursor, f"SELECT 1 FROM {self.prefix}_{summary.table.name} LIMIT 1", ()
                ):
                    continue
                cols = ", ".join(summary.source_columns)
                rows = self._fetch_tuples(cursor, f"SELECT {cols} FROM {self.prefix}_{table.name}", ())
                self._apply(cursor, summary, summary.deltas([], rows))

    def _before_write(self, cursor: Any) -> None:
        """Whatever the database wants before a write transaction's statements."""

    def _forget_tracking(self, cursor: Any, prefix: str) -> None:
        cursor.execute(
            f"DELETE FROM {self.tracking_table_name} WHERE application_name LIKE {self.placeholder}",
            (f"{prefix}:%",),
        )

    def _swap_statements(self, source_prefix: str) -> list[str]:
        """Make another prefix's tables these (renamed, their indexes rebuilt under this prefix's
        names); the other prefix's tables are gone after."""
        out = []
        for name in self.tables:
            out.append(f"DROP TABLE IF EXISTS {self.prefix}_{name}")
            out.append(f"ALTER TABLE {source_prefix}_{name} RENAME TO {self.prefix}_{name}")
        out += [f"DROP INDEX IF EXISTS {name}" for name, _ in _indexes(source_prefix, self._source_tables)]
        out += [create for _, create in _indexes(self.prefix, self._source_tables)]
        return out

    def _replace(self, cursor: Any, changes: Changes, fresh: bool) -> None:
        """Make the keys' rows the new ones: only the stored rows that are not among the new ones
        are deleted and only the new rows not already stored are inserted (a catch-up mostly
        rewrites identical rows: each row spared is an index update spared in every index),
        and a summary is adjusted by the deltas between those."""
        for name, groups in changes.items():
            table = self.tables[name]
            rows = [row for group in groups.values() for row in group]
            stale: list[Row] = []
            if not fresh:
                stored = self._stored(cursor, table, list(groups))
                stale, rows = _difference(stored, rows)
                self._delete(cursor, table, [row[-1] for row in stale])
            summary = table.summary
            if summary:
                source = _getter([table.column_names.index(c) for c in summary.source_columns])
                old = [source(row) for row in stale]
                self._apply(cursor, summary, summary.deltas(old, [source(row) for row in rows]))
            if rows:
                self._insert(cursor, table, rows)

    def _stored(self, cursor: Any, table: Table, keys: list[str]) -> list[Row]:
        """(*columns, locator) of the keys' stored rows."""
        out: list[Row] = []
        cols = ", ".join(table.column_names)
        for start in range(0, len(keys), CHUNK):
            chunk = keys[start : start + CHUNK]
            marks = ", ".join([self.placeholder] * len(chunk))
            sql = f"SELECT {cols}, {self.locator} FROM {self.prefix}_{table.name} WHERE {table.key} IN ({marks})"
            out += self._fetch_tuples(cursor, sql, chunk)
        return out

    def _delete(self, cursor: Any, table: Table, locators: list[Any]) -> None:
        for start in range(0, len(locators), CHUNK):
            chunk = locators[start : start + CHUNK]
            marks = ", ".join([self.placeholder] * len(chunk))
            cursor.execute(f"DELETE FROM {self.prefix}_{table.name} WHERE {self.locator} IN ({marks})", chunk)

    def _insert(self, cursor: Any, table: Table, rows: Sequence[Row]) -> None:
        marks = ", ".join([self.placeholder] * len(table.columns))
        cols = ", ".join(table.column_names)
        cursor.executemany(f"INSERT INTO {self.prefix}_{table.name} ({cols}) VALUES ({marks})", rows)

    def _apply(self, cursor: Any, summary: Summary, deltas: Mapping[tuple[Any, ...], int]) -> None:
        if not deltas:
            return
        target = f"{self.prefix}_{summary.table.name}"
        rows = sorted((*key, n) for key, n in deltas.items())  # one lock order for concurrent writers
        self._upsert(cursor, summary, rows)
        if any(n < 0 for n in deltas.values()):
            cursor.execute(f"DELETE FROM {target} WHERE {summary.count} = 0")

    def _upsert(self, cursor: Any, summary: Summary, rows: Sequence[Row]) -> None:
        """Add each row's count to the summary row of its unique columns (inserted at 0 if new)."""
        target = f"{self.prefix}_{summary.table.name}"
        unique = ", ".join(summary.unique)
        marks = ", ".join([self.placeholder] * (len(summary.unique) + 1))
        cursor.executemany(
            f"INSERT INTO {target} ({unique}, {summary.count}) VALUES ({marks}) {_add(target, summary)}", rows
        )


def _getter(at: list[int]) -> Callable[[Row], Row]:
    """A row's values at these positions, as a tuple."""
    if len(at) == 1:
        return lambda row: (row[at[0]],)
    return itemgetter(*at)


def _difference(stored: list[Row], new: list[Row]) -> tuple[list[Row], list[Row]]:
    """(the stored rows, their locator last, that are not among the new rows; the new rows not
    among the stored ones), as multisets: identical rows pair off."""
    unpaired: dict[Row, list[Row]] = {}
    for row in stored:
        unpaired.setdefault(row[:-1], []).append(row)
    added = []
    for row in new:
        same = unpaired.get(row)
        if same:
            same.pop()
        else:
            added.append(row)
    return [row for same in unpaired.values() for row in same], added


def _add(target: str, summary: Summary) -> str:
    """The ON CONFLICT clause adding an inserted count to the stored one."""
    return (
        f"ON CONFLICT ({', '.join(summary.unique)}) DO UPDATE SET "
        f"{summary.count} = {target}.{summary.count} + excluded.{summary.count}"
    )


#: SQLite's page cache per connection while writing views, in KiB (its default is 2 MiB).
CACHE_KIB = 256 * 1024


class SQLiteViewRecorder(_Tables, SQLiteTrackingRecorder):
    """View tables plus the library's tracking table, in the SQLite file of the event store."""

    tracking_table_name = "tracking"

    def __init__(
        self, datastore: SQLiteDatastore, *, prefix: str, tables: Sequence[Table], bulk: bool
    ) -> None:
        self._setup(prefix, tables, bulk)
        super().__init__(datastore)

    def construct_create_table_statements(self) -> list[str]:
        return [
            *super().construct_create_table_statements(),
            *_ddl(self.prefix, self._source_tables, self.bulk),
        ]

    def _before_write(self, cursor: Any) -> None:
        # the replaced keys are spread over the tables' indexes: keep them in memory
        cursor.execute(f"PRAGMA cache_size = -{CACHE_KIB}")
        # a write first, so the transaction waits for the write lock rather than reading a
        # snapshot another writer may outdate (then failing to write)
        cursor.execute(f"DELETE FROM {self.tracking_table_name} WHERE 0")

    def _fetch_tuples(self, cursor: Any, sql: str, params: Sequence[Any]) -> list[Row]:
        raw = cursor.sqlite_cursor  # the library's cursor wraps sqlite3's
        raw.row_factory = None
        try:
            raw.execute(sql, params)
            return raw.fetchall()  # type: ignore[no-any-return]
        finally:
            raw.row_factory = sqlite3.Row


class PostgresViewRecorder(_Tables, PostgresTrackingRecorder):
    """View tables plus the library's tracking table, in the PostgreSQL event store database."""

    placeholder = "%s"
    locator = "ctid"

    def __init__(
        self,
        datastore: PostgresDatastore,
        *,
        tracking_table_name: str,
        prefix: str,
        tables: Sequence[Table],
        bulk: bool,
    ) -> None:
        self._setup(prefix, tables, bulk)
        super().__init__(datastore, tracking_table_name=tracking_table_name)
        ddl = _ddl(prefix, tables, bulk)
        self.sql_create_statements.extend(
            Composed([SQL(s.replace(" REAL", " DOUBLE PRECISION"))]) for s in ddl
        )

    def _fetch_tuples(self, cursor: Any, sql: str, params: Sequence[Any]) -> list[Row]:
        factory = cursor.row_factory
        cursor.row_factory = tuple_row
        try:
            cursor.execute(sql, params, prepare=False)
            return cursor.fetchall()  # type: ignore[no-any-return]
        finally:
            cursor.row_factory = factory

    def _insert(self, cursor: Any, table: Table, rows: Sequence[Row]) -> None:
        """COPY: psycopg's executemany sends one INSERT per row."""
        _copy(cursor, f"{self.prefix}_{table.name}", table.column_names, rows)

    def _upsert(self, cursor: Any, summary: Summary, rows: Sequence[Row]) -> None:
        """COPY into a temporary table of this transaction, then one INSERT from it (an INSERT
        of column arrays costs more: psycopg quotes every array element in Python)."""
        target = f"{self.prefix}_{summary.table.name}"
        staging = f"{target}_deltas"
        names = (*summary.unique, summary.count)
        cols = ", ".join(names)
        cursor.execute(
            f"CREATE TEMPORARY TABLE IF NOT EXISTS {staging} (LIKE {target}) ON COMMIT DELETE ROWS"
        )
        _copy(cursor, staging, names, rows)
        cursor.execute(
            f"INSERT INTO {target} ({cols}) SELECT {cols} FROM {staging} "
            f"ORDER BY {', '.join(summary.unique)} {_add(target, summary)}"
        )


def _copy(cursor: Any, table: str, columns: Sequence[str], rows: Sequence[Row]) -> None:
    with cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)


def open_view_recorder(
    factory: Any, *, prefix: str, tables: Sequence[Table], create: bool = True, bulk: bool = False
) -> ViewRecorder:
    """A view recorder on the same database as the application's event store (its tables
    created unless ``create`` is false: a worker of a process that created them; ``bulk``:
    tables to fill from nothing, see _ddl)."""
    datastore = factory.datastore
    recorder: Any
    if isinstance(datastore, SQLiteDatastore):
        recorder = SQLiteViewRecorder(datastore, prefix=prefix, tables=tables, bulk=bulk)
    elif isinstance(datastore, PostgresDatastore):
        name = (factory.env.name.lower() or "notification") + "_tracking"
        recorder = PostgresViewRecorder(
            datastore, tracking_table_name=name, prefix=prefix, tables=tables, bulk=bulk
        )
    else:  # pragma: no cover - only the two persistence modules are configured by settings
        raise TypeError(f"no view recorder for {type(datastore).__name__}")
    if create:
        recorder.create_table()
    return recorder  # type: ignore[no-any-return]
