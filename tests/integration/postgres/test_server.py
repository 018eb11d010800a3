"""The project's PostgreSQL server works with eventsourcing, one fresh database per test."""

from __future__ import annotations

from urllib.parse import unquote, urlsplit
from uuid import UUID

import psycopg
import pytest
from eventsourcing.application import AggregateNotFoundError, Application
from eventsourcing.domain import Aggregate, event

from tests import pg_server

pytestmark = pytest.mark.postgres


class Counter(Aggregate):
    @event("Created")
    def __init__(self, name: str) -> None:
        self.name = name
        self.count = 0

    @event("Incremented")
    def increment(self, by: int = 1) -> None:
        self.count += by


class Counters(Application[UUID]):
    def create(self, name: str) -> UUID:
        counter = Counter(name)
        self.save(counter)
        return counter.id

    def increment(self, counter_id: UUID, by: int = 1) -> None:
        counter: Counter = self.repository.get(counter_id)
        counter.increment(by)
        self.save(counter)

    def get(self, counter_id: UUID) -> Counter:
        return self.repository.get(counter_id)


def postgres_env(url: str) -> dict[str, str]:
    """eventsourcing.postgres settings for a postgresql:// URL."""
    parts = urlsplit(url)
    return {
        "PERSISTENCE_MODULE": "eventsourcing.postgres",
        "POSTGRES_DBNAME": unquote(parts.path.lstrip("/")),
        "POSTGRES_HOST": parts.hostname or "127.0.0.1",
        "POSTGRES_PORT": str(parts.port or 5432),
        "POSTGRES_USER": unquote(parts.username or ""),
        "POSTGRES_PASSWORD": unquote(parts.password or ""),
        "CREATE_TABLE": "y",
    }


def tables(url: str) -> set[str]:
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'"
        ).fetchall()
    return {r[0] for r in rows}


def test_pg_database_is_fresh_and_dedicated(pg_url: str, pg_database: str) -> None:
    assert pg_database != pg_url
    with psycopg.connect(pg_database) as conn:
        row = conn.execute("SELECT current_database()").fetchone()
    assert row is not None
    dbname = row[0]
    assert pg_database.endswith("/" + dbname)
    assert dbname.startswith("t_test_pg_database_is_fresh")
    assert tables(pg_database) == set()


def test_eventsourcing_application_round_trip(pg_database: str) -> None:
    env = postgres_env(pg_database)
    app = Counters(env=env)
    try:
        counter_id = app.create("visits")
        app.increment(counter_id)
        app.increment(counter_id, by=41)
    finally:
        app.close()

    assert tables(pg_database), "CREATE_TABLE=y should have created the events table"

    # A new application instance (new connections) reads the aggregate back.
    app = Counters(env=env)
    try:
        counter = app.get(counter_id)
        assert (counter.name, counter.count, counter.version) == ("visits", 42, 3)
        notifications = app.notification_log.select(start=1, limit=10)
        assert [n.originator_id for n in notifications] == [counter_id] * 3
    finally:
        app.close()


def test_fresh_databases_are_isolated(pg_url: str, request: pytest.FixtureRequest) -> None:
    base = pg_server.sanitize_database_name(request.node.name)[:50]
    name_a, name_b = f"{base}_a", f"{base}_b"
    url_a = pg_server.fresh_database(pg_url, name_a)
    url_b = pg_server.fresh_database(pg_url, name_b)
    try:
        app_a = Counters(env=postgres_env(url_a))
        app_b = Counters(env=postgres_env(url_b))
        try:
            counter_id = app_a.create("only-in-a")
            assert app_a.get(counter_id).name == "only-in-a"
            with pytest.raises(AggregateNotFoundError):
                app_b.get(counter_id)
            assert list(app_b.notification_log.select(start=1, limit=10)) == []
        finally:
            app_a.close()
            app_b.close()

        # Re-creating a database empties it, even though it had tables and data.
        assert tables(url_a)
        assert pg_server.fresh_database(pg_url, name_a) == url_a
        assert tables(url_a) == set()
    finally:
        pg_server.drop_database(pg_url, name_a)
        pg_server.drop_database(pg_url, name_b)


@pytest.mark.parametrize("suffix", ["x" * 120])
def test_long_test_names_give_valid_database_names(pg_database: str, suffix: str) -> None:
    with psycopg.connect(pg_database) as conn:
        row = conn.execute("SELECT current_database()").fetchone()
    assert row is not None
    dbname = row[0]
    assert len(dbname) <= 63
    assert pg_database.endswith("/" + dbname)


def test_sanitize_database_name() -> None:
    name = pg_server.sanitize_database_name("test_Foo[bar-1/ü]" + "y" * 100)
    assert len(name) <= 63
    assert name.startswith("t_test_foo_bar_1_")
    assert set(name) <= set("abcdefghijklmnopqrstuvwxyz0123456789_")
