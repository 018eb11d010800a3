"""The `journey` command line as a user runs it (subprocesses on an SQLite file)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from journey.touchpoints import touchpoint_json
from tests.builders import day, delivery, maintenance, registered, visit

JOURNEY = [sys.executable, "-m", "journey.cli"]


def run(*args: str, db: Path, check: bool = True) -> subprocess.CompletedProcess[str]:
    env = os.environ | {"JOURNEY_DATABASE_URL": f"sqlite:///{db}"}
    return subprocess.run(
        [*JOURNEY, *args], env=env, capture_output=True, text=True, check=check, timeout=120
    )


@pytest.fixture
def ingested(tmp_path: Path) -> Path:
    tps = [
        registered(day(0), usage="private", phone="13800000000", customer="C-9"),
        visit(day(1), "revisit", customer="C-9"),
        delivery(day(40), customer="C-9"),
        maintenance(day(200), customer="C-9"),
    ]
    source = tmp_path / "in.jsonl"
    source.write_text("".join(touchpoint_json(t) + "\n" for t in tps) + "{broken\n")
    db = tmp_path / "j.db"
    out = run("ingest", str(source), "--json", db=db)
    assert json.loads(out.stdout) | {"dead_letters": None} == {
        "read": 5,
        "applied": 4,
        "duplicates": 0,
        "rejected": 1,
        "dead_letters": None,
    }
    return db


def test_customer_json_has_every_field_of_the_contract(ingested: Path) -> None:
    out = run("customer", "C-9", "--as-of", day(20).isoformat(), "--json", db=ingested)
    view = json.loads(out.stdout)

    assert view["customer_id"] == "C-9"
    assert view["as_of"] == day(20).isoformat()
    assert set(view["intent"]) >= {
        "level",
        "since",
        "signals",
        "decided_by",
        "next_follow_up_due",
        "follow_up_overdue",
    }
    assert set(view["retention"]) >= {
        "status",
        "days_since_last_service",
        "car_age_segment",
        "usage",
        "flags",
        "decided_by",
    }
    assert set(view["service"]) >= {"csi_last", "gap5", "open_complaints"}
    assert view["intent"]["level"] == "B"
    assert view["retention"]["status"] == "prospect"
    assert view["touchpoints"] == 2


def test_customer_text_is_readable_and_names_the_level(ingested: Path) -> None:
    out = run("customer", "C-9", "--as-of", day(300).isoformat(), db=ingested)

    assert "Retention      opportunity (100 days since last service)" in out.stdout
    assert "13800000000" not in out.stdout + out.stderr


def test_an_unknown_customer_is_a_clear_error(ingested: Path) -> None:
    out = run("customer", "C-404", db=ingested, check=False)

    assert out.returncode != 0
    assert "customer_id" in out.stderr and "C-404" in out.stderr


def test_a_bad_instant_names_the_flag(ingested: Path) -> None:
    out = run("customer", "C-9", "--as-of", "yesterday", db=ingested, check=False)

    assert out.returncode != 0
    assert "as_of" in out.stderr


@pytest.mark.parametrize("at", ["0001-01-01T00:00:00+05:00", "9999-12-31T23:00:00-12:00", "1899-12-31"])
def test_an_instant_outside_the_supported_years_is_refused_naming_the_flag(ingested: Path, at: str) -> None:
    out = run("customer", "C-9", "--as-of", at, db=ingested, check=False)

    assert out.returncode == 2
    assert "as_of" in out.stderr and "supported years" in out.stderr and "Traceback" not in out.stderr


def test_a_read_with_other_rules_is_refused_and_leaves_the_views_as_they_were(
    ingested: Path, tmp_path: Path
) -> None:
    what_if = tmp_path / "what-if.toml"
    what_if.write_text('version = "what-if"\n[retention]\nmarginal_after_days = 100\n')
    before = run("report", "--dealer", "D1", "--as-of", day(400).isoformat(), "--json", db=ingested).stdout

    reads = [
        run("report", "--dealer", "D1", "--rules", str(what_if), db=ingested, check=False),
        run("rebuild", "--verify", "--rules", str(what_if), db=ingested, check=False),
    ]

    for out in reads:
        assert out.returncode == 2
        assert "rules: the views were computed with rules 'domain-defaults" in out.stderr
        assert "what-if" in out.stderr and "Traceback" not in out.stderr
    after = run("report", "--dealer", "D1", "--as-of", day(400).isoformat(), "--json", db=ingested).stdout
    assert after == before
    assert json.loads(after)["rules_version"].startswith("domain-defaults")


def test_replay_and_rebuild_verify(ingested: Path) -> None:
    replay = json.loads(
        run("replay", "--customer", "C-9", "--as-of", day(400).isoformat(), "--json", db=ingested).stdout
    )
    verify = run("rebuild", "--verify", db=ingested)

    assert [s["type"] for s in replay["steps"] if s["event_id"]] == [
        "customer_registered",
        "store_visit",
        "delivery",
        "maintenance",
    ]
    assert any("delivery closes the lead" in s["rule"] for s in replay["steps"])
    assert verify.stdout.strip() == "identical"


def test_schema_is_json_schema(tmp_path: Path) -> None:
    schema = json.loads(run("schema", db=tmp_path / "x.db").stdout)

    assert "discriminator" in json.dumps(schema)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("customer", "C-9", "--bogus"), "No such option: --bogus"),
        (("report",), "Missing option '--dealer'"),
        (("nosuchcommand",), "No such command 'nosuchcommand'"),
        (("ingest", "/nonexistent/in.jsonl"), "does not exist"),
    ],
)
def test_a_usage_error_prints_usage_and_exits_2_without_a_traceback(
    tmp_path: Path, args: tuple[str, ...], message: str
) -> None:
    out = run(*args, db=tmp_path / "x.db", check=False)

    assert out.returncode == 2
    assert message in out.stderr
    assert "Usage: " in out.stderr
    assert "Traceback" not in out.stderr


def test_rebuild_verify_exits_1_when_the_live_views_differ(ingested: Path) -> None:
    import sqlite3

    with sqlite3.connect(ingested) as db:  # a live interval tampered with behind the engine's back
        db.execute("UPDATE views_customer_state SET retention_status = 'lost' WHERE customer_id = 'C-9'")

    verify = run("rebuild", "--verify", db=ingested, check=False)

    assert verify.returncode == 1
    assert verify.stdout.startswith("views differ:")
    assert "customer_state" in verify.stdout


def test_demo_explains_customers_with_every_timestamp_in_utc(tmp_path: Path) -> None:
    import re

    out = run("demo", "--customers", "60", "--out", str(tmp_path / "demo"), db=tmp_path / "demo.db")

    stamps = re.findall(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?([+-]\d\d:\d\d|Z)", out.stdout)
    assert "Deciding touchpoints:" in out.stdout
    assert stamps and set(stamps) == {"+00:00"}


@pytest.mark.parametrize(
    "args",
    [
        ("report", "--dealer", "D-NOPE"),
        ("tasks", "--dealer", "D-NOPE"),
        ("kpis", "--dealer", "D-NOPE", "--month", "2026-01"),
        ("gaps", "--dealer", "D-NOPE"),
    ],
)
def test_an_unknown_dealer_is_a_clear_error_not_a_report_of_zeros(
    ingested: Path, args: tuple[str, ...]
) -> None:
    out = run(*args, "--json", db=ingested, check=False)

    known = run(*[("D1" if a == "D-NOPE" else a) for a in args], "--json", db=ingested, check=False)

    assert out.returncode == 2
    assert "dealer_id" in out.stderr and "D-NOPE" in out.stderr
    assert out.stdout == ""
    assert known.returncode == 0 and json.loads(known.stdout)["dealer_id"] == "D1"


def test_a_gaps_window_ending_before_it_starts_is_an_error(ingested: Path) -> None:
    out = run(
        "gaps", "--dealer", "D1", "--from", "2026-03-01", "--to", "2026-02-01", db=ingested, check=False
    )

    assert out.returncode == 2
    assert "to:" in out.stderr and "must be after from" in out.stderr


@pytest.mark.parametrize("command", [["produce", "one.jsonl"], ["publish-tasks", "--once"]])
def test_an_unreachable_broker_is_a_clear_error(tmp_path: Path, command: list[str]) -> None:
    source = tmp_path / "one.jsonl"
    source.write_text(touchpoint_json(visit(day(1), "revisit", customer="C-1")) + "\n")
    args = [str(tmp_path / a) if a.endswith(".jsonl") else a for a in command]

    out = run(*args, "--bootstrap-servers", "127.0.0.1:1", db=tmp_path / "x.db", check=False)

    assert out.returncode == 2
    assert "kafka_bootstrap: 127.0.0.1:1" in out.stderr
    assert "Traceback" not in out.stderr


def test_a_postgresql_store_that_cannot_be_reached_is_a_clear_error(tmp_path: Path) -> None:
    url = "postgresql://journey:secret-pw@127.0.0.1:9/nowhere"  # nothing listens on the discard port

    out = subprocess.run(
        [*JOURNEY, "report", "--dealer", "D1", "--database-url", url],
        capture_output=True, text=True, timeout=120, cwd=tmp_path,
    )  # fmt: skip

    assert out.returncode == 2
    assert "error: database_url: cannot connect to PostgreSQL" in out.stderr
    assert "Traceback" not in out.stderr and "secret-pw" not in out.stderr


@pytest.mark.parametrize(
    "command", [["customer", "C-1"], ["report", "--dealer", "D1"], ["rebuild", "--verify"]]
)
def test_a_read_of_a_store_that_does_not_exist_says_so_and_makes_none(
    tmp_path: Path, command: list[str]
) -> None:
    missing = tmp_path / "nowhere" / "typo.db"

    out = run(*command, db=missing, check=False)

    assert out.returncode == 2
    assert f"no event store at {missing}" in out.stderr
    assert not missing.exists()
    assert not missing.parent.exists()  # not even its directory
