"""Query parameters: instants are RFC 3339 with an offset (or a YYYY-MM-DD date, its UTC midnight)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import Query

from journey.timeparse import parse_instant

_INSTANT = "RFC 3339 instant with an offset (e.g. 2026-06-01T00:00:00Z) or a YYYY-MM-DD date (UTC)"

AsOf = Annotated[str | None, Query(description=f"the view as of this instant; default now. {_INSTANT}")]
KnownAt = Annotated[
    str | None, Query(description=f"only what the engine had recorded by this instant. {_INSTANT}")
]
From = Annotated[str, Query(alias="from", description=f"window start (inclusive). {_INSTANT}")]
To = Annotated[str, Query(description=f"window end (exclusive). {_INSTANT}")]
Month = Annotated[str, Query(description="YYYY-MM (UTC)", examples=["2026-05"])]
Overdue = Annotated[bool, Query(description="only the overdue tasks")]
Limit = Annotated[int, Query(ge=1, le=500, description="page size")]
Offset = Annotated[int, Query(ge=0, description="tasks to skip (pagination)")]
Months = Annotated[int, Query(ge=1, le=36, description="how many months, ending with as_of's month")]


def instant(value: str | None, name: str) -> datetime | None:
    """The instant a query parameter gives (None when absent); InvalidInstantError names it."""
    return None if value is None else parse_instant(value, name)


def required_instant(value: str, name: str) -> datetime:
    return parse_instant(value, name)
