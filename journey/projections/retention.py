"""The retention status of a customer at T (DOMAIN.md, "Retention status (owners)").

Pure: a function of one customer's touchpoints, the instant T, the rules and the dealer's
service standards in force; only touchpoints with occurred_at <= T count. Readings of
DOMAIN.md made here:

- days = whole days since last_service, rounded down, so "days > 180" holds from
  last_service + 181 days on and "days > 365" from + 366 days on.
- A complaint is open while no complaint_resolved with its complaint_id occurred at or
  after it; a complaint raised again with the same id after its resolution opens anew.
- complaint_overdue: "within the callback SLA" includes its end (a reached complaint
  callback at exactly complaint + hours is in time), so the complaint turns overdue only
  when T is strictly past complaint + hours. A callback without complaint_id counts for
  every open complaint of the customer; a late callback does not clear the flag.
- usage is the latest customer_registered that states one.
- decided_by names the touchpoints behind the status and the flags, the most recent delivery
  (car_age_segment) and the customer_registered that gave the usage.
- Calendar months for the warranty are counted in the delivery's own UTC offset, the day
  clamped to the month's end (Jan 31 + 1 month = Feb 28/29).
"""

from __future__ import annotations

import calendar
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Generic, TypeVar

from journey.projections.complaints import answers_complaint, callback_deadline, complaint_episodes
from journey.projections.history import DAY, TICK, History, history, in_utc, whole_days, with_next
from journey.projections.standards import StandardsLookup, in_force_or_defaults
from journey.rules import DEFAULT_RULES, RetentionRules, Rules
from journey.touchpoints import (
    AnyTouchpoint,
    Complaint,
    ComplaintResolved,
    CustomerRegistered,
    Delivery,
    Maintenance,
    Survey,
)

K = TypeVar("K", bound=AnyTouchpoint)
FLAGS: tuple[str, ...] = (
    "complaint_overdue",
    "dissatisfied_resolution",
    "low_csi",
    "open_complaint",
    "repeat_repair",
)


#: The only touchpoints retention_at reads (a complaint callback only through its complaint's
#: SLA breakpoint): retention cannot change at the others.
READ_KINDS = (Delivery, Maintenance, CustomerRegistered, Survey, Complaint, ComplaintResolved)


@dataclass(frozen=True)
class RetentionView:
    """A customer's retention status at T, its car and flags, and the touchpoints that decided them."""

    status: str
    days_since_last_service: int | None
    last_service_at: datetime | None
    car_age_segment: str | None
    usage: str | None
    flags: tuple[str, ...]
    decided_by: tuple[str, ...]


def retention_at(
    touchpoints: Iterable[AnyTouchpoint],
    at: datetime,
    rules: Rules = DEFAULT_RULES,
    standards: StandardsLookup | None = None,
) -> RetentionView:
    """The retention status at T: prospect without delivery or maintenance, else lost /
    marginal / loyal / opportunity by whole days since last_service, plus car age, usage and
    flags (DOMAIN.md, "Retention status (owners)")."""
    return retention_timeline(history(touchpoints), rules, standards).at(at)


def retention_timeline(
    hist: History, rules: Rules = DEFAULT_RULES, standards: StandardsLookup | None = None
) -> RetentionTimeline:
    """The (memoised) RetentionTimeline of a history."""
    return hist.memo(("retention", rules.label, standards), lambda: RetentionTimeline(hist, rules, standards))


def retention_breakpoints(
    touchpoints: Iterable[AnyTouchpoint],
    rules: Rules = DEFAULT_RULES,
    standards: StandardsLookup | None = None,
) -> list[datetime]:
    """Every instant at which retention_at may change (all fields but days_since_last_service),
    sorted and unique: the touchpoints it reads (READ_KINDS), the day thresholds after each possible last_service,
    maintenances leaving the loyal window, the tenure reached, warranty and 5-year ends, complaint
    SLAs breached (deadline + TICK), and repeat_repair / dissatisfied_resolution windows ending."""
    return list(retention_timeline(history(touchpoints), rules, standards).breakpoints)


# ---------------------------------------------------------------- the timeline


class _Kept(Generic[K]):
    """Touchpoints of one kind with their positions in the history, in history order."""

    def __init__(
        self, hist: History, kind: type[K] | tuple[type[K], ...], keep: Callable[[K], bool] = lambda _: True
    ) -> None:
        kept = [(i, tp) for i, tp in enumerate(hist) if isinstance(tp, kind) and keep(tp)]
        self.positions = [i for i, _ in kept]
        self.touchpoints: list[K] = [tp for _, tp in kept]

    def upto(self, k: int) -> list[K]:
        """Those among the first k touchpoints of the history (occurred_at <= T for k = bisect(T))."""
        return self.touchpoints[: bisect_left(self.positions, k)]

    def last(self, k: int) -> K | None:
        n = bisect_left(self.positions, k)
        return self.touchpoints[n - 1] if n else None

    def first(self, k: int) -> K | None:
        return self.touchpoints[0] if self.positions and self.positions[0] < k else None


