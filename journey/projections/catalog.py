"""Every view part the tracked projection maintains (add a part here to add a view)."""

from __future__ import annotations

from journey.projections.parts import ViewPart
from journey.projections.state_view import CustomerStateView

PARTS: tuple[ViewPart, ...] = (CustomerStateView(),)
