"""The composition root: settings -> event store, rules, views; the read models' queries."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import structlog

from journey.application import JourneyApplication, Recorded
from journey.errors import UnknownCustomerError, UnknownDealerError
from journey.ingest import IngestReport, ingest_file
from journey.locks import exclusive
from journey.policies.kpis import callback_kpis
from journey.policies.outbox import TaskEvent, task_events
from journey.policies.task import task_json
from journey.projections.customer import customer_view, utc
from journey.projections.facts_view import facts_in_window
from journey.projections.replay import replay
from journey.projections.runner import Views
from journey.projections.service_gaps import gaps as service_gaps
from journey.projections.standards import standards_lookup
from journey.projections.state_view import report_counts
from journey.projections.task_view import TASK_COLUMNS, open_tasks, task_counts, task_from_row, tasks_due
from journey.projections.timecols import micros
from journey.projections.workers import worker_count
from journey.rules import Rules, load_rules
from journey.settings import Settings
from journey.timeparse import parse_month
from journey.touchpoints import AnyTouchpoint

log = structlog.get_logger()

INTENT_LEVELS = ("N", "C", "B", "A", "H", "O", "F")
RETENTION_STATUSES = ("prospect", "opportunity", "loyal", "marginal", "lost")


def now() -> datetime:
    return datetime.now(UTC)


def known(records: list[Recorded], known_at: datetime | None) -> list[AnyTouchpoint]:
    """The touchpoints the engine had recorded by known_at (all when None)."""
    return [r.touchpoint for r in records if known_at is None or r.recorded_at <= known_at]


@dataclass
class Engine:
    """One configured engine: the event store, the rules and the tracked views."""

    settings: Settings
    rules: Rules
    app: JourneyApplication
    views: Views

    @classmethod
    def open(cls, settings: Settings) -> Engine:
        rules = load_rules(settings.rules)
        if settings.public_pii_key and settings.database_url.startswith("postgresql"):
            log.warning(
                "pii_key_public",
                reason="JOURNEY_PII_KEY is not set: personal data is hashed with the development key",
            )
        with exclusive(settings.database_url, "schema"):  # table creation is not concurrency-safe
            app = JourneyApplication(settings.database_url, pii_key=settings.pii_key)
            return cls(
                settings, rules, app, Views.open(app, rules, workers=worker_count(settings.view_workers))
            )

    def close(self) -> None:
        self.app.close()

    # ------------------------------------------------------------------ write side

    def ingest_file(self, path: Path, on_progress: Callable[[int], None] | None = None) -> IngestReport:
        report = ingest_file(self.app, path, on_progress=on_progress)
        self.views.catch_up()
        return report

    # ------------------------------------------------------------------ read side

    def customer(
        self, customer_id: str, as_of: datetime | None = None, known_at: datetime | None = None
    ) -> dict[str, Any]:
        """CONTRACT.md's customer view as of T, optionally as the engine knew it at known_at (as of
        known_at unless T is given: what the engine showed then)."""
        records = self.app.customer_history(customer_id)
        touchpoints = known(records, known_at)
        if not touchpoints:
            raise UnknownCustomerError(f"customer_id: no touchpoint recorded for {customer_id!r}")
        at = as_of or known_at or now()
        dealers = sorted({tp.dealer_id for tp in touchpoints})
        dealer_tps = [tp for d in dealers for tp in known(self.app.dealer_history(d), known_at)]
        view = customer_view(
            customer_id, touchpoints, at, self.rules, standards_lookup(dealer_tps, self.rules)
        )
        if known_at is not None:
            view["known_at"] = utc(known_at)
        return view

    def history(
        self, customer_id: str, as_of: datetime | None = None, known_at: datetime | None = None
    ) -> dict[str, Any]:
        """The auditor's replay: each touchpoint (occurred_at order) and the state it led to, up to
        as_of (default known_at, else now)."""
        records = [
            r for r in self.app.customer_history(customer_id) if known_at is None or r.recorded_at <= known_at
        ]
        if not records:
            raise UnknownCustomerError(f"customer_id: no touchpoint recorded for {customer_id!r}")
        recorded_at = {r.touchpoint.event_id: r.recorded_at for r in records}
        touchpoints = [r.touchpoint for r in records]
        dealer_tps = [
            tp
            for d in sorted({tp.dealer_id for tp in touchpoints})
            for tp in known(self.app.dealer_history(d), known_at)
        ]
        until = as_of or known_at or now()
        steps = replay(touchpoints, until, self.rules, standards_lookup(dealer_tps, self.rules))
        return {
            "customer_id": customer_id,
            "as_of": utc(until),
            "known_at": utc(known_at),
            "rules_version": self.rules.label,
            "steps": [
                {
                    "at": utc(s.at),
                    "event_id": s.touchpoint.event_id if s.touchpoint else None,
                    "type": s.touchpoint.type if s.touchpoint else "time",
                    "recorded_at": utc(recorded_at[s.touchpoint.event_id]) if s.touchpoint else None,
                    "intent_level": s.intent_level,
                    "retention_status": s.retention_status,
                    "flags": list(s.flags),
                    "follow_up_overdue": s.follow_up_overdue,
                    "rule": s.rule,
                }
                for s in steps
            ],
        }

    def task_events(self, now: datetime) -> list[TaskEvent]:
        """Every task's creation, becoming overdue and completion up to now (for the CRM topic)."""
        rows = self.views.recorder.select(
            f"SELECT {TASK_COLUMNS} FROM {{task}} WHERE created_at <= ?", [micros(now)]
        )
        return task_events((task_from_row(r) for r in rows), now)

    def report(self, dealer_id: str, as_of: datetime | None = None) -> dict[str, Any]:
        """Dealer figures at T from the customer-state intervals (a range look-up)."""
        at = as_of or now()
        rows = report_counts(self.views.recorder, dealer_id, micros(at))
        return dealer_report(dealer_id, at, rows, self.views.rules_version())

    def dealers(self) -> list[str]:
        """The dealers that have (or had) customers in the views, sorted: one index probe per dealer
        (a loose index scan; SELECT DISTINCT would read every row)."""
        rows = self.views.recorder.select(
            "WITH RECURSIVE d(id) AS (SELECT MIN(dealer_id) FROM {customer_state} UNION ALL "
            "SELECT (SELECT MIN(dealer_id) FROM {customer_state} WHERE dealer_id > d.id) FROM d WHERE d.id IS NOT NULL) "
            "SELECT id FROM d WHERE id IS NOT NULL"
        )
        return [str(r[0]) for r in rows]

    def require_dealer(self, dealer_id: str) -> None:
        """UnknownDealerError unless the store holds a touchpoint of the dealer (a customer's, or its own)."""
        if dealer_id not in self.dealers() and not self.app.dealer_history(dealer_id):
            raise UnknownDealerError(f"dealer_id: no touchpoint recorded for {dealer_id!r}")

    def tasks(
        self,
        dealer_id: str,
        as_of: datetime | None = None,
        overdue_only: bool = False,
        limit: int | None = None,
        offset: int = 0,
    ) -> dict[str, Any]:
        """The dealer's work queue at T (DOMAIN.md, "Policies"): a range look-up in the task view,
        overdue first, then by due time; with the open and overdue counts per kind."""
        at = as_of or now()
        recorder = self.views.recorder
        found = open_tasks(recorder, dealer_id, at, overdue_only=overdue_only, limit=limit, offset=offset)
        return {
            "dealer_id": dealer_id,
            "as_of": utc(at),
            "overdue_only": overdue_only,
            "counts": task_counts(recorder, dealer_id, at),
            "limit": limit,
            "offset": offset,
            "tasks": [task_json(t, at) for t in found],
            "rules_version": self.views.rules_version(),
        }

    def kpis(self, dealer_id: str, month: str) -> dict[str, Any]:
        """The dealer's callback KPIs for a month (journey.policies.kpis) from the task view and the
        surveys of the customers the dealer had that month (from the event store)."""
        start, end = parse_month(month)
        customers = self.views.recorder.select(
            "SELECT DISTINCT customer_id FROM {customer_state} WHERE dealer_id = ? AND valid_from < ? AND valid_to > ?",
            [dealer_id, micros(end), micros(start)],
        )
        touchpoints = [r.touchpoint for (cid,) in customers for r in self.app.customer_history(cid)]
        due = tasks_due(self.views.recorder, dealer_id, start, end)
        figures = callback_kpis(dealer_id, due, touchpoints, start, end, self.rules)
        period = {"dealer_id": dealer_id, "month": month, "from": utc(start), "to": utc(end)}
        return {**period, **figures, "rules_version": self.views.rules_version()}

    def gaps(
        self, dealer_id: str, from_: datetime, to: datetime, as_of: datetime | None = None
    ) -> dict[str, Any]:
        """The dealer's five gaps over touchpoints with occurred_at in [from, to) as of T (default
        now; DOMAIN.md, "Service quality"): its fact rows in the window (a range look-up) aggregated
        by the pure service_gaps.gaps."""
        at = as_of or now()
        self.views.rules_version()  # the facts are of these rules
        facts = facts_in_window(self.views.recorder, dealer_id, from_, to)
        return service_gaps(facts, dealer_id, from_, to, self.rules, as_of=at)


