"""The service-fact view on SQLite and PostgreSQL: `engine.gaps` (fact rows selected by window, then
aggregated) equals the pure gaps of the touchpoints, whatever the arrival order and duplicates."""

from __future__ import annotations

import itertools
import json
import os
import random
import subprocess
import sys
from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from journey.demo_data import generate
from journey.engine import Engine
from journey.projections.history import TICK
from journey.projections.service_gaps import Fact, customer_facts, dealer_facts, gaps
from journey.projections.standards import standards_lookup
from journey.rebuild import rebuild
from journey.rules import Rules
from journey.touchpoints import AnyTouchpoint, parse_touchpoint
from tests import builders as b

WINDOWS = [
    (datetime(2024, 1, 1, tzinfo=UTC), datetime(2026, 11, 1, tzinfo=UTC)),
    (datetime(2025, 3, 1, tzinfo=UTC), datetime(2025, 6, 1, tzinfo=UTC)),
    (datetime(2025, 6, 1, 12, 30, tzinfo=UTC), datetime(2025, 6, 8, 7, tzinfo=UTC)),
]
#: After every touchpoint of the data set.
LATER = datetime(2030, 1, 1, tzinfo=UTC)


def facts_of(touchpoints: Iterable[AnyTouchpoint], rules: Rules) -> list[Fact]:
    """customer_facts of each customer (with its dealers' standards) + dealer_facts, from the touchpoints."""
    tps = list(touchpoints)
    dealer_tps = [tp for tp in tps if tp.customer_id is None]
    lookup = standards_lookup(dealer_tps, rules)
    out = dealer_facts(dealer_tps, rules)
    for c in sorted({tp.customer_id for tp in tps if tp.customer_id is not None}):
        out += customer_facts([tp for tp in tps if tp.customer_id == c], rules, lookup)
    return out


def ingest_shuffled(engine: Engine, tps: list[AnyTouchpoint], rnd: random.Random, batch: int) -> None:
    """Ingest with a quarter duplicated, in shuffled order, catching the views up after each batch."""
    arrivals = tps + rnd.sample(tps, k=len(tps) // 4)
    rnd.shuffle(arrivals)
    for start in range(0, len(arrivals), batch):
        engine.app.ingest(arrivals[start : start + batch])
        engine.views.catch_up()


@pytest.fixture(scope="module")
def data_set() -> list[AnyTouchpoint]:
    return [parse_touchpoint(tp) for tp in generate(seed=23, customers=120, dealers=3)]


def test_gaps_from_the_view_equal_the_pure_gaps_of_the_touchpoints(
    engine: Engine, data_set: list[AnyTouchpoint]
) -> None:
    # given
    ingest_shuffled(engine, data_set, random.Random(4), batch=600)
    facts = facts_of(data_set, engine.rules)
    dealers = sorted({tp.dealer_id for tp in data_set})

    for dealer, (start, end) in itertools.product(dealers, WINDOWS):
        for at in (end - TICK, end + timedelta(days=10), LATER):
            # when
            from_view = engine.gaps(dealer, start, end, at)

            # then
            assert from_view == gaps(facts, dealer, start, end, engine.rules, as_of=at)
    whole = engine.gaps(dealers[0], *WINDOWS[0], LATER)
    assert whole["dimensions"]["responsiveness"]["gap3"]["n"] > 50
    assert whole["servqual_score"]["weighted"]["n"] > 0
    assert rebuild(engine.views, verify=True).identical


def test_a_late_stricter_standard_recomputes_the_facts_it_decides(engine: Engine) -> None:
    # given: a complaint called back after 30 hours; the dealer's 24-hour standard arrives afterwards
    tps = [
        b.complaint(b.day(5), customer="C-late"),
        b.callback(b.day(5, hours=30), reason="complaint", customer="C-late"),
    ]
    engine.app.ingest(tps)
    engine.views.catch_up()
    before = engine.gaps(b.DEALER, b.day(0), b.day(30))

    # when
    engine.app.ingest([b.standard_set(b.day(1), complaint_callback_hours=24)])
    engine.views.catch_up()
    after = engine.gaps(b.DEALER, b.day(0), b.day(30))

    # then
    metric = "complaint_callback"
    assert before["dimensions"]["responsiveness"]["gap3"]["metrics"][metric]["share"] == 1.0
    assert after["dimensions"]["responsiveness"]["gap3"]["metrics"][metric]["share"] == 0.0


_examples = itertools.count(1)


def journey_template(n: int, dealer: str) -> list[AnyTouchpoint]:
    """A small dealer with two customers whose facts cover every kind (ids unique per example)."""
    c1, c2 = f"C-{n}-1", f"C-{n}-2"
    kw1: dict[str, Any] = {"customer": c1, "dealer": dealer}
    kw2: dict[str, Any] = {"customer": c2, "dealer": dealer}
    weights = {"reliability": 30, "responsiveness": 25, "assurance": 15, "empathy": 15, "tangibles": 15}
    return [
        b.standard_set(
            b.day(3), dealer=dealer, complaint_callback_hours=24, post_service_callback_working_days=2
        ),
        b.management_survey(b.day(0), dealer=dealer, perceived_expectations=6.5),
        b.order(b.day(0), promised_delivery_date=date(2026, 1, 9), **kw1),
        b.delivery(b.day(5), explained_items=("features", "warranty"), **kw1),
        b.callback(b.day(7), reason="post_delivery", **kw1),
        b.complaint(b.day(6), "K1", **kw1),
        b.callback(b.day(6, hours=20), reason="complaint", complaint_id="K1", **kw1),
        b.servqual(
            b.day(8), expectations=6.5, perceptions={"reliability": 5, "empathy": 6}, weights=weights, **kw1
        ),
        b.maintenance(b.day(4), promised_ready_at=b.day(4, hours=3), ready_at=b.day(4, hours=5), **kw2),
        b.callback(b.day(8), reason="post_service", **kw2),
        b.maintenance(b.day(20), kind="repair", repeat_repair=True, **kw2),
        b.complaint(b.day(21), "K2", **kw2),
        b.callback(b.day(22, hours=1), reason="complaint", **kw2),
        b.csi(b.day(9), 88, **kw2),
        b.servqual(b.day(9), expectations=6, perceptions=5.5, **kw2),
    ]


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    seed=st.integers(0, 2**32 - 1),
    batch=st.integers(1, 20),
    cut=st.integers(1, 30),
    hours=st.integers(-24 * 30, 24 * 30),
)
def test_gaps_do_not_depend_on_arrival_order_or_duplicates(
    engine: Engine, seed: int, batch: int, cut: int, hours: int
) -> None:
    # given: a fresh dealer per example, its touchpoints shuffled, duplicated and split into batches
    n = next(_examples)
    dealer = f"D-prop-{n}"
    tps = journey_template(n, dealer)
    ingest_shuffled(engine, tps, random.Random(seed), batch)
    from_, to = b.day(-1), b.day(cut)
    at = to + timedelta(hours=hours)  # as of before or after the window's end

    # when
    from_view = engine.gaps(dealer, from_, to, at)

    # then: a function of the touchpoints that occurred by T only
    assert from_view == gaps(facts_of(tps, engine.rules), dealer, from_, to, engine.rules, as_of=at)
    known = [tp for tp in tps if tp.occurred_at <= at]
    assert from_view == gaps(facts_of(known, engine.rules), dealer, from_, to, engine.rules, as_of=at)


