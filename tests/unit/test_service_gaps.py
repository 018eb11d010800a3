"""The five gaps (DOMAIN.md, "Service quality: the five gaps"): facts from touchpoints and their
aggregation over [from, to)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, datetime, timedelta, timezone
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from journey.projections.service_gaps import Fact, customer_facts, dealer_facts, gaps
from journey.projections.standards import standards_lookup
from journey.rules import DEFAULT_RULES, PolicyRules, Rules
from journey.touchpoints import DIMENSIONS, AnyTouchpoint
from tests.builders import (
    DEALER,
    callback,
    complaint,
    complaint_resolved,
    csi,
    day,
    delivery,
    maintenance,
    management_survey,
    order,
    servqual,
    standard_set,
    visit,
)

ALL_ITEMS = ("features", "operation", "maintenance_schedule", "warranty")
SHANGHAI = timezone(timedelta(hours=8))
FROM, TO = day(-30), day(300)


def facts_of(touchpoints: Iterable[AnyTouchpoint], rules: Rules = DEFAULT_RULES) -> list[Fact]:
    """Every fact of some touchpoints: each customer's (with its dealers' standards) and the dealers' own."""
    tps = list(touchpoints)
    dealer_tps = [tp for tp in tps if tp.customer_id is None]
    lookup = standards_lookup(dealer_tps, rules)
    customers = sorted({tp.customer_id for tp in tps if tp.customer_id is not None})
    out = dealer_facts(dealer_tps, rules)
    for c in customers:
        out += customer_facts([tp for tp in tps if tp.customer_id == c], rules, lookup)
    return out


def run(
    touchpoints: Iterable[AnyTouchpoint],
    from_: datetime = FROM,
    to: datetime = TO,
    rules: Rules = DEFAULT_RULES,
    dealer: str = DEALER,
) -> dict[str, Any]:
    return gaps(facts_of(touchpoints, rules), dealer, from_, to, rules)


def metric(result: dict[str, Any], dimension: str, name: str) -> dict[str, Any]:
    m: dict[str, Any] = result["dimensions"][dimension]["gap3"]["metrics"][name]
    return m


def gap(result: dict[str, Any], dimension: str, name: str) -> dict[str, Any]:
    g: dict[str, Any] = result["dimensions"][dimension][name]
    return g


def share(m: dict[str, Any]) -> tuple[float | None, int, int]:
    return (m["share"], m["met"], m["total"])


# ---------------------------------------------------------------- gap5, csi, gap1, gap2


def test_gap5_is_the_mean_over_servqual_surveys_of_perception_minus_expectation() -> None:
    # given
    tps = [
        servqual(day(0), expectations=6, perceptions={"reliability": 5, "empathy": 7}, customer="C1"),
        servqual(day(1), expectations=6, perceptions={"reliability": 6, "empathy": 6}, customer="C2"),
        servqual(day(2), expectations=7, perceptions={"reliability": 6, "empathy": 6}, customer="C2"),
    ]

    # when
    result = run(tps)

    # then
    assert gap(result, "reliability", "gap5") == {"value": round((-1 + 0 - 1) / 3, 3), "n": 3}
    assert gap(result, "empathy", "gap5") == {"value": 0.0, "n": 3}
    assert gap(result, "tangibles", "gap5") == {"value": round((-2 - 2 - 3) / 3, 3), "n": 3}


def test_csi_mean_must_exceed_the_90_point_target() -> None:
    exactly_90 = run([csi(day(0), 85), csi(day(1), 95)])
    above = run([csi(day(0), 86), csi(day(1), 95)])

    assert exactly_90["csi_mean"] == {"value": 90.0, "n": 2, "target": 90, "met": False}
    assert above["csi_mean"] == {"value": 90.5, "n": 2, "target": 90, "met": True}


def test_gap1_is_management_perceived_expectations_minus_customer_expectations() -> None:
    # given
    tps = [
        management_survey(day(0), perceived_expectations={"reliability": 5}, standards_specification=4),
        management_survey(day(10), perceived_expectations={"reliability": 6}, standards_specification=4),
        servqual(day(1), expectations={"reliability": 7}),
        servqual(day(2), expectations={"reliability": 6}),
    ]

    # when
    result = run(tps)

    # then: 5.5 - 6.5
    assert gap(result, "reliability", "gap1") == {"value": -1.0, "n": 4}
    assert gap(result, "empathy", "gap1") == {"value": 0.0, "n": 4}  # 4.0 vs 4.0 (builders' default)


