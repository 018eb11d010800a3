"""Start/stop the project's private PostgreSQL server for tests.

Standard library only, except :func:`fresh_database`, which imports psycopg (3)
lazily.  The server itself is managed by ``deploy/postgres/pg.sh``.

    url = ensure_postgres()            # postgresql://journey:journey@127.0.0.1:5433/journey
    db_url = fresh_database(url, "t_my_test")
    stop_postgres()

If ``JOURNEY_TEST_DATABASE_URL`` is set, :func:`ensure_postgres` returns it
unchanged and never starts anything (use it for an externally managed server;
its role needs the CREATEDB privilege for :func:`fresh_database`).
"""

from __future__ import annotations

import hashlib
import os
import re
import subprocess
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

REPO_ROOT = Path(__file__).resolve().parent.parent
PG_SH = REPO_ROOT / "deploy" / "postgres" / "pg.sh"
DEFAULT_PORT = 5433
URL_ENV = "JOURNEY_TEST_DATABASE_URL"

# PostgreSQL identifiers are truncated at 63 bytes (NAMEDATALEN - 1).
MAX_IDENTIFIER_LENGTH = 63

# Ports whose server was started (not merely found running) by this process.
_started_ports: set[int] = set()


class PostgresServerError(RuntimeError):
    """pg.sh failed; the message includes its output."""


def _resolve_port(port: int | None) -> int:
    if port is not None:
        return int(port)
    return int(os.environ.get("PGPORT_JOURNEY") or DEFAULT_PORT)


def _pg_sh(*args: str, check: bool = True, timeout: float = 900) -> subprocess.CompletedProcess[str]:
    # timeout is generous: a first run on a fresh machine may apt-get install postgresql.
    proc = subprocess.run(
        ["bash", str(PG_SH), *args],
        cwd=REPO_ROOT,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    if check and proc.returncode != 0:
        raise PostgresServerError(
            f"{PG_SH} {' '.join(args)} exited with {proc.returncode}\n"
            f"--- stdout ---\n{proc.stdout}--- stderr ---\n{proc.stderr}"
        )
    return proc


def is_running(port: int | None = None) -> bool:
    """True if the pg.sh-managed cluster for ``port`` is running."""
    return _pg_sh("status", "--port", str(_resolve_port(port)), check=False).returncode == 0


def started_here(port: int | None = None) -> bool:
    """True if :func:`ensure_postgres` in this process started the server on ``port``."""
    return _resolve_port(port) in _started_ports


def ensure_postgres(port: int | None = None, fast: bool = True) -> str:
    """Return a PostgreSQL URL, starting the project's server if needed.

    ``JOURNEY_TEST_DATABASE_URL`` wins if set.  Otherwise runs
    ``pg.sh start --port PORT [--fast]`` (idempotent; PORT defaults to
    ``PGPORT_JOURNEY`` or 5433).  ``fast`` only applies if the server is not
    already running (fsync/synchronous_commit/full_page_writes off).
    """
    env_url = os.environ.get(URL_ENV)
    if env_url:
        return env_url
    port = _resolve_port(port)
    was_running = is_running(port)
    args = ["start", "--port", str(port)]
    if fast:
        args.append("--fast")
    proc = _pg_sh(*args)
    lines = [line.strip() for line in proc.stdout.splitlines() if line.strip()]
    if not lines or not lines[-1].startswith("postgresql://"):
        raise PostgresServerError(f"pg.sh start printed no URL:\n{proc.stdout}\n{proc.stderr}")
    if not was_running:
        _started_ports.add(port)
    return lines[-1]


def stop_postgres(port: int | None = None) -> None:
    """Stop the pg.sh-managed server on ``port`` (no-op if not running)."""
    port = _resolve_port(port)
    _pg_sh("stop", "--port", str(port))
    _started_ports.discard(port)


def database_url(url: str, name: str) -> str:
    """``url`` with its database (path) replaced by ``name``."""
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path="/" + name))


def sanitize_database_name(text: str, prefix: str = "t_") -> str:
    """Turn arbitrary text (e.g. a test name) into a safe database name (<= 63 chars)."""
    base = re.sub(r"[^a-z0-9_]+", "_", text.lower()).strip("_")
    name = prefix + base
    if len(name) > MAX_IDENTIFIER_LENGTH:
        digest = hashlib.sha1(text.encode()).hexdigest()[:8]
        name = name[: MAX_IDENTIFIER_LENGTH - 9].rstrip("_") + "_" + digest
    return name


def fresh_database(url: str, name: str) -> str:
    """(Re)create an empty database ``name`` on the server of ``url``; return its URL.

    Drops ``name`` if it exists (terminating its connections), then creates it
    from ``template0`` (which never has connections, so concurrent creates don't
    fail with "source database is being accessed by other users").
    """
    import psycopg
    from psycopg import sql

    if not name or len(name.encode()) > MAX_IDENTIFIER_LENGTH:
        raise ValueError(f"invalid database name {name!r} (1..{MAX_IDENTIFIER_LENGTH} bytes)")
    if name == (urlsplit(url).path.lstrip("/") or None):
        raise ValueError(f"refusing to drop the maintenance database {name!r} of {url}")
    ident = sql.Identifier(name)
    with psycopg.connect(url, autocommit=True, connect_timeout=10) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(ident))
        conn.execute(sql.SQL("CREATE DATABASE {} TEMPLATE template0 ENCODING 'UTF8'").format(ident))
    return database_url(url, name)


def drop_database(url: str, name: str) -> None:
    """Drop database ``name`` on the server of ``url`` if it exists."""
    import psycopg
    from psycopg import sql

    with psycopg.connect(url, autocommit=True, connect_timeout=10) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
