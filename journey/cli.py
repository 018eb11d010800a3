"""The `journey` command line (typer). Every command that reads a view has --json."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from importlib.metadata import entry_points
from pathlib import Path
from typing import Annotated, Any

import typer

from journey.engine import Engine
from journey.errors import JourneyError, StoreUnavailableError
from journey.logging import configure_logging
from journey.projections.customer import utc
from journey.render import (
    render_customer,
    render_gaps,
    render_history,
    render_kpis,
    render_report,
    render_tasks,
)
from journey.settings import Settings, load_settings, sqlite_file
from journey.timeparse import InvalidInstantError, parse_instant
from journey.touchpoints import json_schema

app = typer.Typer(add_completion=False, no_args_is_help=True, help="journey: the customer-journey engine.")

DatabaseUrl = Annotated[
    str | None,
    typer.Option("--database-url", help="sqlite:///PATH or postgresql://... [JOURNEY_DATABASE_URL]"),
]
RulesFile = Annotated[str | None, typer.Option("--rules", help="rules file (JSON/TOML) [JOURNEY_RULES]")]
AsOf = Annotated[str | None, typer.Option("--as-of", help="RFC 3339 instant; default now")]
AsJson = Annotated[bool, typer.Option("--json", help="print JSON")]


def settings_for(database_url: str | None = None, rules: str | None = None, **overrides: Any) -> Settings:
    """Settings from the environment, overridden by the flags given."""
    given = {"database_url": database_url, "rules": rules, **overrides}
    return load_settings(**{k: v for k, v in given.items() if v is not None})


@contextmanager
def engine_for(database_url: str | None, rules: str | None, *, existing: bool = False) -> Iterator[Engine]:
    """An engine on the store; ``existing``: a reader's, which never makes an empty SQLite file."""
    settings = settings_for(database_url, rules)
    if existing:
        require_store(settings.database_url)
    engine = Engine.open(settings)
    try:
        yield engine
    finally:
        engine.close()


def require_store(database_url: str) -> None:
    """StoreUnavailableError when an SQLite store's file does not exist (a mistyped path, or a read
    before any ingest) rather than a new empty store and an answer about nothing."""
    path = sqlite_file(database_url)
    if path is not None and not path.exists():
        raise StoreUnavailableError(
            f"database_url: no event store at {path} (`journey ingest FILE` or `journey demo` makes one)"
        )


@contextmanager
def dealer_views(database_url: str | None, rules: str | None, dealer: str) -> Iterator[Engine]:
    """An engine with its views caught up, to read a dealer the store knows (a mistyped dealer_id
    is an UnknownDealerError, not a report of zeros)."""
    with engine_for(database_url, rules, existing=True) as engine:
        engine.views.catch_up(adopt_rules=False)
        engine.require_dealer(dealer)
        yield engine


def instant(value: str | None, field: str) -> datetime | None:
    return None if value is None else parse_instant(value, field)


def emit(obj: Any, as_json: bool, text: str) -> None:
    typer.echo(json.dumps(obj, indent=2, ensure_ascii=False) if as_json else text)


@app.command()
def schema() -> None:
    """Print the JSON Schema of the touchpoint envelope (for upstream producers)."""
    typer.echo(json.dumps(json_schema(), indent=2))


@app.command()
def ingest(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="JSONL touchpoints")],
    database_url: DatabaseUrl = None,
    rules: RulesFile = None,
    as_json: AsJson = False,
) -> None:
    """Validate and apply a JSONL file; rejected lines go to FILE.dlq.jsonl with their reason."""
    from journey.progress import byte_progress

    with engine_for(database_url, rules) as engine, byte_progress(file) as advance:
        report = engine.ingest_file(file, on_progress=advance)
    summary = report.as_dict()
    lines = [
        f"read {report.read}, applied {report.applied}, duplicates {report.duplicates}, rejected {report.rejected}"
    ]
    if report.dead_letters:
        lines.append(f"rejected lines and their reasons: {report.dead_letters}")
    emit(summary, as_json, "\n".join(lines))


