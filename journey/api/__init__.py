"""The HTTP read API and dashboard of `journey serve` (FastAPI): the CLI's views as JSON."""

from __future__ import annotations

from journey.api.app import create_app

__all__ = ["create_app"]