def test_gap2_is_standards_specification_minus_perceived_expectations() -> None:
    # given
    tps = [
        management_survey(day(0), perceived_expectations=6, standards_specification={"assurance": 5}),
        management_survey(day(5), perceived_expectations=7, standards_specification={"assurance": 6}),
    ]

    # when
    result = run(tps)

    # then
    assert gap(result, "assurance", "gap2") == {"value": -1.0, "n": 2}
    assert gap(result, "tangibles", "gap2") == {"value": round(4.0 - 6.5, 3), "n": 2}


def test_gap1_without_customer_surveys_is_null_not_0() -> None:
    result = run([management_survey(day(0))])

    assert gap(result, "reliability", "gap1") == {"value": None, "n": 1}
    assert gap(result, "reliability", "gap2")["value"] == -1.0


def test_a_dealer_without_any_data_has_null_figures_everywhere() -> None:
    # given: only touchpoints that measure nothing, and another dealer's survey
    tps = [visit(day(0)), servqual(day(1), dealer="D2")]

    # when
    result = run(tps)

    # then
    for d in DIMENSIONS:
        for name in ("gap1", "gap2", "gap3", "gap4", "gap5"):
            assert gap(result, d, name)["value"] is None
            assert gap(result, d, name)["n"] == 0
    assert result["csi_mean"] == {"value": None, "n": 0, "target": 90, "met": None}
    assert result["servqual_score"] == {
        "unweighted": {"value": None, "n": 0},
        "weighted": {"value": None, "n": 0},
    }


# ---------------------------------------------------------------- gap3 responsiveness


def test_a_complaint_callback_at_47h59_is_within_the_48_hours_and_at_48h01_is_not() -> None:
    # given
    in_time = [
        complaint(day(0), "K1", customer="C1"),
        callback(day(0, hours=47, minutes=59), reason="complaint", customer="C1"),
    ]
    late = [
        complaint(day(0), "K2", customer="C2"),
        callback(day(0, hours=48, minutes=1), reason="complaint", customer="C2"),
    ]

    # when
    result = run([*in_time, *late])

    # then
    assert share(metric(result, "responsiveness", "complaint_callback")) == (0.5, 1, 2)


def test_a_complaint_callback_at_exactly_48_hours_is_in_time() -> None:
    result = run([complaint(day(0)), callback(day(2), reason="complaint")])

    assert share(metric(result, "responsiveness", "complaint_callback")) == (1.0, 1, 1)


def test_only_a_reached_complaint_callback_for_that_complaint_counts() -> None:
    # given
    tps = [
        complaint(day(0), "K1"),
        callback(day(0, hours=1), reason="complaint", reached=False),
        callback(day(0, hours=2), reason="complaint", complaint_id="K9"),
        callback(day(0, hours=3), reason="post_service"),
        complaint(day(10), "K2"),
        callback(day(10, hours=1), reason="complaint"),  # no complaint_id: counts for any open one
    ]

    # when
    result = run(tps)

    # then
    assert share(metric(result, "responsiveness", "complaint_callback")) == (0.5, 1, 2)


def test_a_complaint_raised_again_while_open_is_measured_once() -> None:
    # given
    tps = [
        complaint(day(0), "K1"),
        complaint(day(1), "K1"),
        callback(day(1, hours=1), reason="complaint", complaint_id="K1"),
        complaint_resolved(day(3), "K1"),
        complaint(day(20), "K1"),  # after its resolution: a new complaint, never called back
    ]

    # when
    result = run(tps)

    # then
    assert share(metric(result, "responsiveness", "complaint_callback")) == (0.5, 1, 2)


def test_a_friday_maintenance_called_back_the_next_tuesday_is_within_3_working_days() -> None:
    # given: day(4) is a Friday
    tps = [maintenance(day(4)), callback(day(8, hours=7), reason="post_service")]

    # when
    result = run(tps)

    # then
    assert share(metric(result, "responsiveness", "post_service_callback")) == (1.0, 1, 1)


