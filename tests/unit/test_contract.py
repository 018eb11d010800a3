"""The touchpoint contract (CONTRACT.md section 1): field rules, error messages, round trip."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from journey.errors import InvalidTouchpointError
from journey.touchpoints import SIGNAL_LEVEL, TYPES, json_schema, parse_touchpoint, touchpoint_json

VIN = "LFV2A21K8N3000001"
SCALE = {"reliability": 5, "responsiveness": 6, "assurance": 4, "empathy": 7, "tangibles": 1}

GOOD_DATA: dict[str, dict[str, Any]] = {
    "customer_registered": {"usage": "private", "name": "Zhang San", "phone": "13800000000"},
    "store_visit": {"purpose": "browse", "signals": ["revisit"], "models": ["C260L"]},
    "test_drive": {"model": "C260L"},
    "order_placed": {"model": "C260L", "price": "350000.00", "promised_delivery_date": "2026-06-01"},
    "lead_lost": {"reason": "price", "competitor": "BrandX"},
    "delivery": {"vin": VIN, "model": "C260L", "explained_items": ["features", "warranty"]},
    "maintenance": {
        "vin": VIN,
        "kind": "repair",
        "mileage_km": 12000,
        "amount": 880.5,
        "promised_ready_at": "2026-05-01T17:00:00+08:00",
        "ready_at": "2026-05-01T16:00:00+08:00",
    },
    "callback": {"reason": "complaint", "channel": "phone", "reached": True, "complaint_id": "K1"},
    "complaint": {"complaint_id": "K1", "category": "attitude", "severity": "high"},
    "complaint_resolved": {"complaint_id": "K1", "satisfied": False},
    "survey": {"kind": "servqual", "expectations": SCALE, "perceptions": SCALE},
    "service_standard_set": {"complaint_callback_hours": 24},
    "management_survey": {"perceived_expectations": SCALE, "standards_specification": SCALE},
}


def envelope(type_: str, data: dict[str, Any], **over: Any) -> dict[str, Any]:
    env: dict[str, Any] = {
        "event_id": "dms-7f0c1a",
        "type": type_,
        "customer_id": "C-000123",
        "dealer_id": "D-SH-01",
        "occurred_at": "2026-05-01T10:15:00+08:00",
        "source": "dms",
        "schema_version": 1,
        "data": data,
    }
    if type_ in ("service_standard_set", "management_survey"):
        del env["customer_id"]
    env.update(over)
    return {k: v for k, v in env.items() if v is not ...}


def rejected_field(raw: Any) -> str:
    with pytest.raises(InvalidTouchpointError) as info:
        parse_touchpoint(raw)
    assert info.value.field in str(info.value)
    return info.value.field


@pytest.mark.parametrize("type_", sorted(GOOD_DATA))
def test_every_type_of_the_contract_is_accepted(type_: str) -> None:
    tp = parse_touchpoint(envelope(type_, GOOD_DATA[type_]))

    assert tp.type == type_


def test_the_contract_knows_exactly_the_thirteen_types() -> None:
    assert set(TYPES) == set(GOOD_DATA)


def test_a_test_drive_signal_list_defaults_to_empty() -> None:
    tp = parse_touchpoint(envelope("test_drive", {"model": "C260L"}))

    assert tp.data.signals == ()  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("mutation", "field"),
    [
        ({"type": "teleport"}, "type"),
        ({"type": ...}, "type"),
        ({"event_id": ""}, "event_id"),
        ({"event_id": "x" * 129}, "event_id"),
        ({"customer_id": ...}, "customer_id"),
        ({"customer_id": "c" * 65}, "customer_id"),
        ({"dealer_id": ...}, "dealer_id"),
        ({"occurred_at": "2026-05-01T10:15:00"}, "occurred_at"),
        ({"occurred_at": "yesterday"}, "occurred_at"),
        ({"occurred_at": "2026-05-01T10:15+08:00"}, "occurred_at"),  # no seconds: not RFC 3339
        ({"occurred_at": "2026-05-01T10:15:00+0800"}, "occurred_at"),  # offset without its colon
        ({"occurred_at": "2026-05-01_10:15:00Z"}, "occurred_at"),
        ({"occurred_at": "2026-02-30T10:15:00Z"}, "occurred_at"),
        ({"event_id": "dms\u2028x"}, "event_id"),  # a line separator is not printable
        ({"event_id": "dms\u200bx"}, "event_id"),  # nor a zero-width space
        ({"schema_version": 2}, "schema_version"),
        ({"extra": 1}, "extra"),
        # the rules add decades to an instant: a placeholder year would break every view later
        ({"occurred_at": "9999-06-01T00:00:00Z"}, "occurred_at"),
        ({"occurred_at": "0001-01-01T00:00:00+01:00"}, "occurred_at"),
        ({"occurred_at": "1899-12-31T23:59:59Z"}, "occurred_at"),
        ({"occurred_at": "2200-01-01T00:00:00Z"}, "occurred_at"),
    ],
)
def test_a_broken_envelope_is_rejected_naming_the_field(mutation: dict[str, Any], field: str) -> None:
    raw = envelope("store_visit", GOOD_DATA["store_visit"], **mutation)

    assert rejected_field(raw) == field


@pytest.mark.parametrize(
    ("type_", "patch", "field"),
    [
        ("store_visit", {"purpose": "loiter"}, "data.purpose"),
        ("store_visit", {"signals": ["very_keen"]}, "data.signals.0"),
        ("store_visit", {"colour": "red"}, "data.colour"),
        ("delivery", {"vin": "LFV2A21K8N300000"}, "data.vin"),
        ("delivery", {"vin": "LFV2A21K8N300000I"}, "data.vin"),
        ("delivery", {"vin": "LFV2A21K8N300000O"}, "data.vin"),
        ("delivery", {"explained_items": ["gossip"]}, "data.explained_items.0"),
        ("maintenance", {"mileage_km": -1}, "data.mileage_km"),
        ("maintenance", {"mileage_km": "12000"}, "data.mileage_km"),
        ("maintenance", {"amount": -0.01}, "data.amount"),
        ("maintenance", {"ready_at": "2026-05-01T16:00:00"}, "data.ready_at"),
        ("order_placed", {"price": "a lot"}, "data.price"),
        ("order_placed", {"promised_delivery_date": "01/06/2026"}, "data.promised_delivery_date"),
        ("order_placed", {"promised_delivery_date": "9999-12-31"}, "data.promised_delivery_date"),
        ("delivery", {"promised_date": "9999-12-31"}, "data.promised_date"),
        ("maintenance", {"ready_at": "9999-12-31T23:59:59-12:00"}, "data.ready_at"),
        ("callback", {"reached": "yes"}, "data.reached"),
        ("callback", {"channel": "pigeon"}, "data.channel"),
        ("complaint", {"severity": "apocalyptic"}, "data.severity"),
        ("survey", {"perceptions": {**SCALE, "empathy": 8}}, "data.perceptions.empathy"),
        ("survey", {"perceptions": {**SCALE, "empathy": 0}}, "data.perceptions.empathy"),
        (
            "survey",
            {"perceptions": {k: v for k, v in SCALE.items() if k != "tangibles"}},
            "data.perceptions.tangibles",
        ),
        (
            "survey",
            {
                "weights": {
                    "reliability": 50,
                    "responsiveness": 10,
                    "assurance": 10,
                    "empathy": 10,
                    "tangibles": 10,
                }
            },
            "data.weights",
        ),
        ("survey", {"kind": "csi", "csi_score": 101}, "data.csi_score"),
        (
            "management_survey",
            {"standards_specification": {**SCALE, "assurance": 9}},
            "data.standards_specification.assurance",
        ),
    ],
)
def test_a_broken_payload_is_rejected_naming_the_field(type_: str, patch: dict[str, Any], field: str) -> None:
    raw = envelope(type_, {**GOOD_DATA[type_], **patch})

    assert rejected_field(raw) == field


def test_a_csi_survey_needs_its_score() -> None:
    raw = envelope("survey", {"kind": "csi"})

    assert rejected_field(raw) == "data.csi_score"


def test_a_servqual_survey_needs_expectations_and_perceptions() -> None:
    raw = envelope("survey", {"kind": "servqual", "perceptions": SCALE})

    assert rejected_field(raw) == "data.expectations"


def test_the_contracts_own_example_envelope_is_accepted() -> None:
    example = {  # CONTRACT.md section 1, verbatim: a store_visit with signals and no purpose
        "event_id": "dms-7f0c1a",
        "type": "store_visit",
        "customer_id": "C-000123",
        "dealer_id": "D-SH-01",
        "occurred_at": "2026-05-01T10:15:00+08:00",
        "source": "dms",
        "schema_version": 1,
        "data": {"signals": ["revisit", "trade_in_requested"], "models": ["C260L"]},
    }

    tp = parse_touchpoint(json.dumps(example))

    assert tp.data.purpose is None  # type: ignore[union-attr]
    assert tp.data.signals == ("revisit", "trade_in_requested")  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("text", "utc"),
    [
        ("2026-05-01T10:15:00+08:00", "2026-05-01T02:15:00+00:00"),
        ("2026-05-01T02:15:00Z", "2026-05-01T02:15:00+00:00"),
        ("2026-05-01t02:15:00z", "2026-05-01T02:15:00+00:00"),
        ("2026-05-01 02:15:00-00:00", "2026-05-01T02:15:00+00:00"),
        ("2026-05-01T02:15:00.5+00:00", "2026-05-01T02:15:00.500000+00:00"),
        ("2026-05-01T02:15:00.123456789+00:00", "2026-05-01T02:15:00.123456+00:00"),
    ],
)
def test_every_rfc_3339_form_of_an_instant_is_read(text: str, utc: str) -> None:
    from datetime import UTC

    tp = parse_touchpoint(envelope("store_visit", GOOD_DATA["store_visit"], occurred_at=text))

    assert tp.occurred_at.astimezone(UTC).isoformat() == utc


def test_weights_may_leave_out_a_dimension_that_gets_no_points() -> None:
    weights = {"reliability": 60, "empathy": 40}

    tp = parse_touchpoint(envelope("survey", {**GOOD_DATA["survey"], "weights": weights}))

    assert tp.data.weights.as_dict() == {  # type: ignore[union-attr]
        "reliability": 60,
        "responsiveness": 0,
        "assurance": 0,
        "empathy": 40,
        "tangibles": 0,
    }
    assert rejected_field(envelope("survey", {**GOOD_DATA["survey"], "weights": {"reliability": 60}})) == (
        "data.weights"
    )


def test_source_is_free_text() -> None:
    tp = parse_touchpoint(envelope("store_visit", GOOD_DATA["store_visit"], source="x" * 200))

    assert tp.source == "x" * 200


def test_a_dealer_level_touchpoint_has_no_customer() -> None:
    raw = envelope("service_standard_set", {}, customer_id="C-1")

    assert rejected_field(raw) == "customer_id"


def test_a_decimal_may_be_a_number_or_a_string_holding_one() -> None:
    as_text = parse_touchpoint(envelope("order_placed", {**GOOD_DATA["order_placed"], "price": "350000.10"}))
    as_number = parse_touchpoint(envelope("order_placed", {**GOOD_DATA["order_placed"], "price": 350000.10}))

    assert as_text.data.price == as_number.data.price  # type: ignore[union-attr]


@pytest.mark.parametrize("raw", [b"{", b"[]", b"42", b'"text"', b"\xff\xfe", b"null", b"{}"])
def test_garbage_is_rejected_not_crashed_on(raw: bytes) -> None:
    with pytest.raises(InvalidTouchpointError):
        parse_touchpoint(raw)


def test_personal_data_is_not_shown_in_the_repr() -> None:
    tp = parse_touchpoint(envelope("customer_registered", GOOD_DATA["customer_registered"]))

    assert "Zhang" not in repr(tp)
    assert "13800000000" not in repr(tp)


def test_the_json_schema_lists_every_type() -> None:
    schema = json.dumps(json_schema())

    for type_ in TYPES:
        assert f'"{type_}"' in schema


def test_every_signal_has_one_of_the_graded_levels() -> None:
    assert set(SIGNAL_LEVEL.values()) == {"C", "B", "A", "H"}
    assert len(SIGNAL_LEVEL) == 16


# ------------------------------------------------------------------ round trip (hypothesis)

dims = st.fixed_dictionaries({d: st.integers(1, 7) for d in SCALE})
offsets = st.sampled_from(["+08:00", "+00:00", "-05:00", "Z"])
instants = st.builds(
    lambda y, mo, d, h, mi, off: f"{y:04d}-{mo:02d}-{d:02d}T{h:02d}:{mi:02d}:00{off}",
    st.integers(2000, 2030),
    st.integers(1, 12),
    st.integers(1, 28),
    st.integers(0, 23),
    st.integers(0, 59),
    offsets,
)
signals = st.lists(st.sampled_from(sorted(SIGNAL_LEVEL)), max_size=4)
payloads = st.one_of(
    st.tuples(
        st.just("store_visit"),
        st.fixed_dictionaries(
            {
                "purpose": st.sampled_from(["browse", "negotiation", "service", "pickup", "other"]),
                "signals": signals,
            }
        ),
    ),
    st.tuples(
        st.just("order_placed"),
        st.fixed_dictionaries(
            {"model": st.text(min_size=1, max_size=10), "price": st.decimals(0, 10**7, places=2).map(str)}
        ),
    ),
    st.tuples(
        st.just("maintenance"),
        st.fixed_dictionaries(
            {
                "vin": st.just(VIN),
                "kind": st.sampled_from(["scheduled", "repair"]),
                "mileage_km": st.integers(0, 10**6),
                "amount": st.decimals(0, 10**5, places=2).map(str),
                "ready_at": instants,
            }
        ),
    ),
    st.tuples(
        st.just("survey"),
        st.fixed_dictionaries({"kind": st.just("servqual"), "expectations": dims, "perceptions": dims}),
    ),
    st.tuples(
        st.just("callback"),
        st.fixed_dictionaries(
            {
                "reason": st.sampled_from(["lead_follow_up", "complaint"]),
                "channel": st.just("phone"),
                "reached": st.booleans(),
                "signals": signals,
            }
        ),
    ),
)


@settings(max_examples=200)
@given(payloads, instants, st.text(min_size=1, max_size=20).filter(lambda s: s.isprintable()))
def test_a_touchpoint_survives_a_json_round_trip(
    payload: tuple[str, dict[str, Any]], at: str, event_id: str
) -> None:
    type_, data = payload
    tp = parse_touchpoint(envelope(type_, data, occurred_at=at, event_id=event_id))

    again = parse_touchpoint(touchpoint_json(tp))

    assert again == tp
    assert touchpoint_json(again) == touchpoint_json(tp)
