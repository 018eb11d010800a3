"""Readable text versions of the views (the CLI without --json)."""

from __future__ import annotations

from typing import Any


def render_customer(view: dict[str, Any]) -> str:
    i, r, s = view["intent"], view["retention"], view["service"]
    level = i["level"] or "none (no open lead)"
    lines = [
        f"Customer {view['customer_id']} as of {view['as_of']}  ({view['touchpoints']} touchpoints, dealer {view.get('dealer_id')})",
        f"  Intent level   {level}" + (f" since {i['since']}" if i["since"] else ""),
    ]
    if i["signals"]:
        lines.append(f"    signals      {', '.join(i['signals'])}")
    if i["next_follow_up_due"]:
        overdue = "  OVERDUE" if i["follow_up_overdue"] else ""
        lines.append(f"    follow up by {i['next_follow_up_due']}{overdue}")
    if i["decided_by"]:
        lines.append(f"    decided by   {', '.join(i['decided_by'])}")
    days = r["days_since_last_service"]
    lines.append(f"  Retention      {r['status']}" + (f" ({days} days since last service)" if days is not None else ""))
    lines.append(f"    car age      {r['car_age_segment'] or '-'}   usage {r['usage'] or '-'}")
    if r["flags"]:
        lines.append(f"    flags        {', '.join(r['flags'])}")
    if r["decided_by"]:
        lines.append(f"    decided by   {', '.join(r['decided_by'])}")
    gap5 = ", ".join(f"{d} {v:+.2f}" for d, v in s["gap5"].items() if v is not None) or "-"
    lines.append(f"  Service        CSI last {s['csi_last'] if s['csi_last'] is not None else '-'}; "
                 f"open complaints {s['open_complaints']}; gap5 {gap5}")
    return "\n".join(lines)


def render_report(rep: dict[str, Any]) -> str:
    leads = rep["leads"]
    owners = rep["owners"]

    def pct(x: float | None) -> str:
        return "-" if x is None else f"{x:.1%}"

    return "\n".join(
        [
            f"Dealer {rep['dealer_id']} as of {rep['as_of']}: {rep['customers']} customers",
            "  Leads by intent level  "
            + "  ".join(f"{k}:{v}" for k, v in leads["by_level"].items())
            + f"   (overdue follow-ups: {leads['overdue_follow_ups']})",
            f"  Owners ({owners['total']})  " + "  ".join(f"{k}:{v}" for k, v in owners["by_status"].items()),
            "  Car age  " + "  ".join(f"{k}:{v}" for k, v in owners["car_age_segment"].items()),
            "  Usage    " + "  ".join(f"{k}:{v}" for k, v in owners["usage"].items()),
            f"  Active ratio {pct(rep['active_ratio'])}   churn {pct(rep['churn'])}   hold rate {pct(rep['hold_rate'])}",
        ]
    )


def render_history(h: dict[str, Any]) -> str:
    lines = [f"Replay of {h['customer_id']} up to {h['as_of']}" + (f", as known at {h['known_at']}" if h["known_at"] else "")]
    for s in h["steps"]:
        what = f"{s['type']} {s['event_id']}" if s["event_id"] else "(time)"
        late = f" [recorded {s['recorded_at']}]" if s["recorded_at"] else ""
        lines.append(
            f"  {s['at']}  {what:<34} intent {s['intent_level'] or '-':<2} {s['retention_status']:<11} {s['rule']}{late}"
        )
    return "\n".join(lines)
