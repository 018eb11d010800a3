"""The event store on SQLite and PostgreSQL: each touchpoint once, batches, dead letters, privacy."""

from __future__ import annotations

import json
import random
import time
from datetime import UTC, datetime
from pathlib import Path

from structlog.testing import capture_logs

from journey.engine import Engine
from journey.ingest import dead_letter_path
from journey.privacy import pseudonym
from journey.recorders import event_ids_table
from journey.touchpoints import touchpoint_json
from tests.builders import callback, complaint, day, maintenance, registered, standard_set, touchpoint, visit


def write_lines(path: Path, lines: list[str]) -> Path:
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    return path


def test_the_same_event_id_twice_is_recorded_once(engine: Engine) -> None:
    first = visit(day(0), "revisit", event_id="dms-1")

    a = engine.app.ingest([first, first])
    b = engine.app.ingest([first])

    assert (a.applied, a.duplicates, b.applied, b.duplicates) == (1, 1, 0, 1)
    assert [r.touchpoint for r in engine.app.customer_history("C1")] == [first]


def test_every_ledger_stores_touchpoints_under_one_event_topic(engine: Engine) -> None:
    """The stored format: customer and dealer ledgers record the same TouchpointRecorded topic,
    and the bulk reads find each ledger and its kind from the notifications alone."""
    engine.app.ingest([visit(day(0), event_id="v1"), standard_set(day(1), complaint_callback_hours=24)])

    topics = {n.topic for n in engine.app.recorder.select_notifications(1, 10)}
    ledgers = engine.app.touched(0, engine.app.recorder.max_notification_id() or 0)
    read = engine.app.histories([*ledgers.customers, *ledgers.dealers])

    assert "journey.aggregates.ledger:TouchpointLedger.TouchpointRecorded" in topics
    assert not {t for t in topics if t.endswith("TouchpointRecorded")} - {
        "journey.aggregates.ledger:TouchpointLedger.TouchpointRecorded"
    }
    assert (len(ledgers.customers), len(ledgers.dealers)) == (1, 1)
    assert [r.touchpoint.event_id for r in read[ledgers.customers[0]]] == ["v1"]
    assert read[ledgers.dealers[0]][0].touchpoint.type == "service_standard_set"


def test_arrival_order_does_not_change_what_is_recorded(engine: Engine, open_engine) -> None:  # type: ignore[no-untyped-def]
    touchpoints = [visit(day(i), "revisit", customer=f"C{i % 3}") for i in range(30)]
    shuffled = touchpoints[:]
    random.Random(4).shuffle(shuffled)
    other = open_engine()

    engine.app.ingest(shuffled[:20])
    other.app.ingest(shuffled[10:])  # another process, overlapping

    for c in ("C0", "C1", "C2"):
        got = {r.touchpoint.event_id for r in engine.app.customer_history(c)}
        assert got == {tp.event_id for tp in touchpoints if tp.customer_id == c}


def test_ingest_applies_good_lines_and_dead_letters_bad_ones_with_their_reason(
    engine: Engine, tmp_path: Path
) -> None:
    good = [
        visit(day(1), "revisit"),
        complaint(day(2)),
        callback(day(3), reason="complaint", complaint_id="K1"),
    ]
    lines = [
        touchpoint_json(good[0]),
        "{not json",
        touchpoint_json(good[1]),
        '{"type": "teleport"}',
        touchpoint_json(good[2]),
    ]
    bad_version = json.loads(touchpoint_json(good[0])) | {"event_id": "v2", "schema_version": 2}
    lines.append(json.dumps(bad_version))
    source = write_lines(tmp_path / "in.jsonl", lines)

    report = engine.ingest_file(source)

    assert (report.read, report.applied, report.duplicates, report.rejected) == (6, 3, 0, 3)
    dead = [json.loads(line) for line in dead_letter_path(source).read_text().splitlines()]
    assert [(d["line"], d["field"]) for d in dead] == [(2, "json"), (4, "type"), (6, "schema_version")]
    assert all(d["reason"] for d in dead)
    assert dead[0]["raw"] == "{not json"


