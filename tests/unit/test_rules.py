"""The rules file: any subset of the rules, the rest DOMAIN.md's defaults."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from journey.errors import InvalidRulesError
from journey.projections.intent import intent_at
from journey.rules import DEFAULT_RULES, load_rules
from tests.builders import day, visit


def rules_file(tmp_path: Path, content: str, suffix: str = ".json") -> Path:
    path = tmp_path / f"rules{suffix}"
    path.write_text(content)
    return path


def test_a_file_changing_one_level_keeps_every_other_level(tmp_path: Path) -> None:
    path = rules_file(
        tmp_path, json.dumps({"intent": {"levels": {"H": {"window_days": 5, "follow_up_days": 1}}}})
    )

    rules = load_rules(path)

    assert rules.intent.levels["H"].window_days == 5
    assert {k: v for k, v in rules.intent.levels.items() if k != "H"} == {
        k: v for k, v in DEFAULT_RULES.intent.levels.items() if k != "H"
    }
    assert intent_at([visit(day(1), "revisit")], day(2), rules).level == "B"  # B still grades


def test_a_file_changing_one_field_of_a_level_keeps_its_other_field(tmp_path: Path) -> None:
    path = rules_file(tmp_path, "[intent.levels.N]\nfollow_up_days = 2\n", ".toml")

    rules = load_rules(path)

    assert rules.intent.levels["N"].follow_up_days == 2
    assert rules.intent.levels["N"].window_days is None
    assert len(rules.intent.levels) == len(DEFAULT_RULES.intent.levels)
    assert rules.label != DEFAULT_RULES.label


def test_an_unknown_level_is_rejected_naming_it(tmp_path: Path) -> None:
    path = rules_file(tmp_path, json.dumps({"intent": {"levels": {"X": {"window_days": 1}}}}))

    with pytest.raises(InvalidRulesError, match=r"intent\.levels.*'X'"):
        load_rules(path)


def test_a_bad_value_names_its_field(tmp_path: Path) -> None:
    path = rules_file(tmp_path, json.dumps({"intent": {"levels": {"B": {"window_days": -1}}}}))

    with pytest.raises(InvalidRulesError, match=r"intent\.levels\.B\.window_days"):
        load_rules(path)


def test_no_file_gives_the_defaults() -> None:
    assert load_rules(None) is DEFAULT_RULES


@pytest.mark.parametrize(
    ("rules", "field"),
    [
        ({"standards": {"complaint_callback_hours": -48}}, r"standards\.complaint_callback_hours"),
        ({"standards": {"required_explained_items": ["gossip"]}}, r"standards\.required_explained_items"),
        ({"policies": {"callback_success_target": 7}}, r"policies\.callback_success_target"),
        ({"policies": {"csi_target": 120}}, r"policies\.csi_target"),
        ({"retention": {"low_csi_below": -1}}, r"retention\.low_csi_below"),
        ({"intent": {"lead_silence_close_days": 10**9}}, r"intent\.lead_silence_close_days"),
        (
            {"retention": {"marginal_after_days": 400, "lost_after_days": 200}},
            r"retention.*marginal_after_days",
        ),
        ({"intent": {"levels": {"O": {"follow_up_days": 3}}}}, r"intent\.levels.*O\.follow_up_days"),
        ({"intent": {"levels": {"N": {"window_days": 3}}}}, r"intent\.levels.*N\.window_days"),
    ],
)
def test_a_value_out_of_range_or_inconsistent_is_rejected_naming_its_field(
    tmp_path: Path, rules: dict[str, object], field: str
) -> None:
    path = rules_file(tmp_path, json.dumps(rules))

    with pytest.raises(InvalidRulesError, match=field):
        load_rules(path)


@pytest.mark.parametrize("suffix", [".yaml", ".ini"])
def test_a_file_of_another_format_is_rejected_saying_which_formats_rules_take(
    tmp_path: Path, suffix: str
) -> None:
    with pytest.raises(InvalidRulesError, match=r"JSON \(\.json\) or TOML \(\.toml\)"):
        load_rules(rules_file(tmp_path, "intent: {}", suffix))


def test_an_upper_case_toml_suffix_is_read_as_toml(tmp_path: Path) -> None:
    rules = load_rules(rules_file(tmp_path, "[intent.levels.N]\nfollow_up_days = 2\n", ".TOML"))

    assert rules.intent.levels["N"].follow_up_days == 2
