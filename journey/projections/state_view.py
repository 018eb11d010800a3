"""The customer-state view part: validity intervals of intent level and retention status."""

from __future__ import annotations

import json
from collections.abc import Sequence

from journey.projections.customer import CustomerState, customer_states
from journey.projections.standards import StandardsLookup
from journey.projections.store import Row, Table
from journey.projections.timecols import micros, micros_or_open
from journey.rules import Rules
from journey.touchpoints import AnyTouchpoint

CUSTOMER_STATE = Table(
    name="customer_state",
    columns=(
        ("customer_id", "TEXT NOT NULL"),
        ("dealer_id", "TEXT NOT NULL"),
        ("valid_from", "BIGINT NOT NULL"),
        ("valid_to", "BIGINT NOT NULL"),
        ("intent_level", "TEXT"),
        ("retention_status", "TEXT NOT NULL"),
        ("owner", "INTEGER NOT NULL"),
        ("car_age_segment", "TEXT"),
        ("usage", "TEXT"),
        ("flags", "TEXT NOT NULL"),
        ("held", "INTEGER NOT NULL"),
        ("overdue_follow_up", "INTEGER NOT NULL"),
        ("decided_by", "TEXT NOT NULL"),
        ("rules", "TEXT NOT NULL"),
    ),
    key="customer_id",
    # covering: a report at T is answered from the index alone
    indexes=(
        (
            "dealer_id",
            "valid_from",
            "valid_to",
            "intent_level",
            "retention_status",
            "car_age_segment",
            "usage",
            "held",
            "overdue_follow_up",
        ),
    ),
)


def state_row(customer_id: str, s: CustomerState, rules: Rules) -> Row:
    return (
        customer_id,
        s.dealer_id,
        micros(s.valid_from),
        micros_or_open(s.valid_to),
        s.intent_level,
        s.retention_status,
        int(s.owner),
        s.car_age_segment,
        s.usage,
        json.dumps(list(s.flags)),
        int(s.held),
        int(s.overdue_follow_up),
        json.dumps(list(s.decided_by)),
        rules.label,
    )


class CustomerStateView:
    """Intervals (valid_from, valid_to, intent level, retention status, ...) per customer."""

    table = CUSTOMER_STATE

    def customer_rows(
        self, customer_id: str, touchpoints: Sequence[AnyTouchpoint], rules: Rules, standards: StandardsLookup
    ) -> list[Row]:
        return [state_row(customer_id, s, rules) for s in customer_states(touchpoints, rules, standards)]

    def dealer_rows(self, dealer_id: str, touchpoints: Sequence[AnyTouchpoint], rules: Rules) -> list[Row]:
        return []
