"""The service standard in force: the dealer's latest service_standard_set, the group's rules for what it leaves out."""

from __future__ import annotations

from journey.projections.standards import standards_lookup
from journey.rules import DEFAULT_RULES
from tests.builders import complaint, day, standard_set


def test_a_standard_set_keeps_the_rules_file_for_the_fields_it_leaves_out() -> None:
    group = DEFAULT_RULES.model_copy(
        update={
            "standards": DEFAULT_RULES.standards.model_copy(
                update={"complaint_callback_hours": 24, "post_service_callback_working_days": 5}
            )
        }
    )
    sets = [standard_set(day(0)), standard_set(day(10), complaint_callback_hours=96)]
    in_force = standards_lookup(sets, group)

    before, between, after = (in_force(complaint(day(d))) for d in (-1, 5, 20))

    assert (before.complaint_callback_hours, before.post_service_callback_working_days) == (24, 5)
    assert (between.complaint_callback_hours, between.post_service_callback_working_days) == (24, 5)
    assert (after.complaint_callback_hours, after.post_service_callback_working_days) == (96, 5)
    assert after.required_explained_items == DEFAULT_RULES.standards.required_explained_items


def test_with_the_default_rules_a_set_that_leaves_a_field_out_gives_the_contracts_default() -> None:
    in_force = standards_lookup([standard_set(day(0), post_delivery_callback_days=7)])

    standard = in_force(complaint(day(1)))

    assert (standard.complaint_callback_hours, standard.post_delivery_callback_days) == (48, 7)
    assert standard.post_service_callback_working_days == 3
