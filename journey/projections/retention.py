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
- Calendar months for the warranty are counted in the delivery's own UTC offset, the day
  clamped to the month's end (Jan 31 + 1 month = Feb 28/29).
"""

from __future__ import annotations

import calendar
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from journey.projections.complaints import open_complaints
from journey.projections.history import DAY, history, whole_days
from journey.rules import DEFAULT_RULES, RetentionRules, Rules, ServiceStandards
from journey.touchpoints import (
    AnyTouchpoint,
    Callback,
    Complaint,
    ComplaintResolved,
    CustomerRegistered,
    Delivery,
    Maintenance,
    Survey,
)

StandardsOf = Callable[[AnyTouchpoint], ServiceStandards]
#: The smallest step of a datetime: "T past X" holds from X + TICK on.
TICK = timedelta(microseconds=1)
FLAGS: tuple[str, ...] = (
    "complaint_overdue",
    "dissatisfied_resolution",
    "low_csi",
    "open_complaint",
    "repeat_repair",
)


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
    standards: StandardsOf | None = None,
) -> RetentionView:
    """The retention status at T: prospect without delivery or maintenance, else lost /
    marginal / loyal / opportunity by whole days since last_service, plus car age, usage and
    flags (DOMAIN.md, "Retention status (owners)")."""
    hist = history(touchpoints, at)
    last = last_service(hist)
    status, status_ids = _status(hist, last, at, rules.retention)
    flags = _flags(hist, at, rules, standards)
    decided = set(status_ids).union(*flags.values())
    return RetentionView(
        status=status,
        days_since_last_service=None if last is None else whole_days(last.occurred_at, at),
        last_service_at=None if last is None else last.occurred_at,
        car_age_segment=car_age_segment(hist, at, rules.retention),
        usage=usage(hist),
        flags=tuple(sorted(f for f, ids in flags.items() if ids)),
        decided_by=tuple(tp.event_id for tp in hist if tp.event_id in decided),
    )


def retention_breakpoints(
    touchpoints: Iterable[AnyTouchpoint],
    rules: Rules = DEFAULT_RULES,
    standards: StandardsOf | None = None,
) -> list[datetime]:
    """Every instant at which retention_at may change (all fields but days_since_last_service),
    sorted and unique: the touchpoints, the day thresholds after each possible last_service,
    maintenances leaving the loyal window, the tenure reached, warranty and 5-year ends, complaint
    SLAs breached (deadline + TICK), and repeat_repair / dissatisfied_resolution windows ending."""
    r = rules.retention
    hist = history(touchpoints)
    out = {tp.occurred_at for tp in hist}
    for tp in hist:
        if not isinstance(tp, Delivery | Maintenance):
            continue
        t = tp.occurred_at
        out |= {t + (r.marginal_after_days + 1) * DAY, t + (r.lost_after_days + 1) * DAY}
        out |= {t + r.loyal_window_days * DAY, t + r.loyal_min_tenure_days * DAY}
        if isinstance(tp, Delivery):
            out |= {warranty_end(tp), add_months(t, 12 * r.car_over_years)}
        if isinstance(tp, Maintenance) and tp.data.repeat_repair:
            out.add(t + r.repeat_repair_days * DAY)
    for tp in hist:
        if isinstance(tp, Complaint):
            out.add(_callback_deadline(tp, rules, standards) + TICK)
        if isinstance(tp, ComplaintResolved) and not tp.data.satisfied:
            out.add(tp.occurred_at + r.dissatisfied_resolution_days * DAY)
    return sorted(out)


# ---------------------------------------------------------------- status


def last_service(hist: list[AnyTouchpoint]) -> AnyTouchpoint | None:
    """DOMAIN.md: last_service = the latest maintenance, or the first delivery if none."""
    maintenances = [tp for tp in hist if isinstance(tp, Maintenance)]
    if maintenances:
        return maintenances[-1]
    return next((tp for tp in hist if isinstance(tp, Delivery)), None)


def _status(
    hist: list[AnyTouchpoint], last: AnyTouchpoint | None, at: datetime, r: RetentionRules
) -> tuple[str, tuple[str, ...]]:
    """DOMAIN.md's status table, with the touchpoints that decided the status."""
    if last is None:
        return "prospect", ()
    days = whole_days(last.occurred_at, at)
    if days > r.lost_after_days:
        return "lost", (last.event_id,)
    if days > r.marginal_after_days:
        return "marginal", (last.event_id,)
    counted = [tp for tp in hist if isinstance(tp, Maintenance) and _within(tp, at, r.loyal_window_days)]
    first = next(tp for tp in hist if isinstance(tp, Delivery | Maintenance))
    tenure_ok = at - first.occurred_at >= r.loyal_min_tenure_days * DAY
    if len(counted) >= r.loyal_min_maintenances and tenure_ok:
        return "loyal", (last.event_id, first.event_id, *(tp.event_id for tp in counted))
    return "opportunity", (last.event_id,)


