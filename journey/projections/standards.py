"""The service standard in force (DOMAIN.md, gap 3: "The standard in force is the dealer's
latest service_standard_set at the touchpoint's time, else the defaults")."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from journey.projections.history import history
from journey.rules import DEFAULT_RULES, Rules, ServiceStandards
from journey.touchpoints import AnyTouchpoint, ServiceStandardSet

StandardsLookup = Callable[[AnyTouchpoint], ServiceStandards]


def in_force_or_defaults(rules: Rules, standards: StandardsLookup | None) -> StandardsLookup:
    """The given lookup, or the rules' default standard for every touchpoint."""
    return standards if standards is not None else (lambda _tp: rules.standards)


def standards_lookup(
    dealer_touchpoints: Iterable[AnyTouchpoint], rules: Rules = DEFAULT_RULES
) -> StandardsLookup:
    """A function giving, for any touchpoint, its dealer's standard in force at its occurred_at."""
    sets = [tp for tp in history(dealer_touchpoints) if isinstance(tp, ServiceStandardSet)]

    def in_force(tp: AnyTouchpoint) -> ServiceStandards:
        latest = None
        for s in sets:
            if s.dealer_id == tp.dealer_id and s.occurred_at <= tp.occurred_at:
                latest = s
        if latest is None:
            return rules.standards
        d = latest.data
        return ServiceStandards(
            complaint_callback_hours=d.complaint_callback_hours,
            post_service_callback_working_days=d.post_service_callback_working_days,
            post_delivery_callback_days=d.post_delivery_callback_days,
            required_explained_items=tuple(d.required_explained_items),
        )

    return in_force
