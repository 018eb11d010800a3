"""A task of the work queue (DOMAIN.md, "Policies (the work queue)"): a row with created,
due and done instants.

A policy gives the whole *schedule* of a customer's tasks from its touchpoints: every task
ever created, with the instant it was done (or cancelled) if it was. The work queue at T is
then a filter of that schedule, which is what makes the stored view a range look-up:

- a task is known at T when created_at <= T;
- it shows as done at T only when done_at <= T (a later done_at is not yet known at T);
- it is overdue at T when it is not done at T and T is past its due time (strictly);
- a task whose due moves over time (a follow_up, whose cadence is the level's at T) is
  stored as several *versions* sharing one key, each in force on [valid_from, valid_to);
  every other task has one version, in force from its creation on.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from journey.projections.history import history
from journey.projections.standards import StandardsLookup
from journey.rules import DEFAULT_RULES, Rules
from journey.touchpoints import AnyTouchpoint

FOLLOW_UP = "follow_up"
COMPLAINT_CALLBACK = "complaint_callback"
COMPLAINT_ESCALATION = "complaint_escalation"
POST_SERVICE_CALLBACK = "post_service_callback"
POST_DELIVERY_CALLBACK = "post_delivery_callback"
WIN_BACK = "win_back"
MAINTENANCE_REMINDER = "maintenance_reminder"
#: Every task kind, in DOMAIN.md's table order.
KINDS: tuple[str, ...] = (
    FOLLOW_UP,
    COMPLAINT_CALLBACK,
    COMPLAINT_ESCALATION,
    POST_SERVICE_CALLBACK,
    POST_DELIVERY_CALLBACK,
    WIN_BACK,
    MAINTENANCE_REMINDER,
)

#: Done by a reached callback (the callback KPIs' "reached").
REACHED = "reached"
#: Done by another touchpoint the policy names (a store visit, a maintenance, a complaint_resolved).
DONE = "done"
#: Ended without being done: the task no longer applies (a lead ordered, lost or closed; a complaint
#: resolved before its callback; a reminder superseded by a newer delivery).
CANCELLED = "cancelled"
OUTCOMES: tuple[str, ...] = (REACHED, DONE, CANCELLED)


@dataclass(frozen=True)
class Task:
    """One task (or one version of a task whose due moves), from its creation to its end.

    done_at is when the task left the queue and done_by the touchpoint (event_id) that took it
    out; outcome says how: ``reached``, ``done`` or ``cancelled`` (None while open). created_by
    are the touchpoints that created it, the first one naming it (``key``).
    """

    kind: str
    customer_id: str
    dealer_id: str
    created_at: datetime
    due_at: datetime
    created_by: tuple[str, ...]
    done_at: datetime | None = None
    done_by: str | None = None
    outcome: str | None = None
    valid_from: datetime | None = None
    valid_to: datetime | None = None

    def __post_init__(self) -> None:
        if self.valid_from is None:  # a task's first version is in force from its creation
            object.__setattr__(self, "valid_from", self.created_at)

    @property
    def key(self) -> str:
        """A stable id: the same task has the same key in every version and every replay."""
        return f"{self.kind}:{self.customer_id}:{self.created_by[0]}"

    @property
    def since(self) -> datetime:
        """The instant from which this version (its due_at) is in force."""
        return self.valid_from or self.created_at

    def is_done(self, at: datetime) -> bool:
        """Done (or cancelled) at or before T."""
        return self.done_at is not None and self.done_at <= at

    def is_open(self, at: datetime) -> bool:
        """Created at or before T and not done at T: on the work queue at T."""
        return self.created_at <= at and not self.is_done(at)

    def is_overdue(self, at: datetime) -> bool:
        """Open at T and T strictly past its due time (DOMAIN.md: "overdue when T passes its due
        time undone")."""
        return self.is_open(at) and at > self.due_at

    def in_force(self, at: datetime) -> bool:
        """This version is the task at T: created, and T in [valid_from, valid_to)."""
        return self.created_at <= at and self.since <= at and (self.valid_to is None or at < self.valid_to)

    def as_known_at(self, at: datetime) -> Task:
        """The task as it is known at T: the end (done_at, done_by, outcome) only when it came at
        or before T, and no end of validity (that lies after T)."""
        if self.is_done(at):
            return replace(self, valid_to=None)
        return replace(self, done_at=None, done_by=None, outcome=None, valid_to=None)

    def ended(self, at: datetime, by: str | None, outcome: str) -> Task:
        return replace(self, done_at=at, done_by=by, outcome=outcome)


def known_at(schedule: Iterable[Task], at: datetime) -> list[Task]:
    """The tasks known at T from a schedule: the version in force at T of every task created at
    or before T, its end shown only when it came at or before T (see the module docstring)."""
    return sorted((t.as_known_at(at) for t in schedule if t.in_force(at)), key=order_key(at))


def order_key(at: datetime) -> Callable[[Task], tuple[bool, bool, datetime, str]]:
    """Queue order at T: open before done, overdue first, then by due time, then by key."""

    def key(t: Task) -> tuple[bool, bool, datetime, str]:
        return (t.is_done(at), not t.is_overdue(at), t.due_at, t.key)

    return key


def task_json(task: Task, at: datetime) -> dict[str, Any]:
    """A task as shown at T (CONTRACT.md: timestamps RFC 3339 in UTC)."""
    return {
        "key": task.key,
        "kind": task.kind,
        "customer_id": task.customer_id,
        "dealer_id": task.dealer_id,
        "created_at": _utc(task.created_at),
        "due_at": _utc(task.due_at),
        "done_at": _utc(task.done_at),
        "done_by": task.done_by,
        "outcome": task.outcome,
        "created_by": list(task.created_by),
        "overdue": task.is_overdue(at),
    }


def _utc(dt: datetime | None) -> str | None:
    return None if dt is None else dt.astimezone(UTC).isoformat()


Schedule = Callable[[Iterable[AnyTouchpoint], Rules, StandardsLookup | None], list[Task]]
TasksAt = Callable[[Iterable[AnyTouchpoint], datetime, Rules, StandardsLookup | None], list[Task]]


def tasks_known_at(schedule: Schedule) -> TasksAt:
    """A policy family's tasks known at T, from its schedule: the schedule of the touchpoints
    with occurred_at <= T, each task as known at T (created by T; done only if done by T)."""

    def tasks(
        touchpoints: Iterable[AnyTouchpoint],
        at: datetime,
        rules: Rules = DEFAULT_RULES,
        standards: StandardsLookup | None = None,
    ) -> list[Task]:
        return known_at(schedule(history(touchpoints, at), rules, standards), at)

    return tasks
