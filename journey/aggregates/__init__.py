"""Event-sourced aggregates: one CustomerJourney per customer, one Dealer per dealer."""

from journey.aggregates.customer import CustomerJourney
from journey.aggregates.dealer import Dealer
from journey.aggregates.ledger import TouchpointLedger

__all__ = ["CustomerJourney", "Dealer", "TouchpointLedger"]
