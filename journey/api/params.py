"""Query parameters: instants are RFC 3339 with an offset (or a YYYY-MM-DD date, its UTC midnight).

A `+` typed in a URL unencoded arrives as a space (form encoding), so a space in place of the `+`
of a `±HH:MM` offset right after the time (`2026-06-01T08:00:00 08:00`) is read as that `+`.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated

from fastapi import Query

from journey.timeparse import InvalidInstantError, parse_instant

_INSTANT = "RFC 3339 instant with an offset (e.g. 2026-06-01T00:00:00Z) or a YYYY-MM-DD date (UTC)"

AsOf = Annotated[str | None, Query(description=f"the view as of this instant; default now. {_INSTANT}")]
KnownAt = Annotated[
    str | None,
    Query(
        description=f"only what the engine had recorded by this instant (as_of defaults to it). {_INSTANT}"
    ),
]
From = Annotated[str, Query(alias="from", description=f"window start (inclusive). {_INSTANT}")]
To = Annotated[str, Query(description=f"window end (exclusive). {_INSTANT}")]
Month = Annotated[str, Query(description="YYYY-MM (UTC)", examples=["2026-05"])]
Overdue = Annotated[bool, Query(description="only the overdue tasks")]
Limit = Annotated[int, Query(ge=1, le=500, description="page size")]
Offset = Annotated[int, Query(ge=0, description="tasks to skip (pagination)")]
Months = Annotated[int, Query(ge=1, le=36, description="how many months, ending with as_of's month")]


# a time (HH:MM, optional :SS and fraction), one space, then a HH:MM offset ending the value
_DECODED_PLUS = re.compile(r"(.*\d\d:\d\d(?::\d\d(?:\.\d+)?)?) (\d\d:\d\d)")


def instant(value: str | None, name: str) -> datetime | None:
    """The instant a query parameter gives (None when absent); InvalidInstantError names it."""
    return None if value is None else required_instant(value, name)


def required_instant(value: str, name: str) -> datetime:
    """The instant a query parameter gives; InvalidInstantError names the parameter and the value sent."""
    decoded_plus = _DECODED_PLUS.fullmatch(value.strip())
    if decoded_plus is not None:
        try:
            return parse_instant(f"{decoded_plus[1]}+{decoded_plus[2]}", name)
        except InvalidInstantError:
            pass  # the error names the value as sent
    return parse_instant(value, name)
