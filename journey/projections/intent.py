"""The intent level of a customer's sales lead at T (DOMAIN.md, "Intent level (sales leads)").

Pure: a function of one customer's touchpoints, the instant T and the rules; only
touchpoints with occurred_at <= T count. Readings of DOMAIN.md made here:

- Sales touchpoints are store_visit (purpose browse / negotiation / other, or any purpose
  with signals), test_drive, callback with reason lead_follow_up (reached or not),
  order_placed and lead_lost. An unreached lead_follow_up callback is a sales touchpoint:
  it opens or continues a lead (so it also defers closing by silence) and its signals
  count, because DOMAIN.md qualifies only the *contact* as "reached". It is not a
  reached sales contact, so it never moves next_follow_up_due.
- A lead's silence is measured from its last sales touchpoint; it closes at exactly
  +lead_silence_close_days (windows exclude their end), so a sales touchpoint at that
  very instant opens a new lead.
- order_placed keeps the lead at O until a delivery (or a lead_lost) whatever other sales
  touchpoints follow. F lasts until the next sales touchpoint, however long the silence.
- next_follow_up_due counts from the last reached sales contact *of the current lead*,
  or from the lead's opening touchpoint while the lead has no reached contact yet.
- "T past due" is strict: at T == due the follow-up is not yet overdue.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from journey.projections.history import DAY, history
from journey.rules import DEFAULT_RULES, Rules
from journey.touchpoints import (
    SIGNAL_LEVEL,
    AnyTouchpoint,
    Callback,
    Delivery,
    LeadLost,
    OrderPlaced,
    StoreVisit,
    TestDrive,
)

#: Graded levels, highest first (DOMAIN.md's table: H, A, B, C).
GRADES: tuple[str, ...] = ("H", "A", "B", "C")
#: Levels of an open lead that is followed up (DOMAIN.md, policy follow_up).
FOLLOWED_UP: tuple[str, ...] = ("N", *GRADES)
SALES_VISIT_PURPOSES = frozenset({"browse", "negotiation", "other"})
#: The smallest step of a datetime: "T past X" holds from X + TICK on.
TICK = timedelta(microseconds=1)


@dataclass(frozen=True)
class IntentView:
    """A customer's intent level at T and the touchpoints that decided it."""

    level: str | None
    since: datetime | None
    signals: tuple[str, ...]
    decided_by: tuple[str, ...]
    next_follow_up_due: datetime | None
    follow_up_overdue: bool
    lead_opened_at: datetime | None
    last_contact_at: datetime | None


NO_INTENT = IntentView(None, None, (), (), None, False, None, None)


def is_sales_touchpoint(tp: AnyTouchpoint) -> bool:
    """DOMAIN.md: store_visit (browse / negotiation / other, or any with signals), test_drive,
    callback with reason lead_follow_up, order_placed, lead_lost."""
    if isinstance(tp, StoreVisit):
        return tp.data.purpose in SALES_VISIT_PURPOSES or bool(tp.data.signals)
    if isinstance(tp, Callback):
        return tp.data.reason == "lead_follow_up"
    return isinstance(tp, TestDrive | OrderPlaced | LeadLost)


def is_reached_sales_contact(tp: AnyTouchpoint) -> bool:
    """DOMAIN.md: a reached sales contact is a sales store_visit, a test_drive, or a reached
    lead_follow_up callback."""
    if isinstance(tp, Callback):
        return tp.data.reason == "lead_follow_up" and tp.data.reached
    return is_sales_touchpoint(tp) and isinstance(tp, StoreVisit | TestDrive)


def signals_of(tp: AnyTouchpoint) -> tuple[str, ...]:
    """The intent signals a sales touchpoint carries; a test_drive implies test_drive_taken
    (CONTRACT.md, "Intent signals")."""
    if not is_sales_touchpoint(tp):
        return ()
    if isinstance(tp, TestDrive):
        return (*tp.data.signals, "test_drive_taken")
    if isinstance(tp, StoreVisit | Callback):
        return tuple(tp.data.signals)
    return ()


