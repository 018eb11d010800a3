"""A seeded, deterministic generator of a realistic dealer data set (for ``journey demo``).

``generate()`` plays the life of every customer of a few dealerships as their upstream
systems would have published it (CONTRACT.md section 1): the DMS (showroom visits, test
drives, orders, deliveries, workshop visits), the CRM (registrations, lost leads,
complaints), the call center (callbacks) and the survey tool. Journeys follow DOMAIN.md:
leads warm up from C to H signals and then order, go cold or are lost to a competitor;
owners come back every five to seven months until some lapse and are called to win them
back; promises, callbacks and explanations are sometimes broken so that every gap shows.

Everything comes from one ``random.Random(seed)``: the same arguments give the same list.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path
from random import Random
from typing import Any

from journey.touchpoints import DIMENSIONS, EXPLAINED_ITEMS, SCHEMA_VERSION, SIGNAL_LEVEL

#: The dealers' local offset; every occurred_at is written with it.
LOCAL = timezone(timedelta(hours=8))

_ID_PREFIX = {"dms": "dms", "crm": "crm", "call_center": "cc", "survey": "svy", "hq": "hq"}
_CITIES = ("SH", "BJ", "GZ", "SZ", "CD", "HZ", "WH", "NJ", "XA", "TJ")
_LEVELS = ("N", "C", "B", "A", "H")
_SIGNALS: dict[str, tuple[str, ...]] = {
    level: tuple(s for s, lv in SIGNAL_LEVEL.items() if lv == level) for level in ("C", "B", "A", "H")
}
#: Follow-up cadence per level (DOMAIN.md), in days.
_CADENCE_DAYS = {"N": 1, "C": 15, "B": 7, "A": 4, "H": 2}
#: Chance that a lead at this level warms up to the next one (at H: that it orders).
_WARM_UP = {"N": 0.92, "C": 0.78, "B": 0.8, "A": 0.85, "H": 0.92}
#: Days from the previous level's touch to the touch that brings this level's signals.
_WARM_UP_DAYS = {"C": (0, 3), "B": (3, 25), "A": (2, 12), "H": (1, 7)}
#: How many days before `end` a lead still open at `end` shows its last signal (inside the level's window).
_OPEN_LEAD_AGE_DAYS = {"N": (1, 1), "C": (2, 40), "B": (1, 20), "A": (1, 10), "H": (1, 5)}

_MODELS: dict[str, int] = {
    "A200L": 290_000,
    "C260L": 350_000,
    "GLA220": 310_000,
    "E300L": 480_000,
    "GLC300L": 450_000,
    "EQE350": 520_000,
    "GLE350": 750_000,
    "V260L": 500_000,
}
_MODELS_BY_USAGE: dict[str | None, tuple[str, ...]] = {
    "private": ("A200L", "C260L", "C260L", "GLA220", "E300L", "GLC300L", "GLC300L", "EQE350", "GLE350"),
    "official": ("E300L", "E300L", "C260L", "V260L"),
    "commercial": ("V260L", "V260L", "E300L", "GLC300L"),
    None: ("C260L", "E300L", "GLC300L", "A200L"),
}
_COMPETITORS = (
    "BMW 3 Series",
    "BMW X3",
    "Audi A4L",
    "Audi Q5L",
    "Tesla Model Y",
    "BYD Han",
    "Volvo S90",
    "Lexus ES",
    "NIO ET5",
    "Li Auto L7",
)
_LOST_REASONS = ("bought a competitor's car", "price too high", "purchase postponed", "financing declined")
_SURNAMES = ("Wang", "Li", "Zhang", "Liu", "Chen", "Yang", "Zhao", "Huang", "Zhou", "Wu", "Xu", "Sun", "Ma")
_GIVEN_NAMES = ("Wei", "Fang", "Na", "Min", "Jing", "Lei", "Jun", "Yong", "Yan", "Jie", "Tao", "Hao", "Xin")
_AREA_CODES = {"SH": "310101", "BJ": "110105", "GZ": "440106"}

#: Customers' SERVQUAL expectations per dimension (means on the 1..7 scale).
_EXPECTATION = {"reliability": 6.5, "responsiveness": 6.2, "assurance": 6.1, "empathy": 5.7, "tangibles": 5.4}

_VIN_CHARS = "ABCDEFGHJKLMNPRSTUVWXYZ0123456789"
_VIN_VALUES = {
    **{str(d): d for d in range(10)},
    **dict(zip("ABCDEFGH", range(1, 9), strict=True)),
    **dict(zip("JKLMN", range(1, 6), strict=True)),
    "P": 7,
    "R": 9,
    **dict(zip("STUVWXYZ", range(2, 10), strict=True)),
}
_VIN_WEIGHTS = (8, 7, 6, 5, 4, 3, 2, 10, 0, 9, 8, 7, 6, 5, 4, 3, 2)
_VIN_YEAR_CODE = "PRSTVWXY123456789"  # model years 2023, 2024, ...


# ---------------------------------------------------------------- the cast


@dataclass(frozen=True)
class _Standard:
    """A dealer's service standard in force from ``effective_from`` (service_standard_set)."""

    effective_from: datetime
    complaint_callback_hours: float = 48
    post_service_callback_working_days: int = 3
    post_delivery_callback_days: int = 3
    required_explained_items: tuple[str, ...] = EXPLAINED_ITEMS

    def data(self) -> dict[str, Any]:
        """The payload, naming only what differs from the contract's defaults."""
        data: dict[str, Any] = {}
        if self.complaint_callback_hours != 48:
            data["complaint_callback_hours"] = self.complaint_callback_hours
        if self.post_service_callback_working_days != 3:
            data["post_service_callback_working_days"] = self.post_service_callback_working_days
        if self.post_delivery_callback_days != 3:
            data["post_delivery_callback_days"] = self.post_delivery_callback_days
        if self.required_explained_items != EXPLAINED_ITEMS:
            data["required_explained_items"] = list(self.required_explained_items)
        return data


