"""Complaint episodes: the one place that says when a complaint is open (DOMAIN.md: "open_complaint
(a complaint without complaint_resolved)"), shared by retention, the service gaps and the policies.

Per complaint_id, in time order: a complaint opens an episode unless one of that id is already
open (then it is the same complaint); a complaint_resolved closes the open episode of its id (a
resolution at the very instant of a complaint comes after it; one with nothing open is ignored).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from journey.touchpoints import AnyTouchpoint, Complaint, ComplaintResolved


@dataclass(frozen=True)
class ComplaintEpisode:
    """A complaint from its opening to its resolution (None while open)."""

    opened: Complaint
    resolved: ComplaintResolved | None


def complaint_episodes(touchpoints: Iterable[AnyTouchpoint]) -> list[ComplaintEpisode]:
    """Every complaint episode of the given touchpoints, in order of opening."""
    by_id: dict[str, list[Complaint | ComplaintResolved]] = {}
    for tp in touchpoints:
        if isinstance(tp, Complaint | ComplaintResolved):
            by_id.setdefault(tp.data.complaint_id, []).append(tp)
    out: list[ComplaintEpisode] = []
    for items in by_id.values():
        items.sort(key=lambda tp: (tp.occurred_at, isinstance(tp, ComplaintResolved), tp.event_id))
        opened: Complaint | None = None
        for tp in items:
            if isinstance(tp, Complaint) and opened is None:
                opened = tp
            elif isinstance(tp, ComplaintResolved) and opened is not None:
                out.append(ComplaintEpisode(opened, tp))
                opened = None
        if opened is not None:
            out.append(ComplaintEpisode(opened, None))
    return sorted(out, key=lambda e: (e.opened.occurred_at, e.opened.event_id))


def open_complaints(touchpoints: Iterable[AnyTouchpoint]) -> list[Complaint]:
    """The complaints still open after the given touchpoints (pass the history up to T)."""
    return [e.opened for e in complaint_episodes(touchpoints) if e.resolved is None]
