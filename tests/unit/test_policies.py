"""DOMAIN.md, "Policies (the work queue)": one test per row of the table, then the edges."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta, timezone

from journey.policies import complaints, follow_up, retention_tasks, service_callbacks
from journey.policies.queue import task_schedule, tasks_at, work_queue
from journey.policies.task import CANCELLED, DONE, REACHED, Task, known_at
from journey.projections.history import TICK
from journey.projections.intent import intent_at
from journey.projections.retention import retention_at
from journey.projections.standards import standards_lookup
from journey.rules import PolicyRules, Rules
from journey.touchpoints import AnyTouchpoint
from tests.builders import (
    callback,
    complaint,
    complaint_resolved,
    day,
    delivery,
    lead_lost,
    maintenance,
    order,
    standard_set,
    test_drive,
    visit,
)

CST = timezone(timedelta(hours=8))


def of_kind(tasks: Sequence[Task], kind: str) -> list[Task]:
    return [t for t in tasks if t.kind == kind]


def the(tasks: Sequence[Task], kind: str) -> Task:
    found = of_kind(tasks, kind)
    assert len(found) == 1, found
    return found[0]


def created(task: Task) -> datetime:
    return task.created_at


def local(y: int, m: int, d: int, hour: int = 10) -> datetime:
    return datetime(y, m, d, hour, tzinfo=CST)


# ---------------------------------------------------------------- follow_up


def test_new_lead_at_n_gets_a_follow_up_due_one_day_after_its_opening() -> None:
    # given
    opening = visit(day(0))

    # when
    task = the(follow_up.tasks([opening], day(0, hours=1)), "follow_up")

    # then
    assert (task.created_at, task.due_at, task.created_by) == (day(0), day(1), (opening.event_id,))
    assert task.key == f"follow_up:C1:{opening.event_id}"
    assert task.dealer_id == "D1"
    assert task.is_open(day(0, hours=1))


def test_graded_leads_are_followed_up_at_their_level_cadence() -> None:
    for signal, days in (
        ("model_undecided", 15),
        ("revisit", 7),
        ("terms_negotiated", 4),
        ("payment_method_set", 2),
    ):
        # given
        tps = [visit(day(0), signal)]

        # when
        task = the(follow_up.tasks(tps, day(1)), "follow_up")

        # then
        assert task.due_at == day(days), signal


def test_follow_up_is_overdue_only_once_t_is_past_its_due_time() -> None:
    # given
    tps = [visit(day(0), "revisit")]

    # when
    at_due = the(follow_up.tasks(tps, day(7)), "follow_up")
    past_due = the(follow_up.tasks(tps, day(7) + TICK), "follow_up")

    # then
    assert not at_due.is_overdue(day(7))
    assert past_due.is_overdue(day(7) + TICK)


def test_any_reached_sales_contact_does_the_follow_up_and_starts_the_next() -> None:
    for contact, outcome in (
        (visit(day(3)), DONE),
        (test_drive(day(3)), DONE),
        (callback(day(3)), REACHED),
    ):
        # given
        tps = [visit(day(0), "revisit"), contact]

        # when
        tasks = follow_up.tasks(tps, day(4))

        # then
        done, following = sorted(tasks, key=created)
        assert (done.done_at, done.done_by, done.outcome) == (day(3), contact.event_id, outcome)
        assert following.created_by == (contact.event_id,)
        assert following.is_open(day(4))
        assert following.due_at == day(3 + 7)


def test_unreached_callback_does_not_do_the_follow_up() -> None:
    # given
    tps = [visit(day(0), "revisit"), callback(day(3), reached=False)]

    # when
    task = the(follow_up.tasks(tps, day(8)), "follow_up")

    # then
    assert task.done_at is None
    assert task.is_overdue(day(8))


def test_order_lead_lost_delivery_and_silence_cancel_the_follow_up() -> None:
    opening = visit(day(0), "model_undecided")
    for closer, at in (
        (order(day(5)), day(5)),
        (lead_lost(day(5)), day(5)),
        (delivery(day(5)), day(5)),
        (None, day(180)),
    ):
        # given
        tps = [opening] if closer is None else [opening, closer]

        # when
        task = the(follow_up.tasks(tps, day(200)), "follow_up")

        # then
        assert (task.done_at, task.outcome) == (at, CANCELLED)
        assert task.done_by == (opening.event_id if closer is None else closer.event_id)
        assert of_kind(work_queue(tps, day(200)), "follow_up") == []


def test_lead_falling_from_a_to_b_stretches_its_follow_up_cadence() -> None:
    # given: an A signal (A until day 15, then B until day 30), a reached call on day 12
    tps = [visit(day(0), "terms_negotiated"), callback(day(12))]

    # when
    while_a = the(work_queue(tps, day(14)), "follow_up")
    once_b = the(work_queue(tps, day(17)), "follow_up")

    # then: due 4 days after the call while A, 7 days after it once B
    assert while_a.due_at == day(16)
    assert once_b.due_at == day(19)
    assert not once_b.is_overdue(day(17))
    assert while_a.key == once_b.key
    assert once_b.due_at == intent_at(tps, day(17)).next_follow_up_due


def test_follow_up_due_moves_are_versions_of_one_task() -> None:
    # given
    tps = [visit(day(0), "terms_negotiated"), callback(day(12))]

    # when
    versions = of_kind(task_schedule(tps), "follow_up")[1:]

    # then
    assert [(v.valid_from, v.valid_to, v.due_at) for v in versions] == [
        (day(12), day(15), day(16)),  # A: 4 days after the call
        (day(15), day(30), day(19)),  # B: 7 days
        (day(30), day(180), day(27)),  # C: 15 days
        (day(180), None, day(13)),  # N: 1 day, until the lead closes by silence
    ]
    assert versions[-1].done_at == day(192)
    assert len({v.key for v in versions}) == 1


def test_lead_overdue_at_a_is_no_longer_overdue_once_it_falls_to_b() -> None:
    # given: the A follow-up falls due on day 14, the level falls to B on day 15
    tps = [visit(day(0), "terms_negotiated"), callback(day(10))]

    # when
    at_a = the(work_queue(tps, day(14, hours=12)), "follow_up")
    at_b = the(work_queue(tps, day(15)), "follow_up")

    # then
    assert at_a.is_overdue(day(14, hours=12))
    assert not at_b.is_overdue(day(15))
    assert at_b.due_at == day(17)


# ---------------------------------------------------------------- complaint_callback


def test_complaint_gets_a_callback_due_after_complaint_callback_hours() -> None:
    # given
    raised = complaint(day(0))

    # when
    task = the(complaints.tasks([raised], day(1)), "complaint_callback")

    # then
    assert (task.created_at, task.due_at, task.created_by) == (day(0), day(2), (raised.event_id,))
    assert task.is_open(day(1))


def test_complaint_called_back_at_47_hours_59_is_in_time_and_never_escalated() -> None:
    # given
    call = callback(day(0, hours=47, minutes=59), reason="complaint", complaint_id="K1")
    tps = [complaint(day(0)), call]

    # when
    tasks = complaints.tasks(tps, day(10))

    # then
    task = the(tasks, "complaint_callback")
    assert (task.done_at, task.done_by, task.outcome) == (call.occurred_at, call.event_id, REACHED)
    assert task.done_at is not None and task.done_at <= task.due_at
    assert of_kind(tasks, "complaint_escalation") == []


def test_complaint_called_back_at_exactly_48_hours_is_in_time() -> None:
    # given
    tps = [complaint(day(0)), callback(day(2), reason="complaint")]

    # when
    tasks = complaints.tasks(tps, day(10))

    # then
    assert the(tasks, "complaint_callback").outcome == REACHED
    assert of_kind(tasks, "complaint_escalation") == []


def test_complaint_called_back_at_48_hours_01_is_late_and_escalated_at_the_breach() -> None:
    # given
    call = callback(day(0, hours=48, minutes=1), reason="complaint", complaint_id="K1")
    tps = [complaint(day(0)), call]

    # when
    between = complaints.tasks(tps, day(2, seconds=30))
    after = complaints.tasks(tps, day(10))

    # then
    assert the(between, "complaint_callback").is_overdue(day(2, seconds=30))
    escalation = the(after, "complaint_escalation")
    assert escalation.due_at == day(2)  # the breach: the callback's due time
    assert escalation.created_at == day(2) + TICK  # the first instant the callback is overdue
    assert escalation.is_overdue(escalation.created_at) and escalation.is_overdue(day(10))
    assert "complaint_escalation" not in {t.kind for t in complaints.tasks(tps, day(2))}
    late = the(after, "complaint_callback")
    assert late.done_at == call.occurred_at > late.due_at


def test_complaint_callback_counts_only_reached_complaint_calls_for_that_complaint() -> None:
    # given
    tps = [
        complaint(day(0)),
        callback(day(1), reason="complaint", reached=False),
        callback(day(1), reason="complaint", complaint_id="K2"),
        callback(day(1), reason="post_service"),
    ]

    # when
    task = the(complaints.tasks(tps, day(3)), "complaint_callback")

    # then
    assert task.done_at is None
    assert task.is_overdue(day(3))


def test_complaint_callback_without_complaint_id_counts_for_the_open_complaint() -> None:
    # given
    call = callback(day(1), reason="complaint")

    # when
    task = the(complaints.tasks([complaint(day(0)), call], day(3)), "complaint_callback")

    # then
    assert task.done_by == call.event_id


def test_complaint_callback_sla_is_the_dealer_standard_in_force() -> None:
    # given
    standards = standards_lookup([standard_set(day(-1), complaint_callback_hours=24)])

    # when
    task = the(complaints.tasks([complaint(day(0))], day(1), standards=standards), "complaint_callback")

    # then
    assert task.due_at == day(1)


def test_complaint_resolved_before_its_callback_cancels_it_without_escalation() -> None:
    # given
    resolved = complaint_resolved(day(1))

    # when
    tasks = complaints.tasks([complaint(day(0)), resolved], day(5))

    # then
    task = the(tasks, "complaint_callback")
    assert (task.done_at, task.done_by, task.outcome) == (day(1), resolved.event_id, CANCELLED)
    assert of_kind(tasks, "complaint_escalation") == []


def test_complaint_raised_again_while_open_is_the_same_complaint() -> None:
    # given
    tps = [complaint(day(0)), complaint(day(1))]

    # when
    tasks = complaints.tasks(tps, day(1, hours=1))

    # then
    assert len(tasks) == 1


# ---------------------------------------------------------------- complaint_escalation


def test_complaint_without_callback_is_escalated_at_the_breach_until_resolved() -> None:
    # given
    resolved = complaint_resolved(day(5))
    tps = [complaint(day(0)), resolved]

    # when
    at_breach = complaints.tasks(tps, day(2))
    just_after = complaints.tasks(tps, day(2) + TICK)
    later = complaints.tasks(tps, day(6))

    # then
    assert of_kind(at_breach, "complaint_escalation") == []
    assert the(just_after, "complaint_escalation").is_open(day(2) + TICK)
    escalation = the(later, "complaint_escalation")
    assert (escalation.done_at, escalation.done_by, escalation.outcome) == (day(5), resolved.event_id, DONE)
    callback_task = the(later, "complaint_callback")
    assert (callback_task.done_by, callback_task.outcome) == (resolved.event_id, CANCELLED)


def test_escalation_stays_open_after_a_late_callback() -> None:
    # given
    tps = [complaint(day(0)), callback(day(3), reason="complaint")]

    # when
    tasks = complaints.tasks(tps, day(4))

    # then
    assert the(tasks, "complaint_callback").outcome == REACHED
    assert the(tasks, "complaint_escalation").is_overdue(day(4))


# ---------------------------------------------------------------- post_service_callback


def test_maintenance_gets_a_callback_due_three_working_days_later() -> None:
    # given: a Monday service
    served = maintenance(day(0))

    # when
    task = the(service_callbacks.tasks([served], day(1)), "post_service_callback")

    # then: Thursday, same time
    assert (task.created_at, task.due_at, task.created_by) == (day(0), day(3), (served.event_id,))


def test_reached_post_service_callback_does_the_task() -> None:
    # given
    call = callback(day(2), reason="post_service")
    tps = [maintenance(day(0)), callback(day(1), reason="post_service", reached=False), call]

    # when
    task = the(service_callbacks.tasks(tps, day(5)), "post_service_callback")

    # then
    assert (task.done_at, task.done_by, task.outcome) == (day(2), call.event_id, REACHED)


def test_friday_service_called_back_next_tuesday_is_in_time_after_four_calendar_days() -> None:
    # given: Friday 9 January, called back Tuesday 13 January
    friday, tuesday = local(2026, 1, 9), local(2026, 1, 13)
    call = callback(tuesday, reason="post_service")
    tps = [maintenance(friday), call]

    # when
    task = the(service_callbacks.tasks(tps, tuesday), "post_service_callback")

    # then
    assert tuesday - friday == timedelta(days=4)
    assert task.due_at == local(2026, 1, 14)
    assert task.done_at == tuesday <= task.due_at
    assert not the(service_callbacks.tasks(tps[:1], tuesday), "post_service_callback").is_overdue(tuesday)


def test_holiday_in_the_way_pushes_the_post_service_callback_a_day() -> None:
    # given: Friday service, the Monday after is a holiday
    rules = Rules(policies=PolicyRules(holidays=(date(2026, 1, 12),)))
    tps = [maintenance(local(2026, 1, 9))]

    # when
    task = the(service_callbacks.tasks(tps, local(2026, 1, 14, 12), rules), "post_service_callback")

    # then: due Thursday, not overdue on Wednesday afternoon
    assert task.due_at == local(2026, 1, 15)
    assert not task.is_overdue(local(2026, 1, 14, 12))


def test_working_days_are_counted_in_the_touchpoints_own_offset() -> None:
    # given: Saturday 01:00 at +08:00 is still Friday in UTC
    saturday = local(2026, 1, 10, 1)
    assert saturday.astimezone(UTC).weekday() == 4

    # when
    task = the(service_callbacks.tasks([maintenance(saturday)], saturday), "post_service_callback")

    # then: Monday, Tuesday, Wednesday, at 01:00 local
    assert task.due_at == local(2026, 1, 14, 1)


def test_post_service_working_days_are_the_dealer_standard_in_force() -> None:
    # given
    standards = standards_lookup([standard_set(day(-1), post_service_callback_working_days=2)])

    # when
    task = the(
        service_callbacks.tasks([maintenance(day(0))], day(0), standards=standards), "post_service_callback"
    )

    # then
    assert task.due_at == day(2)


# ---------------------------------------------------------------- post_delivery_callback


def test_delivery_gets_a_callback_due_three_calendar_days_later() -> None:
    # given: a Friday delivery
    handed_over = delivery(day(4))

    # when
    task = the(service_callbacks.tasks([handed_over], day(5)), "post_delivery_callback")

    # then: Monday, weekend included
    assert (task.created_at, task.due_at) == (day(4), day(7))


def test_reached_post_delivery_callback_does_the_task() -> None:
    # given
    call = callback(day(5), reason="post_delivery")
    tps = [delivery(day(0)), callback(day(1), reason="post_service"), call]

    # when
    task = the(service_callbacks.tasks(tps, day(6)), "post_delivery_callback")

    # then
    assert (task.done_at, task.done_by, task.outcome) == (day(5), call.event_id, REACHED)
    assert task.due_at == day(3)  # done, but late


# ---------------------------------------------------------------- win_back


def test_owner_turning_marginal_gets_a_win_back_at_that_instant() -> None:
    # given
    handed_over = delivery(day(0))
    turns = day(181)

    # when
    before = retention_tasks.tasks([handed_over], turns - TICK)
    task = the(retention_tasks.tasks([handed_over], turns), "win_back")

    # then
    assert of_kind(before, "win_back") == []
    assert (task.created_at, task.due_at, task.created_by) == (turns, turns, (handed_over.event_id,))
    assert retention_at([handed_over], turns).status == "marginal"
    assert retention_at([handed_over], turns - TICK).status != "marginal"


def test_reached_win_back_callback_does_the_win_back_but_not_one_made_before() -> None:
    # given
    early = callback(day(100), reason="win_back")
    call = callback(day(190), reason="win_back")
    tps = [delivery(day(0)), early, callback(day(185), reason="win_back", reached=False), call]

    # when
    task = the(retention_tasks.tasks(tps, day(200)), "win_back")

    # then
    assert (task.done_at, task.done_by, task.outcome) == (day(190), call.event_id, REACHED)


def test_maintenance_completes_a_win_back() -> None:
    # given
    back = maintenance(day(250))
    tps = [delivery(day(0)), back]

    # when
    tasks = retention_tasks.tasks(tps, day(260))

    # then
    task = the(tasks, "win_back")
    assert (task.done_at, task.done_by, task.outcome) == (day(250), back.event_id, DONE)
    assert retention_at(tps, day(260)).status == "opportunity"


def test_maintenance_before_turning_marginal_makes_no_win_back() -> None:
    # given
    tps = [delivery(day(0)), maintenance(day(181))]

    # when
    tasks = retention_tasks.tasks(tps, day(300))

    # then
    assert of_kind(tasks, "win_back") == []


def test_win_back_stays_open_when_the_owner_goes_on_to_lost() -> None:
    # given
    tps = [maintenance(day(0))]

    # when
    task = the(retention_tasks.tasks(tps, day(400)), "win_back")

    # then
    assert retention_at(tps, day(400)).status == "lost"
    assert task.is_overdue(day(400))


# ---------------------------------------------------------------- maintenance_reminder


def test_maintenance_gets_a_reminder_due_180_days_less_14_later_done_by_the_next() -> None:
    # given
    first, second = maintenance(day(0)), maintenance(day(170))

    # when
    before = the(retention_tasks.tasks([first, second], day(10)), "maintenance_reminder")
    reminders = sorted(
        of_kind(retention_tasks.tasks([first, second], day(171)), "maintenance_reminder"), key=created
    )

    # then
    assert before.due_at == day(166)
    done, following = reminders
    assert (done.done_at, done.done_by, done.outcome) == (day(170), second.event_id, DONE)
    assert (following.created_by, following.due_at) == ((second.event_id,), day(336))


def test_delivery_gets_a_reminder_that_a_newer_delivery_supersedes() -> None:
    # given
    first, second = delivery(day(0)), delivery(day(30), vin="LFV2A21K8N3000002")

    # when
    reminders = sorted(
        of_kind(retention_tasks.tasks([first, second], day(40)), "maintenance_reminder"), key=created
    )

    # then
    old, new = reminders
    assert (old.done_by, old.outcome) == (second.event_id, CANCELLED)
    assert new.due_at == day(196)


def test_reminder_is_overdue_past_its_due_without_a_maintenance() -> None:
    # given
    tps = [delivery(day(0))]

    # when
    task = the(retention_tasks.tasks(tps, day(167)), "maintenance_reminder")

    # then
    assert task.is_overdue(day(167))


# ---------------------------------------------------------------- the queue


def test_work_queue_lists_open_tasks_overdue_first_then_by_due() -> None:
    # given
    tps: list[AnyTouchpoint] = [
        visit(day(0), "model_undecided"),
        complaint(day(10)),
        maintenance(day(11)),
        callback(day(12), reason="post_service"),
    ]

    # when
    queue = work_queue(tps, day(13))

    # then
    assert [t.kind for t in queue] == [
        "complaint_callback",
        "complaint_escalation",
        "follow_up",
        "maintenance_reminder",
    ]
    assert [t.is_overdue(day(13)) for t in queue] == [True, True, False, False]
    assert all(t.is_open(day(13)) for t in queue)


def test_tasks_at_t_equal_the_schedule_filtered_at_t() -> None:
    # given
    tps = [
        visit(day(0), "terms_negotiated"),
        callback(day(12)),
        complaint(day(13)),
        callback(day(16), reason="complaint"),
        delivery(day(20)),
    ]
    schedule = task_schedule(tps)

    # then
    for at in (day(n, hours=h) for n in range(0, 30) for h in (0, 12)):
        assert tasks_at(tps, at) == known_at(schedule, at)
