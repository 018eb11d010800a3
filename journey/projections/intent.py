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

from bisect import bisect_left, bisect_right
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from journey.projections.history import DAY, TICK, History, history, in_utc
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
    return intent_timeline(history(touchpoints), rules).at(at, with_since=with_since)


def intent_timeline(hist: History, rules: Rules = DEFAULT_RULES) -> IntentTimeline:
    """The (memoised) IntentTimeline of a history."""
    return hist.memo(("intent", rules.label), lambda: IntentTimeline(hist, rules))


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
    return sorted(overdue.union(intent_timeline(hist, rules).level_breakpoints))


def _level_breakpoints(
    hist: list[AnyTouchpoint], times: list[datetime], support: dict[int, list[Support4]], folds: list[Fold]
) -> tuple[set[datetime], dict[datetime, list[tuple[str, str]]]]:
    """The instants at which the level may change: sales touchpoints (the keys of ``support``),
    deliveries and each close by silence that still applies when it comes (the set), and each
    signal's window end (the map, to the (event_id, grade) of the support that ends there)."""
    fixed: set[datetime] = set()
    ends: dict[datetime, list[tuple[str, str]]] = {}
    for i, tp in enumerate(hist):
        if isinstance(tp, Delivery):
            fixed.add(times[i])
        entries = support.get(i)
        if entries is None:
            continue
        fixed.add(times[i])
        head = folds[i + 1][0]  # the lead this sales touchpoint leaves
        if head is not None and head.closes_at is not None:
            closes = in_utc(head.closes_at)
            if folds[bisect_left(times, closes)][0] is head:  # nothing renewed or closed it before
                fixed.add(closes)
        for tp_, _, grade, until in entries:
            ends.setdefault(until, []).append((tp_.event_id, grade))
    return fixed, ends


# ---------------------------------------------------------------- the lead walk


#: (tp, signal, grade, window end in UTC): a grade that a signal of tp supports until that end.
Support4 = tuple[AnyTouchpoint, str, str, datetime]


@dataclass(frozen=True)
class _Lead:
    """The customer's current lead: open, or lost (F) until the next sales touchpoint.

    ``support``: (tp, signal, grade, window end in UTC) for every grade a signal of the lead supports."""

    opened: AnyTouchpoint
    sales: tuple[AnyTouchpoint, ...]
    orders: tuple[OrderPlaced, ...]
    lost: LeadLost | None
    support: tuple[Support4, ...]
    last_contact_at: datetime | None


@dataclass(frozen=True)
class _Head:
    """What the walk keeps of the current lead (O(1) to update); the lead is hist[start:]."""

    start: int
    last_sales: AnyTouchpoint
    ordered: bool = False
    lost: LeadLost | None = None
    #: when silence closes the lead (None: an order or a loss keeps it from closing so)
    closes_at: datetime | None = None


Fold = tuple["_Head | None", "AnyTouchpoint | None"]


