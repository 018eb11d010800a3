"""The callback KPIs per dealer and month (DOMAIN.md, "Policies (the work queue)": "callback
success = reached / due callbacks (target >= 50%); survey success = surveys / reached
callbacks (target >= 60%)"), with complaint callbacks within SLA and csi_mean (target > 90).

Readings of DOMAIN.md made here:

- A *callback* is a task of the policy table's callback kinds: complaint_callback,
  post_service_callback and post_delivery_callback, each done by a reached callback of its
  reason. follow_up (done by any reached sales contact, a store visit too) and win_back (done by
  a maintenance as well) are not callbacks: their success is not a call's, and a follow-up's
  due moves with the lead's level, so a later touchpoint would move it from month to month. A
  callback is *due* in the month when its due_at falls in [first day, next first day) in UTC
  and a call was still owed at its due time: one that ended before its due without a call (a
  complaint resolved first) owed none and is left out. It is *reached* when a reached callback
  did it, on time or late (as far as the touchpoints given tell).
- Survey success = the dealer's surveys (csi and servqual) with occurred_at in the month /
  the month's reached callbacks (the numerator of callback success).
- Complaint callbacks within SLA = complaint_callback tasks due in the month done by a reached
  callback at or before their due time / all of them (resolved without a call counts as
  missed); the standard is every complaint, so the target is 100%.
- csi_mean = the mean csi_score of the dealer's csi surveys in the month; met when > csi_target.
- A figure without a denominator is null, and so is its `met`.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from journey.policies.task import (
    COMPLAINT_CALLBACK,
    POST_DELIVERY_CALLBACK,
    POST_SERVICE_CALLBACK,
    REACHED,
    Task,
)
from journey.rules import DEFAULT_RULES, Rules
from journey.touchpoints import AnyTouchpoint, Survey

#: Tasks done by a call (the callback KPIs' "callbacks").
CALLBACK_KINDS: tuple[str, ...] = (COMPLAINT_CALLBACK, POST_SERVICE_CALLBACK, POST_DELIVERY_CALLBACK)
#: The complaint-callback standard applies to every complaint.
COMPLAINT_SLA_TARGET = 1.0


def callback_kpis(
    dealer_id: str,
    tasks: Iterable[Task],
    touchpoints: Iterable[AnyTouchpoint],
    start: datetime,
    end: datetime,
    rules: Rules = DEFAULT_RULES,
) -> dict[str, Any]:
    """The dealer's callback KPIs over [start, end) from its tasks (a schedule: the final version
    of each is used) and its customers' touchpoints (for the surveys)."""
    due = [t for t in final_versions(tasks) if t.dealer_id == dealer_id and start <= t.due_at < end]
    callbacks = [t for t in due if t.kind in CALLBACK_KINDS and owed_a_call(t)]
    reached = [t for t in callbacks if t.outcome == REACHED]
    surveys = [
        tp
        for tp in touchpoints
        if isinstance(tp, Survey) and tp.dealer_id == dealer_id and start <= tp.occurred_at < end
    ]
    p = rules.policies
    return {
        "callback_success": {
            **_share("reached", len(reached), "due", len(callbacks), p.callback_success_target),
            "by_kind": {k: _kind_counts(callbacks, k) for k in CALLBACK_KINDS},
        },
        "survey_success": {
            **_share("surveys", len(surveys), "reached_callbacks", len(reached), p.survey_success_target),
            "by_kind": {k: sum(1 for s in surveys if s.data.kind == k) for k in ("csi", "servqual")},
        },
        "complaint_callbacks_within_sla": _complaint_sla(due),
        "csi_mean": _csi_mean(surveys, p.csi_target),
    }


def final_versions(tasks: Iterable[Task]) -> list[Task]:
    """The last version of each task (the one in force from its last due change on)."""
    return [t for t in tasks if t.valid_to is None]


def owed_a_call(task: Task) -> bool:
    """A call was owed at the due time: the task was not ended before it other than by a reached call."""
    ended_early = task.done_at is not None and task.done_at <= task.due_at
    return task.outcome == REACHED or not ended_early


def _kind_counts(callbacks: list[Task], kind: str) -> dict[str, int]:
    of_kind = [t for t in callbacks if t.kind == kind]
    return {"due": len(of_kind), "reached": sum(1 for t in of_kind if t.outcome == REACHED)}


def _complaint_sla(due: list[Task]) -> dict[str, Any]:
    complaints = [t for t in due if t.kind == COMPLAINT_CALLBACK]
    within = [
        t for t in complaints if t.outcome == REACHED and t.done_at is not None and t.done_at <= t.due_at
    ]
    return _share("within_sla", len(within), "complaints", len(complaints), COMPLAINT_SLA_TARGET)


def _csi_mean(surveys: list[Survey], target: float) -> dict[str, Any]:
    scores = [s.data.csi_score for s in surveys if s.data.kind == "csi" and s.data.csi_score is not None]
    mean = round(sum(scores) / len(scores), 2) if scores else None
    return {
        "surveys": len(scores),
        "value": mean,
        "target": target,
        "met": None if mean is None else mean > target,
    }


def _share(part_name: str, part: int, whole_name: str, whole: int, target: float) -> dict[str, Any]:
    """part / whole against a ">= target" with the counts; null without a denominator."""
    return {
        part_name: part,
        whole_name: whole,
        "value": round(part / whole, 4) if whole else None,
        "target": target,
        "met": part >= target * whole if whole else None,
    }