def test_a_touchpoint_at_the_end_of_the_window_is_measured_once_its_callback_is_known(engine: Engine) -> None:
    # given: a maintenance on the window's last day, called back on the next day
    kw: dict[str, Any] = {"customer": "C-edge", "dealer": "D-edge"}
    engine.app.ingest(
        [b.maintenance(b.day(29, hours=8), **kw), b.callback(b.day(30, hours=8), reason="post_service", **kw)]
    )
    engine.views.catch_up()
    window = (b.day(0), b.day(30))

    # when
    def post_service(at: datetime) -> dict[str, Any]:
        metrics = engine.gaps("D-edge", *window, at)["dimensions"]["responsiveness"]["gap3"]["metrics"]
        return {k: metrics["post_service_callback"][k] for k in ("met", "total", "pending")}

    # then: pending while the callback may still come, measured in its own window once it came
    assert post_service(b.day(30) - TICK) == {"met": 0, "total": 0, "pending": 1}
    assert post_service(b.day(30, hours=8)) == {"met": 1, "total": 1, "pending": 0}
    assert post_service(b.day(60)) == {"met": 1, "total": 1, "pending": 0}
    assert (
        engine.gaps("D-edge", b.day(30), b.day(60), b.day(60))["dimensions"]["responsiveness"]["gap3"]["n"]
        == 0
    )


def test_journey_gaps_prints_the_json_of_engine_gaps(engine: Engine, database_url: str) -> None:
    # given
    dealer = "D-cli"
    engine.app.ingest(journey_template(0, dealer))
    engine.views.catch_up()
    env = os.environ | {"JOURNEY_DATABASE_URL": database_url, "JOURNEY_PII_KEY": "test-key"}
    window = [
        "--from",
        b.day(-1).isoformat(),
        "--to",
        b.day(40).isoformat(),
        "--as-of",
        b.day(50).isoformat(),
    ]

    # when
    out = subprocess.run(
        [sys.executable, "-m", "journey.cli", "gaps", "--dealer", dealer, *window, "--json"],
        env=env, capture_output=True, text=True, check=True, timeout=120,
    )  # fmt: skip
    text = subprocess.run(
        [sys.executable, "-m", "journey.cli", "gaps", "--dealer", dealer, *window],
        env=env, capture_output=True, text=True, check=True, timeout=120,
    )  # fmt: skip

    # then
    assert json.loads(out.stdout) == engine.gaps(dealer, b.day(-1), b.day(40), b.day(50))
    assert "complaint_callback" in text.stdout and "servqual score" in text.stdout
