"""`journey rebuild [--verify]`: every view rebuilt from the event store into fresh tables,
compared with the live views (--verify) or swapped in as the live views."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from eventsourcing.persistence import Tracking

from journey.projections.runner import Views
from journey.projections.store import with_summaries

REBUILD_PREFIX = "rebuild"


@dataclass
class RebuildResult:
    """What a rebuild did and, with --verify, how the rebuilt views compare with the live ones."""

    notifications: int
    rows: dict[str, int]
    identical: bool | None = None
    differences: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "notifications": self.notifications,
            "rows": self.rows,
            "identical": self.identical,
            "differences": self.differences,
        }


def rebuild(live: Views, *, verify: bool, max_differences: int = 10) -> RebuildResult:
    """Rebuild into fresh tables; with verify, compare them with the caught-up live views
    (and drop their rows), else make them the live views (atomically, with the live tracking
    position)."""
    if verify:  # first: live views of other rules are not compared (nor replaced) but refused
        live.catch_up(adopt_rules=False)
    fresh = Views.open(live.app, live.rules, prefix=REBUILD_PREFIX, workers=live.workers, bulk=True)
    processed = fresh.catch_up()  # from the start: empties the tables first
    tables = with_summaries([p.table for p in live.parts])
    rows = {t.name: fresh.recorder.select(f"SELECT COUNT(*) FROM {{{t.name}}}")[0][0] for t in tables}
    result = RebuildResult(processed, rows)
    if verify:
        live.catch_up(stop=fresh.position(), adopt_rules=False)
        result.differences = _differences(live, fresh, max_differences)
        result.identical = not result.differences
        fresh.recorder.drop()  # compared: nothing of the rebuild is left behind
        return result
    with live.lock():
        position = fresh.position()
        move = Tracking(live.tracking_name, position) if position > live.position() else None
        live.recorder.adopt(REBUILD_PREFIX, move)  # the rebuilt tables become the live ones
    return result


def _rows(views: Views, table: str, columns: tuple[str, ...]) -> list[tuple[Any, ...]]:
    cols = ", ".join(columns)
    return views.recorder.select(f"SELECT {cols} FROM {{{table}}} ORDER BY {cols}")


def _differences(live: Views, fresh: Views, limit: int) -> list[str]:
    out: list[str] = []
    for t in with_summaries([p.table for p in live.parts]):
        a = _rows(live, t.name, t.column_names)
        b = _rows(fresh, t.name, t.column_names)
        if a == b:
            continue
        only_live = sorted(set(a) - set(b))
        only_rebuilt = sorted(set(b) - set(a))
        out.append(f"{t.name}: live {len(a)} rows, rebuilt {len(b)} rows")
        out += [f"  live only:    {r}" for r in only_live[:limit]]
        out += [f"  rebuilt only: {r}" for r in only_rebuilt[:limit]]
    return out