def test_dead_letters_hold_personal_data_only_as_keyed_hashes_when_a_registration_is_rejected(
    engine: Engine, tmp_path: Path
) -> None:
    line = json.loads(touchpoint_json(registered(day(0), name="Zhang San", phone="13800000000")))
    line["data"]["usage"] = "fleet"
    source = write_lines(tmp_path / "in.jsonl", [json.dumps(line, ensure_ascii=False)])

    with capture_logs() as logs:
        report = engine.ingest_file(source)

    [dead] = [json.loads(d) for d in dead_letter_path(source).read_text(encoding="utf-8").splitlines()]
    assert (report.rejected, dead["line"], dead["field"]) == (1, 1, "data.usage")
    assert dead["reason"].startswith("data.usage: ")
    assert json.loads(dead["raw"]) == line | {
        "data": line["data"]
        | {"name": pseudonym("Zhang San", "test-key"), "phone": pseudonym("13800000000", "test-key")}
    }
    assert any(entry["event"] == "touchpoint_rejected" for entry in logs)
    for secret in ("Zhang San", "13800000000"):
        assert secret not in dead["raw"]
        assert secret not in str(logs)


def test_a_registration_line_that_is_not_json_reaches_the_dead_letters_without_its_personal_data(
    engine: Engine, tmp_path: Path
) -> None:
    whole = touchpoint_json(registered(day(0), name="Zhang San", phone="13800000000", national_id="110101X"))
    cut = whole[: whole.index("110101X") + 4]  # cut short inside the national id
    bare = '{"type": "customer_registered", "data": {"phone": 13800000001, "name": "Li \\"Si\\"" broken'
    python_repr = "{'type': 'customer_registered', 'data': {'name': 'Qian Duoduo', 'phone': '+86 136 9999'}}"
    misplaced = json.loads(touchpoint_json(registered(day(0)))) | {
        "name": "Zhao Tiezhu",
        "phone": "+86 137 7777",
    }
    source = write_lines(tmp_path / "in.jsonl", [cut, bare, python_repr, json.dumps(misplaced)])

    report = engine.ingest_file(source)

    text = dead_letter_path(source).read_text(encoding="utf-8")
    assert report.rejected == 4
    assert [json.loads(d)["field"] for d in text.splitlines()] == ["json", "json", "json", "name"]
    for secret in (
        "Zhang San",
        "13800000000",
        "1101",
        "13800000001",
        "Li ",
        "Si",
        "Qian",
        "9999",
        "Zhao",
        "7777",
    ):
        assert secret not in text
    assert pseudonym("Zhang San", "test-key") in text


def test_a_personal_value_posing_as_a_hash_is_hashed_all_the_same(engine: Engine) -> None:
    engine.app.ingest([registered(day(0), name="hmac-sha256:Wang Fang")])

    stored = engine.app.customer_history("C1")[0].touchpoint

    assert stored.data.name == pseudonym("hmac-sha256:Wang Fang", "test-key")  # type: ignore[union-attr]
    assert "Wang Fang" not in stored.data.name  # type: ignore[union-attr, operator]


def test_a_file_saved_with_a_byte_order_mark_is_read_from_its_first_line(
    engine: Engine, tmp_path: Path
) -> None:
    lines = [touchpoint_json(visit(day(i), "revisit", event_id=f"v{i}")) for i in range(2)]
    source = tmp_path / "excel.jsonl"
    source.write_bytes(b"\xef\xbb\xbf" + "\r\n".join(lines).encode() + b"\r\n")

    report = engine.ingest_file(source)

    assert (report.applied, report.rejected) == (2, 0)


def test_a_clean_re_ingest_leaves_no_dead_letter_file_when_the_bad_line_was_fixed(
    engine: Engine, tmp_path: Path
) -> None:
    good = [touchpoint_json(visit(day(i), "revisit", event_id=f"v{i}")) for i in range(2)]
    source = write_lines(tmp_path / "ex.jsonl", [good[0], "{not json"])
    engine.ingest_file(source)
    write_lines(source, good)

    report = engine.ingest_file(source)

    assert (report.applied, report.rejected, report.dead_letters) == (1, 0, None)
    assert not dead_letter_path(source).exists()


def test_the_dead_letter_file_describes_only_the_last_run_when_a_file_is_ingested_again(
    engine: Engine, tmp_path: Path
) -> None:
    good = touchpoint_json(visit(day(1), "revisit"))
    source = write_lines(tmp_path / "ex.jsonl", ["{not json", '{"type": "teleport"}', good])
    engine.ingest_file(source)
    write_lines(source, [good, '{"type": "teleport"}'])

    report = engine.ingest_file(source)

    dead = [json.loads(d) for d in dead_letter_path(source).read_text(encoding="utf-8").splitlines()]
    assert (report.rejected, report.dead_letters) == (1, dead_letter_path(source))
    assert [(d["line"], d["field"]) for d in dead] == [(2, "type")]


