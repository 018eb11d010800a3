"""View column encodings: the fast JSON list is json.dumps's text, for any strings."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

from hypothesis import given
from hypothesis import strategies as st

from journey.projections.timecols import from_micros, json_list, micros


@given(
    st.lists(
        st.text(max_size=12) | st.sampled_from(["crm-000055", "open_complaint", 'a"b', "a\\b", "é", "\x7f"])
    )
)
def test_json_list_is_what_json_dumps_writes(items: list[str]) -> None:
    assert json_list(items) == json.dumps(items)
    assert json.loads(json_list(items)) == items


OFFSETS = st.builds(timezone, st.timedeltas(min_value=-timedelta(hours=23), max_value=timedelta(hours=23)))


@given(st.datetimes(timezones=OFFSETS))  # RFC 3339 instants: fixed offsets
def test_an_instant_survives_its_column(at: datetime) -> None:
    assert from_micros(micros(at)) == at
