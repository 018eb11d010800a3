"""The service standard in force (DOMAIN.md, gap 3: "The standard in force is the dealer's
latest service_standard_set at the touchpoint's time, else the defaults"): the fields that set
gives, the rules' defaults for the others."""

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
    given = [_over(rules.standards, s) for s in sets]

    def in_force(tp: AnyTouchpoint) -> ServiceStandards:
        latest = rules.standards
        for s, standard in zip(sets, given, strict=True):
            if s.dealer_id == tp.dealer_id and s.occurred_at <= tp.occurred_at:
                latest = standard
        return latest

    return in_force


def _over(defaults: ServiceStandards, standard_set: ServiceStandardSet) -> ServiceStandards:
    """The standards a set gives, the group's defaults for the fields it leaves out."""
    given = {k: v for k, v in standard_set.data.model_dump().items() if v is not None}
    return defaults.model_copy(update=given)
