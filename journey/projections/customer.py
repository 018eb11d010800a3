"""The customer view of CONTRACT.md section 2, and its validity intervals.

``customer_view`` is the answer at T; ``customer_states`` is the whole future schedule
of the piecewise-constant part of that answer, sampled at the rules' breakpoints, so
that a stored interval row equals what ``customer_view`` says anywhere inside it.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, NamedTuple

from journey.projections.history import TICK, History, history, in_utc, with_next, with_previous
from journey.projections.intent import IntentView, intent_at, intent_timeline
from journey.projections.retention import (
    RetentionView,
    retention_at,
    retention_timeline,
)
from journey.projections.service import customer_service_at
from journey.projections.standards import StandardsLookup
from journey.rules import DEFAULT_RULES, Rules
from journey.touchpoints import AnyTouchpoint, Callback

HOLD_DAYS = timedelta(days=365)


def utc(dt: datetime | None) -> str | None:
    """RFC 3339 in UTC, as every timestamp in output."""
    return None if dt is None else dt.astimezone(UTC).isoformat()


class StateValue(NamedTuple):
    """A customer's piecewise-constant state, without its interval (compared as a tuple)."""

    dealer_id: str
    intent_level: str | None
    retention_status: str
    owner: bool
    car_age_segment: str | None
    usage: str | None
    flags: tuple[str, ...]
    held: bool
    overdue_follow_up: bool
    decided_by: tuple[str, ...]


@dataclass(frozen=True)
class CustomerState:
    """One validity interval [valid_from, valid_to) of a customer's piecewise-constant view."""

    valid_from: datetime
    valid_to: datetime | None
    value: StateValue


def home_dealer(touchpoints: Sequence[AnyTouchpoint]) -> str | None:
    """The customer's dealer at T: the dealer of the latest touchpoint (touchpoints in history order)."""
    return touchpoints[-1].dealer_id if touchpoints else None


def is_contact(tp: AnyTouchpoint) -> bool:
    """Any touchpoint but an unreached callback counts as contact for the hold rate (DOMAIN.md)."""
    return not (isinstance(tp, Callback) and not tp.data.reached)


def customer_view(
    customer_id: str,
    touchpoints: Sequence[AnyTouchpoint],
    at: datetime,
    rules: Rules = DEFAULT_RULES,
    standards: StandardsLookup | None = None,
) -> dict[str, Any]:
    """The customer view at T (CONTRACT.md section 2) from the touchpoints with occurred_at <= T."""
    seen = history(touchpoints, at)
    intent = intent_at(seen, at, rules)
    retention = retention_at(seen, at, rules, standards)
    service = customer_service_at(seen, at)
    return {
        "customer_id": customer_id,
        "as_of": utc(at),
        "dealer_id": home_dealer(seen),
        "intent": {
            "level": intent.level,
            "since": utc(intent.since),
            "signals": list(intent.signals),
            "decided_by": list(intent.decided_by),
            "next_follow_up_due": utc(intent.next_follow_up_due),
            "follow_up_overdue": intent.follow_up_overdue,
        },
        "retention": {
            "status": retention.status,
            "days_since_last_service": retention.days_since_last_service,
            "last_service_at": utc(retention.last_service_at),
            "car_age_segment": retention.car_age_segment,
            "usage": retention.usage,
            "flags": list(retention.flags),
            "decided_by": list(retention.decided_by),
        },
        "service": {
            "csi_last": service.csi_last,
            "gap5": service.gap5,
            "open_complaints": service.open_complaints,
            "decided_by": list(service.decided_by),
        },
        "touchpoints": len(seen),
        "rules_version": rules.label,
    }


