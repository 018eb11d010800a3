"""A view part: one view table and the rows a customer's (or a dealer's) touchpoints give it.

The tracked projection (runner.py) recomputes, for every customer or dealer a batch
touched, the rows of every part, and replaces them in one transaction with its tracking
record. Rows are grouped by the table's key column: a customer's rows by its
customer_id, a dealer's own rows by ``dealer_key(dealer_id)``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from journey.projections.standards import StandardsLookup
from journey.projections.store import Row, Table
from journey.rules import Rules
from journey.touchpoints import AnyTouchpoint


def dealer_key(dealer_id: str) -> str:
    """The key of a dealer's own rows in a table keyed by subject."""
    return f"dealer:{dealer_id}"


class ViewPart(Protocol):
    """One view table and how touchpoints become its rows."""

    table: Table

    def customer_rows(
        self, customer_id: str, touchpoints: Sequence[AnyTouchpoint], rules: Rules, standards: StandardsLookup
    ) -> list[Row]:
        """The complete rows of one customer (touchpoints deduplicated, in history order)."""
        ...

    def dealer_rows(self, dealer_id: str, touchpoints: Sequence[AnyTouchpoint], rules: Rules) -> list[Row]:
        """The complete rows of one dealer's own (dealer-level) touchpoints; [] if none."""
        ...
