"""Test-wide set-up: quiet, machine-readable logs."""

from __future__ import annotations

import logging

from journey.logging import configure_logging

configure_logging(logging.WARNING)