def test_a_post_service_callback_after_3_working_days_is_late() -> None:
    # given: due Wednesday at the maintenance's time of day
    tps = [maintenance(day(4)), callback(day(9, minutes=1), reason="post_service")]

    # when
    result = run(tps)

    # then
    assert share(metric(result, "responsiveness", "post_service_callback")) == (0.0, 0, 1)


def test_a_holiday_in_the_way_gives_the_post_service_callback_one_more_day() -> None:
    # given: a Friday maintenance, the Monday a holiday, the call on Wednesday afternoon
    tps = [maintenance(day(4)), callback(day(9, hours=5), reason="post_service")]
    rules = Rules(policies=PolicyRules(holidays=(date(2026, 1, 12),)))

    # when
    with_holiday = run(tps, rules=rules)
    without = run(tps)

    # then
    assert share(metric(with_holiday, "responsiveness", "post_service_callback")) == (1.0, 1, 1)
    assert share(metric(without, "responsiveness", "post_service_callback")) == (0.0, 0, 1)


def test_working_days_are_counted_in_the_maintenances_own_offset() -> None:
    # given: Friday 23:00 UTC is Saturday 07:00 in Shanghai, so 3 working days end on Wednesday 07:00
    # in Shanghai (Tuesday 23:00 UTC) but on Wednesday 23:00 in UTC; the call is Tuesday 23:30 UTC
    friday_night_utc = day(4, hours=14)
    call_at = day(8, hours=14, minutes=30)
    in_shanghai = [
        maintenance(friday_night_utc.astimezone(SHANGHAI)),
        callback(call_at, reason="post_service"),
    ]
    in_utc = [
        maintenance(friday_night_utc, customer="C2"),
        callback(call_at, reason="post_service", customer="C2"),
    ]

    # when
    shanghai, utc = run(in_shanghai), run(in_utc)

    # then
    assert share(metric(shanghai, "responsiveness", "post_service_callback")) == (0.0, 0, 1)
    assert share(metric(utc, "responsiveness", "post_service_callback")) == (1.0, 1, 1)


def test_a_post_delivery_callback_within_3_days_counts() -> None:
    # given
    tps = [
        delivery(day(0), customer="C1"),
        callback(day(3), reason="post_delivery", customer="C1"),
        delivery(day(0), customer="C2"),
        callback(day(3, seconds=1), reason="post_delivery", customer="C2"),
        delivery(day(0), customer="C3"),
        callback(day(-1), reason="post_delivery", customer="C3"),  # before the delivery: not for it
    ]

    # when
    result = run(tps)

    # then
    assert share(metric(result, "responsiveness", "post_delivery_callback")) == (round(1 / 3, 4), 1, 3)


# ---------------------------------------------------------------- gap3 reliability, assurance


def test_ready_on_time_counts_only_maintenances_with_both_times() -> None:
    # given
    tps = [
        maintenance(day(0), promised_ready_at=day(0, hours=4), ready_at=day(0, hours=4)),
        maintenance(day(1), promised_ready_at=day(1, hours=4), ready_at=day(1, hours=5)),
        maintenance(day(2), promised_ready_at=day(2, hours=4)),
        maintenance(day(3)),
    ]

    # when
    result = run(tps)

    # then
    assert share(metric(result, "reliability", "ready_on_time")) == (0.5, 1, 2)
    assert share(metric(result, "reliability", "first_time_fix")) == (1.0, 4, 4)


def test_first_time_fix_is_the_share_of_maintenances_without_repeat_repair() -> None:
    # given
    tps = [maintenance(day(0), kind="repair"), maintenance(day(20), kind="repair", repeat_repair=True)]

    # when
    result = run(tps)

    # then
    assert share(metric(result, "reliability", "first_time_fix")) == (0.5, 1, 2)
    assert metric(result, "reliability", "ready_on_time") == {
        "share": None,
        "met": 0,
        "total": 0,
        "pending": 0,
    }
    assert gap(result, "reliability", "gap3") == {
        "value": -0.5,
        "n": 2,
        "metrics": result["dimensions"]["reliability"]["gap3"]["metrics"],
    }


