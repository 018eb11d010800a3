"""Fixtures for tests against a real PostgreSQL server.

The server comes from deploy/postgres/pg.sh (a private cluster on
127.0.0.1:5433, installed from Debian's packages on first use if needed), or
from ``JOURNEY_TEST_DATABASE_URL`` if that is set.  Each test gets its own
freshly created database, so tests are isolated from each other.

Select or skip these tests with ``-m postgres`` / ``-m "not postgres"``.

Environment:
  JOURNEY_TEST_DATABASE_URL     use this server instead of starting one
  PGPORT_JOURNEY                port of the pg.sh server (default 5433)
  JOURNEY_TEST_KEEP_POSTGRES=1  don't stop a server this session started
  JOURNEY_TEST_KEEP_DATABASES=1 don't drop per-test databases afterwards
"""

from __future__ import annotations

import hashlib
import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

_REPO_ROOT = Path(__file__).resolve().parents[3]
if str(_REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(_REPO_ROOT))

from tests import pg_server  # noqa: E402

_HERE = Path(__file__).resolve().parent


def _truthy(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() in {"1", "y", "yes", "true", "on"}


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "postgres: needs a real PostgreSQL server (deploy/postgres/pg.sh)")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    # Everything under tests/integration/postgres is a postgres test.
    for item in items:
        if _HERE in Path(item.path).resolve().parents:
            item.add_marker(pytest.mark.postgres)


@pytest.fixture(scope="session")
def pg_url() -> Iterator[str]:
    """URL of the `journey` database on a running server (started if needed).

    The server is stopped at session end only if this session started it
    (and neither JOURNEY_TEST_KEEP_POSTGRES nor pytest-xdist is in play).
    """
    url = pg_server.ensure_postgres()
    started = pg_server.started_here() and not os.environ.get(pg_server.URL_ENV)
    try:
        yield url
    finally:
        if started and not _truthy("JOURNEY_TEST_KEEP_POSTGRES") and "PYTEST_XDIST_WORKER" not in os.environ:
            pg_server.stop_postgres()


def _database_name(request: pytest.FixtureRequest) -> str:
    # readable part from the test name, short hash of the node id for uniqueness
    # across modules/classes; <= 63 chars (PostgreSQL's identifier limit).
    digest = hashlib.sha1(request.node.nodeid.encode()).hexdigest()[:6]
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    suffix = f"_{worker}_{digest}" if worker else f"_{digest}"
    base = pg_server.sanitize_database_name(request.node.name)
    return base[: pg_server.MAX_IDENTIFIER_LENGTH - len(suffix)].rstrip("_") + suffix


@pytest.fixture
def pg_database(pg_url: str, request: pytest.FixtureRequest) -> Iterator[str]:
    """URL of a freshly (re)created, empty database for this test only.

    Dropped after the test (connections still open are terminated), unless
    JOURNEY_TEST_KEEP_DATABASES=1.  Close your Applications/pools in the test.
    """
    name = _database_name(request)
    url = pg_server.fresh_database(pg_url, name)
    try:
        yield url
    finally:
        if not _truthy("JOURNEY_TEST_KEEP_DATABASES"):
            pg_server.drop_database(pg_url, name)
