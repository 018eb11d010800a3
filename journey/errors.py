"""The error hierarchy: one root, named <Condition>Error, messages name the field."""

from __future__ import annotations


class JourneyError(Exception):
    """Root of every error the engine raises on purpose."""


class InvalidTouchpointError(JourneyError, ValueError):
    """A touchpoint breaks the contract; ``field`` names where."""

    def __init__(self, field: str, reason: str) -> None:
        self.field = field
        self.reason = reason
        super().__init__(reason if reason.startswith(field) else f"{field}: {reason}")


class InvalidRulesError(JourneyError, ValueError):
    """A rules file is not a valid rules model."""


class RulesMismatchError(JourneyError):
    """The stored views were computed with other rules than this process runs with."""

    def __init__(self, stored: str, running: str) -> None:
        super().__init__(
            f"rules: the views were computed with rules {stored!r}, this command runs with {running!r}; "
            "give every process the same rules file, or adopt these rules with `journey rebuild`"
        )


class UnknownCustomerError(JourneyError, LookupError):
    """No touchpoint is recorded for this customer."""


class UnknownDealerError(JourneyError, LookupError):
    """No touchpoint is recorded for this dealer."""


class StoreUnavailableError(JourneyError):
    """The event store cannot be reached."""