def dealer_report(
    dealer_id: str, at: datetime, rows: list[tuple[Any, ...]], rules_label: str
) -> dict[str, Any]:
    """Leads per level, owners per status, segments and the DOMAIN.md dealer metrics."""
    leads = dict.fromkeys(INTENT_LEVELS, 0)
    statuses = dict.fromkeys(RETENTION_STATUSES, 0)
    car_age: dict[str, int] = {}
    usage: dict[str, int] = {}
    customers = held = overdue = 0
    for level, status, segment, use, is_held, is_overdue, count in rows:
        customers += count
        statuses[status] += count
        if level is not None:
            leads[level] += count
        overdue += count if is_overdue else 0
        if status == "prospect":
            continue
        car_age[segment or "unknown"] = car_age.get(segment or "unknown", 0) + count
        usage[use or "unknown"] = usage.get(use or "unknown", 0) + count
        held += count if is_held else 0
    owners = customers - statuses["prospect"]
    return {
        "dealer_id": dealer_id,
        "as_of": utc(at),
        "customers": customers,
        "leads": {"total": sum(leads.values()), "by_level": leads, "overdue_follow_ups": overdue},
        "owners": {
            "total": owners,
            "by_status": {k: v for k, v in statuses.items() if k != "prospect"},
            "car_age_segment": dict(sorted(car_age.items())),
            "usage": dict(sorted(usage.items())),
        },
        "prospects": statuses["prospect"],
        "active_ratio": _ratio(statuses["loyal"] + statuses["opportunity"], owners),
        "churn": _ratio(statuses["lost"], owners),
        "hold_rate": _ratio(held, owners),
        "rules_version": rules_label,
    }


def _ratio(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None
