"""The auditor's replay: each step says the rule that fired, with the numbers of the rules in force."""

from __future__ import annotations

from journey.projections.replay import replay
from journey.rules import DEFAULT_RULES
from tests.builders import day, delivery


def test_a_time_driven_retention_step_names_the_thresholds_of_the_rules_in_force() -> None:
    rules = DEFAULT_RULES.model_copy(
        update={
            "retention": DEFAULT_RULES.retention.model_copy(
                update={"marginal_after_days": 100, "lost_after_days": 200}
            )
        }
    )

    steps = replay([delivery(day(0))], day(400), rules)

    rules_fired = [s.rule for s in steps if s.touchpoint is None and "retention" in s.rule]
    assert [(s.at, s.retention_status) for s in steps if s.touchpoint is None and "retention" in s.rule] == [
        (day(101), "marginal"),
        (day(201), "lost"),
    ]
    assert "more than 100 days since the last service" in rules_fired[0]
    assert "more than 200 days since the last service" in rules_fired[1]
