"""The work queue (DOMAIN.md, "Policies (the work queue)"): every policy family together.

``task_schedule`` gives every task ever created, with its final end, as rows (a follow_up
whose due moves is one row per due in force); ``tasks_at`` gives every task known at T; and
``work_queue`` the open ones, overdue first. By construction

    tasks_at(touchpoints, T) == known_at(task_schedule(touchpoints), T)

for every T (a task's beginning, due and end at T depend only on touchpoints with
occurred_at <= T), which is what lets the stored view answer "as of T" by a range look-up.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from journey.policies import complaints, follow_up, retention_tasks, service_callbacks
from journey.policies.task import Schedule, Task, tasks_known_at
from journey.projections.history import History, history
from journey.projections.standards import StandardsLookup
from journey.rules import DEFAULT_RULES, Rules
from journey.touchpoints import AnyTouchpoint

#: One schedule per policy family (one module each).
FAMILIES: tuple[Schedule, ...] = (
    follow_up.schedule,
    complaints.schedule,
    service_callbacks.schedule,
    retention_tasks.schedule,
)


def customer_schedule(
    touchpoints: Iterable[AnyTouchpoint],
    rules: Rules = DEFAULT_RULES,
    standards: StandardsLookup | None = None,
) -> list[Task]:
    """Every task of one customer, all families, in (created_at, key, valid_from) order."""
    hist = history(touchpoints)
    rows = [task for family in FAMILIES for task in family(hist, rules, standards)]
    return sorted(rows, key=lambda t: (t.created_at, t.key, t.since))


def task_schedule(
    touchpoints: Iterable[AnyTouchpoint],
    rules: Rules = DEFAULT_RULES,
    standards: StandardsLookup | None = None,
) -> list[Task]:
    """Every task ever created from these touchpoints (any number of customers; dealer-level
    touchpoints make none), with its final end."""
    return [
        task
        for tps in _by_customer(touchpoints).values()
        for task in customer_schedule(tps, rules, standards)
    ]


#: Every task known at T (created at or before T; done only when done at or before T), from the
#: touchpoints with occurred_at <= T, in queue order (open first, overdue first, by due).
tasks_at = tasks_known_at(task_schedule)


def work_queue(
    touchpoints: Iterable[AnyTouchpoint],
    at: datetime,
    rules: Rules = DEFAULT_RULES,
    standards: StandardsLookup | None = None,
) -> list[Task]:
    """The work queue at T: the tasks open at T, overdue first, then by due time and key."""
    return [t for t in tasks_at(touchpoints, at, rules, standards) if t.is_open(at)]


def _by_customer(touchpoints: Iterable[AnyTouchpoint]) -> dict[str, History]:
    groups: dict[str, History] = {}
    for tp in history(touchpoints):
        if tp.customer_id is not None:
            groups.setdefault(tp.customer_id, History()).append(tp)
    return groups
