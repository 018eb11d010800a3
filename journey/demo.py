"""`journey demo`: generate a seeded dealer data set, ingest it, and report as a manager reads it."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from journey.demo_data import generate, write_jsonl
from journey.engine import Engine
from journey.projections.customer import utc
from journey.render import render_customer, render_report
from journey.settings import redacted_url
from journey.timeparse import parse_instant


def run_demo(engine: Engine, *, out: Path, customers: int = 2000, seed: int = 7) -> str:
    """Generate, ingest, project; return the report text."""
    started = time.perf_counter()
    touchpoints = generate(seed=seed, customers=customers)
    out.mkdir(parents=True, exist_ok=True)
    path = out / "touchpoints.jsonl"
    write_jsonl(touchpoints, path)
    report = engine.ingest_file(path)
    elapsed = time.perf_counter() - started
    as_of = max(parse_instant(tp["occurred_at"], "occurred_at") for tp in touchpoints).astimezone(UTC)
    dealers = sorted({tp["dealer_id"] for tp in touchpoints})
    lines = [
        f"Generated {len(touchpoints)} touchpoints for {customers} customers at {len(dealers)} dealers -> {path}",
        f"Ingested into {redacted_url(engine.settings.database_url)}: applied {report.applied}, "
        f"duplicates {report.duplicates}, rejected {report.rejected} ({elapsed:.1f} s)",
        "",
    ]
    for dealer in dealers:
        lines += [render_report(engine.report(dealer, as_of)), *_service_lines(engine, dealer, as_of), ""]
    lines.append("Three customers, explained by the touchpoints that decided their views:")
    for cid in _explainable(engine, touchpoints, as_of):
        lines += ["", *_explain(engine, cid, as_of)]
    lines += [
        "",
        f"Try: journey customer {cid} --as-of {utc(as_of)} --json",
        f"     journey report --dealer {dealers[0]} --as-of {as_of.date().isoformat()}",
    ]
    return "\n".join(lines)


def _service_lines(engine: Engine, dealer: str, as_of: datetime) -> list[str]:
    """The dealer's work queue and its last six months of service quality, in two lines."""
    counts = engine.tasks(dealer, as_of)["counts"]
    kinds = ", ".join(f"{k} {c['overdue']}" for k, c in counts["by_kind"].items() if c["overdue"])
    gaps = engine.gaps(dealer, as_of - timedelta(days=182), as_of)
    csi, score = gaps["csi_mean"], gaps["servqual_score"]["unweighted"]
    met = "met" if csi["met"] else "missed"
    return [
        f"  Work queue   {counts['open']} open tasks, {counts['overdue']} overdue ({kinds})",
        f"  Last 6 months: CSI mean {csi['value']} over {csi['n']} surveys (target 90 {met}); "
        f"SERVQUAL score {score['value']} over {score['n']} surveys",
    ]


def _explainable(engine: Engine, touchpoints: list[dict[str, Any]], as_of: datetime) -> list[str]:
    """A hot lead, an owner at risk and a lost owner (falling back to any customers)."""
    wanted: dict[str, str | None] = {"hot": None, "flagged": None, "lost": None}
    for cid in sorted({tp["customer_id"] for tp in touchpoints if tp.get("customer_id")}):
        view = engine.customer(cid, as_of)
        if wanted["hot"] is None and view["intent"]["level"] in ("H", "A"):
            wanted["hot"] = cid
        elif wanted["flagged"] is None and view["retention"]["flags"]:
            wanted["flagged"] = cid
        elif wanted["lost"] is None and view["retention"]["status"] in ("lost", "marginal"):
            wanted["lost"] = cid
        if all(wanted.values()):
            break
    return [c for c in wanted.values() if c is not None]


def _explain(engine: Engine, customer_id: str, as_of: datetime) -> list[str]:
    view = engine.customer(customer_id, as_of)
    deciding = set(view["intent"]["decided_by"]) | set(view["retention"]["decided_by"])
    records = {r.touchpoint.event_id: r.touchpoint for r in engine.app.customer_history(customer_id)}
    lines = [render_customer(view), "  Deciding touchpoints:"]
    for event_id in sorted(deciding, key=lambda e: records[e].occurred_at if e in records else as_of):
        tp = records.get(event_id)
        if tp is not None:
            lines.append(f"    {utc(tp.occurred_at)}  {tp.type:<20} {event_id}")
    return lines
