"""DOMAIN.md, "Intent level (sales leads)": one test per row of the table, then the edges."""

from __future__ import annotations

from datetime import timedelta

from journey.projections.intent import intent_at
from journey.rules import IntentRules, LevelRule, Rules
from tests.builders import callback, day, delivery, lead_lost, order, test_drive, visit

TICK = timedelta(microseconds=1)


# ---------------------------------------------------------------- the table, row by row


def test_customer_without_sales_touchpoint_has_no_level() -> None:
    # given
    tps = [visit(day(0), purpose="service")]

    # when
    view = intent_at(tps, day(1))

    # then
    assert view.level is None
    assert view.since is None
    assert view.decided_by == ()


def test_first_sales_touchpoint_without_signals_opens_a_lead_at_n() -> None:
    # given
    opening = visit(day(0))

    # when
    view = intent_at([opening], day(0, hours=3))

    # then
    assert view.level == "N"
    assert view.since == day(0)
    assert view.decided_by == (opening.event_id,)
    assert view.lead_opened_at == day(0)
    assert view.signals == ()


def test_c_signal_grades_the_lead_c() -> None:
    # given
    tp = visit(day(0), "model_undecided")

    # when
    view = intent_at([tp], day(100))

    # then
    assert view.level == "C"
    assert view.signals == ("model_undecided",)
    assert view.decided_by == (tp.event_id,)


def test_b_signal_grades_the_lead_b() -> None:
    # given
    tp = visit(day(0), "revisit")

    # when
    view = intent_at([tp], day(20))

    # then
    assert view.level == "B"
    assert view.decided_by == (tp.event_id,)


def test_a_signal_grades_the_lead_a() -> None:
    # given
    tp = visit(day(0), "terms_negotiated")

    # when
    view = intent_at([tp], day(10))

    # then
    assert view.level == "A"


def test_h_signal_grades_the_lead_h() -> None:
    # given
    tp = visit(day(0), "payment_method_set")

    # when
    view = intent_at([tp], day(6))

    # then
    assert view.level == "H"
    assert view.signals == ("payment_method_set",)


def test_order_placed_gives_o_until_delivery() -> None:
    # given
    placed = order(day(1))
    tps = [visit(day(0), "revisit"), placed, delivery(day(40))]

    # when
    before, at_delivery = intent_at(tps, day(40) - TICK), intent_at(tps, day(40))

    # then
    assert (before.level, before.since, before.decided_by) == ("O", day(1), (placed.event_id,))
    assert before.next_follow_up_due is None
    assert at_delivery.level is None


def test_lead_lost_gives_f() -> None:
    # given
    lost = lead_lost(day(3), competitor="BMW")
    tps = [visit(day(0), "payment_method_set"), lost]

    # when
    view = intent_at(tps, day(4))

    # then
    assert (view.level, view.since, view.decided_by) == ("F", day(3), (lost.event_id,))
    assert view.next_follow_up_due is None


# ---------------------------------------------------------------- windows


def test_highest_supported_level_wins() -> None:
    # given
    tps = [visit(day(0), "model_undecided", "revisit"), callback(day(1), "next_meeting_set")]

    # when
    view = intent_at(tps, day(2))

    # then
    assert view.level == "A"
    assert view.decided_by == (tps[1].event_id,)
    assert view.signals == ("model_undecided", "next_meeting_set", "revisit")


def test_signal_just_under_seven_days_old_still_supports_h() -> None:
    # given
    tps = [visit(day(0), "delivery_date_set")]

    # when
    view = intent_at(tps, day(7) - TICK)

    # then
    assert view.level == "H"


def test_signal_exactly_seven_days_old_no_longer_supports_h() -> None:
    # given
    tps = [visit(day(0), "delivery_date_set")]

    # when
    view = intent_at(tps, day(7))

    # then
    assert view.level == "A"
    assert view.since == day(7)


def test_h_signal_keeps_the_lead_at_least_a_until_fifteen_days() -> None:
    # given
    tps = [visit(day(0), "financing_in_progress")]

    # when
    levels = [intent_at(tps, t).level for t in (day(15) - TICK, day(15), day(30) - TICK, day(30))]

    # then
    assert levels == ["A", "B", "B", "C"]


def test_a_signal_exactly_fifteen_days_old_supports_b_only() -> None:
    # given
    tps = [visit(day(0), "purchase_date_set")]

    # when
    view = intent_at(tps, day(15))

    # then
    assert view.level == "B"


def test_b_signal_exactly_thirty_days_old_supports_c_only() -> None:
    # given
    tps = [visit(day(0), "trade_in_requested")]

    # when
    view = intent_at(tps, day(30))

    # then
    assert view.level == "C"


