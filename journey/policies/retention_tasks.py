"""win_back and maintenance_reminder (DOMAIN.md, "Policies (the work queue)").

| task | created by | due | done by |
| win_back | the owner turns marginal | at that instant | reached win_back callback, or a maintenance |
| maintenance_reminder | last maintenance or delivery | +180 days - 14 days | a maintenance |

Readings of DOMAIN.md made here:

- "Turns marginal" follows the retention status exactly (DOMAIN.md, "Retention status"):
  last_service is the latest maintenance, or the first delivery if none, and the owner is
  marginal once the whole days since it exceed marginal_after_days (180), i.e. from
  last_service + 181 days on, unless a maintenance came by then. The task is created and due
  at that instant, and stays open when the owner goes on to lost (still a win-back target).
- A reached win_back callback at or after the task's creation, or the next maintenance,
  completes it, whichever comes first; a win_back call before the owner turned marginal does not.
- Each maintenance or delivery creates a reminder due maintenance_interval_days -
  maintenance_reminder_lead_days (166 days) later, so that the reminder is always the one of
  the *last* maintenance or delivery: the next maintenance completes it, and a newer
  delivery (another car) supersedes it, which cancels it.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterable

from journey.policies.task import (
    CANCELLED,
    DONE,
    MAINTENANCE_REMINDER,
    REACHED,
    WIN_BACK,
    Task,
    tasks_known_at,
)
from journey.projections.history import DAY, History, history, sort_key
from journey.projections.standards import StandardsLookup
from journey.rules import DEFAULT_RULES, Rules
from journey.touchpoints import AnyTouchpoint, Callback, Delivery, Maintenance


def schedule(
    touchpoints: Iterable[AnyTouchpoint],
    rules: Rules = DEFAULT_RULES,
    standards: StandardsLookup | None = None,
) -> list[Task]:
    """Every win_back and maintenance_reminder task of one customer, with its end."""
    hist = history(touchpoints)
    return [*_win_backs(hist, rules), *_reminders(hist, rules)]


#: The win_back and maintenance_reminder tasks known at T.
tasks = tasks_known_at(schedule)


def service_anchors(hist: History) -> list[AnyTouchpoint]:
    """The successive last_service touchpoints (DOMAIN.md: the latest maintenance, or the first
    delivery if none): the first delivery when it comes before any maintenance, then every maintenance."""
    anchors: list[AnyTouchpoint] = []
    for tp in hist:
        if isinstance(tp, Maintenance) or (isinstance(tp, Delivery) and not anchors):
            anchors.append(tp)
    return anchors


def _win_backs(hist: History, rules: Rules) -> list[Task]:
    """A win_back task each time the owner turns marginal: last_service + (marginal_after_days + 1)
    days with no maintenance by then."""
    anchors = service_anchors(hist)
    calls = [
        tp for tp in hist if isinstance(tp, Callback) and tp.data.reason == "win_back" and tp.data.reached
    ]
    out = []
    for i, anchor in enumerate(anchors):
        marginal_at = anchor.occurred_at + (rules.retention.marginal_after_days + 1) * DAY
        following = anchors[i + 1] if i + 1 < len(anchors) else None
        if following is not None and following.occurred_at <= marginal_at:
            continue
        assert anchor.customer_id is not None
        task = Task(
            WIN_BACK, anchor.customer_id, anchor.dealer_id, marginal_at, marginal_at, (anchor.event_id,)
        )
        j = bisect_left(calls, marginal_at, key=lambda c: c.occurred_at)
        call = calls[j] if j < len(calls) else None
        enders = [(tp, outcome) for tp, outcome in ((call, REACHED), (following, DONE)) if tp is not None]
        if enders:
            ender, outcome = min(enders, key=lambda e: sort_key(e[0]))
            task = task.ended(ender.occurred_at, ender.event_id, outcome)
        out.append(task)
    return out


def _reminders(hist: History, rules: Rules) -> list[Task]:
    """A maintenance_reminder per maintenance or delivery, ended by the next one: done by a
    maintenance, cancelled by a delivery."""
    p = rules.policies
    services = [tp for tp in hist if isinstance(tp, Maintenance | Delivery)]
    out = []
    for i, tp in enumerate(services):
        assert tp.customer_id is not None
        due = tp.occurred_at + (p.maintenance_interval_days - p.maintenance_reminder_lead_days) * DAY
        task = Task(MAINTENANCE_REMINDER, tp.customer_id, tp.dealer_id, tp.occurred_at, due, (tp.event_id,))
        if i + 1 < len(services):
            nxt = services[i + 1]
            task = task.ended(
                nxt.occurred_at, nxt.event_id, DONE if isinstance(nxt, Maintenance) else CANCELLED
            )
        out.append(task)
    return out