def intent_at(
    touchpoints: Iterable[AnyTouchpoint],
    at: datetime,
    rules: Rules = DEFAULT_RULES,
    *,
    with_since: bool = True,
) -> IntentView:
    """The intent level at T: the highest level a signal of the current lead supports at T
    (else N), O from order_placed to delivery, F from lead_lost to the next sales touchpoint,
    null without an open lead (DOMAIN.md, "Intent level (sales leads)")."""
    hist = history(touchpoints, at)
    state = _walk(hist, at, rules)
    level = _level(state, at, rules)
    if level is None or state.lead is None:
        return replace(NO_INTENT, decided_by=_ids(state.closer))
    lead = state.lead
    due = _follow_up_due(lead, level, rules)
    return IntentView(
        level=level,
        since=_since(hist, at, level, rules) if with_since else None,
        signals=_supporting_signals(lead, at, rules) if level in FOLLOWED_UP else (),
        decided_by=_decided_by(lead, level, at, rules),
        next_follow_up_due=due,
        follow_up_overdue=due is not None and at > due,
        lead_opened_at=lead.opened.occurred_at,
        last_contact_at=_last_contact_at(lead),
    )


def intent_breakpoints(touchpoints: Iterable[AnyTouchpoint], rules: Rules = DEFAULT_RULES) -> list[datetime]:
    """Every instant at which intent_at may change, sorted and unique: intent_at is constant on
    [b_i, b_i+1), before the first and from the last. They are the level's breakpoints (sales
    touchpoints, deliveries, signal window ends, closes by silence) and each instant a follow-up
    may turn overdue (due + TICK, due being a sales touchpoint + a cadence)."""
    hist = history(touchpoints)
    cadences = {c for c in (_cadence(rules, lv) for lv in FOLLOWED_UP) if c is not None}
    overdue = {
        tp.occurred_at + d * DAY + TICK
        for tp in hist
        if is_sales_touchpoint(tp) and not isinstance(tp, OrderPlaced | LeadLost)  # a follow-up's base
        for d in cadences
    }
    return sorted(overdue.union(_level_breakpoints(hist, rules)))


def level_breakpoints(touchpoints: Iterable[AnyTouchpoint], rules: Rules = DEFAULT_RULES) -> list[datetime]:
    """The instants at which the level alone may change (intent_breakpoints without the overdue flips)."""
    return sorted(_level_breakpoints(history(touchpoints), rules))


def _level_breakpoints(hist: list[AnyTouchpoint], rules: Rules) -> set[datetime]:
    """The instants at which the level may change: sales touchpoints and deliveries, each
    signal's window ends, each possible close by silence."""
    out: set[datetime] = set()
    for tp in hist:
        if isinstance(tp, Delivery):
            out.add(tp.occurred_at)
        if not is_sales_touchpoint(tp):
            continue
        t = tp.occurred_at
        out.add(t)
        out.add(t + rules.intent.lead_silence_close_days * DAY)
        out.update(t + w * DAY for _, _, w in _support_windows(tp, rules))
    return out


# ---------------------------------------------------------------- the lead walk


@dataclass(frozen=True)
class _Lead:
    """The customer's current lead: open, or lost (F) until the next sales touchpoint."""

    opened: AnyTouchpoint
    sales: tuple[AnyTouchpoint, ...]
    orders: tuple[OrderPlaced, ...]
    lost: LeadLost | None


@dataclass(frozen=True)
class _Head:
    """What the walk keeps of the current lead (O(1) to update); the lead is hist[start:]."""

    start: int
    last_sales: AnyTouchpoint
    ordered: bool = False
    lost: LeadLost | None = None


@dataclass(frozen=True)
class _State:
    lead: _Lead | None = None
    closer: AnyTouchpoint | None = None  # what closed the last lead, when none is current


def _walk(hist: list[AnyTouchpoint], at: datetime, rules: Rules) -> _State:
    """Replay the touchpoints (sorted, all <= at) into the lead state at `at`."""
    head: _Head | None = None
    closer: AnyTouchpoint | None = None
    for i, tp in enumerate(hist):
        head, closer = _apply(*_close_if_silent(head, closer, tp.occurred_at, rules), i, tp)
    head, closer = _close_if_silent(head, closer, at, rules)
    return _State(closer=closer) if head is None else _State(lead=_lead(hist, head))


def _apply(
    head: _Head | None, closer: AnyTouchpoint | None, i: int, tp: AnyTouchpoint
) -> tuple[_Head | None, AnyTouchpoint | None]:
    """A delivery closes the lead; a sales touchpoint opens one (when none is open) and joins it."""
    if isinstance(tp, Delivery):
        return None, tp
    if not is_sales_touchpoint(tp):
        return head, closer
    if head is None or head.lost is not None:
        head = _Head(start=i, last_sales=tp)
    lost = tp if isinstance(tp, LeadLost) else None
    return _Head(head.start, tp, head.ordered or isinstance(tp, OrderPlaced), lost), None


