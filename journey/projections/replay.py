"""The auditor's replay: a customer's history in occurred_at order, and after each
touchpoint (and each time-driven change between them) the intent level and retention
status it led to, with the rule that fired."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from journey.projections.customer import customer_states
from journey.projections.history import history
from journey.projections.intent import intent_at, signals_of
from journey.projections.retention import retention_at
from journey.projections.standards import StandardsLookup
from journey.rules import DEFAULT_RULES, RetentionRules, Rules
from journey.touchpoints import SIGNAL_LEVEL, AnyTouchpoint, Delivery, LeadLost, Maintenance, OrderPlaced

#: (intent level, retention status, flags, follow-up overdue) after a step
Outcome = tuple[str | None, str, tuple[str, ...], bool]
NO_CHANGE = "no change"


@dataclass(frozen=True)
class Step:
    """One step of a replay: a touchpoint (or None for a change the clock made) and its outcome."""

    at: datetime
    touchpoint: AnyTouchpoint | None
    intent_level: str | None
    retention_status: str
    flags: tuple[str, ...]
    follow_up_overdue: bool
    rule: str


def replay(
    touchpoints: Sequence[AnyTouchpoint],
    until: datetime,
    rules: Rules = DEFAULT_RULES,
    standards: StandardsLookup | None = None,
) -> list[Step]:
    """Every touchpoint with occurred_at <= until, and every change of state between them."""
    ordered = history(touchpoints, until)
    moments: list[tuple[datetime, AnyTouchpoint | None]] = [(tp.occurred_at, tp) for tp in ordered]
    touch_times = {tp.occurred_at for tp in ordered}
    moments += [
        (s.valid_from, None)
        for s in customer_states(ordered, rules, standards)
        if s.valid_from <= until and s.valid_from not in touch_times
    ]
    moments.sort(key=lambda m: (m[0], m[1] is None, m[1].event_id if m[1] else ""))
    steps: list[Step] = []
    previous: Outcome = (None, "prospect", (), False)
    for at, tp in moments:
        seen = history(ordered, at)
        intent = intent_at(seen, at, rules, with_since=False)
        retention = retention_at(seen, at, rules, standards)
        now = (intent.level, retention.status, retention.flags, intent.follow_up_overdue)
        rule = explain(tp, previous, now, rules)
        if tp is not None or rule != NO_CHANGE:
            steps.append(Step(at, tp, *now, rule=rule))
        previous = now
    return steps


def explain(tp: AnyTouchpoint | None, before: Outcome, after: Outcome, rules: Rules = DEFAULT_RULES) -> str:
    """The DOMAIN.md rule behind a step, in a sentence (with the numbers of the rules in force)."""
    parts: list[str] = []
    if before[0] != after[0]:
        parts.append(f"intent {before[0] or '-'} -> {after[0] or '-'}: {_intent_rule(tp, after[0])}")
    if before[1] != after[1]:
        parts.append(f"retention {before[1]} -> {after[1]}: {_retention_rule(tp, after[1], rules.retention)}")
    raised = sorted(set(after[2]) - set(before[2]))
    cleared = sorted(set(before[2]) - set(after[2]))
    if raised:
        parts.append(f"flag raised: {', '.join(raised)}")
    if cleared:
        parts.append(f"flag cleared: {', '.join(cleared)}")
    if after[3] and not before[3]:
        parts.append("follow-up overdue: no reached sales contact within the level's cadence")
    elif before[3] and not after[3] and after[0] == before[0]:
        parts.append("follow-up done: a reached sales contact")
    return "; ".join(parts) or NO_CHANGE


def _intent_rule(tp: AnyTouchpoint | None, level: str | None) -> str:
    if tp is None:
        if level is None:
            return "lead closed after its silent days"
        return "a signal's window ended (windows exclude their end)"
    if isinstance(tp, Delivery):
        return "a delivery closes the lead"
    if isinstance(tp, LeadLost):
        return "lead_lost gives F until the next sales touchpoint"
    if isinstance(tp, OrderPlaced):
        return "order_placed gives O until the delivery"
    strongest = [s for s in signals_of(tp) if SIGNAL_LEVEL[s] == level]
    if strongest:
        return f"signal {strongest[0]} supports {level}"
    if level == "N":
        return "a sales touchpoint opens a new lead (N until graded)"
    return f"highest level supported by the lead's signals is {level}"


def _retention_rule(tp: AnyTouchpoint | None, status: str, r: RetentionRules) -> str:
    if tp is None:
        return {
            "marginal": f"more than {r.marginal_after_days} days since the last service",
            "lost": f"more than {r.lost_after_days} days since the last service",
            "opportunity": f"a maintenance left the {r.loyal_window_days}-day loyalty window",
            "loyal": f"{r.loyal_min_tenure_days} days of ownership with {r.loyal_min_maintenances} "
            f"maintenances in the last {r.loyal_window_days} days",
        }.get(status, "time passed")
    if isinstance(tp, Maintenance):
        return "a maintenance resets the days since the last service"
    if isinstance(tp, Delivery):
        return "a delivery makes the customer an owner"
    return f"status is {status}"
