"""complaint_callback and complaint_escalation (DOMAIN.md, "Policies (the work queue)").

| task | created by | due | done by |
| complaint_callback | complaint | +complaint_callback_hours | reached callback, reason complaint (same complaint_id when given) |
| complaint_escalation | complaint_callback overdue | at the breach | complaint_resolved |

Readings of DOMAIN.md made here (the same as retention.py's complaint flags):

- A complaint is one task per *opening*: a complaint raised again with the id of a complaint
  still open is the same complaint; raised after its complaint_resolved, it opens anew. A
  complaint_resolved at the very instant of a complaint resolves it.
- complaint_callback_hours is the dealer's standard in force at the complaint (gap 3).
- A reached complaint callback without complaint_id counts for every open complaint; one at
  or after the complaint completes it, on time or late ("within the SLA" includes its end).
- A complaint resolved before any reached callback cancels its callback task.
- The breach is the callback's due time: the escalation is due then, and exists (is created)
  from the first instant the callback task is overdue (due + 1 µs), only if the callback task was
  still open at its due time; so it is overdue from its creation.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterable

from journey.policies.task import (
    CANCELLED,
    COMPLAINT_CALLBACK,
    COMPLAINT_ESCALATION,
    DONE,
    REACHED,
    Task,
    tasks_known_at,
)
from journey.projections.complaints import (
    ComplaintEpisode,
    answers_complaint,
    callback_deadline,
    complaint_episodes,
    is_reached_complaint_callback,
)
from journey.projections.history import TICK, history
from journey.projections.standards import StandardsLookup, in_force_or_defaults
from journey.rules import DEFAULT_RULES, Rules
from journey.touchpoints import AnyTouchpoint, Callback


def schedule(
    touchpoints: Iterable[AnyTouchpoint],
    rules: Rules = DEFAULT_RULES,
    standards: StandardsLookup | None = None,
) -> list[Task]:
    """Every complaint_callback and complaint_escalation task of one customer, with its end."""
    hist = history(touchpoints)
    callbacks = [tp for tp in hist if is_reached_complaint_callback(tp)]
    out: list[Task] = []
    for episode in complaint_episodes(hist):
        callback_task = _callback_task(episode, callbacks, rules, standards)
        out.append(callback_task)
        escalation = _escalation(episode, callback_task)
        if escalation is not None:
            out.append(escalation)
    return out


#: The complaint tasks known at T (created at or before T, done only if done by T).
tasks = tasks_known_at(schedule)


def _callback_task(
    episode: ComplaintEpisode, callbacks: list[Callback], rules: Rules, standards: StandardsLookup | None
) -> Task:
    """Due complaint_callback_hours after the complaint; done by the first reached complaint callback
    (same complaint_id, or none given) at or after it, unless the complaint was resolved first."""
    c = episode.opened
    task = Task(
        kind=COMPLAINT_CALLBACK,
        customer_id=_customer(c),
        dealer_id=c.dealer_id,
        created_at=c.occurred_at,
        due_at=callback_deadline(c, in_force_or_defaults(rules, standards)(c)),
        created_by=(c.event_id,),
    )
    start = bisect_left(callbacks, c.occurred_at, key=lambda tp: tp.occurred_at)
    done = next((cb for cb in callbacks[start:] if answers_complaint(cb, c)), None)
    resolved = episode.resolved
    if done is not None and (resolved is None or done.occurred_at <= resolved.occurred_at):
        return task.ended(done.occurred_at, done.event_id, REACHED)
    if resolved is not None:
        return task.ended(resolved.occurred_at, resolved.event_id, CANCELLED)
    return task


def _escalation(episode: ComplaintEpisode, callback_task: Task) -> Task | None:
    """Due at the breach and created once the callback is overdue, when it was still open at its due
    time; done by the complaint's complaint_resolved."""
    if callback_task.done_at is not None and callback_task.done_at <= callback_task.due_at:
        return None
    overdue = callback_task.due_at + TICK
    task = Task(
        kind=COMPLAINT_ESCALATION,
        customer_id=callback_task.customer_id,
        dealer_id=callback_task.dealer_id,
        created_at=overdue,
        due_at=callback_task.due_at,
        created_by=callback_task.created_by,
    )
    resolved = episode.resolved
    if resolved is None:
        return task
    return task.ended(max(resolved.occurred_at, overdue), resolved.event_id, DONE)


def _customer(tp: AnyTouchpoint) -> str:
    assert tp.customer_id is not None
    return tp.customer_id