class IntentTimeline:
    """intent_at of one history at any instant: the lead walk is folded once, touchpoint by
    touchpoint, and the view at T is the fold of the touchpoints <= T closed by silence at T."""

    def __init__(self, hist: History, rules: Rules) -> None:
        self.hist = list(hist)  # not the History itself: it holds this timeline (no reference cycle)
        self.rules = rules
        self.times = [in_utc(tp.occurred_at) for tp in hist]
        self._sales = [i for i, tp in enumerate(hist) if is_sales_touchpoint(tp)]
        self._contacts = {i for i in self._sales if is_reached_sales_contact(hist[i])}
        # what each sales touchpoint brings to its lead, worked out once
        self._support = {
            i: [
                (hist[i], signal, grade, in_utc(hist[i].occurred_at + window * DAY))
                for signal, grade, window in _support_windows(hist[i], rules)
            ]
            for i in self._sales
        }
        folds: list[Fold] = [(None, None)]
        head: _Head | None = None
        closer: AnyTouchpoint | None = None
        silence = rules.intent.lead_silence_close_days * DAY
        for i, tp in enumerate(hist):
            head, closer = _apply(*_close_if_silent(head, closer, tp.occurred_at), i, tp, silence)
            folds.append((head, closer))
        self._folds = folds
        self.fixed, self.window_ends = _level_breakpoints(hist, self.times, self._support, folds)
        self.level_breakpoints = sorted(self.fixed.union(self.window_ends))
        self._leads: dict[tuple[int, int], _Lead] = {}
        self._views: dict[datetime, IntentView] = {}

    def at(self, at: datetime, *, with_since: bool = True) -> IntentView:
        """intent_at(hist, at); without ``since``, remembered per instant (the intervals and the
        follow-up schedule both sample the level breakpoints)."""
        at = in_utc(at)
        if with_since:
            return self._at(at, with_since=True)
        view = self._views.get(at)
        if view is None:
            view = self._views[at] = self._at(at, with_since=False)
        return view

    def _at(self, at: datetime, *, with_since: bool) -> IntentView:
        lead, closer = self._state(at)
        if lead is None:
            return NO_INTENT if closer is None else replace(NO_INTENT, decided_by=(closer.event_id,))
        support = _active_support(lead, at)
        level = _level(lead, support)
        due = _follow_up_due(lead, level, self.rules)
        return IntentView(
            level=level,
            since=self._since(at, level) if with_since else None,
            signals=tuple(sorted({signal for _, signal, _ in support})) if level in FOLLOWED_UP else (),
            decided_by=_decided_by(lead, level, support),
            next_follow_up_due=due,
            follow_up_overdue=due is not None and at > due,
            lead_opened_at=lead.opened.occurred_at,
            last_contact_at=lead.last_contact_at,
        )

    def may_change(self, b: datetime, before: IntentView) -> bool:
        """Whether the level or what decided it may change at breakpoint b, given the view in
        force just before it: a signal's window end matters only when it ends support of the
        level in force (a lower grade's end leaves the highest supported grade as it was)."""
        if b in self.fixed:
            return True
        return any(
            grade == before.level and event_id in before.decided_by
            for event_id, grade in self.window_ends.get(b, ())
        )

    def level_at(self, at: datetime) -> str | None:
        at = in_utc(at)
        lead, _ = self._state(at)
        return None if lead is None else _level(lead, _active_support(lead, at))

    def _state(self, at: datetime) -> tuple[_Lead | None, AnyTouchpoint | None]:
        """The current lead at T (None when no lead is current, with what closed the last one)."""
        k = bisect_right(self.times, at)
        head, closer = _close_if_silent(*self._folds[k], at)
        return (None, closer) if head is None else (self._lead(k), None)

    def _lead(self, k: int) -> _Lead:
        """The lead of the fold after hist[:k] (when still current): the same for every k up to
        its next sales touchpoint, so it is remembered by (its start, its sales touchpoints)."""
        head = self._folds[k][0]
        assert head is not None
        first, end = bisect_left(self._sales, head.start), bisect_left(self._sales, k)
        lead = self._leads.get((first, end))
        if lead is None:
            indexes = self._sales[first:end]
            sales = tuple(self.hist[i] for i in indexes)
            support = tuple(entry for i in indexes for entry in self._support[i])
            orders = tuple(tp for tp in sales if isinstance(tp, OrderPlaced))
            contacts = [i for i in indexes if i in self._contacts]
            last_contact = self.hist[contacts[-1]].occurred_at if contacts else None
            lead = self._leads[(first, end)] = _Lead(
                self.hist[head.start], sales, orders, head.lost, support, last_contact
            )
        return lead

    def _since(self, at: datetime, level: str) -> datetime | None:
        """The earliest breakpoint from which the level has been `level` without interruption."""
        since = None
        points = self.level_breakpoints
        for b in reversed(points[: bisect_right(points, at)]):
            if self.level_at(b) != level:
                break
            since = b
        return since


def _apply(
    head: _Head | None, closer: AnyTouchpoint | None, i: int, tp: AnyTouchpoint, silence: timedelta
) -> tuple[_Head | None, AnyTouchpoint | None]:
    """A delivery closes the lead; a sales touchpoint opens one (when none is open) and joins it
    (DOMAIN.md: a lead with no sales touchpoint for lead_silence_close_days closes, unless at O)."""
    if isinstance(tp, Delivery):
        return None, tp
    if not is_sales_touchpoint(tp):
        return head, closer
    if head is None or head.lost is not None:
        head = _Head(start=i, last_sales=tp)
    lost = tp if isinstance(tp, LeadLost) else None
    ordered = head.ordered or isinstance(tp, OrderPlaced)
    closes_at = None if ordered or lost is not None else tp.occurred_at + silence
    return _Head(head.start, tp, ordered, lost, closes_at), None


def _close_if_silent(
    head: _Head | None, closer: AnyTouchpoint | None, at: datetime
) -> tuple[_Head | None, AnyTouchpoint | None]:
    """The fold at T: its lead closed if silence closed it by then."""
    if head is None or head.closes_at is None or at < head.closes_at:
        return head, closer
    return None, head.last_sales


Support = list[tuple[AnyTouchpoint, str, str]]


def _level(lead: _Lead, support: Support) -> str:
    if lead.lost is not None:
        return "F"
    if lead.orders:
        return "O"
    supported = {grade for _, _, grade in support}
    return next((g for g in GRADES if g in supported), "N")


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


def _active_support(lead: _Lead, at: datetime) -> Support:
    """(tp, signal, grade) for every grade a signal of the lead supports at `at` (in UTC): window
    [t, t+w), where t <= at holds already (the lead is the fold of the touchpoints <= at)."""
    return [(tp, signal, grade) for tp, signal, grade, until in lead.support if at < until]


def _decided_by(lead: _Lead, level: str, support: Support) -> tuple[str, ...]:
    if level == "F":
        return _ids(lead.lost)
    if level == "O":
        return tuple(o.event_id for o in lead.orders)
    if level == "N":
        return _ids(lead.opened)
    ids = [tp.event_id for tp, _, grade in support if grade == level]
    return tuple(dict.fromkeys(ids))


# ---------------------------------------------------------------- follow-up


def _follow_up_due(lead: _Lead, level: str, rules: Rules) -> datetime | None:
    """DOMAIN.md: the last reached sales contact + the cadence of the level at T (from the lead's
    opening while it has no reached contact); none at O and F."""
    cadence = _cadence(rules, level)
    if cadence is None:
        return None
    base = lead.last_contact_at or lead.opened.occurred_at
    return base + cadence * DAY


def _ids(tp: AnyTouchpoint | None) -> tuple[str, ...]:
    return () if tp is None else (tp.event_id,)
