"""A customer's service summary: csi_last, gap5 (DOMAIN.md "Service quality") and open complaints."""

from __future__ import annotations

from journey.projections.service import customer_service_at, service_breakpoints
from tests.builders import complaint, complaint_resolved, csi, day, servqual, visit


def test_customer_without_surveys_or_complaints_has_an_empty_summary() -> None:
    # given
    tps = [visit(day(0))]

    # when
    summary = customer_service_at(tps, day(1))

    # then
    assert (summary.csi_last, summary.gap5, summary.open_complaints, summary.decided_by) == (None, {}, 0, ())


def test_csi_last_is_the_latest_csi_score() -> None:
    # given
    latest = csi(day(1), 92)
    tps = [csi(day(0), 70), latest, csi(day(5), 50)]

    # when
    summary = customer_service_at(tps, day(2))

    # then
    assert summary.csi_last == 92
    assert summary.decided_by == (latest.event_id,)


def test_gap5_is_the_mean_of_perception_minus_expectation_per_dimension() -> None:
    # given
    tps = [
        servqual(day(0), expectations=6, perceptions={"reliability": 5, "empathy": 7}),
        servqual(day(1), expectations=6, perceptions={"reliability": 6, "empathy": 6}),
        servqual(day(2), expectations=6, perceptions={"reliability": 6, "empathy": 6}),
    ]

    # when
    summary = customer_service_at(tps, day(3))

    # then
    assert summary.gap5["reliability"] == -0.333
    assert summary.gap5["empathy"] == 0.333
    assert summary.gap5["tangibles"] == -2.0
    assert set(summary.gap5) == {"reliability", "responsiveness", "assurance", "empathy", "tangibles"}
    assert summary.decided_by == tuple(tp.event_id for tp in tps)


def test_open_complaints_count_complaints_without_resolution() -> None:
    # given
    tps = [complaint(day(0), "K1"), complaint(day(1), "K2"), complaint_resolved(day(2), "K1")]

    # when
    summary = customer_service_at(tps, day(3))

    # then
    assert summary.open_complaints == 1
    assert summary.decided_by == (tps[1].event_id,)


def test_summary_ignores_touchpoints_after_t() -> None:
    # given
    tps = [csi(day(0), 80), complaint(day(2))]

    # when
    summary = customer_service_at(tps, day(1))

    # then
    assert (summary.csi_last, summary.open_complaints) == (80, 0)


def test_service_breakpoints_are_the_touchpoint_instants() -> None:
    # given
    tps = [csi(day(1), 80), complaint(day(0)), complaint(day(1), "K2")]

    # when
    breakpoints = service_breakpoints([*tps, tps[0]])

    # then
    assert breakpoints == [day(0), day(1)]
