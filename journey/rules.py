"""The rules model: every number of DOMAIN.md as a default a dealer group can override.

A rules file is JSON (or TOML) holding any subset of these fields; ``version`` names
the rules set so that every view can say which rules decided it.
"""

from __future__ import annotations

import hashlib
import json
import tomllib
from datetime import date
from functools import cached_property
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from journey.errors import InvalidRulesError

#: A number of days the rules add to an instant (at most a century: instants are years 1900..2199).
Days = Annotated[int, Field(ge=0, le=36_500)]
Share = Annotated[float, Field(ge=0, le=1)]
Score = Annotated[float, Field(ge=0, le=100)]
#: The levels without a purchase window, and those never followed up (DOMAIN.md's table).
NO_WINDOW, NO_FOLLOW_UP = ("N", "O", "F"), ("O", "F")


class LevelRule(BaseModel):
    """One row of DOMAIN.md's intent table: how long a signal supports the level,
    and how often such a lead is followed up (None: no follow-up)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    window_days: Days | None
    follow_up_days: Days | None


def _default_levels() -> dict[str, LevelRule]:
    return {
        "H": LevelRule(window_days=7, follow_up_days=2),
        "A": LevelRule(window_days=15, follow_up_days=4),
        "B": LevelRule(window_days=30, follow_up_days=7),
        "C": LevelRule(window_days=180, follow_up_days=15),
        "N": LevelRule(window_days=None, follow_up_days=1),
        "O": LevelRule(window_days=None, follow_up_days=None),
        "F": LevelRule(window_days=None, follow_up_days=None),
    }


class IntentRules(BaseModel):
    """DOMAIN.md, "Intent level (sales leads)"."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    levels: dict[str, LevelRule] = Field(default_factory=_default_levels)
    lead_silence_close_days: Days = 180

    @field_validator("levels", mode="before")
    @classmethod
    def _over_the_defaults(cls, given: Any) -> Any:
        """A rules file names only the levels, and the fields of a level, that it changes: every
        other level and field keeps DOMAIN.md's number (an H-only file must not drop B)."""
        if not isinstance(given, dict):
            return given  # validation says what is wrong with it
        merged: dict[str, Any] = {level: rule.model_dump() for level, rule in _default_levels().items()}
        unknown = sorted(set(given) - set(merged))
        if unknown:
            raise ValueError(f"unknown level {', '.join(map(repr, unknown))} (levels: {', '.join(merged)})")
        for level, rule in given.items():
            change = rule.model_dump() if isinstance(rule, LevelRule) else rule
            merged[level] = {**merged[level], **change} if isinstance(change, dict) else change
            for name, fixed in (("window_days", NO_WINDOW), ("follow_up_days", NO_FOLLOW_UP)):
                if level in fixed and isinstance(change, dict) and change.get(name) is not None:
                    raise ValueError(f"{level}.{name}: level {level} has none (DOMAIN.md), leave it out")
        return merged


class RetentionRules(BaseModel):
    """DOMAIN.md, "Retention status (owners)"."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    lost_after_days: Days = 365
    marginal_after_days: Days = 180
    loyal_min_maintenances: Annotated[int, Field(ge=1)] = 2
    loyal_window_days: Days = 365
    loyal_min_tenure_days: Days = 365
    car_over_years: Annotated[int, Field(ge=1, le=100)] = 5
    low_csi_below: Score = 90
    repeat_repair_days: Days = 90
    dissatisfied_resolution_days: Days = 180
    hold_contact_days: Days = 365

    @model_validator(mode="after")
    def _marginal_before_lost(self) -> RetentionRules:
        if self.marginal_after_days >= self.lost_after_days:
            raise ValueError(
                f"marginal_after_days ({self.marginal_after_days}) must be below lost_after_days "
                f"({self.lost_after_days})"
            )
        return self


class ServiceStandards(BaseModel):
    """The dealer service standards in force when a dealer has set none (DOMAIN.md gap 3)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    complaint_callback_hours: Annotated[float, Field(gt=0, le=24 * 365)] = 48
    post_service_callback_working_days: Annotated[int, Field(ge=0, le=365)] = 3
    post_delivery_callback_days: Annotated[int, Field(ge=0, le=365)] = 3
    required_explained_items: tuple[
        Literal["features", "operation", "maintenance_schedule", "warranty"], ...
    ] = (
        "features",
        "operation",
        "maintenance_schedule",
        "warranty",
    )


class PolicyRules(BaseModel):
    """DOMAIN.md, "Policies" and the callback KPIs."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    maintenance_interval_days: Days = 180
    maintenance_reminder_lead_days: Days = 14
    holidays: tuple[date, ...] = ()
    callback_success_target: Share = 0.5
    survey_success_target: Share = 0.6
    csi_target: Score = 90


class Rules(BaseModel):
    """All the rules, versioned. Defaults are DOMAIN.md's numbers."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    version: str = "domain-defaults-1"
    intent: IntentRules = IntentRules()
    retention: RetentionRules = RetentionRules()
    standards: ServiceStandards = ServiceStandards()
    policies: PolicyRules = PolicyRules()

    @cached_property
    def fingerprint(self) -> str:
        """A short hash of the rules' content, recorded next to the version."""
        body = json.dumps(self.model_dump(mode="json"), sort_keys=True).encode()
        return hashlib.sha256(body).hexdigest()[:12]

    @cached_property
    def label(self) -> str:
        return f"{self.version}#{self.fingerprint}"


DEFAULT_RULES = Rules()


def load_rules(path: str | Path | None) -> Rules:
    """Load a rules file (JSON or TOML); None gives the DOMAIN.md defaults."""
    if path is None or str(path) == "":
        return DEFAULT_RULES
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as exc:
        raise InvalidRulesError(f"rules file {p}: {exc.strerror}") from None
    kind = p.suffix.lower().lstrip(".") or "json"
    if kind not in ("json", "toml"):
        raise InvalidRulesError(f"rules file {p}: a .{kind} file; rules are JSON (.json) or TOML (.toml)")
    try:
        data = tomllib.loads(text) if kind == "toml" else json.loads(text)
    except (ValueError, tomllib.TOMLDecodeError) as exc:
        raise InvalidRulesError(f"rules file {p}: not valid {kind.upper()} ({exc})") from None
    try:
        return Rules.model_validate(data)
    except ValidationError as exc:
        first = exc.errors(include_url=False)[0]
        where = ".".join(str(x) for x in first["loc"])
        raise InvalidRulesError(f"rules file {p}: {where}: {first['msg']}") from None
