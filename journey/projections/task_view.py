"""The task view part (DOMAIN.md, "Policies (the work queue)"): every task of a customer's
schedule as a row with created, due and done instants, so that the work queue at T is a range
look-up (created_at <= T, valid_from <= T < valid_to, done_at > T).

It lives with the other view writers rather than in journey.policies, which stay pure (the
import contract forbids journey.policies to import the view store).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from journey.policies.queue import customer_schedule
from journey.policies.task import KINDS, Task
from journey.projections.standards import StandardsLookup
from journey.projections.store import Row, Table, ViewRecorder
from journey.projections.timecols import OPEN_END, from_micros, json_list, micros, micros_or_open
from journey.rules import Rules
from journey.touchpoints import AnyTouchpoint

TASK = Table(
    name="task",
    columns=(
        ("key", "TEXT NOT NULL"),
        ("customer_id", "TEXT NOT NULL"),
        ("dealer_id", "TEXT NOT NULL"),
        ("kind", "TEXT NOT NULL"),
        ("created_at", "BIGINT NOT NULL"),
        ("due_at", "BIGINT NOT NULL"),
        ("done_at", "BIGINT NOT NULL"),  # the open end (timecols.OPEN_END) while not done
        ("done_by", "TEXT"),
        ("outcome", "TEXT"),
        ("created_by", "TEXT NOT NULL"),  # JSON list of event_ids
        ("valid_from", "BIGINT NOT NULL"),
        ("valid_to", "BIGINT NOT NULL"),
        ("rules", "TEXT NOT NULL"),
    ),
    key="customer_id",
    indexes=(("dealer_id", "created_at"), ("dealer_id", "due_at")),
)
#: The columns a Task is read back from, in task_from_row's order.
TASK_COLUMNS = (
    "kind, customer_id, dealer_id, created_at, due_at, created_by, "
    "done_at, done_by, outcome, valid_from, valid_to"
)


def task_row(task: Task, rules: Rules) -> Row:
    return (
        task.key,
        task.customer_id,
        task.dealer_id,
        task.kind,
        micros(task.created_at),
        micros(task.due_at),
        micros_or_open(task.done_at),
        task.done_by,
        task.outcome,
        json_list(task.created_by),
        micros(task.since),
        micros_or_open(task.valid_to),
        rules.label,
    )


def task_from_row(row: Row) -> Task:
    """A Task from a row selected with TASK_COLUMNS (instants in UTC)."""
    kind, customer, dealer, created_at, due_at, created_by, done_at, done_by, outcome, since, until = row
    return Task(
        kind=kind,
        customer_id=customer,
        dealer_id=dealer,
        created_at=_instant(created_at),
        due_at=_instant(due_at),
        created_by=tuple(json.loads(created_by)),
        done_at=from_micros(done_at),
        done_by=done_by,
        outcome=outcome,
        valid_from=_instant(since),
        valid_to=from_micros(until),
    )


def _instant(value: int) -> datetime:
    at = from_micros(value)
    assert at is not None and value < OPEN_END
    return at


class TaskView:
    """One row per task (per version of a follow_up whose due moves) of each customer."""

    table = TASK

    def customer_rows(
        self, customer_id: str, touchpoints: Sequence[AnyTouchpoint], rules: Rules, standards: StandardsLookup
    ) -> list[Row]:
        return [task_row(t, rules) for t in customer_schedule(touchpoints, rules, standards)]

    def dealer_rows(self, dealer_id: str, touchpoints: Sequence[AnyTouchpoint], rules: Rules) -> list[Row]:
        return []


# ---------------------------------------------------------------- reads (range look-ups)

_OPEN_AT = "dealer_id = ? AND created_at <= ? AND valid_from <= ? AND valid_to > ? AND done_at > ?"


def open_tasks(
    recorder: ViewRecorder,
    dealer_id: str,
    at: datetime,
    *,
    overdue_only: bool = False,
    limit: int | None = None,
    offset: int = 0,
) -> list[Task]:
    """The dealer's work queue at T: the tasks open at T, overdue first, then by due time and key."""
    t = micros(at)
    params: list[object] = [dealer_id, t, t, t, t]
    where = _OPEN_AT + (" AND due_at < ?" if overdue_only else "")
    if overdue_only:
        params.append(t)
    page = " LIMIT ? OFFSET ?" if limit is not None else ""
    params += [t, *([limit, offset] if limit is not None else [])]
    rows = recorder.select(
        f"SELECT {TASK_COLUMNS} FROM {{task}} WHERE {where} "
        f"ORDER BY CASE WHEN due_at < ? THEN 0 ELSE 1 END, due_at, key{page}",
        params,
    )
    found = [task_from_row(r).as_known_at(at) for r in rows]
    return found if limit is not None else found[offset:]


def task_counts(recorder: ViewRecorder, dealer_id: str, at: datetime) -> dict[str, Any]:
    """How many tasks are open and overdue at T, in all and per kind."""
    t = micros(at)
    rows = recorder.select(
        "SELECT kind, CASE WHEN due_at < ? THEN 1 ELSE 0 END, COUNT(*) "
        f"FROM {{task}} WHERE {_OPEN_AT} GROUP BY 1, 2",
        [t, dealer_id, t, t, t, t],
    )
    by_kind = {k: {"open": 0, "overdue": 0} for k in KINDS}
    for kind, overdue, count in rows:
        by_kind.setdefault(kind, {"open": 0, "overdue": 0})
        by_kind[kind]["open"] += count
        by_kind[kind]["overdue"] += count if overdue else 0
    return {
        "open": sum(c["open"] for c in by_kind.values()),
        "overdue": sum(c["overdue"] for c in by_kind.values()),
        "by_kind": by_kind,
    }


def tasks_due(recorder: ViewRecorder, dealer_id: str, start: datetime, end: datetime) -> list[Task]:
    """The final version of every task of the dealer with its due time in [start, end)."""
    rows = recorder.select(
        f"SELECT {TASK_COLUMNS} FROM {{task}} WHERE dealer_id = ? AND due_at >= ? AND due_at < ? AND valid_to = ?",
        [dealer_id, micros(start), micros(end), OPEN_END],
    )
    return [task_from_row(r) for r in rows]
