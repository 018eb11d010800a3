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
    lines.append(
        f"  Retention      {r['status']}" + (f" ({days} days since last service)" if days is not None else "")
    )
    lines.append(f"    car age      {r['car_age_segment'] or '-'}   usage {r['usage'] or '-'}")
    if r["flags"]:
        lines.append(f"    flags        {', '.join(r['flags'])}")
    if r["decided_by"]:
        lines.append(f"    decided by   {', '.join(r['decided_by'])}")
    gap5 = ", ".join(f"{d} {v:+.2f}" for d, v in s["gap5"].items() if v is not None) or "-"
    lines.append(
        f"  Service        CSI last {s['csi_last'] if s['csi_last'] is not None else '-'}; "
        f"open complaints {s['open_complaints']}; gap5 {gap5}"
    )
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
    lines = [
        f"Replay of {h['customer_id']} up to {h['as_of']}"
        + (f", as known at {h['known_at']}" if h["known_at"] else "")
    ]
    for s in h["steps"]:
        what = f"{s['type']} {s['event_id']}" if s["event_id"] else "(time)"
        late = f" [recorded {s['recorded_at']}]" if s["recorded_at"] else ""
        lines.append(
            f"  {s['at']}  {what:<34} intent {s['intent_level'] or '-':<2} {s['retention_status']:<11} {s['rule']}{late}"
        )
    return "\n".join(lines)


def render_tasks(q: dict[str, Any]) -> str:
    c = q["counts"]
    kinds = "  ".join(f"{k}:{v['open']}/{v['overdue']}" for k, v in c["by_kind"].items() if v["open"])
    lines = [
        f"Work queue of {q['dealer_id']} as of {q['as_of']}: {c['open']} open, {c['overdue']} overdue",
        f"  open/overdue by kind  {kinds or '-'}",
    ]
    for t in q["tasks"]:
        flag = "OVERDUE" if t["overdue"] else "       "
        lines.append(
            f"  {flag} due {t['due_at']}  {t['kind']:<22} {t['customer_id']:<12} from {', '.join(t['created_by'])}"
        )
    shown = len(q["tasks"])
    total = c["overdue"] if q["overdue_only"] else c["open"]
    if shown < total:
        lines.append(f"  ... {shown} of {total} shown")
    return "\n".join(lines)


def render_kpis(k: dict[str, Any]) -> str:
    def figure(name: str, f: dict[str, Any], part: str, whole: str) -> str:
        value = "-" if f["value"] is None else f"{f['value']:.1%}"
        met = {True: "met", False: "NOT met", None: "no data"}[f["met"]]
        return f"  {name:<30} {value:>7}  ({f[part]} / {f[whole]}; target {f['target']:.0%}: {met})"

    csi = k["csi_mean"]
    csi_met = {True: "met", False: "NOT met", None: "no data"}[csi["met"]]
    csi_value = "-" if csi["value"] is None else f"{csi['value']:.1f}"
    return "\n".join(
        [
            f"Callback KPIs of {k['dealer_id']} for {k['month']} ({k['from']} to {k['to']})",
            figure("callback success", k["callback_success"], "reached", "due"),
            figure("survey success", k["survey_success"], "surveys", "reached_callbacks"),
            figure(
                "complaint callbacks in SLA", k["complaint_callbacks_within_sla"], "within_sla", "complaints"
            ),
            f"  {'csi mean':<30} {csi_value:>7}  ({csi['surveys']} csi surveys; target > {csi['target']:g}: {csi_met})",
        ]
    )


def render_gaps(g: dict[str, Any]) -> str:
    """The five gaps as a table (dimension x gap, value and n), the gap 3 metrics and gap 4 promises."""

    def cell(f: dict[str, Any]) -> str:
        return f"{'-' if f['value'] is None else format(f['value'], '+.3f'):>7} ({f['n']:>4})"

    def share(value: float | None) -> str:
        return "-" if value is None else f"{value:.1%}"

    gaps = ("gap1", "gap2", "gap3", "gap4", "gap5")
    lines = [
        f"Service-quality gaps of {g['dealer_id']}, touchpoints in [{g['from']}, {g['to']}) as of {g['as_of']}",
        f"  {'dimension':<15}" + "".join(f"{name:>15}" for name in gaps) + "   (value (n))",
    ]
    for dim, figures in g["dimensions"].items():
        lines.append(f"  {dim:<15}" + "".join(f"{cell(figures[name]):>15}" for name in gaps))
    lines.append("  gap 3 metrics (share met / total, pending):")
    for dim, figures in g["dimensions"].items():
        for metric, m in figures["gap3"]["metrics"].items():
            counts = f"{m['met']}/{m['total']}, {m['pending']} pending"
            lines.append(f"    {dim:<15} {metric:<24} {share(m['share']):>7}  {counts}")
    lines.append("  gap 4 promises (kept / total, mean overrun of the broken ones):")
    for dim, figures in g["dimensions"].items():
        for promise, p in figures["gap4"]["promises"].items():
            overrun = "-" if p["mean_overrun_hours"] is None else f"{p['mean_overrun_hours']:.1f} h"
            counts = f"{p['kept']}/{p['kept'] + p['broken']}, {overrun}"
            lines.append(f"    {dim:<15} {promise:<24} {share(p['share_kept']):>7}  {counts}")
    csi = g["csi_mean"]
    met = {True: "met", False: "NOT met", None: "no data"}[csi["met"]]
    csi_value = "-" if csi["value"] is None else f"{csi['value']:.1f}"
    lines.append(f"  csi mean  {csi_value} ({csi['n']} surveys; target > {csi['target']:g}: {met})")
    s = g["servqual_score"]
    lines.append(f"  servqual score  unweighted {cell(s['unweighted'])}   weighted {cell(s['weighted'])}")
    return "\n".join(lines)
