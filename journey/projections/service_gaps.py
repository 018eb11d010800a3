"""Service quality: the five gaps (DOMAIN.md, "Service quality: the five gaps"), as facts and their
aggregation over a window.

A customer's (or a dealer's) touchpoints become :class:`Fact` rows: a survey answer, a management
answer, an SLA started and met or missed, a promise kept or broken. ``gaps`` aggregates the
facts of one dealer with occurred_at in [from, to) into gap1..gap5 per SERVQUAL dimension.

Readings of DOMAIN.md made here:

- Every figure is a mean over the touchpoints measured and says how many it rests on (``n``:
  the distinct touchpoints measured, i.e. surveys, management surveys, complaints,
  maintenances, deliveries; the callbacks and orders a fact also cites are in its event_ids).
  A figure with no data is null, never 0. Gap values are rounded to 3 decimals, shares to 4.
- gap1 = mean management perceived_expectations - mean customer expectations (servqual
  surveys), per dimension; null unless both sides have data in the window.
- gap3 of a dimension = mean of its metrics' shares - 1, over the metrics with data. The
  metrics: responsiveness (complaint_callback, post_service_callback, post_delivery_callback),
  reliability (ready_on_time, first_time_fix), assurance (explained_items); empathy and
  tangibles have none, so their gap3 is null.
- gap4 (promises: a delivery's date, a maintenance's ready time) is placed under reliability,
  SERVQUAL's "ability to perform the promised service dependably"; other dimensions have no
  promise data (null).
- A complaint is measured once per opening (raised again while open, same complaint_id, it is
  the same complaint), as the complaint_callback policy reads it. It got its callback when a
  reached complaint callback (same complaint_id, or none given) came at or after it and at or
  before complaint + complaint_callback_hours, even if it was resolved first.
- A post_service (post_delivery) callback is in time when a reached callback of that reason
  comes at or after the maintenance (delivery) and at or before add_working_days(maintenance,
  N, holidays) (delivery + N days). Deadlines include their end.
- The standard in force (hours, working days, days, required items) is the dealer's latest
  service_standard_set at the measured touchpoint's time, else the rules' defaults.
- A delivery keeps its promise when it occurs on or before the promised date in its own
  offset (delivery.promised_date, else the promised_delivery_date of the latest order_placed
  at or before the delivery and after the customer's previous delivery; none: no promise).
  Its overrun is measured from the end of the promised date (the next midnight, in the
  delivery's offset). A maintenance keeps its promise when ready_at <= promised_ready_at
  (both needed); overrun = ready_at - promised_ready_at. Overruns are in hours.
- The servqual score: unweighted = the mean of the five gap5 values; weighted = the mean over
  the surveys carrying weights of sum(weight / 100 * (perception - expectation)), the
  respondent-level weighting of Zeithaml, Parasuraman & Berry.
- csi_mean = the mean csi_score of csi surveys; the target is met when csi_mean > csi_target.

Time: every fact is placed by its measured touchpoint's occurred_at. An SLA's outcome may
depend on a later callback, so an SLA fact records its ``deadline`` and ``settled_at`` (the
meeting callback's instant when met, else the deadline). ``gaps`` as of T measures the
touchpoints in [from, to) that occurred by T and counts an SLA fact only when settled by T (met
by a callback at or before T, or missed with its deadline at or before T); an unsettled one is
reported as ``pending``. So a maintenance on the last day of March is measured in March's gaps,
pending while its callback may still come and settled once T is past its deadline; and ``gaps``
as of T is a pure function of the touchpoints with occurred_at <= T, whatever arrives later.
Without T, the window is read as of just before ``to``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from math import fsum
from typing import Any

from journey.projections.complaints import (
    answers_complaint,
    callback_deadline,
    complaint_episodes,
    is_reached_complaint_callback,
)
from journey.projections.history import TICK, History, history
from journey.projections.standards import StandardsLookup
from journey.rules import DEFAULT_RULES, Rules
from journey.touchpoints import (
    DIMENSIONS,
    AnyTouchpoint,
    Callback,
    Delivery,
    Maintenance,
    ManagementSurvey,
    OrderPlaced,
    Survey,
)
from journey.workdays import add_working_days

HOUR = timedelta(hours=1)

# fact kinds
SERVQUAL = "servqual"
CSI = "csi"
MANAGEMENT = "management"
SLA = "sla"
FIRST_TIME_FIX = "first_time_fix"
READY_ON_TIME = "ready_on_time"
EXPLAINED = "explained"
PROMISE = "promise"
GAP3_KINDS = frozenset({SLA, FIRST_TIME_FIX, READY_ON_TIME, EXPLAINED})

# metric names
PERCEIVED_EXPECTATIONS = "perceived_expectations"
STANDARDS_SPECIFICATION = "standards_specification"
COMPLAINT_CALLBACK = "complaint_callback"
POST_SERVICE_CALLBACK = "post_service_callback"
POST_DELIVERY_CALLBACK = "post_delivery_callback"
EXPLAINED_ITEMS = "explained_items"
DELIVERY_DATE = "delivery_date"
READY_BY = "ready_by"

#: gap3's metrics per dimension (DOMAIN.md gap3); a dimension not listed has none.
GAP3_METRICS: dict[str, tuple[str, ...]] = {
    "reliability": (READY_ON_TIME, FIRST_TIME_FIX),
    "responsiveness": (COMPLAINT_CALLBACK, POST_SERVICE_CALLBACK, POST_DELIVERY_CALLBACK),
    "assurance": (EXPLAINED_ITEMS,),
}
#: gap4's promises per dimension (see the module docstring: promises are reliability).
GAP4_PROMISES: dict[str, tuple[str, ...]] = {"reliability": (DELIVERY_DATE, READY_BY)}


@dataclass(frozen=True)
class Fact:
    """One measurement of the five gaps: placed in a window by ``occurred_at`` (its measured
    touchpoint's), resting on ``event_ids`` (the measured touchpoint first).

    The numbers: expectation / perception / weight (a servqual answer), value (a management
    answer, a csi score), met (an SLA, a standard or a promise), overrun_hours (a broken promise).
    ``deadline`` is an SLA's due instant and ``settled_at`` when its outcome became known
    (None: known at occurred_at)."""

    dealer_id: str
    kind: str
    dimension: str | None
    metric: str
    occurred_at: datetime
    event_ids: tuple[str, ...]
    expectation: float | None = None
    perception: float | None = None
    weight: float | None = None
    value: float | None = None
    met: bool | None = None
    overrun_hours: float | None = None
    deadline: datetime | None = None
    settled_at: datetime | None = None

    def settled_by(self, at: datetime) -> bool:
        """Whether the touchpoints with occurred_at <= at decide this fact."""
        return self.settled_at is None or self.settled_at <= at


# ---------------------------------------------------------------- facts of a customer


def customer_facts(
    touchpoints: Iterable[AnyTouchpoint],
    rules: Rules = DEFAULT_RULES,
    standards: StandardsLookup | None = None,
) -> list[Fact]:
    """Every gap fact of one customer's touchpoints (surveys, gap3 standards, gap4 promises), the
    standard in force at each measured touchpoint given by ``standards`` (default: the rules')."""
    hist = history(touchpoints)
    in_force: StandardsLookup = standards if standards is not None else (lambda _tp: rules.standards)
    holidays = rules.policies.holidays
    return [
        *survey_facts(hist),
        *complaint_callback_facts(hist, in_force),
        *post_service_callback_facts(hist, in_force, holidays),
        *post_delivery_callback_facts(hist, in_force),
        *maintenance_facts(hist),
        *explained_facts(hist, in_force),
        *delivery_promise_facts(hist),
    ]


def survey_facts(hist: History) -> list[Fact]:
    """gap5 and csi (DOMAIN.md gap5): one fact per servqual survey and dimension (expectation,
    perception, the respondent's weight when given), one per csi survey (its csi_score)."""
    out: list[Fact] = []
    for tp in hist:
        if not isinstance(tp, Survey):
            continue
        d = tp.data
        if d.kind == "csi" and d.csi_score is not None:
            out.append(_fact(tp, CSI, None, "csi_score", value=float(d.csi_score)))
        elif d.kind == "servqual" and d.expectations is not None and d.perceptions is not None:
            e, p = d.expectations.as_dict(), d.perceptions.as_dict()
            w = d.weights.as_dict() if d.weights is not None else {}
            out += [
                _fact(tp, SERVQUAL, x, SERVQUAL, expectation=e[x], perception=p[x], weight=w.get(x))
                for x in DIMENSIONS
            ]
    return out


def complaint_callback_facts(hist: History, in_force: StandardsLookup) -> list[Fact]:
    """gap3 responsiveness: a complaint got a reached complaint callback (same complaint_id when
    given) within complaint_callback_hours of the standard in force."""
    calls = [tp for tp in hist if is_reached_complaint_callback(tp)]
    out = []
    for c in (e.opened for e in complaint_episodes(hist)):
        ours = [cb for cb in calls if answers_complaint(cb, c)]
        out.append(_sla_fact(c, COMPLAINT_CALLBACK, callback_deadline(c, in_force(c)), ours))
    return out


def post_service_callback_facts(
    hist: History, in_force: StandardsLookup, holidays: Iterable[date]
) -> list[Fact]:
    """gap3 responsiveness: a maintenance got a reached post_service callback within
    post_service_callback_working_days working days (Mon–Fri in its own offset, holidays skipped)."""
    calls = [tp for tp in hist if _reached(tp, "post_service")]
    days = tuple(holidays)
    return [
        _sla_fact(
            m,
            POST_SERVICE_CALLBACK,
            add_working_days(m.occurred_at, in_force(m).post_service_callback_working_days, days),
            calls,
        )
        for m in hist
        if isinstance(m, Maintenance)
    ]


def post_delivery_callback_facts(hist: History, in_force: StandardsLookup) -> list[Fact]:
    """gap3 responsiveness: a delivery got a reached post_delivery callback within
    post_delivery_callback_days days."""
    calls = [tp for tp in hist if _reached(tp, "post_delivery")]
    return [
        _sla_fact(
            d,
            POST_DELIVERY_CALLBACK,
            d.occurred_at + timedelta(days=in_force(d).post_delivery_callback_days),
            calls,
        )
        for d in hist
        if isinstance(d, Delivery)
    ]


def maintenance_facts(hist: History) -> list[Fact]:
    """gap3 reliability (ready_at <= promised_ready_at where both are given; no repeat_repair: a
    first-time fix) and gap4 (a maintenance ready by promised_ready_at, with its overrun)."""
    out: list[Fact] = []
    for m in hist:
        if not isinstance(m, Maintenance):
            continue
        out.append(_fact(m, FIRST_TIME_FIX, "reliability", FIRST_TIME_FIX, met=not m.data.repeat_repair))
        promised, ready = m.data.promised_ready_at, m.data.ready_at
        if promised is None or ready is None:
            continue
        kept = ready <= promised
        out.append(_fact(m, READY_ON_TIME, "reliability", READY_ON_TIME, met=kept))
        out.append(_promise(m, READY_BY, (m.event_id,), kept, ready - promised))
    return out


def explained_facts(hist: History, in_force: StandardsLookup) -> list[Fact]:
    """gap3 assurance: a delivery's explained_items cover the standard's required_explained_items."""
    return [
        _fact(
            d,
            EXPLAINED,
            "assurance",
            EXPLAINED_ITEMS,
            met=set(in_force(d).required_explained_items) <= set(d.data.explained_items),
        )
        for d in hist
        if isinstance(d, Delivery)
    ]


def delivery_promise_facts(hist: History) -> list[Fact]:
    """gap4: a delivery on or before its promised date (delivery.promised_date, else the latest
    earlier order's promised_delivery_date), with the overrun past the end of that date."""
    out: list[Fact] = []
    order: OrderPlaced | None = None
    for tp in hist:
        if isinstance(tp, OrderPlaced):
            order = tp
        if not isinstance(tp, Delivery):
            continue
        promised, cites = tp.data.promised_date, [tp.event_id]
        if promised is None and order is not None and order.data.promised_delivery_date is not None:
            promised, cites = order.data.promised_delivery_date, [tp.event_id, order.event_id]
        order = None  # a delivery closes the sale: later deliveries look at later orders only
        if promised is not None:
            end_of_day = datetime.combine(promised + timedelta(days=1), time(), tzinfo=tp.occurred_at.tzinfo)
            kept = tp.occurred_at.date() <= promised  # the delivery's date in its own offset
            out.append(_promise(tp, DELIVERY_DATE, tuple(cites), kept, tp.occurred_at - end_of_day))
    return out


def _promise(tp: AnyTouchpoint, metric: str, cites: tuple[str, ...], kept: bool, overrun: timedelta) -> Fact:
    """A promise of tp, kept or broken by ``overrun``."""
    hours = None if kept else overrun / HOUR
    return Fact(
        tp.dealer_id, PROMISE, "reliability", metric, tp.occurred_at, cites, met=kept, overrun_hours=hours
    )


def _reached(tp: AnyTouchpoint, reason: str) -> bool:
    return isinstance(tp, Callback) and tp.data.reached and tp.data.reason == reason


def _sla_fact(tp: AnyTouchpoint, metric: str, deadline: datetime, calls: Sequence[AnyTouchpoint]) -> Fact:
    """An SLA started at tp, met by the first call at or after tp and at or before the deadline;
    settled at that call, else at the deadline."""
    call = next((c for c in calls if tp.occurred_at <= c.occurred_at <= deadline), None)
    cites = (tp.event_id,) if call is None else (tp.event_id, call.event_id)
    settled = deadline if call is None else call.occurred_at
    return Fact(
        tp.dealer_id,
        SLA,
        "responsiveness",
        metric,
        tp.occurred_at,
        cites,
        met=call is not None,
        deadline=deadline,
        settled_at=settled,
    )


def _fact(tp: AnyTouchpoint, kind: str, dimension: str | None, metric: str, **numbers: Any) -> Fact:
    return Fact(tp.dealer_id, kind, dimension, metric, tp.occurred_at, (tp.event_id,), **numbers)


# ---------------------------------------------------------------- facts of a dealer


def dealer_facts(dealer_touchpoints: Iterable[AnyTouchpoint], rules: Rules = DEFAULT_RULES) -> list[Fact]:
    """gap1 and gap2's management side: one fact per management_survey, dimension and question
    (perceived_expectations, standards_specification)."""
    out: list[Fact] = []
    for tp in history(dealer_touchpoints):
        if not isinstance(tp, ManagementSurvey):
            continue
        for metric, answers in (
            (PERCEIVED_EXPECTATIONS, tp.data.perceived_expectations.as_dict()),
            (STANDARDS_SPECIFICATION, tp.data.standards_specification.as_dict()),
        ):
            out += [_fact(tp, MANAGEMENT, d, metric, value=answers[d]) for d in DIMENSIONS]
    return out


# ---------------------------------------------------------------- the aggregation


def gaps(
    facts: Iterable[Fact],
    dealer_id: str,
    from_: datetime,
    to: datetime,
    rules: Rules = DEFAULT_RULES,
    as_of: datetime | None = None,
) -> dict[str, Any]:
    """DOMAIN.md's five gaps of a dealer over touchpoints with occurred_at in [from, to), as of
    T (default: just before ``to``): gap1..gap5 per dimension (gap3 with its metrics, gap4 with
    its promises), csi_mean against the target and the servqual scores. Every figure has ``n``;
    one without data is null."""
    at = to - TICK if as_of is None else as_of
    mine = [
        f for f in facts if f.dealer_id == dealer_id and from_ <= f.occurred_at < to and f.occurred_at <= at
    ]
    counted = [f for f in mine if f.settled_by(at)]
    by_kind: dict[str, list[Fact]] = {}
    for f in counted:
        by_kind.setdefault(f.kind, []).append(f)
    pending = [f for f in mine if not f.settled_by(at)]
    return {
        "dealer_id": dealer_id,
        "from": _utc(from_),
        "to": _utc(to),
        "as_of": _utc(at),
        "dimensions": {d: _dimension(d, by_kind, pending) for d in DIMENSIONS},
        "csi_mean": csi_mean(by_kind.get(CSI, []), rules.policies.csi_target),
        "servqual_score": {
            "unweighted": unweighted_score(by_kind.get(SERVQUAL, [])),
            "weighted": weighted_score(by_kind.get(SERVQUAL, [])),
        },
        "rules_version": rules.label,
    }


def _dimension(d: str, by_kind: dict[str, list[Fact]], pending: list[Fact]) -> dict[str, Any]:
    def of_d(kind: str) -> list[Fact]:
        return [f for f in by_kind.get(kind, []) if f.dimension == d]

    servqual, management = of_d(SERVQUAL), of_d(MANAGEMENT)
    standards = [f for k in sorted(GAP3_KINDS) for f in of_d(k)]
    return {
        "gap1": gap1(management, servqual),
        "gap2": gap2(management),
        "gap3": gap3(standards, GAP3_METRICS.get(d, ()), [f for f in pending if f.dimension == d]),
        "gap4": gap4(of_d(PROMISE), GAP4_PROMISES.get(d, ())),
        "gap5": gap5(servqual),
    }


def gap1(management: list[Fact], servqual: list[Fact]) -> dict[str, Any]:
    """DOMAIN.md gap1 (knowledge gap): mean management perceived_expectations - mean customer
    expectations, over one dimension's facts."""
    perceived = _mean(f.value for f in management if f.metric == PERCEIVED_EXPECTATIONS)
    expected = _mean(f.expectation for f in servqual)
    value = None if perceived is None or expected is None else perceived - expected
    return _figure(value, [*management, *servqual])


def gap2(management: list[Fact]) -> dict[str, Any]:
    """DOMAIN.md gap2 (standards gap): mean standards_specification - mean perceived_expectations."""
    spec = _mean(f.value for f in management if f.metric == STANDARDS_SPECIFICATION)
    perceived = _mean(f.value for f in management if f.metric == PERCEIVED_EXPECTATIONS)
    value = None if spec is None or perceived is None else spec - perceived
    return _figure(value, management)


def gap3(facts: list[Fact], metrics: Sequence[str], pending: list[Fact]) -> dict[str, Any]:
    """DOMAIN.md gap3 (delivery gap): the mean of the dimension's metric shares - 1 (0 = every
    standard met), over the metrics with data; each metric's share, met, total and pending (SLAs
    not yet settled at the window's end)."""
    of_metric = {m: [f for f in facts if f.metric == m] for m in metrics}
    mean = _mean(_met_share(fs) for fs in of_metric.values())
    shown = {
        m: {**_share_counts(fs), "pending": sum(1 for f in pending if f.metric == m)}
        for m, fs in of_metric.items()
    }
    return {**_figure(None if mean is None else mean - 1, facts), "metrics": shown}


def gap4(promises: list[Fact], kinds: Sequence[str]) -> dict[str, Any]:
    """DOMAIN.md gap4 (communication gap): the share of promises kept - 1, with the count and the
    mean overrun (hours) of the broken ones; per promise kind too."""
    share = _met_share(promises)
    return {
        **_figure(None if share is None else share - 1, promises),
        **_kept_counts(promises),
        "promises": {k: _kept_counts([f for f in promises if f.metric == k]) for k in kinds},
    }


def gap5(servqual: list[Fact]) -> dict[str, Any]:
    """DOMAIN.md gap5 (customer gap): mean over servqual surveys of perception - expectation."""
    return _figure(_mean(_p_minus_e(f) for f in servqual), servqual)


def csi_mean(csi: list[Fact], target: float) -> dict[str, Any]:
    """DOMAIN.md gap5: csi_mean over csi surveys; the dealer target is csi_mean > target."""
    mean = _mean(f.value for f in csi)
    return {**_figure(mean, csi), "target": target, "met": None if mean is None else mean > target}


def unweighted_score(servqual: list[Fact]) -> dict[str, Any]:
    """The unweighted SERVQUAL score: the mean of the five dimensions' gap5 (null unless all five
    have data)."""
    per_dimension = [_mean(_p_minus_e(f) for f in servqual if f.dimension == d) for d in DIMENSIONS]
    value = None if any(v is None for v in per_dimension) else _mean(per_dimension)
    return _figure(value, servqual)


def weighted_score(servqual: list[Fact]) -> dict[str, Any]:
    """The weighted SERVQUAL score: the mean, over the surveys carrying importance weights, of the
    sum over dimensions of weight / 100 * (perception - expectation)."""
    by_survey: dict[str, list[Fact]] = {}
    for f in servqual:
        by_survey.setdefault(f.event_ids[0], []).append(f)
    weighted = [
        fsum(_p_minus_e(f) * (f.weight or 0.0) / 100 for f in answers)
        for answers in by_survey.values()
        if all(f.weight is not None for f in answers)
    ]
    return {"value": _round(_mean(weighted)), "n": len(weighted)}


# ---------------------------------------------------------------- helpers


def _p_minus_e(f: Fact) -> float:
    assert f.perception is not None and f.expectation is not None
    return f.perception - f.expectation


def _mean(values: Iterable[float | None]) -> float | None:
    """The mean of the values given (None ignored; fsum, so independent of their order); None without any."""
    present = [v for v in values if v is not None]
    return fsum(present) / len(present) if present else None


def _round(value: float | None, digits: int = 3) -> float | None:
    return None if value is None else round(value, digits)


def _figure(value: float | None, facts: Iterable[Fact]) -> dict[str, Any]:
    """A gap figure: the value (3 decimals; null without data) and n, the touchpoints measured."""
    return {"value": _round(value), "n": len({f.event_ids[0] for f in facts})}


def _met_share(facts: list[Fact]) -> float | None:
    return sum(1 for f in facts if f.met) / len(facts) if facts else None


def _share_counts(facts: list[Fact]) -> dict[str, Any]:
    """A gap3 metric: the share of its touchpoints meeting the standard (4 decimals), met and total."""
    return {"share": _round(_met_share(facts), 4), "met": sum(1 for f in facts if f.met), "total": len(facts)}


def _kept_counts(promises: list[Fact]) -> dict[str, Any]:
    """Promises: the share kept (4 decimals), kept, broken and the broken ones' mean overrun in hours."""
    broken = [f for f in promises if not f.met]
    return {
        "share_kept": _round(_met_share(promises), 4),
        "kept": len(promises) - len(broken),
        "broken": len(broken),
        "mean_overrun_hours": _round(_mean(f.overrun_hours for f in broken)),
    }


def _utc(at: datetime) -> str:
    return at.astimezone(UTC).isoformat()
