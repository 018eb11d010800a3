"""DOMAIN.md, the callback KPIs per dealer and month: callback success (target >= 50%), survey
success (target >= 60%), complaint callbacks within SLA and csi_mean (target > 90)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from journey.policies.kpis import callback_kpis
from journey.policies.queue import task_schedule
from journey.timeparse import parse_month
from journey.touchpoints import AnyTouchpoint
from tests.builders import (
    callback,
    complaint,
    complaint_resolved,
    csi,
    delivery,
    maintenance,
    servqual,
    visit,
)

SEPTEMBER = parse_month("2026-09")


def sep(d: int, hour: int = 10, minute: int = 0) -> datetime:
    return datetime(2026, 9, d, hour, minute, tzinfo=UTC)


def kpis(tps: list[AnyTouchpoint], dealer: str = "D1") -> dict[str, Any]:
    start, end = SEPTEMBER
    return callback_kpis(dealer, task_schedule(tps), tps, start, end)


def test_callback_success_is_reached_over_due_callbacks_of_the_month() -> None:
    # given: four callbacks due in September, two reached (one of them late)
    tps = [
        maintenance(sep(1), customer="C1"),  # due Fri 4 Sep
        callback(sep(2), reason="post_service", customer="C1"),
        delivery(sep(10), customer="C2"),  # due 13 Sep
        callback(sep(11), reason="post_delivery", reached=False, customer="C2"),
        complaint(sep(15), customer="C3"),  # due 17 Sep
        callback(sep(18), reason="complaint", customer="C3"),
        delivery(sep(20), customer="C4"),  # due 23 Sep, never called
        delivery(sep(29), customer="C5"),  # due 2 Oct: another month
    ]

    # when
    figures = kpis(tps)["callback_success"]

    # then
    assert (figures["reached"], figures["due"], figures["value"]) == (2, 4, 0.5)
    assert figures["met"] is True  # 50% meets ">= 50%"
    assert figures["by_kind"]["post_delivery_callback"] == {"due": 2, "reached": 0}
    assert figures["by_kind"]["complaint_callback"] == {"due": 1, "reached": 1}


def test_a_complaint_resolved_before_its_callback_was_due_owed_no_callback() -> None:
    # given: one complaint resolved within the SLA without a call, one resolved after it
    tps = [
        complaint(sep(1), "K1", customer="C1"),
        complaint_resolved(sep(2), "K1", customer="C1"),
        complaint(sep(5), "K2", customer="C2"),
        complaint_resolved(sep(9), "K2", customer="C2"),
    ]

    # when
    figures = kpis(tps)["callback_success"]

    # then: only the second still owed its call at the due time (missed)
    assert figures["by_kind"]["complaint_callback"] == {"due": 1, "reached": 0}


def test_follow_ups_and_win_backs_are_not_callbacks() -> None:
    # given: a lead followed up by visits (its follow-ups missed), an owner turned marginal, and one
    # delivery called back
    tps = [
        visit(sep(1), "revisit", customer="C1"),
        visit(sep(12), customer="C1"),
        delivery(datetime(2026, 3, 1, tzinfo=UTC), customer="C2"),  # marginal (win_back) on 29 Aug
        delivery(sep(10), customer="C3"),
        callback(sep(11), reason="post_delivery", customer="C3"),
    ]

    # when
    figures = kpis(tps)["callback_success"]

    # then
    assert (figures["reached"], figures["due"], figures["met"]) == (1, 1, True)
    assert set(figures["by_kind"]) == {
        "complaint_callback",
        "post_service_callback",
        "post_delivery_callback",
    }


def test_survey_success_is_the_month_surveys_over_its_reached_callbacks() -> None:
    # given: two reached callbacks, one csi and one servqual survey in September
    tps = [
        maintenance(sep(1), customer="C1"),
        callback(sep(2), reason="post_service", customer="C1"),
        csi(sep(2, 11), 95, customer="C1"),
        delivery(sep(7), customer="C2"),
        callback(sep(8), reason="post_delivery", customer="C2"),
        servqual(sep(8, 11), customer="C2"),
        csi(datetime(2026, 8, 31, tzinfo=UTC), 70, customer="C2"),  # August
    ]

    # when
    figures = kpis(tps)["survey_success"]

    # then
    assert (figures["surveys"], figures["reached_callbacks"], figures["value"]) == (2, 2, 1.0)
    assert figures["by_kind"] == {"csi": 1, "servqual": 1}
    assert figures["met"] is True


def test_complaint_callbacks_within_sla_count_reached_calls_by_the_due_time() -> None:
    # given
    tps = [
        complaint(sep(1), "K1"),
        callback(sep(3, 9, 59), reason="complaint", complaint_id="K1"),  # 47 h 59 min
        complaint(sep(10), "K2"),
        callback(sep(12, 10, 1), reason="complaint", complaint_id="K2"),  # 48 h 01 min
    ]

    # when
    figures = kpis(tps)["complaint_callbacks_within_sla"]

    # then
    assert (figures["within_sla"], figures["complaints"], figures["value"]) == (1, 2, 0.5)
    assert figures["met"] is False


def test_csi_mean_meets_its_target_only_above_90() -> None:
    # given
    exactly_90 = [csi(sep(1), 85), csi(sep(2), 95)]
    above = [csi(sep(1), 88), csi(sep(2), 94)]

    # when
    at_90, over_90 = kpis(exactly_90)["csi_mean"], kpis(above)["csi_mean"]

    # then
    assert (at_90["value"], at_90["surveys"], at_90["met"]) == (90.0, 2, False)
    assert (over_90["value"], over_90["met"]) == (91.0, True)


def test_figures_without_a_denominator_are_null() -> None:
    # when
    figures = kpis([])

    # then
    for name in ("callback_success", "survey_success", "complaint_callbacks_within_sla", "csi_mean"):
        assert figures[name]["value"] is None
        assert figures[name]["met"] is None


def test_other_dealers_tasks_and_surveys_do_not_count() -> None:
    # given
    tps = [maintenance(sep(1), dealer="D2"), csi(sep(2), 99, dealer="D2")]

    # when
    figures = kpis(tps)

    # then
    assert figures["callback_success"]["due"] == 0
    assert figures["csi_mean"]["surveys"] == 0
    assert kpis(tps, dealer="D2")["callback_success"]["due"] == 1
