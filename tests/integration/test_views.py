"""Tracked views on SQLite and PostgreSQL: reports equal the sum of customer answers, live
views built from shuffled and duplicated arrivals equal a rebuild, and a projection killed
mid-batch resumes to the same views."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from journey.demo_data import generate
from journey.engine import Engine
from journey.errors import RulesMismatchError
from journey.rebuild import rebuild
from journey.touchpoints import AnyTouchpoint, parse_touchpoint

INSTANTS = [
    datetime(2024, 9, 1, tzinfo=UTC),  # a snapshot instant (month start)
    datetime(2024, 9, 1, tzinfo=UTC) - timedelta(microseconds=1),
    datetime(2025, 6, 15, 12, tzinfo=UTC),
    datetime(2025, 6, 25, tzinfo=UTC),  # nearer the next month start
    datetime(2026, 11, 1, tzinfo=UTC),
    datetime(2041, 6, 1, tzinfo=UTC),  # past the snapshots' horizon
]


@pytest.fixture(scope="module")
def data_set() -> list[AnyTouchpoint]:
    return [parse_touchpoint(tp) for tp in generate(seed=11, customers=150, dealers=3)]


def test_report_counts_equal_the_sum_of_customer_answers(
    engine: Engine, data_set: list[AnyTouchpoint]
) -> None:
    engine.app.ingest(data_set)
    engine.views.catch_up()
    customers = sorted({tp.customer_id for tp in data_set if tp.customer_id})
    dealers = sorted({tp.dealer_id for tp in data_set})

    for at in INSTANTS:
        views = [
            engine.customer(c, at)
            for c in customers
            if any(tp.customer_id == c and tp.occurred_at <= at for tp in data_set)
        ]
        for dealer in dealers:
            mine = [v for v in views if v["dealer_id"] == dealer]
            report = engine.report(dealer, at)
            levels = Counter(v["intent"]["level"] for v in mine if v["intent"]["level"])
            statuses = Counter(v["retention"]["status"] for v in mine)
            assert report["customers"] == len(mine)
            assert {k: n for k, n in report["leads"]["by_level"].items() if n} == dict(levels)
            assert report["owners"]["by_status"] == {
                s: statuses.get(s, 0) for s in report["owners"]["by_status"]
            }
            assert report["prospects"] == statuses.get("prospect", 0)
            assert report["leads"]["overdue_follow_ups"] == sum(
                v["intent"]["follow_up_overdue"] for v in mine
            )


def test_rows_computed_by_worker_processes_equal_rows_computed_in_process(
    engine: Engine, data_set: list[AnyTouchpoint]
) -> None:
    engine.app.ingest(data_set)
    engine.views.workers, engine.views.min_jobs_per_worker = 2, 1
    engine.views.catch_up(chunk=40)
    assert engine.views.last_workers == 2

    engine.views.workers = 1
    result = rebuild(engine.views, verify=True)

    assert result.identical, result.differences
    assert result.rows["customer_state"] > 150


def test_live_views_from_shuffled_duplicated_batches_equal_a_rebuild(
    engine: Engine, data_set: list[AnyTouchpoint]
) -> None:
    rnd = random.Random(3)
    arrivals = data_set + rnd.sample(data_set, k=len(data_set) // 4)
    rnd.shuffle(arrivals)

    for start in range(0, len(arrivals), 700):
        engine.app.ingest(arrivals[start : start + 700])
        engine.views.catch_up()
    result = rebuild(engine.views, verify=True)

    assert result.identical, result.differences
    assert result.rows["customer_state"] > 150


def test_a_rebuild_made_live_answers_as_before_and_keeps_following_the_store(
    engine: Engine, data_set: list[AnyTouchpoint]
) -> None:
    first, later = data_set[: len(data_set) // 2], data_set[len(data_set) // 2 :]
    engine.app.ingest(first)
    engine.views.catch_up()
    dealers = sorted({tp.dealer_id for tp in data_set})
    window = (INSTANTS[0], INSTANTS[4])

    def answers() -> list[object]:  # every read of the view tables
        return [
            *(engine.report(d, at) for d in dealers for at in INSTANTS),
            *(engine.tasks(d, at) for d in dealers for at in INSTANTS[:5]),
            *(engine.gaps(d, *window, as_of=INSTANTS[5]) for d in dealers),
        ]

    before = answers()
    result = rebuild(engine.views, verify=False)  # the rebuilt tables replace the live ones

    assert result.rows["customer_state"] > 0
    assert answers() == before
    engine.app.ingest(later)
    engine.views.catch_up()
    assert engine.views.lag() == 0
    assert rebuild(engine.views, verify=True).identical  # the adopted tables kept their keys and indexes


def test_a_projection_killed_mid_batch_resumes_to_the_same_views(
    engine: Engine, data_set: list[AnyTouchpoint], database_url: str, tmp_path: Path
) -> None:
    engine.app.ingest(data_set)
    env = os.environ | {"JOURNEY_DATABASE_URL": database_url, "JOURNEY_PII_KEY": "test-key"}
    script = (
        "from journey.engine import Engine; from journey.settings import Settings\n"
        "e = Engine.open(Settings()); print('ready', flush=True); e.views.catch_up(chunk=7)\n"
    )
    rnd = random.Random(5)
    kills = 0
    for _ in range(3):
        proc = subprocess.Popen(
            [sys.executable, "-c", script], env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL
        )
        assert proc.stdout is not None
        proc.stdout.readline()
        time.sleep(rnd.uniform(0.05, 0.4))
        if proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
            kills += 1
        proc.wait()
    subprocess.run([sys.executable, "-c", script], env=env, check=True, capture_output=True)

    assert kills >= 1
    assert engine.views.lag() == 0
    result = rebuild(engine.views, verify=True)
    assert result.identical, result.differences


def test_a_store_made_before_the_report_snapshots_gets_them_when_opened(
    engine: Engine, open_engine: Callable[[], Engine], data_set: list[AnyTouchpoint]
) -> None:
    engine.app.ingest(data_set)
    engine.views.catch_up()
    dealer = sorted({tp.dealer_id for tp in data_set})[0]
    before = [engine.report(dealer, at) for at in INSTANTS]
    with engine.views.recorder.datastore.transaction(commit=True) as c:  # type: ignore[attr-defined]
        c.execute(f"DELETE FROM {engine.views.recorder.prefix}_state_snapshot")

    reopened = open_engine()

    assert reopened.views.recorder.select("SELECT COUNT(*) FROM {state_snapshot}")[0][0] > 0
    assert [reopened.report(dealer, at) for at in INSTANTS] == before


def test_views_of_other_rules_are_recomputed_with_the_rules_in_force(
    database_url: str, tmp_path: Path, data_set: list[AnyTouchpoint]
) -> None:
    from journey.settings import Settings

    rules_file = tmp_path / "rules.toml"
    rules_file.write_text('version = "slow-followups"\n[intent.levels.N]\nfollow_up_days = 3\n')
    first = Engine.open(Settings(database_url=database_url, pii_key="test-key"))
    first.app.ingest(data_set)
    first.views.catch_up()
    default_label = first.rules.label
    dealer = sorted({tp.dealer_id for tp in data_set})[0]
    follow_ups = "SELECT key, valid_from, due_at FROM {task} WHERE kind = 'follow_up'"
    before = set(first.views.recorder.select(follow_ups))
    first.close()

    engine = Engine.open(Settings(database_url=database_url, pii_key="test-key", rules=str(rules_file)))
    try:
        assert engine.views.built_with() == default_label  # until a catch-up, the views say what built them
        with pytest.raises(RulesMismatchError, match="slow-followups"):  # never an answer of other rules
            engine.report(dealer, INSTANTS[4])
        with pytest.raises(RulesMismatchError):  # a reader (a what-if rules file) does not replace them
            engine.views.catch_up(adopt_rules=False)
        with pytest.raises(RulesMismatchError):  # nor does rebuild --verify
            rebuild(engine.views, verify=True)
        assert set(engine.views.recorder.select(follow_ups)) == before
        engine.views.catch_up()  # a writer: nothing new recorded, but the rules changed: every row recomputed

        assert engine.views.built_with() == engine.rules.label != default_label
        labels = {
            r[0]
            for t in ("customer_state", "task", "service_fact")
            for r in engine.views.recorder.select(f"SELECT DISTINCT rules FROM {{{t}}}")
        }
        assert labels == {engine.rules.label}
        assert engine.tasks(dealer, INSTANTS[4])["rules_version"] == engine.rules.label
        assert set(engine.views.recorder.select(follow_ups)) != before  # N leads: followed up every 3 days
        assert rebuild(engine.views, verify=True).identical
    finally:
        engine.close()


def test_view_workers_do_not_outlive_a_rebuild_killed_with_sigkill(tmp_path: Path) -> None:
    from journey.settings import Settings
    from tests.processes import children_of

    url = f"sqlite:///{tmp_path}/big.db"
    engine = Engine.open(Settings(database_url=url, pii_key="test-key"))
    engine.app.ingest([parse_touchpoint(tp) for tp in generate(seed=3, customers=2100)])
    engine.close()
    env = os.environ | {"JOURNEY_DATABASE_URL": url, "JOURNEY_VIEW_WORKERS": "2"}
    rebuilding = subprocess.Popen([sys.executable, "-m", "journey.cli", "rebuild"], env=env)
    deadline = time.monotonic() + 120
    while len(children_of(rebuilding.pid)) < 2 and rebuilding.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)
    workers = children_of(rebuilding.pid)
    assert len(workers) >= 2

    rebuilding.kill()
    rebuilding.wait(timeout=30)

    deadline = time.monotonic() + 10
    while any(Path(f"/proc/{pid}").exists() for pid in workers) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not [pid for pid in workers if Path(f"/proc/{pid}").exists()]


def test_a_long_catch_up_says_how_far_it_is(
    engine: Engine, data_set: list[AnyTouchpoint], monkeypatch: pytest.MonkeyPatch
) -> None:
    from journey.projections import workers

    class Lines:  # a fake logger that keeps what it is told
        def __init__(self) -> None:
            self.lines: list[dict[str, object]] = []

        def info(self, event: str, **fields: object) -> None:
            self.lines.append({"event": event, **fields})

    lines = Lines()
    monkeypatch.setattr(workers, "log", lines)
    monkeypatch.setattr(workers, "PROGRESS_EVERY_S", 0.0)  # after every group
    engine.app.ingest(data_set)

    engine.views.catch_up(chunk=50)

    progress = [e for e in lines.lines if e["event"] == "views_progress"]
    customers = len({tp.customer_id for tp in data_set if tp.customer_id})
    dealers = len({tp.dealer_id for tp in data_set if tp.customer_id is None})
    assert len(progress) > 1
    assert [e["written"] for e in progress] == sorted({e["written"] for e in progress})  # it only grows
    assert progress[-1]["written"] == progress[-1]["of"] == customers + dealers


def test_rebuild_verify_leaves_no_table_of_the_rebuild_behind(
    engine: Engine, database_url: str, data_set: list[AnyTouchpoint]
) -> None:
    from journey.rebuild import REBUILD_PREFIX

    engine.app.ingest(data_set[:400])
    engine.views.catch_up()

    assert rebuild(engine.views, verify=True).identical

    tables = (
        "SELECT name FROM sqlite_master WHERE type = 'table'"
        if database_url.startswith("sqlite")
        else "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema()"
    )
    names = [str(r[0]) for r in engine.views.recorder.select(tables)]
    assert any(n.startswith("views_") for n in names)
    assert not [n for n in names if n.startswith(f"{REBUILD_PREFIX}_")]
