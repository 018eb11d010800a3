"""No input line can crash `journey ingest` (hypothesis fuzz)."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from journey.application import JourneyApplication
from journey.ingest import dead_letter_path, ingest_file
from journey.touchpoints import touchpoint_json
from tests.builders import day, visit

GOOD = json.loads(touchpoint_json(visit(day(0), "revisit", event_id="good-1")))

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
    max_leaves=12,
)


def mutated_envelope(field: str, value: Any) -> bytes:
    env = GOOD | {"event_id": "m"}
    if field.startswith("data."):
        env = env | {"data": GOOD["data"] | {field[5:]: value}}
    else:
        env = env | {field: value}
    return json.dumps(env).encode()


fields = st.sampled_from(
    [
        "event_id",
        "type",
        "customer_id",
        "dealer_id",
        "occurred_at",
        "schema_version",
        "data",
        "source",
        "data.purpose",
        "data.signals",
        "data.models",
        "data.unknown",
    ]
)
lines = st.one_of(
    st.binary(max_size=200).map(lambda b: b.replace(b"\n", b" ").replace(b"\r", b" ")),
    st.text(max_size=200).map(
        lambda s: s.replace("\n", " ").replace("\r", " ").encode("utf-8", "surrogatepass")
    ),
    json_values.map(lambda v: json.dumps(v).encode()),
    st.builds(mutated_envelope, fields, json_values),
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(lines, max_size=12))
def test_no_input_line_can_crash_ingest(garbage: list[bytes]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        app = JourneyApplication(f"sqlite:///{tmp}/j.db", pii_key="k")
        source = Path(tmp) / "in.jsonl"
        good = json.dumps(GOOD).encode()
        source.write_bytes(b"\n".join([good, *garbage, good]) + b"\n")

        report = ingest_file(app, source)

        assert report.read == report.applied + report.duplicates + report.rejected
        assert report.applied >= 1
        assert next(r.touchpoint.event_id for r in app.customer_history(GOOD["customer_id"])) == "good-1"
        if report.rejected:
            dead = dead_letter_path(source).read_text(encoding="utf-8").splitlines()
            assert len(dead) == report.rejected
            assert all(json.loads(d)["reason"] for d in dead)
        app.close()
