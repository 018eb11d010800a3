"""Task events for the CRM (issue: tasks to Kafka): each task's creation, becoming overdue and
completion, as of a wall-clock instant, each with a stable id so it is published once."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

from journey.policies.task import Task, task_json


@dataclass(frozen=True)
class TaskEvent:
    """One thing that happened to a task: ``created``, ``overdue`` or ``done`` (with its outcome)."""

    event_id: str
    event: str
    at: datetime
    task: Task

    def as_dict(self) -> dict[str, object]:
        task = task_json(self.task.as_known_at(self.at), self.at) | {"overdue": self.event == "overdue"}
        return {
            "event_id": self.event_id,
            "event": self.event,
            "at": self.at.astimezone(UTC).isoformat(),
            "task": task,
        }


def task_events(versions: Iterable[Task], now: datetime) -> list[TaskEvent]:
    """The events of every task version up to now, in time order.

    created: the first version's creation. overdue: a version whose due time passed while it was
    in force and undone (a follow-up whose due moved may fall overdue more than once). done: the
    end of the task (reached, done or cancelled)."""
    events: dict[str, TaskEvent] = {}
    for task in versions:
        key = task.key
        if task.created_at <= now and f"{key}:created" not in events:
            events[f"{key}:created"] = TaskEvent(f"{key}:created", "created", task.created_at, task)
        in_force = task.since <= task.due_at and (task.valid_to is None or task.due_at < task.valid_to)
        undone = task.done_at is None or task.done_at > task.due_at
        if in_force and undone and task.due_at < now:
            event_id = f"{key}:overdue:{task.due_at.isoformat()}"
            events[event_id] = TaskEvent(event_id, "overdue", task.due_at, task)
        if task.done_at is not None and task.done_at <= now and task.valid_to is None:
            events[f"{key}:done"] = TaskEvent(f"{key}:done", "done", task.done_at, task)
    return sorted(events.values(), key=lambda e: (e.at, e.event_id))
