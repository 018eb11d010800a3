"""Writing view rows on SQLite and PostgreSQL: a write keeps a key's stored rows that are among
its new rows (and adjusts the summary by the others only), and a rebuild interrupted after
some of its writes gives, rerun, exactly the live views."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from typing import Any

from journey.demo_data import generate
from journey.engine import Engine
from journey.projections.runner import Views
from journey.projections.store import Row, Summary, Table, _difference, open_view_recorder
from journey.rebuild import REBUILD_PREFIX, rebuild
from journey.touchpoints import parse_touchpoint


def _by_colour(old: list[Row], new: list[Row]) -> Mapping[tuple[Any, ...], int]:
    deltas = Counter(("all", colour) for (colour,) in new)
    deltas.subtract(("all", colour) for (colour,) in old)
    return deltas


COLOURS = Table(
    name="colours",
    columns=(("palette", "TEXT NOT NULL"), ("colour", "TEXT NOT NULL"), ("n", "BIGINT NOT NULL")),
    key="palette",
)
ITEM = Table(
    name="item",
    columns=(("owner", "TEXT NOT NULL"), ("colour", "TEXT NOT NULL"), ("size", "INTEGER")),
    key="owner",
    summary=Summary(
        table=COLOURS, source_columns=("colour",), unique=("palette", "colour"), count="n", deltas=_by_colour
    ),
)


def test_the_difference_pairs_identical_rows_off_as_multisets() -> None:
    stored = [("a", 1, "loc1"), ("a", 1, "loc2"), ("b", None, "loc3")]

    stale, added = _difference(stored, [("a", 1), ("c", 2), ("c", 2)])

    assert [row[:-1] for row in stale] == [("a", 1), ("b", None)]
    assert added == [("c", 2), ("c", 2)]


def test_a_write_keeps_the_stored_rows_among_the_new_ones(engine: Engine) -> None:
    recorder: Any = open_view_recorder(engine.app.factory, prefix="wt", tables=[ITEM])

    def stored() -> list[Row]:
        return sorted(recorder.select(f"SELECT owner, colour, size, {recorder.locator} FROM {{item}}"))

    def colours() -> dict[str, int]:
        return dict(recorder.select("SELECT colour, n FROM {colours}"))

    recorder.write(
        {"item": {"x": [("x", "red", 1), ("x", "red", 1), ("x", "blue", None)], "y": [("y", "red", 2)]}}, None
    )
    before = stored()
    recorder.write({"item": {"x": [("x", "red", 1), ("x", "green", 3)]}}, None)
    after = stored()

    assert [r[:3] for r in after] == [("x", "green", 3), ("x", "red", 1), ("y", "red", 2)]
    assert {r for r in after if r[:3] != ("x", "green", 3)} <= set(before)  # not rewritten
    assert colours() == {"red": 2, "green": 1}  # blue's count reached 0: its row is gone
    recorder.write({"item": {"x": [], "y": [("y", "red", 2)]}}, None)
    assert [r[:3] for r in stored()] == [("y", "red", 2)]
    assert colours() == {"red": 1}


def test_a_rebuild_rerun_after_an_interrupted_one_gives_the_live_views(engine: Engine) -> None:
    engine.app.ingest([parse_touchpoint(tp) for tp in generate(seed=5, customers=40, dealers=2)])
    engine.views.catch_up()
    interrupted = Views.open(engine.app, engine.rules, prefix=REBUILD_PREFIX, bulk=True)
    customers = sorted(engine.app.touched(0, engine.views.position()).customers)
    rows = interrupted.rows.changes_for([("customer", c) for c in customers[:10]])
    interrupted.recorder.write(rows, None, fresh=True)  # a worker's group written, then a crash

    result = rebuild(engine.views, verify=True)

    assert result.identical, result.differences
    assert result.rows["customer_state"] > 40