def test_c_signal_exactly_180_days_old_no_longer_supports_c() -> None:
    # given a later sales touchpoint keeps the lead open
    tps = [visit(day(0), "purchase_capable"), callback(day(100))]

    # when
    before, at_end = intent_at(tps, day(180) - TICK), intent_at(tps, day(180))

    # then
    assert before.level == "C"
    assert at_end.level == "N"
    assert at_end.signals == ()


def test_since_spans_signals_extending_the_same_level() -> None:
    # given
    tps = [visit(day(0), "payment_method_set"), callback(day(5), "delivery_date_set")]

    # when
    still_h, then_a = intent_at(tps, day(11)), intent_at(tps, day(12))

    # then
    assert (still_h.level, still_h.since) == ("H", day(0))
    assert still_h.decided_by == (tps[1].event_id,)
    assert (then_a.level, then_a.since) == ("A", day(12))


def test_level_uses_only_touchpoints_up_to_t() -> None:
    # given
    tps = [visit(day(0)), visit(day(5), "payment_method_set")]

    # when
    view = intent_at(tps, day(5) - TICK)

    # then
    assert view.level == "N"


# ---------------------------------------------------------------- sales touchpoints


def test_service_visit_without_signals_is_not_a_sales_touchpoint() -> None:
    # given
    tps = [visit(day(0), purpose="service"), visit(day(1), purpose="pickup")]

    # when
    view = intent_at(tps, day(2))

    # then
    assert view.level is None


def test_service_visit_with_signals_is_a_sales_touchpoint() -> None:
    # given
    tps = [visit(day(0), "revisit", purpose="service")]

    # when
    view = intent_at(tps, day(1))

    # then
    assert view.level == "B"
    assert view.last_contact_at == day(0)


def test_test_drive_implies_test_drive_taken() -> None:
    # given
    tps = [test_drive(day(0))]

    # when
    view = intent_at(tps, day(1))

    # then
    assert view.level == "B"
    assert view.signals == ("test_drive_taken",)


def test_callback_for_another_reason_is_not_a_sales_touchpoint() -> None:
    # given
    tps = [callback(day(0), "payment_method_set", reason="care")]

    # when
    view = intent_at(tps, day(1))

    # then
    assert view.level is None


def test_unreached_lead_follow_up_callback_opens_a_lead_and_its_signals_count() -> None:
    # given
    tps = [callback(day(0), "revisit", reached=False)]

    # when
    view = intent_at(tps, day(1))

    # then
    assert view.level == "B"
    assert view.last_contact_at is None


# ---------------------------------------------------------------- closing and reopening


def test_lead_closes_after_180_silent_days() -> None:
    # given
    last = visit(day(10))
    tps = [visit(day(0), "model_undecided"), last]

    # when
    open_, closed = intent_at(tps, day(190) - TICK), intent_at(tps, day(190))

    # then
    assert open_.level == "N"
    assert closed.level is None
    assert closed.decided_by == (last.event_id,)


def test_unreached_callback_keeps_the_lead_from_closing_by_silence() -> None:
    # given
    tps = [visit(day(0)), callback(day(100), reached=False)]

    # when
    view = intent_at(tps, day(270))

    # then
    assert view.level == "N"


def test_lead_at_o_does_not_close_by_silence() -> None:
    # given
    tps = [order(day(0))]

    # when
    view = intent_at(tps, day(1000))

    # then
    assert view.level == "O"


def test_lost_lead_stays_f_until_a_new_sales_touchpoint() -> None:
    # given
    lost = lead_lost(day(1))
    tps = [visit(day(0), "revisit"), lost, visit(day(400), purpose="service")]

    # when
    view = intent_at(tps, day(500))

    # then
    assert view.level == "F"
    assert view.since == day(1)


def test_new_sales_touchpoint_after_a_lost_lead_opens_a_new_lead_at_n() -> None:
    # given
    reopening = visit(day(20))
    tps = [visit(day(0), "payment_method_set"), lead_lost(day(1)), reopening]

    # when
    before, after = intent_at(tps, day(20) - TICK), intent_at(tps, day(20))

    # then
    assert before.level == "F"
    assert (after.level, after.since, after.decided_by) == ("N", day(20), (reopening.event_id,))
    assert after.lead_opened_at == day(20)


def test_new_lead_after_a_lost_one_is_graded_by_its_own_signals() -> None:
    # given
    tps = [visit(day(0), "payment_method_set"), lead_lost(day(1)), visit(day(2), "model_undecided")]

    # when
    view = intent_at(tps, day(3))

    # then
    assert view.level == "C"
    assert view.signals == ("model_undecided",)


