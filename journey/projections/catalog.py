"""Every view part the tracked projection maintains (add a part here to add a view)."""

from __future__ import annotations

from journey.projections.facts_view import ServiceFactView
from journey.projections.parts import ViewPart
from journey.projections.state_view import CustomerStateView
from journey.projections.task_view import TaskView

PARTS: tuple[ViewPart, ...] = (CustomerStateView(), TaskView(), ServiceFactView())
