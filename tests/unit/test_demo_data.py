"""The demo data set: deterministic, valid per the contract, big enough and coherent per customer."""

from __future__ import annotations

import json
import random
import re
from collections import Counter, defaultdict
from datetime import UTC, datetime, timedelta
from itertools import pairwise
from pathlib import Path
from typing import Any

import pytest

from journey.demo_data import generate, write_jsonl
from journey.touchpoints import DEALER_TYPES, SIGNAL_LEVEL, TYPES, parse_touchpoint

START = datetime(2024, 1, 1, tzinfo=UTC)
END = datetime(2026, 11, 1, tzinfo=UTC)
PREFIX = {"dms": "dms-", "crm": "crm-", "call_center": "cc-", "survey": "svy-", "hq": "hq-"}
WINDOW_DAYS = {"H": 7, "A": 15, "B": 30, "C": 180}


@pytest.fixture(scope="module")
def touchpoints() -> list[dict[str, Any]]:
    return generate()


@pytest.fixture(scope="module")
def journeys(touchpoints: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    by_customer: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for tp in touchpoints:
        if "customer_id" in tp:
            by_customer[tp["customer_id"]].append(tp)
    return by_customer


def at(tp: dict[str, Any]) -> datetime:
    return datetime.fromisoformat(tp["occurred_at"])


def of_type(touchpoints: list[dict[str, Any]], type_: str) -> list[dict[str, Any]]:
    return [tp for tp in touchpoints if tp["type"] == type_]


# ---------------------------------------------------------------- determinism


def test_same_seed_gives_identical_output() -> None:
    first = generate(seed=11, customers=300)

    second = generate(seed=11, customers=300)

    assert first == second
    assert json.dumps(first) == json.dumps(second)


def test_another_seed_gives_another_data_set() -> None:
    assert generate(seed=1, customers=200) != generate(seed=2, customers=200)


def test_generate_leaves_the_global_random_state_alone() -> None:
    random.seed(123)
    state = random.getstate()

    generate(customers=50)

    assert random.getstate() == state


# ---------------------------------------------------------------- contract


def test_every_touchpoint_passes_the_contract(touchpoints: list[dict[str, Any]]) -> None:
    for raw in touchpoints:
        parsed = parse_touchpoint(raw)

        assert parsed.event_id == raw["event_id"]


def test_touchpoints_are_plain_json(touchpoints: list[dict[str, Any]]) -> None:
    assert json.loads(json.dumps(touchpoints)) == touchpoints


def test_touchpoints_are_sorted_inside_the_period_with_the_dealer_offset(
    touchpoints: list[dict[str, Any]],
) -> None:
    instants = [at(tp) for tp in touchpoints]

    assert instants == sorted(instants)
    assert instants[0] >= START
    assert instants[-1] < END
    assert all(tp["occurred_at"].endswith("+08:00") for tp in touchpoints)


def test_event_ids_are_unique_and_prefixed_by_source(touchpoints: list[dict[str, Any]]) -> None:
    ids = [tp["event_id"] for tp in touchpoints]

    assert len(set(ids)) == len(ids)
    assert all(tp["event_id"].startswith(PREFIX[tp["source"]]) for tp in touchpoints)


# ---------------------------------------------------------------- size and coverage


def test_default_data_set_is_big_enough(touchpoints: list[dict[str, Any]]) -> None:
    dealers = {tp["dealer_id"] for tp in touchpoints}
    customers = {tp["customer_id"] for tp in touchpoints if "customer_id" in tp}

    assert len(dealers) >= 3
    assert {"D-SH-01", "D-BJ-02", "D-GZ-03"} <= dealers
    assert len(customers) >= 2000
    assert "C-000001" in customers and "C-002000" in customers
    assert 30_000 <= len(touchpoints) <= 45_000


def test_every_touchpoint_type_is_present(touchpoints: list[dict[str, Any]]) -> None:
    counts = Counter(tp["type"] for tp in touchpoints)

    assert set(counts) == set(TYPES)


def test_dealer_level_touchpoints_have_no_customer(touchpoints: list[dict[str, Any]]) -> None:
    for tp in touchpoints:
        assert ("customer_id" in tp) == (tp["type"] not in DEALER_TYPES)


def test_each_dealer_sets_its_service_standard_at_the_start(touchpoints: list[dict[str, Any]]) -> None:
    standards = of_type(touchpoints, "service_standard_set")
    first_by_dealer: dict[str, dict[str, Any]] = {}
    for tp in standards:
        first_by_dealer.setdefault(tp["dealer_id"], tp)

    assert set(first_by_dealer) == {tp["dealer_id"] for tp in touchpoints}
    assert all(at(tp) == START for tp in first_by_dealer.values())
    assert first_by_dealer["D-BJ-02"]["data"]["complaint_callback_hours"] == 24


def test_each_dealer_runs_a_few_management_surveys_a_year(touchpoints: list[dict[str, Any]]) -> None:
    per_dealer_year = Counter(
        (tp["dealer_id"], at(tp).year) for tp in of_type(touchpoints, "management_survey")
    )

    for dealer in ("D-SH-01", "D-BJ-02", "D-GZ-03"):
        for year in (2024, 2025):
            assert 1 <= per_dealer_year[(dealer, year)] <= 4


# ---------------------------------------------------------------- coherent journeys


def test_customer_registered_comes_first_and_once(journeys: dict[str, list[dict[str, Any]]]) -> None:
    for customer_id, history in journeys.items():
        registrations = of_type(history, "customer_registered")

        assert len(registrations) == 1, customer_id
        assert history[0]["type"] == "customer_registered", customer_id
        assert at(history[0]) < at(history[1]), customer_id


def test_registrations_carry_usage_and_some_personal_data(touchpoints: list[dict[str, Any]]) -> None:
    data = [tp["data"] for tp in of_type(touchpoints, "customer_registered")]

    assert {d.get("usage") for d in data} == {"private", "official", "commercial", None}
    assert 0 < sum("name" in d for d in data) < len(data)
    assert any("national_id" in d for d in data)


def test_deliveries_follow_orders(journeys: dict[str, list[dict[str, Any]]]) -> None:
    for customer_id, history in journeys.items():
        orders = deliveries = 0
        for tp in history:
            if tp["type"] == "order_placed":
                orders += 1
            elif tp["type"] == "delivery":
                deliveries += 1
                assert deliveries <= orders, customer_id


def test_maintenance_only_after_a_delivery_of_the_same_vin(journeys: dict[str, list[dict[str, Any]]]) -> None:
    for customer_id, history in journeys.items():
        delivered: set[str] = set()
        for tp in history:
            if tp["type"] == "delivery":
                delivered.add(tp["data"]["vin"])
            elif tp["type"] == "maintenance":
                assert tp["data"]["vin"] in delivered, customer_id


def test_complaint_resolved_and_its_callbacks_follow_the_complaint(
    journeys: dict[str, list[dict[str, Any]]],
) -> None:
    for customer_id, history in journeys.items():
        opened: set[str] = set()
        for tp in history:
            if tp["type"] == "complaint":
                opened.add(tp["data"]["complaint_id"])
            elif tp["type"] == "complaint_resolved" or tp["data"].get("complaint_id"):
                assert tp["data"]["complaint_id"] in opened, customer_id


def test_mileage_grows_from_one_maintenance_to_the_next(journeys: dict[str, list[dict[str, Any]]]) -> None:
    for customer_id, history in journeys.items():
        last: dict[str, int] = {}
        for tp in of_type(history, "maintenance"):
            vin, km = tp["data"]["vin"], tp["data"]["mileage_km"]
            assert km >= last.get(vin, 0), customer_id
            last[vin] = km


def test_vins_are_valid_and_unique(touchpoints: list[dict[str, Any]]) -> None:
    vins = [tp["data"]["vin"] for tp in of_type(touchpoints, "delivery")]

    assert len(set(vins)) == len(vins)
    assert all(re.fullmatch(r"[A-HJ-NPR-Z0-9]{17}", vin) for vin in vins)


def test_owners_service_every_five_to_seven_months_or_lapse(
    journeys: dict[str, list[dict[str, Any]]],
) -> None:
    gaps: list[float] = []
    lapsed = 0
    for history in journeys.values():
        services = [at(tp) for tp in of_type(history, "maintenance") if tp["data"]["kind"] == "scheduled"]
        gaps += [(b - a).days for a, b in pairwise(services)]
        services_or_delivery = [at(tp) for tp in history if tp["type"] in ("delivery", "maintenance")]
        if services_or_delivery and END - services_or_delivery[-1] > timedelta(days=365):
            lapsed += 1

    gaps.sort()
    assert 140 <= gaps[len(gaps) // 2] <= 215
    assert lapsed >= 20


# ---------------------------------------------------------------- the data set shows every gap


def test_promises_and_standards_are_sometimes_broken(touchpoints: list[dict[str, Any]]) -> None:
    deliveries = of_type(touchpoints, "delivery")
    maintenances = [tp["data"] for tp in of_type(touchpoints, "maintenance")]
    callbacks = [tp["data"] for tp in of_type(touchpoints, "callback")]

    assert any(len(tp["data"]["explained_items"]) < 4 for tp in deliveries)
    assert any(tp["data"].get("promised_date", "9999") < tp["occurred_at"][:10] for tp in deliveries)
    assert any(m.get("ready_at") and m["ready_at"] > m["promised_ready_at"] for m in maintenances)
    assert any(m.get("repeat_repair") for m in maintenances)
    assert {c["reason"] for c in callbacks} == {
        "lead_follow_up",
        "post_delivery",
        "post_service",
        "complaint",
        "win_back",
        "care",
        "survey",
    }
    aftercare = [c for c in callbacks if c["reason"] in ("post_service", "post_delivery")]
    assert {c["reached"] for c in aftercare} == {True, False}


def test_complaints_end_satisfied_unsatisfied_or_open(touchpoints: list[dict[str, Any]]) -> None:
    complaints = {tp["data"]["complaint_id"] for tp in of_type(touchpoints, "complaint")}
    resolutions = [tp["data"] for tp in of_type(touchpoints, "complaint_resolved")]
    called = {tp["data"].get("complaint_id") for tp in of_type(touchpoints, "callback")}

    assert {r["satisfied"] for r in resolutions} == {True, False}
    assert complaints - {r["complaint_id"] for r in resolutions}
    assert complaints - called


def test_surveys_include_csi_and_servqual_with_weights_summing_to_100(
    touchpoints: list[dict[str, Any]],
) -> None:
    surveys = [tp["data"] for tp in of_type(touchpoints, "survey")]
    weights = [s["weights"] for s in surveys if "weights" in s]

    assert {s["kind"] for s in surveys} == {"csi", "servqual"}
    assert any(s.get("csi_score", 100) < 90 for s in surveys)
    assert weights and all(sum(w.values()) == 100 for w in weights)


def test_leads_are_lost_to_competitors(touchpoints: list[dict[str, Any]]) -> None:
    lost = [tp["data"] for tp in of_type(touchpoints, "lead_lost")]

    assert any("competitor" in d for d in lost)
    assert any("competitor" not in d for d in lost)


def test_some_leads_are_current_at_every_level_at_the_end(journeys: dict[str, list[dict[str, Any]]]) -> None:
    current: Counter[str] = Counter()
    for history in journeys.values():
        sales = [tp for tp in history if tp["type"] in ("store_visit", "test_drive", "callback")]
        closing = [at(tp) for tp in history if tp["type"] in ("order_placed", "delivery", "lead_lost")]
        signalled = [tp for tp in sales if tp["data"].get("signals") or tp["type"] == "test_drive"]
        if not signalled:
            continue
        last = signalled[-1]
        if closing and closing[-1] > at(last):
            continue
        signals = list(last["data"].get("signals", []))
        if last["type"] == "test_drive":
            signals.append("test_drive_taken")
        level = min((SIGNAL_LEVEL[s] for s in signals), key="HABC".index)
        if END - at(last) < timedelta(days=WINDOW_DAYS[level]):
            current[level] += 1

    assert all(current[level] >= 3 for level in "HABC"), current


# ---------------------------------------------------------------- file output


def test_write_jsonl_writes_one_touchpoint_per_line(tmp_path: Path) -> None:
    touchpoints = generate(customers=20)
    path = tmp_path / "touchpoints.jsonl"

    written = write_jsonl(touchpoints, path)

    lines = path.read_text(encoding="utf-8").splitlines()
    assert written == len(lines) == len(touchpoints)
    assert [json.loads(line) for line in lines] == touchpoints
