"""post_service_callback and post_delivery_callback (DOMAIN.md, "Policies (the work queue)").

| task | created by | due | done by |
| post_service_callback | maintenance | +3 working days | reached callback, reason post_service |
| post_delivery_callback | delivery | +3 days | reached callback, reason post_delivery |

Readings of DOMAIN.md made here:

- The numbers are the dealer's standard in force at the maintenance or delivery
  (post_service_callback_working_days, post_delivery_callback_days; gap 3).
- Working days are Monday to Friday in the maintenance's own UTC offset, skipping the rules
  file's holidays (rules.policies.holidays); the due keeps the maintenance's time of day
  (journey.workdays.add_working_days): a Friday service is due the next Wednesday.
- A reached callback of the reason at or after the touchpoint completes every open task of
  its kind created at or before it (two services, one call). A callback is in time when it
  comes at or before the due time; a later one still completes the task, late.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta

from journey.policies.task import (
    POST_DELIVERY_CALLBACK,
    POST_SERVICE_CALLBACK,
    REACHED,
    Task,
    tasks_known_at,
)
from journey.projections.history import History, history
from journey.projections.standards import StandardsLookup, in_force_or_defaults
from journey.rules import DEFAULT_RULES, Rules, ServiceStandards
from journey.touchpoints import AnyTouchpoint, Callback, Delivery, Maintenance
from journey.workdays import add_working_days

Due = Callable[[AnyTouchpoint, ServiceStandards], datetime]


def schedule(
    touchpoints: Iterable[AnyTouchpoint],
    rules: Rules = DEFAULT_RULES,
    standards: StandardsLookup | None = None,
) -> list[Task]:
    """Every post_service_callback and post_delivery_callback task of one customer, with its end."""
    hist = history(touchpoints)
    in_force = in_force_or_defaults(rules, standards)
    holidays = rules.policies.holidays

    def service_due(tp: AnyTouchpoint, s: ServiceStandards) -> datetime:
        return add_working_days(tp.occurred_at, s.post_service_callback_working_days, holidays)

    def delivery_due(tp: AnyTouchpoint, s: ServiceStandards) -> datetime:
        return tp.occurred_at + timedelta(days=s.post_delivery_callback_days)

    return [
        *_callback_tasks(hist, Maintenance, "post_service", POST_SERVICE_CALLBACK, service_due, in_force),
        *_callback_tasks(hist, Delivery, "post_delivery", POST_DELIVERY_CALLBACK, delivery_due, in_force),
    ]


#: The post-service and post-delivery callback tasks known at T.
tasks = tasks_known_at(schedule)


def _callback_tasks(
    hist: History,
    creator: type[Maintenance] | type[Delivery],
    reason: str,
    kind: str,
    due: Due,
    in_force: StandardsLookup,
) -> list[Task]:
    """One task per creating touchpoint, due by `due`, done by the first reached callback of the
    reason at or after it."""
    calls = [tp for tp in hist if isinstance(tp, Callback) and tp.data.reason == reason and tp.data.reached]
    out = []
    for tp in hist:
        if not isinstance(tp, creator):
            continue
        assert tp.customer_id is not None
        task = Task(kind, tp.customer_id, tp.dealer_id, tp.occurred_at, due(tp, in_force(tp)), (tp.event_id,))
        i = bisect_left(calls, tp.occurred_at, key=lambda c: c.occurred_at)
        if i < len(calls):
            task = task.ended(calls[i].occurred_at, calls[i].event_id, REACHED)
        out.append(task)
    return out
