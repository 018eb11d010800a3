"""follow_up (DOMAIN.md, "Policies (the work queue)" and "Intent level (sales leads)").

| task | created by | due | done by |
| follow_up | an open lead at level N/C/B/A/H | next_follow_up_due | any reached sales contact |

next_follow_up_due = the last reached sales contact + the cadence of the level *at T*
(intent.py, which this module samples rather than restates). How that becomes rows:

- One task per *contact episode*: from the contact that the due counts from (the lead's
  last reached sales contact, or the touchpoint that opened the lead while it has none; its
  event_id names the task) until the next reached sales contact, which does it (``reached``
  when it is a reached lead_follow_up callback, ``done`` for a store visit or test drive), or
  until the lead leaves N/C/B/A/H (an order, a lead_lost, a delivery, 180 days of silence),
  which cancels it (done_by: the touchpoint intent.py says decided that).
- The due moves inside an episode whenever the level does (an A lead falling to B stretches
  its cadence from 4 to 7 days; an unreached callback with a new signal can shorten it): each
  due in force is one *version* of the task, [valid_from, valid_to), all with the same key.
  The level, and so the due, can only change at intent.level_breakpoints, so sampling
  intent_at there gives every version.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Iterator
from dataclasses import replace
from datetime import datetime

from journey.policies.task import CANCELLED, DONE, FOLLOW_UP, REACHED, Task, tasks_known_at
from journey.projections.history import History, history, sort_key
from journey.projections.intent import (
    FOLLOWED_UP,
    IntentTimeline,
    IntentView,
    intent_timeline,
    is_reached_sales_contact,
    is_sales_touchpoint,
)
from journey.projections.standards import StandardsLookup
from journey.rules import DEFAULT_RULES, Rules
from journey.touchpoints import AnyTouchpoint, Callback


def schedule(
    touchpoints: Iterable[AnyTouchpoint],
    rules: Rules = DEFAULT_RULES,
    standards: StandardsLookup | None = None,
) -> list[Task]:
    """Every follow_up task (every version of it) of one customer, with its end."""
    hist = history(touchpoints)
    timeline = intent_timeline(hist, rules)
    contacts = [tp for tp in hist if is_reached_sales_contact(tp)]
    contact_keys = [sort_key(tp) for tp in contacts]
    out: list[Task] = []
    current: Task | None = None  # the version in force
    counted_from: AnyTouchpoint | None = None  # the contact it counts from
    for b, view in _samples(hist, timeline):
        base = _base(hist, timeline.times, view)
        due = view.next_follow_up_due
        if current is not None and due is not None and _same(base, counted_from):
            if due != current.due_at:
                out.append(replace(current, valid_to=b))
                current = replace(current, due_at=due, valid_from=b)
            continue
        if current is not None and counted_from is not None:
            out.append(_end(current, counted_from, contacts, contact_keys, b, view, base))
            current = None
        if base is not None and due is not None:
            assert base.customer_id is not None
            current = Task(FOLLOW_UP, base.customer_id, base.dealer_id, b, due, (base.event_id,))
            counted_from = base
    if current is not None:
        out.append(current)
    return out


#: The follow_up tasks known at T: at most one open, due at intent_at's next_follow_up_due.
tasks = tasks_known_at(schedule)


def _samples(hist: History, timeline: IntentTimeline) -> Iterator[tuple[datetime, IntentView]]:
    """intent_at at every level breakpoint that may change the follow-up. A lead at O or F, or no
    lead, reaches N/C/B/A/H again only at a sales touchpoint, so other breakpoints are skipped then;
    so is a window end that leaves the level in force and what decided it (IntentTimeline.may_change)."""
    sales_at = {tp.occurred_at for tp in hist if is_sales_touchpoint(tp)}
    view: IntentView | None = None
    for b in timeline.level_breakpoints:
        if view is None or view.level not in FOLLOWED_UP:
            if b not in sales_at:
                continue
        elif not timeline.may_change(b, view):
            continue
        view = timeline.at(b, with_since=False)
        yield b, view


def _base(hist: History, times: list[datetime], view: IntentView) -> AnyTouchpoint | None:
    """The touchpoint the due counts from: the last reached sales contact of the lead, else the
    lead's opening touchpoint (the last such at that instant, for a stable choice); None when the
    lead is not followed up."""
    if view.level not in FOLLOWED_UP:
        return None
    at = view.last_contact_at or view.lead_opened_at
    assert at is not None
    same = hist[bisect_left(times, at) : bisect_right(times, at)]  # times: hist's occurred_at
    wanted = is_reached_sales_contact if view.last_contact_at is not None else is_sales_touchpoint
    return [tp for tp in same if wanted(tp)][-1]


def _end(
    task: Task,
    start: AnyTouchpoint,
    contacts: list[AnyTouchpoint],
    contact_keys: list[tuple[datetime, str]],
    at: datetime,
    view: IntentView,
    base: AnyTouchpoint | None,
) -> Task:
    """Done by the first reached sales contact after the task's contact (it is at `at`), else
    cancelled by what took the lead out of N/C/B/A/H (or by the touchpoint the next episode counts from)."""
    i = bisect_right(contact_keys, sort_key(start))  # contact_keys: the contacts' sort keys
    if i < len(contacts) and contacts[i].occurred_at <= at:
        contact = contacts[i]
        outcome = REACHED if isinstance(contact, Callback) else DONE
        return task.ended(contact.occurred_at, contact.event_id, outcome)
    by = view.decided_by[-1] if view.level not in FOLLOWED_UP and view.decided_by else None
    if by is None and base is not None:
        by = base.event_id
    return task.ended(at, by, CANCELLED)


def _same(a: AnyTouchpoint | None, b: AnyTouchpoint | None) -> bool:
    return a is not None and b is not None and a.event_id == b.event_id