def test_gap3_of_a_dimension_is_the_mean_of_its_metric_shares_minus_1() -> None:
    # given: complaint callbacks 1/1, post_service 0/2, post_delivery 1/2
    tps = [
        complaint(day(0), customer="C1"),
        callback(day(0, hours=1), reason="complaint", customer="C1"),
        maintenance(day(0), customer="C2"),
        maintenance(day(0), customer="C3"),
        delivery(day(0), explained_items=ALL_ITEMS, customer="C4"),
        callback(day(1), reason="post_delivery", customer="C4"),
        delivery(day(0), explained_items=ALL_ITEMS, customer="C5"),
    ]

    # when
    result = run(tps)

    # then
    responsiveness = gap(result, "responsiveness", "gap3")
    assert responsiveness["value"] == round((1 + 0 + 0.5) / 3 - 1, 3)
    assert responsiveness["n"] == 5
    assert gap(result, "assurance", "gap3")["value"] == 0.0


def test_assurance_counts_deliveries_whose_explained_items_cover_the_required_ones() -> None:
    # given
    tps = [
        delivery(day(0), explained_items=ALL_ITEMS, customer="C1"),
        delivery(day(0), explained_items=("features", "operation", "warranty"), customer="C2"),
    ]

    # when
    result = run(tps)

    # then
    assert share(metric(result, "assurance", "explained_items")) == (0.5, 1, 2)


def test_empathy_and_tangibles_have_no_gap3_metric_so_their_gap3_is_null() -> None:
    result = run([maintenance(day(0)), delivery(day(1)), complaint(day(2))])

    for d in ("empathy", "tangibles"):
        assert gap(result, d, "gap3") == {"value": None, "n": 0, "metrics": {}}
        assert gap(result, d, "gap4")["value"] is None


# ---------------------------------------------------------------- the standard in force


def test_a_stricter_standard_set_before_the_complaint_applies_and_one_set_after_does_not() -> None:
    # given: a 24-hour standard from day 10; calls 30 hours after each complaint
    tps = [
        standard_set(day(10), complaint_callback_hours=24),
        complaint(day(5), "K1", customer="C1"),
        callback(day(5, hours=30), reason="complaint", customer="C1"),
        complaint(day(20), "K2", customer="C2"),
        callback(day(20, hours=30), reason="complaint", customer="C2"),
    ]

    # when
    result = run(tps)

    # then: the day-5 complaint is measured against 48 hours, the day-20 one against 24
    assert share(metric(result, "responsiveness", "complaint_callback")) == (0.5, 1, 2)


def test_another_dealers_standard_does_not_apply() -> None:
    tps = [
        standard_set(day(0), dealer="D2", complaint_callback_hours=24),
        complaint(day(5)),
        callback(day(5, hours=30), reason="complaint"),
    ]

    assert share(metric(run(tps), "responsiveness", "complaint_callback")) == (1.0, 1, 1)


def test_the_standard_in_force_decides_the_required_items_and_the_working_days() -> None:
    # given: from day 0, only features required, and 1 working day for the post_service call
    tps = [
        standard_set(day(0), required_explained_items=["features"], post_service_callback_working_days=1),
        delivery(day(1), explained_items=("features",), customer="C1"),
        maintenance(day(4), customer="C2"),  # Friday: due Monday
        callback(day(7, minutes=1), reason="post_service", customer="C2"),
    ]

    # when
    result = run(tps)

    # then
    assert share(metric(result, "assurance", "explained_items")) == (1.0, 1, 1)
    assert share(metric(result, "responsiveness", "post_service_callback")) == (0.0, 0, 1)


# ---------------------------------------------------------------- gap4


def test_a_delivery_on_its_promised_date_in_its_own_offset_keeps_the_promise() -> None:
    # given: 2026-01-10 23:30 in Shanghai is 15:30 UTC the same day; 2026-01-11 01:00 Shanghai is the next day
    on_the_day = datetime(2026, 1, 10, 23, 30, tzinfo=SHANGHAI)
    next_day = datetime(2026, 1, 11, 1, 0, tzinfo=SHANGHAI)
    tps = [
        delivery(on_the_day, promised_date=date(2026, 1, 10), customer="C1"),
        delivery(next_day, promised_date=date(2026, 1, 10), customer="C2"),
    ]

    # when
    result = run(tps)

    # then: the broken one overran the end of the promised day by one hour
    g4 = gap(result, "reliability", "gap4")
    assert (g4["value"], g4["n"], g4["share_kept"], g4["kept"], g4["broken"]) == (-0.5, 2, 0.5, 1, 1)
    assert g4["mean_overrun_hours"] == 1.0
    assert g4["promises"]["delivery_date"]["broken"] == 1


