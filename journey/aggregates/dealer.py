"""The Dealer aggregate: the dealer-level touchpoints (standards, management surveys)."""

from __future__ import annotations

from journey.aggregates.ledger import TouchpointLedger


class Dealer(TouchpointLedger):
    """One dealer's own touchpoints: service_standard_set and management_survey, each once."""

    kind = "dealer"
