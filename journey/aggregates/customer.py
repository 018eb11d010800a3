"""The CustomerJourney aggregate: every touchpoint of one customer, each once."""

from __future__ import annotations

from journey.aggregates.ledger import TouchpointLedger


class CustomerJourney(TouchpointLedger):
    """One customer's journey: the immutable touchpoints recorded on it (by event_id, once)."""

    kind = "customer"