def test_re_ingesting_the_same_file_changes_nothing(engine: Engine, tmp_path: Path) -> None:
    tps = [visit(day(i), "revisit", customer=f"C{i % 5}") for i in range(40)] + [maintenance(day(50))]
    source = write_lines(tmp_path / "in.jsonl", [touchpoint_json(t) for t in tps])
    engine.ingest_file(source)
    before = engine.customer("C1", day(60))

    again = engine.ingest_file(source)

    assert (again.applied, again.duplicates) == (0, len(tps))
    assert engine.customer("C1", day(60)) == before


def test_personal_data_is_stored_only_as_keyed_hashes(
    engine: Engine, database_url: str, tmp_path: Path
) -> None:
    tp = registered(
        day(0), usage="private", name="Zhang San", phone="13800000000", national_id="110101199001011234"
    )

    engine.app.ingest([tp])

    stored = engine.app.customer_history("C1")[0].touchpoint
    assert stored.data.phone.startswith("hmac-sha256:")  # type: ignore[union-attr]
    raw_rows = engine.app.recorder.select_notifications(None, 100)
    dump = b"".join(n.state for n in raw_rows)
    for secret in (b"Zhang San", b"13800000000", b"110101199001011234"):
        assert secret not in dump
    if database_url.startswith("sqlite"):
        assert b"13800000000" not in Path(database_url.removeprefix("sqlite:///")).read_bytes()


def test_known_at_alone_shows_the_view_as_the_engine_showed_it_then(engine: Engine) -> None:
    engine.app.ingest([visit(day(0), "revisit", event_id="v0")])
    then = datetime.now(UTC)
    time.sleep(0.01)
    engine.app.ingest([visit(day(0, hours=-1), "payment_method_set", event_id="late")])  # occurred earlier

    view = engine.customer("C1", known_at=then)
    replay = engine.history("C1", known_at=then)

    assert view["as_of"] == replay["as_of"] == then.isoformat()  # as of then, not of now
    assert "late" not in view["intent"]["decided_by"]
    assert [s["event_id"] for s in replay["steps"] if s["event_id"]] == ["v0"]
    assert "late" in engine.customer("C1", as_of=day(1))["intent"]["decided_by"]


def test_an_event_id_recorded_for_one_customer_is_not_applied_again_for_another(
    engine: Engine, open_engine
) -> None:  # type: ignore[no-untyped-def]
    first = visit(day(0), "revisit", event_id="dup-1", customer="C-A")
    again = visit(day(0), "payment_method_set", event_id="dup-1", customer="C-B")  # corrected, or a clash
    dealer_level = touchpoint("service_standard_set", day(0), {}, customer=None, event_id="dup-1")

    with capture_logs() as logs:
        a = engine.app.ingest([first])
        b = open_engine().app.ingest([again, dealer_level])  # another process: no shared cache

    assert (a.applied, b.applied, b.duplicates) == (1, 0, 2)
    assert [r.touchpoint.event_id for r in engine.app.customer_history("C-A")] == ["dup-1"]
    assert engine.app.customer_history("C-B") == [] and engine.app.dealer_history("D1") == []
    assert sum(1 for e in logs if e["event"] == "event_id_recorded_elsewhere") == 2


def test_a_store_older_than_the_event_id_index_fills_it_on_open(tmp_path: Path) -> None:
    from journey.settings import Settings

    url = f"sqlite:///{tmp_path}/old.db"
    old = Engine.open(Settings(database_url=url, pii_key="test-key"))
    old.app.ingest([visit(day(i), event_id=f"v{i}", customer="C-A") for i in range(3)])
    table = event_ids_table(old.app.process_recorder.events_table_name)
    with old.app.process_recorder.datastore.transaction(commit=True) as c:
        c.execute(f"DELETE FROM {table}")  # as a store written before the index was
    old.close()

    reopened = Engine.open(Settings(database_url=url, pii_key="test-key"))
    outcome = reopened.app.ingest([visit(day(5), event_id="v1", customer="C-B")])

    assert reopened.app.process_recorder.select_event_ledgers(["v0", "v1", "v2", "v9"]).keys() == {
        "v0",
        "v1",
        "v2",
    }
    assert (outcome.applied, outcome.duplicates) == (0, 1)
    reopened.close()


def test_a_postgresql_store_opened_with_the_public_development_key_says_so(database_url: str) -> None:
    from journey.settings import DEVELOPMENT_PII_KEY, Settings

    with capture_logs() as logs:
        Engine.open(Settings(database_url=database_url, pii_key=DEVELOPMENT_PII_KEY)).close()
        Engine.open(Settings(database_url=database_url, pii_key="a-secret")).close()

    warned = [e for e in logs if e["event"] == "pii_key_public"]
    assert len(warned) == (1 if database_url.startswith("postgresql") else 0)