def test_delivery_closes_the_lead() -> None:
    # given
    handed_over = delivery(day(3))
    tps = [visit(day(0), "payment_method_set"), handed_over]

    # when
    view = intent_at(tps, day(4))

    # then
    assert view.level is None
    assert view.decided_by == (handed_over.event_id,)
    assert view.next_follow_up_due is None


def test_signals_before_a_delivery_do_not_count_in_the_next_lead() -> None:
    # given
    tps = [visit(day(0), "payment_method_set"), delivery(day(1)), visit(day(2))]

    # when
    view = intent_at(tps, day(3))

    # then
    assert view.level == "N"


def test_sales_touchpoint_exactly_180_days_after_the_last_opens_a_new_lead() -> None:
    # given
    tps = [visit(day(0)), visit(day(180))]

    # when
    view = intent_at(tps, day(180))

    # then
    assert view.level == "N"
    assert view.lead_opened_at == day(180)


# ---------------------------------------------------------------- follow-up


def test_follow_up_is_due_at_the_last_reached_contact_plus_the_level_cadence() -> None:
    # given
    tps = [visit(day(0), "revisit"), callback(day(2))]

    # when
    view = intent_at(tps, day(3))

    # then
    assert view.level == "B"
    assert view.last_contact_at == day(2)
    assert view.next_follow_up_due == day(2 + 7)


def test_new_lead_is_followed_up_every_day() -> None:
    # given
    tps = [visit(day(0))]

    # when
    view = intent_at(tps, day(0, hours=1))

    # then
    assert view.next_follow_up_due == day(1)


def test_follow_up_cadence_is_the_one_of_the_level_at_t() -> None:
    # given an H signal (every 2 days) that has fallen to A (every 4 days)
    tps = [visit(day(0), "payment_method_set")]

    # when
    at_h, at_a = intent_at(tps, day(1)), intent_at(tps, day(8))

    # then
    assert at_h.next_follow_up_due == day(2)
    assert at_a.next_follow_up_due == day(4)
    assert at_a.follow_up_overdue


def test_follow_up_is_not_overdue_exactly_at_due() -> None:
    # given
    tps = [visit(day(0), "payment_method_set")]

    # when
    view = intent_at(tps, day(2))

    # then
    assert view.next_follow_up_due == day(2)
    assert not view.follow_up_overdue


def test_follow_up_is_overdue_just_past_due() -> None:
    # given
    tps = [visit(day(0), "payment_method_set")]

    # when
    view = intent_at(tps, day(2) + TICK)

    # then
    assert view.follow_up_overdue


def test_unreached_callback_does_not_count_as_a_contact() -> None:
    # given
    tps = [visit(day(0), "revisit"), callback(day(6), reached=False)]

    # when
    view = intent_at(tps, day(8))

    # then
    assert view.last_contact_at == day(0)
    assert view.next_follow_up_due == day(7)
    assert view.follow_up_overdue


def test_reached_lead_follow_up_callback_counts_as_a_contact() -> None:
    # given
    tps = [visit(day(0), "revisit"), callback(day(6))]

    # when
    view = intent_at(tps, day(8))

    # then
    assert view.next_follow_up_due == day(13)
    assert not view.follow_up_overdue


def test_lead_without_reached_contact_is_followed_up_from_its_opening() -> None:
    # given
    tps = [callback(day(0), reached=False)]

    # when
    view = intent_at(tps, day(1) + TICK)

    # then
    assert view.level == "N"
    assert view.next_follow_up_due == day(1)
    assert view.follow_up_overdue


def test_contacts_of_a_previous_lead_do_not_set_the_follow_up() -> None:
    # given
    tps = [visit(day(0)), lead_lost(day(1)), callback(day(5), reached=False)]

    # when
    view = intent_at(tps, day(5))

    # then
    assert view.last_contact_at is None
    assert view.next_follow_up_due == day(6)


def test_rules_set_the_windows_and_cadences() -> None:
    # given
    levels = dict(IntentRules().levels, H=LevelRule(window_days=3, follow_up_days=1))
    rules = Rules(intent=IntentRules(levels=levels))
    tps = [visit(day(0), "payment_method_set")]

    # when
    view = intent_at(tps, day(3), rules)

    # then
    assert view.level == "A"
    assert intent_at(tps, day(0), rules).next_follow_up_due == day(1)


def test_a_visit_without_a_purpose_is_a_sales_touchpoint_only_by_its_signals() -> None:
    with_signal = [visit(day(1), "revisit", purpose=None)]
    without = [visit(day(1), purpose=None)]

    assert intent_at(with_signal, day(2)).level == "B"
    assert intent_at(without, day(2)).level is None