def test_the_promised_date_comes_from_the_order_when_the_delivery_has_none() -> None:
    # given
    tps = [
        order(day(0), promised_delivery_date=date(2026, 1, 15), customer="C1"),
        delivery(day(12), customer="C1"),  # 2026-01-17: two days late
        order(day(0), promised_delivery_date=date(2026, 1, 15), customer="C2"),
        delivery(day(3), promised_date=date(2026, 1, 7), customer="C2"),  # its own date wins: late
    ]

    # when
    result = run(tps)

    # then: C1 overran by 1 day 9 hours (from 2026-01-16T00:00Z), C2 by 9 hours
    g4 = gap(result, "reliability", "gap4")
    assert (g4["kept"], g4["broken"], g4["mean_overrun_hours"]) == (0, 2, (33 + 9) / 2)


def test_the_latest_order_of_the_sale_gives_the_promise_and_an_earlier_sales_order_does_not() -> None:
    # given
    tps = [
        order(day(0), promised_delivery_date=date(2026, 1, 30)),
        order(day(1), promised_delivery_date=date(2026, 1, 8)),
        delivery(day(5)),  # 2026-01-10: the latest order's 01-08 is broken
        delivery(day(200)),  # a later delivery without an order of its own: no promise
    ]

    # when
    result = run(tps)

    # then
    g4 = gap(result, "reliability", "gap4")
    assert (g4["n"], g4["kept"], g4["broken"], g4["mean_overrun_hours"]) == (1, 0, 1, 33.0)


def test_maintenances_ready_by_their_promise_keep_it_and_broken_ones_report_the_overrun() -> None:
    # given
    tps = [
        maintenance(day(0), promised_ready_at=day(0, hours=4), ready_at=day(0, hours=3)),
        maintenance(day(1), promised_ready_at=day(1, hours=4), ready_at=day(1, hours=6)),
        maintenance(day(2), promised_ready_at=day(2, hours=4), ready_at=day(2, hours=8)),
    ]

    # when
    result = run(tps)

    # then
    ready_by = gap(result, "reliability", "gap4")["promises"]["ready_by"]
    assert ready_by == {"share_kept": round(1 / 3, 4), "kept": 1, "broken": 2, "mean_overrun_hours": 3.0}
    assert gap(result, "reliability", "gap4")["value"] == round(1 / 3 - 1, 3)


# ---------------------------------------------------------------- servqual scores


def test_the_weighted_score_uses_the_weights_of_the_surveys_that_carry_them() -> None:
    # given: gaps per dimension (-2, 0, 0, 0, 0) and (0, -1, 0, 0, 0); only the first is weighted
    weights = {"reliability": 40, "responsiveness": 15, "assurance": 15, "empathy": 15, "tangibles": 15}
    tps = [
        servqual(
            day(0),
            expectations=6,
            perceptions={"reliability": 4, **dict.fromkeys(DIMENSIONS[1:], 6)},
            weights=weights,
        ),
        servqual(
            day(1),
            expectations=6,
            perceptions={"responsiveness": 5, "reliability": 6, "assurance": 6, "empathy": 6, "tangibles": 6},
        ),
    ]

    # when
    result = run(tps)

    # then
    assert result["servqual_score"]["unweighted"] == {"value": round((-1 - 0.5) / 5, 3), "n": 2}
    assert result["servqual_score"]["weighted"] == {"value": -0.8, "n": 1}


def test_equal_weights_give_the_unweighted_score() -> None:
    tps = [
        servqual(
            day(0),
            expectations=6,
            perceptions={"reliability": 3, "tangibles": 7},
            weights=dict.fromkeys(DIMENSIONS, 20),
        )
    ]

    result = run(tps)

    assert result["servqual_score"]["weighted"]["value"] == result["servqual_score"]["unweighted"]["value"]


# ---------------------------------------------------------------- the window