def _close_if_silent(
    head: _Head | None, closer: AnyTouchpoint | None, at: datetime, rules: Rules
) -> tuple[_Head | None, AnyTouchpoint | None]:
    """DOMAIN.md: a lead with no sales touchpoint for lead_silence_close_days closes, unless at O."""
    if head is None or head.lost is not None or head.ordered:
        return head, closer
    if at >= head.last_sales.occurred_at + rules.intent.lead_silence_close_days * DAY:
        return None, head.last_sales
    return head, closer


def _lead(hist: list[AnyTouchpoint], head: _Head) -> _Lead:
    sales = tuple(tp for tp in hist[head.start :] if is_sales_touchpoint(tp))
    orders = tuple(tp for tp in sales if isinstance(tp, OrderPlaced))
    return _Lead(opened=hist[head.start], sales=sales, orders=orders, lost=head.lost)


def _level(state: _State, at: datetime, rules: Rules) -> str | None:
    lead = state.lead
    if lead is None:
        return None
    if lead.lost is not None:
        return "F"
    if lead.orders:
        return "O"
    supported = {grade for _, _, grade in _active_support(lead, at, rules)}
    return next((g for g in GRADES if g in supported), "N")


def _level_at(hist: list[AnyTouchpoint], at: datetime, rules: Rules) -> str | None:
    upto = hist[: bisect_right(hist, at, key=lambda tp: tp.occurred_at)]
    return _level(_walk(upto, at, rules), at, rules)


def _since(hist: list[AnyTouchpoint], at: datetime, level: str, rules: Rules) -> datetime | None:
    """The earliest breakpoint from which the level has been `level` without interruption."""
    since = None
    for b in sorted((b for b in _level_breakpoints(hist, rules) if b <= at), reverse=True):
        if _level_at(hist, b, rules) != level:
            break
        since = b
    return since


# ---------------------------------------------------------------- signals and windows


def _window(rules: Rules, grade: str) -> int | None:
    rule = rules.intent.levels.get(grade)
    return None if rule is None else rule.window_days


def _cadence(rules: Rules, level: str) -> int | None:
    rule = rules.intent.levels.get(level)
    return None if rule is None or level not in FOLLOWED_UP else rule.follow_up_days


def _support_windows(tp: AnyTouchpoint, rules: Rules) -> list[tuple[str, str, int]]:
    """(signal, grade, window days) for each level a signal of tp supports: its own level and
    every lower one, each for that level's window (DOMAIN.md)."""
    out = []
    for signal in signals_of(tp):
        for grade in GRADES[GRADES.index(SIGNAL_LEVEL[signal]) :]:
            window = _window(rules, grade)
            if window is not None:
                out.append((signal, grade, window))
    return out


def _active_support(lead: _Lead, at: datetime, rules: Rules) -> list[tuple[AnyTouchpoint, str, str]]:
    """(tp, signal, grade) for every grade a signal of the lead supports at `at` (window [t, t+w))."""
    return [
        (tp, signal, grade)
        for tp in lead.sales
        for signal, grade, window in _support_windows(tp, rules)
        if tp.occurred_at <= at < tp.occurred_at + window * DAY
    ]


def _supporting_signals(lead: _Lead, at: datetime, rules: Rules) -> tuple[str, ...]:
    return tuple(sorted({signal for _, signal, _ in _active_support(lead, at, rules)}))


def _decided_by(lead: _Lead, level: str, at: datetime, rules: Rules) -> tuple[str, ...]:
    if level == "F":
        return _ids(lead.lost)
    if level == "O":
        return tuple(o.event_id for o in lead.orders)
    if level == "N":
        return _ids(lead.opened)
    ids = [tp.event_id for tp, _, grade in _active_support(lead, at, rules) if grade == level]
    return tuple(dict.fromkeys(ids))


# ---------------------------------------------------------------- follow-up


def _last_contact_at(lead: _Lead) -> datetime | None:
    contacts = [tp.occurred_at for tp in lead.sales if is_reached_sales_contact(tp)]
    return contacts[-1] if contacts else None


def _follow_up_due(lead: _Lead, level: str, rules: Rules) -> datetime | None:
    """DOMAIN.md: the last reached sales contact + the cadence of the level at T (from the lead's
    opening while it has no reached contact); none at O and F."""
    cadence = _cadence(rules, level)
    if cadence is None:
        return None
    base = _last_contact_at(lead) or lead.opened.occurred_at
    return base + cadence * DAY


def _ids(tp: AnyTouchpoint | None) -> tuple[str, ...]:
    return () if tp is None else (tp.event_id,)