@app.command()
def customer(
    customer_id: Annotated[str, typer.Argument(help="the customer_id")],
    as_of: AsOf = None,
    known_at: Annotated[
        str | None,
        typer.Option("--known-at", help="what the engine knew at this instant (as of it, unless --as-of)"),
    ] = None,
    database_url: DatabaseUrl = None,
    rules: RulesFile = None,
    as_json: AsJson = False,
) -> None:
    """A customer's intent level, retention status and service view as of any instant."""
    with engine_for(database_url, rules, existing=True) as engine:
        view = engine.customer(customer_id, instant(as_of, "as_of"), instant(known_at, "known_at"))
    emit(view, as_json, render_customer(view))


@app.command()
def report(
    dealer: Annotated[str, typer.Option("--dealer", help="dealer_id")],
    as_of: AsOf = None,
    database_url: DatabaseUrl = None,
    rules: RulesFile = None,
    as_json: AsJson = False,
) -> None:
    """Leads per intent level, owners per retention status and the dealer's retention metrics."""
    with dealer_views(database_url, rules, dealer) as engine:
        result = engine.report(dealer, instant(as_of, "as_of"))
    emit(result, as_json, render_report(result))


@app.command()
def replay(
    customer_id: Annotated[str, typer.Option("--customer", help="the customer_id")],
    as_of: Annotated[str | None, typer.Option("--as-of", help="stop at this instant; default now")] = None,
    known_at: Annotated[
        str | None,
        typer.Option(
            "--known-at", help="only what the engine had recorded by this instant (as of it, unless --as-of)"
        ),
    ] = None,
    database_url: DatabaseUrl = None,
    rules: RulesFile = None,
    as_json: AsJson = False,
) -> None:
    """A customer's history in occurred_at order, with the level and status each step led to and why."""
    with engine_for(database_url, rules, existing=True) as engine:
        result = engine.history(customer_id, instant(as_of, "as_of"), instant(known_at, "known_at"))
    emit(result, as_json, render_history(result))


@app.command()
def rebuild(
    verify: Annotated[
        bool, typer.Option("--verify", help="compare with the live views instead of replacing them")
    ] = False,
    database_url: DatabaseUrl = None,
    rules: RulesFile = None,
    as_json: AsJson = False,
) -> None:
    """Rebuild every view from the event store into fresh tables (and prove they equal the live ones)."""
    from journey.rebuild import rebuild as run_rebuild

    with engine_for(database_url, rules, existing=True) as engine:
        result = run_rebuild(engine.views, verify=verify)
    if verify:
        text = "identical" if result.identical else "views differ:\n" + "\n".join(result.differences)
    else:
        text = f"rebuilt {sum(result.rows.values())} view rows from {result.notifications} events"
    emit(result.as_dict(), as_json, text)
    if verify and not result.identical:
        raise typer.Exit(1)


@app.command()
def tasks(
    dealer: Annotated[str, typer.Option("--dealer", help="dealer_id")],
    as_of: AsOf = None,
    overdue: Annotated[bool, typer.Option("--overdue", help="only the overdue tasks")] = False,
    limit: Annotated[int | None, typer.Option("--limit", min=0, help="at most this many tasks")] = None,
    database_url: DatabaseUrl = None,
    rules: RulesFile = None,
    as_json: AsJson = False,
) -> None:
    """The policy work queue at an instant: follow-ups, callbacks, escalations, win-backs, reminders; overdue first."""
    with dealer_views(database_url, rules, dealer) as engine:
        result = engine.tasks(dealer, instant(as_of, "as_of"), overdue_only=overdue, limit=limit)
    emit(result, as_json, render_tasks(result))


@app.command()
def kpis(
    dealer: Annotated[str, typer.Option("--dealer", help="dealer_id")],
    month: Annotated[str, typer.Option("--month", help="YYYY-MM (UTC)")],
    database_url: DatabaseUrl = None,
    rules: RulesFile = None,
    as_json: AsJson = False,
) -> None:
    """The callback KPIs of a dealer for a month: callback and survey success, complaint SLA, CSI."""
    with dealer_views(database_url, rules, dealer) as engine:
        result = engine.kpis(dealer, month)
    emit(result, as_json, render_kpis(result))