def test_the_window_includes_from_and_excludes_to() -> None:
    # given
    tps = [csi(day(0), 80), csi(day(1), 90), csi(day(2), 100)]

    # when
    result = run(tps, from_=day(1), to=day(2))

    # then
    assert result["csi_mean"]["value"] == 90.0
    assert result["csi_mean"]["n"] == 1
    assert (result["from"], result["to"]) == (day(1).isoformat(), day(2).isoformat())


def test_an_sla_still_open_at_the_windows_end_is_pending_until_met_or_past_its_deadline() -> None:
    # given: a complaint 1 hour before `to`, called back 2 hours after it
    to = day(10)
    tps = [complaint(day(10, hours=-1)), callback(day(10, hours=1), reason="complaint")]

    # when
    at_to = run(tps, to=to)
    later = run(tps, to=day(10, hours=2))

    # then
    assert share(metric(at_to, "responsiveness", "complaint_callback")) == (None, 0, 0)
    assert metric(at_to, "responsiveness", "complaint_callback")["pending"] == 1
    assert share(metric(later, "responsiveness", "complaint_callback")) == (1.0, 1, 1)


def test_an_sla_missed_counts_once_the_window_ends_after_its_deadline() -> None:
    tps = [complaint(day(0))]

    assert metric(run(tps, to=day(2)), "responsiveness", "complaint_callback")["pending"] == 1
    assert share(metric(run(tps, to=day(2, seconds=1)), "responsiveness", "complaint_callback")) == (
        0.0,
        0,
        1,
    )


def journeys() -> st.SearchStrategy[list[AnyTouchpoint]]:
    at = st.builds(
        lambda d, h: day(d, hours=h), st.integers(0, 8), st.sampled_from([0, 1, 23, 47, 48, 49, 72, 100])
    )
    customer = st.sampled_from(["C1", "C1", "C2"])
    call = st.builds(
        lambda t, c, r, ok: callback(t, reason=r, reached=ok, customer=c),
        at,
        customer,
        st.sampled_from(["complaint", "post_service", "post_delivery"]),
        st.booleans(),
    )
    one = st.one_of(
        call,
        call,
        st.builds(lambda t, c, k: complaint(t, k, customer=c), at, customer, st.sampled_from(["K1", "K2"])),
        st.builds(
            lambda t, c, k: complaint_resolved(t, k, customer=c), at, customer, st.sampled_from(["K1", "K2"])
        ),
        st.builds(
            lambda t, c, rr: maintenance(
                t, repeat_repair=rr, promised_ready_at=t, ready_at=t + timedelta(hours=int(rr)), customer=c
            ),
            at,
            customer,
            st.booleans(),
        ),
        st.builds(
            lambda t, c, p: delivery(t, promised_date=p, customer=c),
            at,
            customer,
            st.sampled_from([None, date(2026, 1, 12)]),
        ),
        st.builds(lambda t, c: order(t, promised_delivery_date=date(2026, 1, 10), customer=c), at, customer),
        st.builds(lambda t, c: servqual(t, perceptions=5.5, customer=c), at, customer),
        st.builds(lambda t, c, s: csi(t, s, customer=c), at, customer, st.integers(60, 100)),
        st.builds(
            lambda t: standard_set(t, complaint_callback_hours=24, post_service_callback_working_days=1), at
        ),
        st.builds(management_survey, at),
    )
    return st.lists(one, min_size=1, max_size=16)


@settings(max_examples=300, deadline=None)
@given(tps=journeys(), cut=st.integers(0, 12), width=st.integers(1, 12))
def test_gaps_over_a_window_depend_only_on_the_touchpoints_before_its_end(
    tps: Sequence[AnyTouchpoint], cut: int, width: int
) -> None:
    # given
    from_, to = day(cut - width), day(cut)
    known = [tp for tp in tps if tp.occurred_at < to]

    # when
    everything = run(tps, from_=from_, to=to)
    only_known = run(known, from_=from_, to=to)

    # then
    assert everything == only_known


@settings(max_examples=100, deadline=None)
@given(tps=journeys(), data=st.data())
def test_gaps_do_not_depend_on_arrival_order_or_duplicates(
    tps: list[AnyTouchpoint], data: st.DataObject
) -> None:
    # given
    arrivals = data.draw(
        st.permutations(tps + data.draw(st.lists(st.sampled_from(tps), max_size=5) if tps else st.just([])))
    )

    # when, then
    assert run(arrivals) == run(tps)
