"""Complaint episodes: the one place that says when a complaint is open (DOMAIN.md: "open_complaint
(a complaint without complaint_resolved)"), shared by retention, the service gaps and the policies.

Per complaint_id, in time order: a complaint opens an episode unless one of that id is already
open (then it is the same complaint); a complaint_resolved closes the open episode of its id (a
resolution at the very instant of a complaint comes after it; one with nothing open is ignored).

The callback SLA too (DOMAIN.md, complaint_overdue and the complaint_callback policy): a complaint
is due a callback complaint_callback_hours after it (the dealer's standard in force), and a
reached callback with reason complaint answers it when it names its complaint_id or none.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TypeGuard

from journey.rules import ServiceStandards
from journey.touchpoints import AnyTouchpoint, Callback, Complaint, ComplaintResolved


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


def callback_deadline(complaint: Complaint, in_force: ServiceStandards) -> datetime:
    """When the complaint's callback is due: complaint_callback_hours of the standard in force."""
    return complaint.occurred_at + timedelta(hours=in_force.complaint_callback_hours)


def is_reached_complaint_callback(tp: AnyTouchpoint) -> TypeGuard[Callback]:
    return isinstance(tp, Callback) and tp.data.reason == "complaint" and tp.data.reached


def answers_complaint(callback: AnyTouchpoint, complaint: Complaint) -> bool:
    """A reached complaint callback naming the complaint's id, or no id (then it answers every
    open complaint of the customer)."""
    return is_reached_complaint_callback(callback) and callback.data.complaint_id in (
        None,
        complaint.data.complaint_id,
    )