@app.command()
def gaps(
    dealer: Annotated[str, typer.Option("--dealer", help="dealer_id")],
    from_: Annotated[
        str | None, typer.Option("--from", help="RFC 3339 instant or date; default --to minus 90 days")
    ] = None,
    to: Annotated[
        str | None, typer.Option("--to", help="RFC 3339 instant or date (excluded); default now")
    ] = None,
    as_of: Annotated[
        str | None,
        typer.Option(
            "--as-of", help="what was known by this instant (callbacks after --to count); default now"
        ),
    ] = None,
    database_url: DatabaseUrl = None,
    rules: RulesFile = None,
    as_json: AsJson = False,
) -> None:
    """The five service-quality gaps per SERVQUAL dimension over touchpoints in [from, to)."""
    now = datetime.now(UTC)
    end = instant(to, "to") or now
    start = instant(from_, "from") or end - timedelta(days=90)
    if end <= start:
        raise InvalidInstantError(f"to: {utc(end)} must be after from ({utc(start)})")
    with dealer_views(database_url, rules, dealer) as engine:
        result = engine.gaps(dealer, start, end, instant(as_of, "as_of") or now)
    emit(result, as_json, render_gaps(result))


@app.command()
def serve(
    host: Annotated[str | None, typer.Option("--host", help="bind address [JOURNEY_API_HOST]")] = None,
    port: Annotated[int | None, typer.Option("--port", help="TCP port [JOURNEY_API_PORT]")] = None,
    database_url: DatabaseUrl = None,
    rules: RulesFile = None,
    workers: Annotated[int, typer.Option("--workers", min=1, help="worker processes (one per core)")] = 1,
) -> None:
    """The read-only HTTP API (OpenAPI at /docs), /health, /metrics and the dashboard at /."""
    from journey.api.server import serve as run_server

    settings = settings_for(database_url, rules, api_host=host, api_port=port)
    typer.echo(
        f"journey serve: http://{settings.api_host}:{settings.api_port}/ (API docs at /docs)", err=True
    )
    run_server(settings, workers=workers)


@app.command()
def demo(
    database_url: DatabaseUrl = None,
    rules: RulesFile = None,
    customers: Annotated[int, typer.Option(help="customers to generate")] = 2000,
    seed: Annotated[int, typer.Option(help="random seed")] = 7,
    out: Annotated[Path, typer.Option(help="where the generated JSONL goes")] = Path("journey-demo"),
) -> None:
    """Generate a realistic dealer data set, ingest it into the local store and show the views."""
    from journey.demo import run_demo

    with engine_for(database_url, rules) as engine:
        typer.echo(run_demo(engine, out=out, customers=customers, seed=seed))


def _register_plugins() -> None:
    """Commands contributed by other packages (e.g. consumers: consume, produce)."""
    for ep in entry_points(group="journey.commands"):
        app.command(name=ep.name)(ep.load())


def main() -> None:
    """The console entry: a domain error exits 2 with its message, a usage error with click's
    message and code (2), an interrupt 130; a command's typer.Exit(code) exits with that code."""
    configure_logging()
    _register_plugins()
    try:
        code = app(standalone_mode=False)  # returns typer.Exit's code instead of exiting
    except JourneyError as exc:
        typer.secho(f"error: {exc}", err=True, fg=typer.colors.RED)
        sys.exit(2)
    except (typer.Abort, KeyboardInterrupt):
        sys.exit(130)
    except Exception as exc:
        if not _is_usage_error(exc):
            raise
        exc.show()  # type: ignore[attr-defined]
        sys.exit(exc.exit_code)  # type: ignore[attr-defined]
    sys.exit(code if isinstance(code, int) else 0)


def _is_usage_error(exc: Exception) -> bool:
    """A click usage error (bad option, missing parameter, unknown command, missing file): typer
    raises its own bundled click's exceptions, so they are told by their interface, not their class."""
    return callable(getattr(exc, "show", None)) and isinstance(getattr(exc, "exit_code", None), int)


if __name__ == "__main__":
    main()