@dataclass(frozen=True)
class _Dealer:
    """A dealership and the habits that shape its figures (punctuality, CSI, the five gaps)."""

    dealer_id: str
    code: str
    standards: tuple[_Standard, ...]
    consultants: tuple[str, ...]
    csi_mean: float
    promises_kept: float
    callbacks_on_time: float
    perception_offset: Mapping[str, float]
    management_offset: Mapping[str, float]
    standards_offset: Mapping[str, float]

    def standard_at(self, t: datetime) -> _Standard:
        in_force = self.standards[0]
        for standard in self.standards:
            if standard.effective_from <= t:
                in_force = standard
        return in_force


@dataclass(frozen=True)
class _Customer:
    customer_id: str
    dealer: _Dealer
    usage: str | None
    consultant_id: str
    lapse_chance: float


@dataclass
class _Vehicle:
    vin: str
    model: str
    delivered_at: datetime
    warranty_months: int
    km_per_day: float
    mileage_km: int
    mileage_at: datetime

    def in_warranty(self, t: datetime) -> bool:
        return t < self.delivered_at + timedelta(days=self.warranty_months * 365 // 12)


@dataclass
class _Event:
    at: datetime
    seq: int
    source: str
    type: str
    dealer_id: str
    customer_id: str | None
    data: dict[str, Any]


@dataclass(frozen=True)
class _LeadOutcome:
    """How a lead ended: ordered, lost (lead_lost), cold (no more contact) or open at `end`."""

    kind: str
    first: datetime
    last: datetime
    model: str


# ---------------------------------------------------------------- public API


def generate(
    seed: int = 7,
    dealers: int = 3,
    customers: int = 2000,
    start: datetime = datetime(2024, 1, 1, tzinfo=UTC),
    end: datetime = datetime(2026, 11, 1, tzinfo=UTC),
) -> list[dict[str, Any]]:
    """Touchpoint envelopes (CONTRACT.md section 1) for `customers` customers of `dealers` dealers.

    Every touchpoint has start <= occurred_at < end; the list is sorted by occurred_at and the
    same arguments always give the same list.
    """
    if dealers < 1 or customers < 0:
        raise ValueError("dealers must be >= 1 and customers >= 0")
    if start.tzinfo is None or end.tzinfo is None or end <= start:
        raise ValueError("start and end must be aware datetimes with start < end")
    data_set = _DataSet(Random(seed), start, end)
    data_set.play(dealers, customers)
    return data_set.touchpoints()


def write_jsonl(touchpoints: Iterable[Mapping[str, Any]], path: str | os.PathLike[str]) -> int:
    """Write one touchpoint per line (the `journey ingest` format); return how many."""
    count = 0
    with Path(path).open("w", encoding="utf-8") as out:
        for tp in touchpoints:
            out.write(json.dumps(tp, ensure_ascii=False, separators=(",", ":")))
            out.write("\n")
            count += 1
    return count


# ---------------------------------------------------------------- the generator


class _DataSet:
    """Plays every journey phase and collects the touchpoints it publishes."""

    def __init__(self, rng: Random, start: datetime, end: datetime) -> None:
        self.rng = rng
        self.start = start.astimezone(LOCAL)
        self.end = end.astimezone(LOCAL)
        self.events: list[_Event] = []
        self.complaints = 0
        self.vehicles = 0

    # ------------------------------------------------------------ cast and schedule

    def play(self, dealer_count: int, customer_count: int) -> None:
        dealers = [self.dealer(i) for i in range(dealer_count)]
        for dealer in dealers:
            self.dealer_standards(dealer)
            self.management_surveys(dealer)
        arrivals = sorted(self.arrival() for _ in range(customer_count))
        open_leads = self.open_lead_plan(arrivals)
        for i, arrival in enumerate(arrivals):
            customer = self.customer(i + 1, dealers)
            self.customer_journey(customer, arrival, open_leads.get(i))

    def dealer(self, index: int) -> _Dealer:
        rng = self.rng
        code = _CITIES[index % len(_CITIES)]
        dealer_id = f"D-{code}-{index + 1:02d}"
        standards = [_Standard(self.start)]
        if index % 3 == 1:  # a stricter complaint SLA
            standards = [_Standard(self.start, complaint_callback_hours=24)]
        elif index % 3 == 2:  # faster post-service calls, operation not required at delivery
            items = ("features", "maintenance_schedule", "warranty")
            standards = [
                _Standard(self.start, post_service_callback_working_days=2, required_explained_items=items)
            ]
        else:  # defaults at first, tightened half-way
            middle = self.start + (self.end - self.start) / 2
            standards.append(_Standard(self.at_business_hours(middle), complaint_callback_hours=36))
        return _Dealer(
            dealer_id=dealer_id,
            code=code,
            standards=tuple(standards),
            consultants=tuple(f"SC-{code}-{k:02d}" for k in range(1, rng.randint(6, 10))),
            csi_mean=(93.0, 91.0, 88.0)[index % 3] + rng.uniform(-1, 1),
            promises_kept=(0.85, 0.8, 0.7)[index % 3],
            callbacks_on_time=(0.9, 0.85, 0.75)[index % 3],
            perception_offset={d: rng.uniform(-0.9, 0.2) for d in DIMENSIONS},
            management_offset={d: rng.uniform(-0.8, 0.3) for d in DIMENSIONS},
            standards_offset={d: rng.uniform(-0.9, 0.0) for d in DIMENSIONS},
        )

    def customer(self, number: int, dealers: list[_Dealer]) -> _Customer:
        rng = self.rng
        weights = [max(1.0, 4.0 - i) for i in range(len(dealers))]
        dealer = rng.choices(dealers, weights=weights)[0]
        usage = rng.choices(("private", "official", "commercial", None), weights=(80, 5, 8, 7))[0]
        return _Customer(
            customer_id=f"C-{number:06d}",
            dealer=dealer,
            usage=usage,
            consultant_id=rng.choice(dealer.consultants),
            lapse_chance=rng.choices((0.04, 0.12, 0.35), weights=(50, 35, 15))[0],
        )

    def arrival(self) -> datetime:
        """When a customer first shows up: a quarter in the opening campaign, the rest evenly."""
        span = self.end - self.start - timedelta(days=3)
        if self.rng.random() < 0.25:
            span = min(span, timedelta(days=75))
        return self.start + timedelta(days=1) + span * self.rng.random()

    def open_lead_plan(self, arrivals: list[datetime]) -> dict[int, str]:
        """Recent arrivals whose lead is still open at `end`, spread over the levels N..H."""
        recent = [i for i, t in enumerate(arrivals) if t >= self.end - timedelta(days=90)]
        wanted = min(len(recent), max(len(_LEVELS), len(arrivals) // 40))
        chosen = sorted(self.rng.sample(recent, wanted))
        return {i: _LEVELS[k % len(_LEVELS)] for k, i in enumerate(chosen)}

    def customer_journey(self, c: _Customer, arrival: datetime, open_at: str | None) -> None:
        """customer_registered, then a lead, then (if it orders) the purchase and the ownership."""
        first_index = len(self.events)
        outcome = self.lead(c, arrival, stop_at=open_at)
        if open_at is not None:  # move the lead so that it is still open, at that level, at `end`
            last_day = (self.end - timedelta(days=self.rng.randint(*_OPEN_LEAD_AGE_DAYS[open_at]))).date()
            delta = timedelta(days=(last_day - outcome.last.date()).days)  # whole days keep the hours
            if outcome.first + delta > self.start + timedelta(hours=1):
                self.shift(first_index, delta)
                outcome = _LeadOutcome(
                    outcome.kind, outcome.first + delta, outcome.last + delta, outcome.model
                )
        self.customer_registered(c, outcome.first - timedelta(minutes=self.rng.randint(3, 40)))
        self.after_lead(c, outcome)

    def after_lead(self, c: _Customer, outcome: _LeadOutcome) -> None:
        """An order leads to a delivery and ownership; some lost or cold prospects come back later."""
        rng = self.rng
        while outcome.kind in ("lost", "cold"):
            if rng.random() >= (0.2 if outcome.kind == "lost" else 0.3):
                return
            again = self.later(outcome.last, 60 if outcome.kind == "lost" else 90, 500)
            if again >= self.end:
                return
            outcome = self.lead(c, again, entry=rng.choice(("N", "C")))
        if outcome.kind == "ordered":
            vehicle = self.purchase(c, outcome.last, outcome.model)
            self.ownership(c, vehicle)

    # ------------------------------------------------------------ dealer level

    def dealer_standards(self, d: _Dealer) -> None:
        for standard in d.standards:
            self.emit_dealer(d, standard.effective_from, "service_standard_set", standard.data())

    def management_surveys(self, d: _Dealer) -> None:
        """About three management surveys a year: what managers think customers expect, and the standards."""
        rng = self.rng
        quarter_end = datetime(self.start.year, 3, 1, tzinfo=LOCAL)
        while quarter_end < self.end:
            if rng.random() < 0.8:
                day = quarter_end + timedelta(days=rng.randint(5, 25))
                perceived = {
                    dim: _likert(_EXPECTATION[dim] + d.management_offset[dim] + rng.gauss(0, 0.3), step=0.5)
                    for dim in DIMENSIONS
                }
                standards = {
                    dim: _likert(perceived[dim] + d.standards_offset[dim] + rng.gauss(0, 0.3), step=0.5)
                    for dim in DIMENSIONS
                }
                data = {"perceived_expectations": perceived, "standards_specification": standards}
                self.emit_dealer(d, self.at_business_hours(day), "management_survey", data)
            month = quarter_end.month + 3
            quarter_end = quarter_end.replace(
                year=quarter_end.year + (month - 1) // 12, month=(month - 1) % 12 + 1
            )

    # ------------------------------------------------------------ registration

    def customer_registered(self, c: _Customer, at: datetime) -> None:
        """The CRM record; about half carry (fake) personal data that the engine hashes."""
        rng = self.rng
        data: dict[str, Any] = {}
        if c.usage is not None:
            data["usage"] = c.usage
        if rng.random() < 0.5:
            data["name"] = f"{rng.choice(_SURNAMES)} {rng.choice(_GIVEN_NAMES)}"
            data["phone"] = f"+86 1{rng.choice('3589')}{rng.randint(0, 9)} {rng.randint(0, 99_999_999):08d}"
            if rng.random() < 0.5:
                data["national_id"] = self.national_id(c.dealer.code)
        self.emit(c, at, "crm", "customer_registered", data)

    def national_id(self, code: str) -> str:
        rng = self.rng
        born = date(1960, 1, 1) + timedelta(days=rng.randint(0, 365 * 42))
        body = f"{_AREA_CODES.get(code, '320102')}{born:%Y%m%d}{rng.randint(0, 999):03d}"
        total = sum(int(ch) * (2 ** (17 - i) % 11) for i, ch in enumerate(body))
        return body + "10X98765432"[total % 11]

    # ------------------------------------------------------------ lead

    def lead(
        self,
        c: _Customer,
        t0: datetime,
        *,
        entry: str = "N",
        stop_at: str | None = None,
        opened: bool = False,
    ) -> _LeadOutcome:
        """A sales lead from its opening touch, warming up level by level until it orders or fades.

        With `stop_at`, the lead warms up to that level and stays open there (no order, no loss).
        With `opened`, the opening touch at t0 was already published (a trade-in asked at the workshop).
        """
        rng = self.rng
        model = rng.choice(_MODELS_BY_USAGE[c.usage])
        models = sorted({model, *rng.sample(sorted(_MODELS), rng.randint(0, 2))})
        stage = _LEVELS.index(entry)
        first = t = t0 if opened else self.open_lead(c, t0, entry, models)
        while True:
            level = _LEVELS[stage]
            if level == stop_at:
                return _LeadOutcome("open", first, t, model)
            t = self.lead_follow_ups(c, t, level)
            if stop_at is None and rng.random() >= _WARM_UP[level]:
                return self.lead_fades(c, t, level, model, first)
            if level == "H":
                return _LeadOutcome("ordered", first, t, model)
            stage += 1
            t = self.warm_up(c, t, _LEVELS[stage], model, models)

    def open_lead(self, c: _Customer, t0: datetime, entry: str, models: list[str]) -> datetime:
        """The first sales touch: a showroom visit, with no signal yet (N) or the entry level's."""
        rng = self.rng
        purpose = rng.choices(("browse", "other"), weights=(85, 15))[0]
        signals = [] if entry == "N" else self.signals(entry, 1, 2)
        return self.store_visit(c, self.at_business_hours(t0), purpose, signals, models)

    def warm_up(self, c: _Customer, t: datetime, level: str, model: str, models: list[str]) -> datetime:
        """The touch that brings the signals of `level` (C, B, A or H)."""
        rng = self.rng
        low, high = _WARM_UP_DAYS[level]
        at = self.later(t, low, high)
        if level == "C":
            if rng.random() < 0.5:
                return self.callback(c, at, "lead_follow_up", reached=True, signals=self.signals("C", 1, 2))
            return self.store_visit(c, at, "browse", self.signals("C", 1, 2), models)
        if level == "B":
            extra = rng.sample(("purchase_intent_expressed", "trade_in_requested"), rng.randint(0, 1))
            at = self.store_visit(c, at, "browse", ["revisit", *extra], models)
            if rng.random() < 0.65:
                at = self.test_drive(c, at + timedelta(minutes=rng.randint(15, 60)), model)
            return at
        if level == "A":
            if rng.random() < 0.3:
                signals = [rng.choice(("next_meeting_set", "purchase_date_set"))]
                return self.callback(c, at, "lead_follow_up", reached=True, signals=signals)
            signals = [
                "terms_negotiated",
                rng.choice(("model_color_chosen", "next_meeting_set", "purchase_date_set")),
            ]
            return self.store_visit(c, at, "negotiation", signals, [model])
        signals = ["payment_method_set", "delivery_date_set"]
        signals += rng.sample(("financing_in_progress", "trade_in_in_progress"), rng.randint(0, 1))
        return self.store_visit(c, at, "negotiation", signals, [model])

    def lead_follow_ups(self, c: _Customer, t: datetime, level: str) -> datetime:
        """Calls at about the level's cadence (sometimes too late); reached ones may refresh its signals."""
        rng = self.rng
        count = {"N": rng.randint(0, 1), "C": rng.randint(0, 3), "B": rng.randint(0, 2)}.get(
            level, rng.randint(0, 1)
        )
        cadence = _CADENCE_DAYS[level]
        for _ in range(count):
            at = self.call_time(t, cadence * 24 * 0.4, cadence * 24 * 1.4)
            reached = rng.random() < 0.72
            signals = self.signals(level, 1, 1) if reached and level != "N" and rng.random() < 0.35 else []
            t = self.callback(c, at, "lead_follow_up", reached=reached, signals=signals)
        return t

    def lead_fades(self, c: _Customer, t: datetime, level: str, model: str, first: datetime) -> _LeadOutcome:
        """The lead is lost (lead_lost, often to a competitor) or goes cold (calls no longer reached)."""
        rng = self.rng
        lost_chance = {"N": 0.25, "C": 0.3, "B": 0.45}.get(level, 0.6)
        if rng.random() < lost_chance:
            reason = rng.choices(_LOST_REASONS, weights=(55, 20, 15, 10))[0]
            data: dict[str, Any] = {"reason": reason}
            if reason == _LOST_REASONS[0] or (reason == _LOST_REASONS[1] and rng.random() < 0.5):
                data["competitor"] = rng.choice(_COMPETITORS)
            at = self.later(t, 2, 20)
            self.emit(c, at, "crm", "lead_lost", data)
            return _LeadOutcome("lost", first, at, model)
        for _ in range(rng.randint(1, 2)):
            t = self.callback(c, self.call_time(t, 24 * 3, 24 * 20), "lead_follow_up", reached=False)
        return _LeadOutcome("cold", first, t, model)

    # ------------------------------------------------------------ purchase

    def purchase(self, c: _Customer, t: datetime, model: str) -> _Vehicle:
        """order_placed, then the delivery (promised date sometimes broken), then after-delivery care."""
        rng = self.rng
        dealer = c.dealer
        ordered_at = t + timedelta(minutes=rng.randint(20, 90)) if rng.random() < 0.6 else self.later(t, 1, 3)
        price = round(_MODELS[model] * rng.uniform(0.86, 0.98), -2)
        order: dict[str, Any] = {"model": model, "price": f"{price:.2f}"}
        promised: date | None = None
        if rng.random() < 0.85:
            promised = (ordered_at + timedelta(days=rng.randint(10, 45))).date()
            order["promised_delivery_date"] = promised.isoformat()
        self.emit(c, ordered_at, "dms", "order_placed", order)

        if promised is None:
            day = ordered_at + timedelta(days=rng.randint(12, 40))
        elif rng.random() < dealer.promises_kept:
            day = _local_midnight(promised) - timedelta(days=rng.randint(0, 4))
        else:
            day = _local_midnight(promised) + timedelta(days=rng.randint(1, 21))
        delivered_at = max(self.at_business_hours(day), self.later(ordered_at, 3, 3))
        if rng.random() < 0.45:
            self.store_visit(c, delivered_at - timedelta(minutes=rng.randint(30, 90)), "pickup", [], [model])
        explained = self.explained_items()
        warranty = 24 if c.usage == "commercial" else 48 if model in ("EQE350", "GLE350") else 36
        self.vehicles += 1
        vehicle = _Vehicle(
            vin=_vin(rng, delivered_at.year, self.vehicles),
            model=model,
            delivered_at=delivered_at,
            warranty_months=warranty,
            km_per_day={"commercial": 150.0, "official": 80.0}.get(c.usage or "", 40.0)
            * rng.uniform(0.6, 1.4),
            mileage_km=rng.randint(5, 60),
            mileage_at=delivered_at,
        )
        delivery: dict[str, Any] = {"vin": vehicle.vin, "model": model, "explained_items": explained}
        if promised is not None and rng.random() < 0.7:
            delivery["promised_date"] = promised.isoformat()
        if warranty != 36 or rng.random() < 0.5:
            delivery["warranty_months"] = warranty
        self.emit(c, delivered_at, "dms", "delivery", delivery)

        late = promised is not None and delivered_at.date() > promised
        incomplete = not set(dealer.standard_at(delivered_at).required_explained_items) <= set(explained)
        self.after_delivery(c, delivered_at, late, incomplete)
        return vehicle

    def explained_items(self) -> list[str]:
        """Usually everything is explained at the handover; sometimes one or two items are skipped."""
        if self.rng.random() < 0.8:
            return list(EXPLAINED_ITEMS)
        skipped = set(self.rng.sample(EXPLAINED_ITEMS, self.rng.randint(1, 2)))
        return [item for item in EXPLAINED_ITEMS if item not in skipped]

    def after_delivery(self, c: _Customer, delivered_at: datetime, late: bool, incomplete: bool) -> None:
        """The post_delivery callback (on time or not, reached or not), a CSI survey, maybe a complaint."""
        rng = self.rng
        standard = c.dealer.standard_at(delivered_at)
        penalty = 6.0 * late + 4.0 * incomplete
        if rng.random() < 0.03 + 0.2 * late + 0.08 * incomplete:
            category = "waiting_time" if late else rng.choice(("attitude", "facility", "price", "other"))
            self.complaint(c, self.later(delivered_at, 0, 6), category)
            penalty += 10
        if rng.random() < 0.9:
            hours = 24.0 * standard.post_delivery_callback_days
            reached_at = self.aftercare_call(c, delivered_at, "post_delivery", hours - 1)
            if reached_at is not None and rng.random() < 0.65:
                self.survey(c, reached_at, penalty)

    # ------------------------------------------------------------ ownership

    def ownership(self, c: _Customer, v: _Vehicle) -> None:
        """Scheduled services every five to seven months, repairs in between, until the owner lapses.

        A lapsed owner turns marginal after 180 days and gets win_back calls; some come back.
        Now and then an owner trades the car in for a new one (a new lead at a service visit).
        """
        rng = self.rng
        last_scheduled = last_service = v.delivered_at
        while True:
            mean_days = 120 if c.usage == "commercial" else 175
            interval = timedelta(days=round(min(215.0, max(100.0, rng.gauss(mean_days, 18)))))
            due = last_scheduled + interval
            if rng.random() < 0.17:
                repair_day = (
                    last_service + (interval - timedelta(days=30)) * rng.random() + timedelta(days=15)
                )
                if repair_day >= self.end:
                    return
                last_service = self.unscheduled_visits(c, v, repair_day)
            if rng.random() < 0.45 and due - timedelta(days=14) > last_service:
                self.callback(
                    c, self.call_time(due - timedelta(days=16), 0, 96), "care", reached=rng.random() < 0.7
                )
            if rng.random() < c.lapse_chance:
                back = self.win_back(c, last_service)
                if back is None:
                    return
                due = back
            if due >= self.end:
                return
            due = max(due, last_service + timedelta(days=20))
            trade_in = due - v.delivered_at > timedelta(days=540) and rng.random() < 0.05
            last_scheduled = last_service = self.maintenance(c, v, due, "scheduled", trade_in=trade_in)
            if trade_in:
                outcome = self.lead(c, last_service, entry="B", opened=True)
                if outcome.kind == "ordered":
                    self.ownership(c, self.purchase(c, outcome.last, outcome.model))
                    return

    def unscheduled_visits(self, c: _Customer, v: _Vehicle, day: datetime) -> datetime:
        """A repair (warranty, accident or recall work too), sometimes followed by a repeat repair."""
        rng = self.rng
        kinds = ("repair", "warranty", "accident", "recall")
        weights = (55, 25 if v.in_warranty(day) else 0, 12, 8)
        kind = rng.choices(kinds, weights=weights)[0]
        handover = self.maintenance(c, v, day, kind)
        if kind in ("repair", "warranty") and rng.random() < 0.14:
            handover = self.maintenance(c, v, self.later(handover, 3, 25), kind, repeat=True)
        return handover

    def maintenance(
        self,
        c: _Customer,
        v: _Vehicle,
        day: datetime,
        kind: str,
        *,
        repeat: bool = False,
        trade_in: bool = False,
    ) -> datetime:
        """A workshop visit, published when the car is handed back (occurred_at = ready_at).

        Returns the handover time; the post_service callback, surveys and complaints follow.
        """
        rng = self.rng
        check_in = self.at_business_hours(day, 8, 15)
        if trade_in:  # the owner asks for a trade-in while at the workshop: a new lead opens
            self.store_visit(c, check_in, "service", ["trade_in_requested"], [v.model])
        elif rng.random() < 0.5:
            self.store_visit(c, check_in, "service", [], [v.model])
        hours = {
            "scheduled": (2, 5),
            "recall": (1, 3),
            "warranty": (4, 48),
            "repair": (20, 72),
            "accident": (72, 330),
        }
        promised_ready = self.workshop_hours(
            check_in + timedelta(minutes=rng.randint(hours[kind][0] * 60, hours[kind][1] * 60))
        )
        late = rng.random() >= c.dealer.promises_kept + 0.05
        if late:
            overrun = timedelta(minutes=rng.randint(30, 60 * max(2, hours[kind][1] // 2)))
            ready = self.workshop_hours(promised_ready + overrun)
        else:
            ready = max(
                promised_ready - timedelta(minutes=rng.randint(0, 60)),
                promised_ready.replace(hour=8, minute=0),
            )
        ready = max(ready, check_in + timedelta(minutes=30))

        v.mileage_km += int((ready - v.mileage_at).days * v.km_per_day * rng.uniform(0.8, 1.2))
        v.mileage_at = ready
        amount = {
            "scheduled": rng.uniform(600, 2800),
            "repair": rng.uniform(1200, 15000),
            "accident": rng.uniform(3000, 60000),
        }.get(kind, 0.0)
        data: dict[str, Any] = {
            "vin": v.vin,
            "kind": kind,
            "mileage_km": v.mileage_km,
            "amount": f"{amount:.2f}",
        }
        has_promise = rng.random() < 0.9
        if has_promise:
            data["promised_ready_at"] = _rfc3339(promised_ready)
            data["ready_at"] = _rfc3339(ready)
        if repeat:
            data["repeat_repair"] = True
        self.emit(c, ready, "dms", "maintenance", data)
        self.after_service(c, ready, late and has_promise, repeat)
        return ready

    def after_service(self, c: _Customer, handover: datetime, late: bool, repeat: bool) -> None:
        """The post_service callback within the working-day standard (or not), surveys, complaints."""
        rng = self.rng
        penalty = 6.0 * late + 8.0 * repeat
        if rng.random() < 0.025 + 0.15 * late + 0.35 * repeat:
            if repeat:
                category = "repair_quality"
            elif late:
                category = "waiting_time"
            else:
                category = rng.choice(("attitude", "price", "parts", "facility", "other", "repair_quality"))
            self.complaint(c, self.later(handover, 0, 5), category)
            penalty += 10
        if rng.random() < 0.88:
            days = c.dealer.standard_at(handover).post_service_callback_working_days
            reached_at = self.aftercare_call(c, handover, "post_service", 24.0 * max(days, 1) - 1)
            if reached_at is not None and rng.random() < 0.6:
                self.survey(c, reached_at, penalty)

    def win_back(self, c: _Customer, last_service: datetime) -> datetime | None:
        """Calls once the owner turns marginal (180 days without service); returns the return visit day."""
        rng = self.rng
        t = self.call_time(last_service + timedelta(days=181), 0, 24 * 14)
        for attempt in range(2):
            reached = rng.random() < 0.55
            self.callback(c, t, "win_back", reached=reached)
            if reached and rng.random() < (0.4 if attempt == 0 else 0.25):
                return self.later(t, 5, 30)
            if rng.random() < 0.5:
                return None
            t = self.call_time(t, 24 * 20, 24 * 120)
        return None

    # ------------------------------------------------------------ complaints and callbacks

    def complaint(self, c: _Customer, at: datetime, category: str) -> None:
        """A complaint, its callback (inside the dealer's SLA, late, or never) and maybe its resolution."""
        rng = self.rng
        self.complaints += 1
        complaint_id = f"CMP-{c.dealer.code}-{self.complaints:05d}"
        severity = rng.choices(("low", "medium", "high"), weights=(45, 40, 15))[0]
        data = {"complaint_id": complaint_id, "category": category, "severity": severity}
        self.emit(c, at, "crm", "complaint", data)
        sla_hours = c.dealer.standard_at(at).complaint_callback_hours
        reached = False
        t = at
        if rng.random() < 0.88:
            if rng.random() < c.dealer.callbacks_on_time:
                t = self.call_time(at, 0.5, sla_hours - 0.5)
            else:
                t = self.call_time(at, sla_hours + 1, sla_hours + 72)
            reached = rng.random() < 0.85
            self.callback(c, t, "complaint", reached=reached, complaint_id=complaint_id)
            if not reached and rng.random() < 0.6:
                reached = True
                t = self.callback(
                    c, self.call_time(t, 4, 48), "complaint", reached=True, complaint_id=complaint_id
                )
        if rng.random() < (0.85 if reached else 0.4):
            satisfied = rng.random() < (0.75 if reached else 0.4)
            resolved = {"complaint_id": complaint_id, "satisfied": satisfied}
            self.emit(c, self.later(t, 1, 20), "crm", "complaint_resolved", resolved)

    def aftercare_call(
        self, c: _Customer, after: datetime, reason: str, within_hours: float
    ) -> datetime | None:
        """A post_delivery / post_service call, on time or late, retried once when not reached.

        Returns when the customer was reached, or None.
        """
        rng = self.rng
        if rng.random() < c.dealer.callbacks_on_time:
            at = self.call_time(after, 3, within_hours)
        else:
            at = self.call_time(after, within_hours + 2, within_hours + 96)
        channel = rng.choices(("phone", "wechat", "sms"), weights=(70, 22, 8))[0]
        reached = rng.random() < 0.78
        self.callback(c, at, reason, reached=reached, channel=channel)
        if reached:
            return at
        if rng.random() < 0.45:
            at = self.callback(c, self.call_time(at, 4, 30), reason, reached=True)
            return at
        return None

    # ------------------------------------------------------------ surveys

    def survey(self, c: _Customer, after: datetime, penalty: float) -> None:
        """After a reached callback: mostly a CSI score, sometimes a SERVQUAL questionnaire."""
        rng = self.rng
        at = self.call_time(after, 1, 48)
        if rng.random() < 0.8:
            score = round(min(100.0, max(40.0, rng.gauss(c.dealer.csi_mean - penalty, 5))))
            self.emit(c, at, "survey", "survey", {"kind": "csi", "csi_score": score})
            return
        if rng.random() < 0.5:  # the call center invites to the questionnaire first
            self.callback(c, at - timedelta(minutes=rng.randint(10, 50)), "survey", reached=True)
        expectations = {d: _likert(rng.gauss(_EXPECTATION[d], 0.6)) for d in DIMENSIONS}
        perceptions = {
            d: _likert(rng.gauss(_EXPECTATION[d] + c.dealer.perception_offset[d] - penalty / 10, 0.8))
            for d in DIMENSIONS
        }
        data: dict[str, Any] = {"kind": "servqual", "expectations": expectations, "perceptions": perceptions}
        if rng.random() < 0.55:
            data["weights"] = self.importance_weights()
        self.emit(c, at, "survey", "survey", data)

    def importance_weights(self) -> dict[str, int]:
        """The respondent's importance points per dimension, summing to exactly 100."""
        raw = [self.rng.randint(5, 40) for _ in DIMENSIONS]
        points = [r * 100 // sum(raw) for r in raw]
        points[raw.index(max(raw))] += 100 - sum(points)
        return dict(zip(DIMENSIONS, points, strict=True))

    # ------------------------------------------------------------ touchpoint builders

    def store_visit(
        self, c: _Customer, at: datetime, purpose: str, signals: list[str], models: list[str]
    ) -> datetime:
        data: dict[str, Any] = {"purpose": purpose}
        if signals:
            data["signals"] = signals
        if models:
            data["models"] = models
        if purpose in ("browse", "negotiation", "other", "pickup") and self.rng.random() < 0.85:
            data["consultant_id"] = c.consultant_id
        self.emit(c, at, "dms", "store_visit", data)
        return at

    def test_drive(self, c: _Customer, at: datetime, model: str) -> datetime:
        data: dict[str, Any] = {"model": model, "consultant_id": c.consultant_id}
        if self.rng.random() < 0.3:
            data["signals"] = ["purchase_intent_expressed"]
        self.emit(c, at, "dms", "test_drive", data)
        return at

    def callback(
        self,
        c: _Customer,
        at: datetime,
        reason: str,
        *,
        reached: bool,
        channel: str | None = None,
        signals: list[str] | None = None,
        complaint_id: str | None = None,
    ) -> datetime:
        if channel is None:
            channel = (
                "phone"
                if reason in ("complaint", "win_back")
                else self.rng.choice(("phone", "phone", "wechat", "sms"))
            )
        data: dict[str, Any] = {"reason": reason, "channel": channel, "reached": reached}
        if signals:
            data["signals"] = signals
        if complaint_id is not None:
            data["complaint_id"] = complaint_id
        self.emit(c, at, "call_center", "callback", data)
        return at

    def signals(self, level: str, low: int, high: int) -> list[str]:
        return self.rng.sample(_SIGNALS[level], self.rng.randint(low, high))

    def emit(self, c: _Customer, at: datetime, source: str, type_: str, data: dict[str, Any]) -> None:
        self.events.append(
            _Event(at, len(self.events), source, type_, c.dealer.dealer_id, c.customer_id, data)
        )

    def emit_dealer(self, d: _Dealer, at: datetime, type_: str, data: dict[str, Any]) -> None:
        self.events.append(_Event(at, len(self.events), "hq", type_, d.dealer_id, None, data))

    def shift(self, first_index: int, delta: timedelta) -> None:
        for event in self.events[first_index:]:
            event.at += delta

    # ------------------------------------------------------------ time

    def at_business_hours(self, day: datetime, first_hour: int = 9, last_hour: int = 18) -> datetime:
        """A minute between first_hour and last_hour on `day`'s local date."""
        opening = day.astimezone(LOCAL).replace(hour=first_hour, minute=0, second=0, microsecond=0)
        return opening + timedelta(minutes=self.rng.randrange((last_hour - first_hour) * 60))

    def later(self, t: datetime, min_days: int, max_days: int) -> datetime:
        """Business hours `min_days`..`max_days` days after t, and strictly after t."""
        at = self.at_business_hours(t + timedelta(days=self.rng.randint(min_days, max_days)))
        return at if at > t else t + timedelta(minutes=self.rng.randint(10, 90))

    def workshop_hours(self, t: datetime) -> datetime:
        """t, or the next workshop morning when t falls at night (the workshop works 08:00-19:00)."""
        if 8 <= t.hour < 19:
            return t
        morning = t.replace(hour=8, minute=30, second=0, microsecond=0)
        if t.hour >= 19:
            morning += timedelta(days=1)
        return morning + timedelta(minutes=self.rng.randint(0, 150))

    def call_time(self, t: datetime, min_hours: float, max_hours: float) -> datetime:
        """A call between min_hours and max_hours after t, preferably between 09:00 and 20:00."""
        at = t
        for _ in range(8):
            at = t + timedelta(minutes=round(60 * self.rng.uniform(min_hours, max_hours)))
            if 9 <= at.hour < 20:
                break
        return max(at, t + timedelta(minutes=1))

    # ------------------------------------------------------------ output

    def touchpoints(self) -> list[dict[str, Any]]:
        """The envelopes inside [start, end), sorted by occurred_at, with ids numbered per source."""
        kept = sorted((e for e in self.events if self.start <= e.at < self.end), key=lambda e: (e.at, e.seq))
        numbers = dict.fromkeys(_ID_PREFIX.values(), 0)
        out: list[dict[str, Any]] = []
        for e in kept:
            prefix = _ID_PREFIX[e.source]
            numbers[prefix] += 1
            envelope: dict[str, Any] = {"event_id": f"{prefix}-{numbers[prefix]:06d}", "type": e.type}
            if e.customer_id is not None:
                envelope["customer_id"] = e.customer_id
            envelope.update(
                dealer_id=e.dealer_id,
                occurred_at=_rfc3339(e.at),
                source=e.source,
                schema_version=SCHEMA_VERSION,
                data=e.data,
            )
            out.append(envelope)
        return out


# ---------------------------------------------------------------- small helpers


def _rfc3339(t: datetime) -> str:
    return t.astimezone(LOCAL).replace(microsecond=0).isoformat()


def _local_midnight(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=LOCAL)


def _likert(value: float, step: float = 1.0) -> float | int:
    """A score on the 1..7 scale, rounded to `step` (whole points are written as integers)."""
    rounded = min(7.0, max(1.0, round(value / step) * step))
    return int(rounded) if rounded.is_integer() else rounded


def _vin(rng: Random, year: int, serial: int) -> str:
    """A 17-character VIN (no I, O or Q) with a valid check digit, unique by its serial number."""
    head = "LE4" + "".join(rng.choice(_VIN_CHARS) for _ in range(5))
    tail = (
        _VIN_YEAR_CODE[min(max(year - 2023, 0), len(_VIN_YEAR_CODE) - 1)]
        + rng.choice("ABLN")
        + f"{serial:06d}"
    )
    total = sum(_VIN_VALUES[ch] * w for ch, w in zip(head + "0" + tail, _VIN_WEIGHTS, strict=True))
    check = "X" if total % 11 == 10 else str(total % 11)
    return head + check + tail