@dataclass(frozen=True)
class _Episode:
    """A complaint, when it stops being open, and whether it turns overdue (and when)."""

    complaint: Complaint
    resolved_at: datetime | None
    deadline: datetime
    called_back_in_time: bool

    def open_at(self, at: datetime) -> bool:
        return self.complaint.occurred_at <= at and (self.resolved_at is None or at < self.resolved_at)


class RetentionTimeline:
    """retention_at of one history at any instant: each rule's touchpoints are picked out once,
    and the view at T looks at those among the touchpoints with occurred_at <= T."""

    def __init__(self, hist: History, rules: Rules, standards: StandardsLookup | None) -> None:
        self.rules = rules
        in_force = in_force_or_defaults(rules, standards)
        self.times = [in_utc(tp.occurred_at) for tp in hist]
        self.position = {tp.event_id: i for i, tp in enumerate(hist)}
        self.maintenances = _Kept(hist, Maintenance)
        self.deliveries = _Kept(hist, Delivery)
        self.services = _Kept[Delivery | Maintenance](hist, (Delivery, Maintenance))
        self._car_ends = [car_age_ends(d, rules.retention) for d in self.deliveries.touchpoints]
        self.usages = _Kept(hist, CustomerRegistered, lambda tp: bool(tp.data.usage))
        self.csi = _Kept(hist, Survey, lambda tp: tp.data.kind == "csi")
        self.repeats = _Kept(hist, Maintenance, lambda tp: tp.data.repeat_repair)
        self.dissatisfied = _Kept(hist, ComplaintResolved, lambda tp: not tp.data.satisfied)
        self.episodes = [
            _Episode(
                e.opened,
                None if e.resolved is None else e.resolved.occurred_at,
                deadline := callback_deadline(e.opened, in_force(e.opened)),
                _called_back_in_time(e.opened, hist, deadline),
            )
            for e in complaint_episodes(hist)
        ]
        self.breakpoints = self._breakpoints(hist)

    def _breakpoints(self, hist: History) -> list[datetime]:
        """The touchpoints retention reads and only the thresholds that can still matter: a
        service's day thresholds while it is last_service (a maintenance until the next one; the
        first delivery until the first maintenance), the tenure of the first service, a delivery's
        car-age ends until the next delivery, every maintenance leaving the loyal window, complaint
        SLAs breached, and repeat_repair / dissatisfied_resolution windows ending."""
        r = self.rules.retention
        out = {tp.occurred_at for tp in hist if isinstance(tp, READ_KINDS)}
        maintenances, deliveries = self.maintenances.touchpoints, self.deliveries.touchpoints
        day_thresholds = ((r.marginal_after_days + 1) * DAY, (r.lost_after_days + 1) * DAY)

        def before(until: AnyTouchpoint | None, *points: datetime) -> set[datetime]:
            return {p for p in points if until is None or p < until.occurred_at}

        for m, next_maintenance in with_next(maintenances):
            out |= before(next_maintenance, *(m.occurred_at + d for d in day_thresholds))
            out.add(m.occurred_at + r.loyal_window_days * DAY)
        if deliveries:
            first = deliveries[0].occurred_at
            out |= before(maintenances[0] if maintenances else None, *(first + d for d in day_thresholds))
        if self.services.touchpoints:
            out.add(self.services.touchpoints[0].occurred_at + r.loyal_min_tenure_days * DAY)
        for ends, (_, next_delivery) in zip(self._car_ends, with_next(deliveries), strict=True):
            out |= before(next_delivery, *ends)
        out.update(tp.occurred_at + r.repeat_repair_days * DAY for tp in self.repeats.touchpoints)
        out.update(e.deadline + TICK for e in self.episodes)
        out.update(
            tp.occurred_at + r.dissatisfied_resolution_days * DAY for tp in self.dissatisfied.touchpoints
        )
        return sorted(in_utc(t) for t in out)

    def at(self, at: datetime) -> RetentionView:
        """retention_at(hist, at)."""
        k = bisect_right(self.times, at)
        last = self._last_service(k)
        status, status_ids = self._status(k, last, at)
        flags = self._flags(k, at)
        usage = self.usages.last(k)
        car = self.deliveries.last(k)  # the most recent delivery decides the car's age segment
        decided = set(status_ids).union(*flags.values(), (tp.event_id for tp in (usage, car) if tp))
        return RetentionView(
            status=status,
            days_since_last_service=None if last is None else whole_days(last.occurred_at, at),
            last_service_at=None if last is None else last.occurred_at,
            car_age_segment=self._car_age_segment(k, at),
            usage=None if usage is None else usage.data.usage,
            flags=tuple(sorted(f for f, ids in flags.items() if ids)),
            decided_by=tuple(sorted(decided, key=self.position.__getitem__)),
        )

    def _car_age_segment(self, k: int, at: datetime) -> str | None:
        """DOMAIN.md: from the most recent delivery, in_warranty before delivery + warranty_months,
        post_warranty while younger than car_over_years (5) years, else over_5_years; null without one."""
        n = bisect_left(self.deliveries.positions, k)
        if n == 0:
            return None
        in_warranty_until, young_until = self._car_ends[n - 1]
        return (
            "in_warranty"
            if at < in_warranty_until
            else "post_warranty"
            if at < young_until
            else "over_5_years"
        )

    def _last_service(self, k: int) -> AnyTouchpoint | None:
        """DOMAIN.md: last_service = the latest maintenance, or the first delivery if none."""
        latest = self.maintenances.last(k)
        if latest is not None:
            return latest
        return self.deliveries.first(k)

    def _status(self, k: int, last: AnyTouchpoint | None, at: datetime) -> tuple[str, tuple[str, ...]]:
        """DOMAIN.md's status table, with the touchpoints that decided the status."""
        r = self.rules.retention
        if last is None:
            return "prospect", ()
        days = whole_days(last.occurred_at, at)
        if days > r.lost_after_days:
            return "lost", (last.event_id,)
        if days > r.marginal_after_days:
            return "marginal", (last.event_id,)
        counted = [tp for tp in self.maintenances.upto(k) if _within(tp, at, r.loyal_window_days)]
        first = self.services.touchpoints[0]
        tenure_ok = at - first.occurred_at >= r.loyal_min_tenure_days * DAY
        if len(counted) >= r.loyal_min_maintenances and tenure_ok:
            return "loyal", (last.event_id, first.event_id, *(tp.event_id for tp in counted))
        return "opportunity", (last.event_id,)

    def _flags(self, k: int, at: datetime) -> dict[str, tuple[str, ...]]:
        """Each flag of DOMAIN.md with the event_ids raising it (empty: flag off)."""
        r = self.rules.retention
        open_now = [e for e in self.episodes if e.open_at(at)]
        csi = self.csi.last(k)
        low = csi is not None and csi.data.csi_score is not None and csi.data.csi_score < r.low_csi_below
        return {
            # DOMAIN.md complaint_overdue: open, T past complaint + complaint_callback_hours, and
            # no reached complaint callback within that SLA
            "open_complaint": tuple(e.complaint.event_id for e in open_now),
            "complaint_overdue": tuple(
                e.complaint.event_id for e in open_now if at > e.deadline and not e.called_back_in_time
            ),
            # DOMAIN.md low_csi: the latest csi survey's csi_score below low_csi_below (90)
            "low_csi": (csi.event_id,) if low and csi is not None else (),
            "repeat_repair": tuple(
                tp.event_id for tp in self.repeats.upto(k) if _within(tp, at, r.repeat_repair_days)
            ),
            "dissatisfied_resolution": tuple(
                tp.event_id
                for tp in self.dissatisfied.upto(k)
                if _within(tp, at, r.dissatisfied_resolution_days)
            ),
        }


