"""DOMAIN.md, "Retention status (owners)": one test per row of the table, then the edges."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from journey.projections.retention import retention_at
from journey.rules import ServiceStandards
from journey.touchpoints import AnyTouchpoint
from tests.builders import (
    callback,
    complaint,
    complaint_resolved,
    csi,
    day,
    delivery,
    maintenance,
    registered,
    visit,
)

TICK = timedelta(microseconds=1)


# ---------------------------------------------------------------- the table, row by row


def test_customer_without_delivery_or_maintenance_is_a_prospect() -> None:
    # given
    tps = [registration := registered(day(0), "private"), visit(day(1), "revisit")]

    # when
    view = retention_at(tps, day(2))

    # then
    assert view.status == "prospect"
    assert (view.days_since_last_service, view.last_service_at, view.car_age_segment) == (None, None, None)
    assert view.decided_by == (registration.event_id,)  # it decides the usage


def test_owner_served_within_180_days_without_loyalty_is_an_opportunity() -> None:
    # given
    handed_over = delivery(day(0))

    # when
    view = retention_at([handed_over], day(40))

    # then
    assert view.status == "opportunity"
    assert view.days_since_last_service == 40
    assert view.decided_by == (handed_over.event_id,)


def test_owner_with_two_maintenances_in_a_year_and_a_year_of_tenure_is_loyal() -> None:
    # given
    first, m1, m2 = delivery(day(0)), maintenance(day(200)), maintenance(day(380))

    # when
    view = retention_at([first, m1, m2], day(400))

    # then
    assert view.status == "loyal"
    assert view.decided_by == (first.event_id, m1.event_id, m2.event_id)


def test_owner_unserved_for_more_than_180_days_is_marginal() -> None:
    # given
    handed_over, last = delivery(day(-100)), maintenance(day(0))

    # when
    view = retention_at([handed_over, last], day(250))

    # then
    assert view.status == "marginal"
    assert view.decided_by == (handed_over.event_id, last.event_id)  # the car's age, the status


def test_decided_by_names_the_delivery_of_the_car_age_and_the_registration_of_the_usage() -> None:
    # given: a first car, the registration, a second car, a maintenance deciding the status
    first, registration = delivery(day(0)), registered(day(1), "commercial")
    second, serviced = delivery(day(400)), maintenance(day(700))

    # when
    view = retention_at([first, registration, second, serviced], day(1000))

    # then: the most recent delivery decides car_age_segment, the registration usage
    assert (view.status, view.car_age_segment, view.usage) == ("marginal", "in_warranty", "commercial")
    assert view.decided_by == (registration.event_id, second.event_id, serviced.event_id)


def test_owner_unserved_for_more_than_365_days_is_lost() -> None:
    # given
    tps = [delivery(day(0))]

    # when
    view = retention_at(tps, day(500))

    # then
    assert view.status == "lost"


# ---------------------------------------------------------------- day edges


def test_exactly_180_days_since_service_is_still_an_opportunity() -> None:
    # given
    tps = [maintenance(day(0))]

    # when
    view = retention_at(tps, day(181) - TICK)

    # then
    assert view.days_since_last_service == 180
    assert view.status == "opportunity"


def test_181_days_since_service_is_marginal() -> None:
    # given
    tps = [maintenance(day(0))]

    # when
    view = retention_at(tps, day(181))

    # then
    assert view.status == "marginal"


def test_365_days_since_service_is_still_marginal() -> None:
    # given
    tps = [maintenance(day(0))]

    # when
    view = retention_at(tps, day(366) - TICK)

    # then
    assert view.days_since_last_service == 365
    assert view.status == "marginal"


def test_366_days_since_service_is_lost() -> None:
    # given
    tps = [maintenance(day(0))]

    # when
    view = retention_at(tps, day(366))

    # then
    assert view.status == "lost"


def test_days_since_service_are_whole_days_rounded_down() -> None:
    # given
    tps = [maintenance(day(0))]

    # when
    view = retention_at(tps, day(3, hours=23))

    # then
    assert view.days_since_last_service == 3


def test_last_service_is_the_latest_maintenance() -> None:
    # given
    tps = [
        delivery(day(0)),
        maintenance(day(100)),
        maintenance(day(150)),
        delivery(day(160), vin="LFV2A21K8N3000002"),
    ]

    # when
    view = retention_at(tps, day(170))

    # then
    assert view.last_service_at == day(150)


def test_last_service_is_the_first_delivery_without_maintenance() -> None:
    # given
    tps = [delivery(day(0)), delivery(day(100), vin="LFV2A21K8N3000002")]

    # when
    view = retention_at(tps, day(190))

    # then
    assert view.last_service_at == day(0)
    assert view.status == "marginal"


# ---------------------------------------------------------------- loyalty edges


def test_maintenance_exactly_365_days_old_no_longer_counts_for_loyalty() -> None:
    # given
    tps = [delivery(day(-100)), maintenance(day(0)), maintenance(day(200))]

    # when
    inside, outside = retention_at(tps, day(365) - TICK), retention_at(tps, day(365))

    # then
    assert inside.status == "loyal"
    assert outside.status == "opportunity"


def test_loyalty_needs_two_maintenances_in_the_year() -> None:
    # given
    tps = [delivery(day(0)), maintenance(day(300))]

    # when
    view = retention_at(tps, day(400))

    # then
    assert view.status == "opportunity"


def test_loyalty_needs_365_days_of_tenure() -> None:
    # given the first owner touchpoint is a maintenance
    tps = [maintenance(day(0)), maintenance(day(200)), maintenance(day(300))]

    # when
    short, enough = retention_at(tps, day(365) - TICK), retention_at(tps, day(365))

    # then
    assert short.status == "opportunity"
    assert enough.status == "loyal"


# ---------------------------------------------------------------- car age


def test_car_is_in_warranty_until_delivery_plus_warranty_months() -> None:
    # given 2026-01-05 + 36 months = 2029-01-05
    tps = [delivery(day(0))]

    # when
    inside = retention_at(tps, datetime(2029, 1, 5, 9, tzinfo=UTC) - TICK)
    after = retention_at(tps, datetime(2029, 1, 5, 9, tzinfo=UTC))

    # then
    assert inside.car_age_segment == "in_warranty"
    assert after.car_age_segment == "post_warranty"


def test_car_is_over_5_years_from_delivery_plus_five_calendar_years() -> None:
    # given
    tps = [delivery(day(0))]

    # when
    younger = retention_at(tps, datetime(2031, 1, 5, 9, tzinfo=UTC) - TICK)
    older = retention_at(tps, datetime(2031, 1, 5, 9, tzinfo=UTC))

    # then
    assert younger.car_age_segment == "post_warranty"
    assert older.car_age_segment == "over_5_years"


def test_warranty_months_clamp_to_the_end_of_a_shorter_month() -> None:
    # given
    tps = [delivery("2026-01-31T10:00:00+08:00", warranty_months=1)]
    feb_28 = datetime(2026, 2, 28, 10, tzinfo=timezone(timedelta(hours=8)))

    # when
    inside, after = retention_at(tps, feb_28 - TICK), retention_at(tps, feb_28)

    # then
    assert inside.car_age_segment == "in_warranty"
    assert after.car_age_segment == "post_warranty"


def test_car_age_comes_from_the_most_recent_delivery() -> None:
    # given
    tps = [
        delivery(day(0), warranty_months=12),
        delivery(day(300), vin="LFV2A21K8N3000002", warranty_months=12),
    ]

    # when
    view = retention_at(tps, day(400))

    # then
    assert view.car_age_segment == "in_warranty"


def test_car_age_is_unknown_without_a_delivery() -> None:
    # given
    tps = [maintenance(day(0))]

    # when
    view = retention_at(tps, day(1))

    # then
    assert view.car_age_segment is None


# ---------------------------------------------------------------- usage


def test_usage_comes_from_the_latest_registration_that_states_it() -> None:
    # given
    tps = [registered(day(0), "private"), registered(day(1), "commercial"), registered(day(2))]

    # when
    view = retention_at(tps, day(3))

    # then
    assert view.usage == "commercial"


def test_usage_is_unknown_without_registration() -> None:
    # given
    tps = [delivery(day(0))]

    # when
    view = retention_at(tps, day(1))

    # then
    assert view.usage is None


# ---------------------------------------------------------------- flags


def _flags(tps: list[AnyTouchpoint], at: datetime) -> tuple[str, ...]:
    return retention_at(tps, at).flags


def test_complaint_without_resolution_is_open() -> None:
    # given
    raised = complaint(day(0))

    # when
    view = retention_at([delivery(day(-10)), raised], day(1))

    # then
    assert "open_complaint" in view.flags
    assert raised.event_id in view.decided_by


def test_resolved_complaint_is_no_longer_open() -> None:
    # given
    tps = [complaint(day(0)), complaint_resolved(day(1))]

    # when
    before, after = _flags(tps, day(1) - TICK), _flags(tps, day(1))

    # then
    assert "open_complaint" in before
    assert "open_complaint" not in after


def test_resolution_of_another_complaint_leaves_it_open() -> None:
    # given
    tps = [complaint(day(0), "K1"), complaint_resolved(day(1), "K2")]

    # when
    flags = _flags(tps, day(1, hours=1))

    # then
    assert "open_complaint" in flags


def test_complaint_is_not_overdue_exactly_at_48_hours() -> None:
    # given
    tps = [complaint(day(0))]

    # when
    flags = _flags(tps, day(2))

    # then
    assert "complaint_overdue" not in flags


def test_complaint_without_callback_is_overdue_just_past_48_hours() -> None:
    # given
    tps = [complaint(day(0))]

    # when
    flags = _flags(tps, day(2) + TICK)

    # then
    assert flags == ("complaint_overdue", "open_complaint")


def test_complaint_callback_at_exactly_48_hours_is_in_time() -> None:
    # given
    tps = [complaint(day(0)), callback(day(2), reason="complaint", complaint_id="K1")]

    # when
    flags = _flags(tps, day(5))

    # then
    assert "complaint_overdue" not in flags


def test_complaint_callback_after_48_hours_is_late_and_keeps_the_complaint_overdue() -> None:
    # given
    tps = [complaint(day(0)), callback(day(2) + TICK, reason="complaint", complaint_id="K1")]

    # when
    flags = _flags(tps, day(5))

    # then
    assert "complaint_overdue" in flags


def test_unreached_complaint_callback_does_not_stop_the_overdue() -> None:
    # given
    tps = [complaint(day(0)), callback(day(1), reason="complaint", reached=False)]

    # when
    flags = _flags(tps, day(3))

    # then
    assert "complaint_overdue" in flags


def test_callback_for_another_complaint_does_not_count() -> None:
    # given
    tps = [complaint(day(0), "K1"), callback(day(1), reason="complaint", complaint_id="K2")]

    # when
    flags = _flags(tps, day(3))

    # then
    assert "complaint_overdue" in flags


def test_callback_without_complaint_id_counts_for_any_open_complaint() -> None:
    # given
    tps = [complaint(day(0), "K1"), complaint(day(0), "K2"), callback(day(1), reason="complaint")]

    # when
    flags = _flags(tps, day(3))

    # then
    assert "complaint_overdue" not in flags


def test_callback_for_another_reason_does_not_answer_a_complaint() -> None:
    # given
    tps = [complaint(day(0)), callback(day(1), reason="care")]

    # when
    flags = _flags(tps, day(3))

    # then
    assert "complaint_overdue" in flags


def test_resolved_complaint_is_no_longer_overdue() -> None:
    # given
    tps = [complaint(day(0)), complaint_resolved(day(4))]

    # when
    flags = _flags(tps, day(5))

    # then
    assert flags == ()


def test_dealer_standard_sets_the_complaint_callback_sla() -> None:
    # given
    tps = [complaint(day(0))]

    def standards(_tp: AnyTouchpoint) -> ServiceStandards:
        return ServiceStandards(complaint_callback_hours=24)

    # when
    view = retention_at(tps, day(1) + TICK, standards=standards)

    # then
    assert "complaint_overdue" in view.flags


def test_latest_csi_below_90_is_low() -> None:
    # given
    survey = csi(day(1), 89.9)
    tps = [csi(day(0), 95), survey]

    # when
    view = retention_at(tps, day(2))

    # then
    assert view.flags == ("low_csi",)
    assert view.decided_by == (survey.event_id,)


def test_latest_csi_of_exactly_90_is_not_low() -> None:
    # given
    tps = [csi(day(0), 60), csi(day(1), 90)]

    # when
    flags = _flags(tps, day(2))

    # then
    assert flags == ()


def test_repeat_repair_is_flagged_for_90_days() -> None:
    # given
    tps = [maintenance(day(0), kind="repair", repeat_repair=True)]

    # when
    inside, outside = _flags(tps, day(90) - TICK), _flags(tps, day(90))

    # then
    assert inside == ("repeat_repair",)
    assert outside == ()


def test_first_time_repair_is_not_flagged() -> None:
    # given
    tps = [maintenance(day(0), kind="repair")]

    # when
    flags = _flags(tps, day(1))

    # then
    assert flags == ()


def test_dissatisfied_resolution_is_flagged_for_180_days() -> None:
    # given
    tps = [
        complaint(day(0)),
        callback(day(1), reason="complaint"),
        complaint_resolved(day(2), satisfied=False),
    ]

    # when
    inside, outside = _flags(tps, day(182) - TICK), _flags(tps, day(182))

    # then
    assert inside == ("dissatisfied_resolution",)
    assert outside == ()


def test_satisfied_resolution_is_not_flagged() -> None:
    # given
    tps = [complaint(day(0)), complaint_resolved(day(1), satisfied=True)]

    # when
    flags = _flags(tps, day(2))

    # then
    assert flags == ()


def test_prospect_can_carry_flags() -> None:
    # given
    tps = [visit(day(0)), complaint(day(0))]

    # when
    view = retention_at(tps, day(3))

    # then
    assert view.status == "prospect"
    assert view.flags == ("complaint_overdue", "open_complaint")
