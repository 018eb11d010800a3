"""Fixtures for tests that need a real event store: SQLite files and a real PostgreSQL server."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from journey.engine import Engine
from journey.settings import Settings


def _pg_database(request: pytest.FixtureRequest) -> str:
    from tests.pg_server import ensure_postgres, fresh_database

    name = re.sub(r"[^a-z0-9_]", "_", request.node.name.lower())[-50:].strip("_")
    return fresh_database(ensure_postgres(), f"t_{name}")


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Each test runs once on an SQLite file and once on a fresh PostgreSQL database."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path}/journey.db"
    return _pg_database(request)


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    eng = Engine.open(Settings(database_url=database_url, pii_key="test-key"))
    yield eng
    eng.close()


@pytest.fixture
def open_engine(database_url: str) -> Iterator[object]:
    """A factory of further engines on the same database (other processes, restarts)."""
    opened: list[Engine] = []

    def make() -> Engine:
        eng = Engine.open(Settings(database_url=database_url, pii_key="test-key"))
        opened.append(eng)
        return eng

    yield make
    for eng in opened:
        eng.close()
