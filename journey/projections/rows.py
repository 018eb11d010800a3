"""The new view rows of a group of customers and dealers, recomputed from their stored
touchpoints (the work of the tracked projection, in the projecting process or a worker)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from uuid import UUID

from journey.application import JourneyApplication
from journey.collections_gc import fewer_collections
from journey.projections.catalog import PARTS
from journey.projections.history import history
from journey.projections.parts import ViewPart, dealer_key
from journey.projections.standards import StandardsLookup, standards_lookup
from journey.projections.store import Row
from journey.rules import Rules
from journey.touchpoints import AnyTouchpoint

#: (kind, ledger): ("customer", the customer's aggregate id) or ("dealer", the dealer's)
Job = tuple[str, UUID]
#: table -> key -> the complete rows of that key
Changes = dict[str, dict[str, list[Row]]]


@dataclass
class RowBuilder:
    """Recomputes every view part's rows of customers and dealers from the event store."""

    app: JourneyApplication
    rules: Rules
    parts: Sequence[ViewPart] = PARTS

    @fewer_collections()
    def changes_for(self, jobs: Sequence[Job]) -> Changes:
        """The complete new rows, per table and key, of the given customers and dealers (their
        histories read together)."""
        changes: Changes = {p.table.name: {} for p in self.parts}
        lookups: dict[frozenset[str], StandardsLookup] = {}
        read = self.app.histories([ledger for _, ledger in jobs])
        for kind, ledger in jobs:
            touchpoints = history(r.touchpoint for r in read.get(ledger, ()))
            if not touchpoints:
                continue
            if kind == "dealer":
                dealer_id = touchpoints[0].dealer_id
                for part in self.parts:
                    changes[part.table.name][dealer_key(dealer_id)] = part.dealer_rows(
                        dealer_id, touchpoints, self.rules
                    )
                continue
            customer_id = touchpoints[0].customer_id
            assert customer_id is not None
            standards = self._standards(touchpoints, lookups)
            for part in self.parts:
                changes[part.table.name][customer_id] = part.customer_rows(
                    customer_id, touchpoints, self.rules, standards
                )
        return changes

    def _standards(
        self, touchpoints: Sequence[AnyTouchpoint], cache: dict[frozenset[str], StandardsLookup]
    ) -> StandardsLookup:
        dealers = frozenset(tp.dealer_id for tp in touchpoints)
        if dealers not in cache:
            dealer_tps = [r.touchpoint for d in sorted(dealers) for r in self.app.dealer_history(d)]
            cache[dealers] = standards_lookup(dealer_tps, self.rules)
        return cache[dealers]