class _Timeline:
    """A customer's state at any instant, from one pass over its history.

    The intent part is constant between level breakpoints (but for turning overdue) and the
    retention part between retention breakpoints, so each is recomputed only when T crosses
    one of its own breakpoints."""

    def __init__(self, hist: History, rules: Rules, standards: StandardsLookup | None) -> None:
        self.hist = hist
        self.contacts = [in_utc(tp.occurred_at) for tp in hist if is_contact(tp)]
        self.intent = intent_timeline(hist, rules)
        self.retention = retention_timeline(hist, rules, standards)
        # every instant the state may change but follow-ups turning overdue (which customer_states
        # adds from each interval's own due time): a touchpoint changes the state by itself only
        # when it changes the home dealer or starts a hold; the intent and retention parts change
        # only at their own breakpoints; a hold ends a year after a contact unless a later
        # contact came within that year
        hard = {*self._dealer_changes(), *self.intent.fixed, *self.retention.breakpoints}
        hard.update(
            t for t, earlier in with_previous(self.contacts) if earlier is None or earlier <= t - HOLD_DAYS
        )
        hard.update(
            t + HOLD_DAYS
            for t, later in with_next(self.contacts)
            if later is None or later <= t or later > t + HOLD_DAYS
        )
        self._hard = {in_utc(t) for t in hard}
        self.breakpoints = sorted(self._hard.union(self.intent.level_breakpoints))
        self._intent: tuple[int, IntentView] | None = None
        self._retention: tuple[int, RetentionView] | None = None

    def at(self, at: datetime) -> tuple[StateValue | None, datetime | None]:
        """The state at T (all but its interval; None before the first touchpoint) and the
        follow-up due time in force at T."""
        at = in_utc(at)
        k = bisect_right(self.intent.times, at)
        if k == 0:
            return None, None
        intent = self._intent_at(at)
        retention = self._retention_at(at)
        due = intent.next_follow_up_due
        # DOMAIN.md, hold rate: any reached contact or touchpoint in (T-365d, T]
        held = bisect_right(self.contacts, at) > bisect_right(self.contacts, at - HOLD_DAYS)
        value = StateValue(
            dealer_id=self.hist[k - 1].dealer_id,
            intent_level=intent.level,
            retention_status=retention.status,
            owner=retention.status != "prospect",
            car_age_segment=retention.car_age_segment,
            usage=retention.usage,
            flags=retention.flags,
            held=held,
            overdue_follow_up=due is not None and at > due,
            decided_by=tuple(sorted({*intent.decided_by, *retention.decided_by})),
        )
        return value, due

    def may_change(self, b: datetime) -> bool:
        """Whether the state may change at breakpoint b, given the state last sampled before it
        (a signal's window end may leave it as it was, IntentTimeline.may_change)."""
        return b in self._hard or self._intent is None or self.intent.may_change(b, self._intent[1])

    def _dealer_changes(self) -> list[datetime]:
        """The instants of touchpoints whose dealer differs from the one before (the first's too)."""
        hist, times = self.hist, self.intent.times
        return [times[i] for i in range(len(hist)) if i == 0 or hist[i].dealer_id != hist[i - 1].dealer_id]

    def _intent_at(self, at: datetime) -> IntentView:
        i = bisect_right(self.intent.level_breakpoints, at)
        if self._intent is None or self._intent[0] != i:
            self._intent = (i, self.intent.at(at, with_since=False))
        return self._intent[1]

    def _retention_at(self, at: datetime) -> RetentionView:
        i = bisect_right(self.retention.breakpoints, at)
        if self._retention is None or self._retention[0] != i:
            self._retention = (i, self.retention.at(at))
        return self._retention[1]


def state_at(
    touchpoints: Sequence[AnyTouchpoint], at: datetime, rules: Rules, standards: StandardsLookup | None
) -> tuple[CustomerState | None, datetime | None]:
    """The piecewise-constant part of the view at T (None before the first touchpoint), and
    the follow-up due time in force at T."""
    value, due = _Timeline(history(touchpoints), rules, standards).at(at)
    return (None if value is None else CustomerState(in_utc(at), None, value)), due


def customer_states(
    touchpoints: Sequence[AnyTouchpoint],
    rules: Rules = DEFAULT_RULES,
    standards: StandardsLookup | None = None,
) -> list[CustomerState]:
    """The customer's states as consecutive validity intervals, the last one open-ended."""
    timeline = _Timeline(history(touchpoints), rules, standards)
    changes: list[tuple[datetime, StateValue]] = []  # (valid_from, value) at each change

    def sample(at: datetime) -> tuple[StateValue | None, datetime | None]:
        value, due = timeline.at(at)
        if value is not None and (not changes or changes[-1][1] != value):
            changes.append((in_utc(at), value))
        return value, due

    flip: datetime | None = None  # the instant the follow-up in force turns overdue
    for point in timeline.breakpoints:
        if flip is not None and flip <= point:
            sample(flip)
            flip = None
        if not timeline.may_change(point):
            continue
        value, due = sample(point)
        if value is not None and due is not None and not value.overdue_follow_up and point < due + TICK:
            flip = due + TICK  # overdue once T is past the due time
    if flip is not None:
        sample(flip)
    return [
        CustomerState(start, None if later is None else later[0], value)
        for (start, value), later in with_next(changes)
    ]
