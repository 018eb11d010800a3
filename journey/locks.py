"""Cross-process exclusion on the event store's database: a PostgreSQL advisory lock, or a
file lock beside an SQLite file. Used where two processes must not interleave: creating
the tables, and catching the views up (an older snapshot must not overwrite a newer one)."""

from __future__ import annotations

import fcntl
import hashlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg

from journey.errors import StoreUnavailableError
from journey.settings import eventsourcing_env, sqlite_file


def _key(name: str) -> int:
    return int.from_bytes(hashlib.sha256(f"journey:{name}".encode()).digest()[:8], "big", signed=True)


@contextmanager
def exclusive(database_url: str, name: str) -> Iterator[None]:
    """Hold the named lock of this database for the duration of the block."""
    env = eventsourcing_env(database_url)
    if env["PERSISTENCE_MODULE"] == "eventsourcing.sqlite":
        path = sqlite_file(database_url)
        if path is None:  # in memory: one process
            yield
            return
        with Path(f"{path}.{name}.lock").open("a") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)
        return
    conninfo = psycopg.conninfo.make_conninfo(
        dbname=env["POSTGRES_DBNAME"],
        host=env["POSTGRES_HOST"],
        port=env["POSTGRES_PORT"],
        user=env["POSTGRES_USER"],
        password=env["POSTGRES_PASSWORD"],
    )
    try:
        conn = psycopg.connect(conninfo, autocommit=True)
    except psycopg.OperationalError as exc:  # no server, no such database, a wrong password
        raise StoreUnavailableError(f"database_url: cannot connect to PostgreSQL ({exc})".strip()) from None
    with conn:
        conn.execute("SELECT pg_advisory_lock(%s)", (_key(name),))
        try:
            yield
        finally:
            conn.execute("SELECT pg_advisory_unlock(%s)", (_key(name),))