# ---------------------------------------------------------------- car and usage


def add_months(t: datetime, months: int) -> datetime:
    """t plus calendar months, the day clamped to the month's end, in t's own offset."""
    index = t.month - 1 + months
    year, month = t.year + index // 12, index % 12 + 1
    return t.replace(year=year, month=month, day=min(t.day, calendar.monthrange(year, month)[1]))


def warranty_end(delivery: Delivery) -> datetime:
    return add_months(delivery.occurred_at, delivery.data.warranty_months)


def car_age_segment(hist: list[AnyTouchpoint], at: datetime, r: RetentionRules) -> str | None:
    """DOMAIN.md: from the most recent delivery, in_warranty before delivery + warranty_months,
    post_warranty while younger than car_over_years (5) years, else over_5_years; null without one."""
    deliveries = [tp for tp in hist if isinstance(tp, Delivery)]
    if not deliveries:
        return None
    latest = deliveries[-1]
    if at < warranty_end(latest):
        return "in_warranty"
    if at < add_months(latest.occurred_at, 12 * r.car_over_years):
        return "post_warranty"
    return "over_5_years"


def usage(hist: list[AnyTouchpoint]) -> str | None:
    """DOMAIN.md: private / official / commercial from customer_registered; null when unknown."""
    stated = [tp.data.usage for tp in hist if isinstance(tp, CustomerRegistered) and tp.data.usage]
    return stated[-1] if stated else None


# ---------------------------------------------------------------- complaints


def _callback_deadline(complaint: Complaint, rules: Rules, standards: StandardsOf | None) -> datetime:
    in_force = rules.standards if standards is None else standards(complaint)
    return complaint.occurred_at + timedelta(hours=in_force.complaint_callback_hours)


def _called_back_in_time(complaint: Complaint, hist: list[AnyTouchpoint], deadline: datetime) -> bool:
    """A reached complaint callback (same complaint_id, or none given) in [complaint, deadline]."""
    return any(
        isinstance(tp, Callback)
        and tp.data.reason == "complaint"
        and tp.data.reached
        and tp.data.complaint_id in (None, complaint.data.complaint_id)
        and complaint.occurred_at <= tp.occurred_at <= deadline
        for tp in hist
    )


def _overdue_complaints(
    hist: list[AnyTouchpoint], at: datetime, rules: Rules, standards: StandardsOf | None
) -> list[Complaint]:
    """DOMAIN.md complaint_overdue: open, T past complaint + complaint_callback_hours, and no
    reached complaint callback within that SLA."""
    out = []
    for c in open_complaints(hist):
        deadline = _callback_deadline(c, rules, standards)
        if at > deadline and not _called_back_in_time(c, hist, deadline):
            out.append(c)
    return out


# ---------------------------------------------------------------- flags


def _flags(
    hist: list[AnyTouchpoint], at: datetime, rules: Rules, standards: StandardsOf | None
) -> dict[str, tuple[str, ...]]:
    """Each flag of DOMAIN.md with the event_ids raising it (empty: flag off)."""
    r = rules.retention
    return {
        "open_complaint": tuple(c.event_id for c in open_complaints(hist)),
        "complaint_overdue": tuple(c.event_id for c in _overdue_complaints(hist, at, rules, standards)),
        "low_csi": _low_csi(hist, r),
        "repeat_repair": tuple(
            tp.event_id
            for tp in hist
            if isinstance(tp, Maintenance) and tp.data.repeat_repair and _within(tp, at, r.repeat_repair_days)
        ),
        "dissatisfied_resolution": tuple(
            tp.event_id
            for tp in hist
            if isinstance(tp, ComplaintResolved)
            and not tp.data.satisfied
            and _within(tp, at, r.dissatisfied_resolution_days)
        ),
    }


def _low_csi(hist: list[AnyTouchpoint], r: RetentionRules) -> tuple[str, ...]:
    """DOMAIN.md low_csi: the latest csi survey's csi_score below low_csi_below (90)."""
    csi = [tp for tp in hist if isinstance(tp, Survey) and tp.data.kind == "csi"]
    if csi and csi[-1].data.csi_score is not None and csi[-1].data.csi_score < r.low_csi_below:
        return (csi[-1].event_id,)
    return ()


def _within(tp: AnyTouchpoint, at: datetime, days: int) -> bool:
    """tp in (at - days, at]: the "last N days" of DOMAIN.md."""
    return tp.occurred_at <= at < tp.occurred_at + days * DAY