# ---------------------------------------------------------------- car


def add_months(t: datetime, months: int) -> datetime:
    """t plus calendar months, the day clamped to the month's end, in t's own offset."""
    index = t.month - 1 + months
    year, month = t.year + index // 12, index % 12 + 1
    return t.replace(year=year, month=month, day=min(t.day, calendar.monthrange(year, month)[1]))


def car_age_ends(delivery: Delivery, r: RetentionRules) -> tuple[datetime, datetime]:
    """When the car of a delivery leaves in_warranty (delivery + warranty_months) and
    post_warranty (delivery + car_over_years), in UTC."""
    t = delivery.occurred_at
    return in_utc(add_months(t, delivery.data.warranty_months)), in_utc(add_months(t, 12 * r.car_over_years))


# ---------------------------------------------------------------- complaints


def _called_back_in_time(complaint: Complaint, hist: list[AnyTouchpoint], deadline: datetime) -> bool:
    """A callback answering the complaint in [complaint, deadline]."""
    return any(
        answers_complaint(tp, complaint) and complaint.occurred_at <= tp.occurred_at <= deadline
        for tp in hist
    )


def _within(tp: AnyTouchpoint, at: datetime, days: int) -> bool:
    """tp in (at - days, at]: the "last N days" of DOMAIN.md."""
    return tp.occurred_at <= at < tp.occurred_at + days * DAY
