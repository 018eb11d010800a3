"""Working days (journey.workdays): Mon–Fri in the instant's own offset, holidays skipped."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from journey.workdays import add_working_days

SHANGHAI = timezone(timedelta(hours=8))
FRIDAY = datetime(2026, 1, 9, 16, 30, tzinfo=SHANGHAI)


def test_three_working_days_from_a_monday_is_the_thursday_at_the_same_time() -> None:
    # given
    monday = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)

    # when
    due = add_working_days(monday, 3, ())

    # then
    assert due == datetime(2026, 1, 8, 9, 0, tzinfo=UTC)


def test_a_weekend_does_not_count_so_a_friday_is_due_the_next_wednesday() -> None:
    assert add_working_days(FRIDAY, 3, ()) == datetime(2026, 1, 14, 16, 30, tzinfo=SHANGHAI)


def test_a_holiday_in_the_way_moves_the_due_one_working_day_later() -> None:
    # given
    monday_holiday = date(2026, 1, 12)

    # when
    due = add_working_days(FRIDAY, 3, [monday_holiday])

    # then
    assert due == datetime(2026, 1, 15, 16, 30, tzinfo=SHANGHAI)


def test_the_weekday_is_the_one_in_the_instants_own_offset() -> None:
    # given: Friday 23:30 in UTC is already Saturday 07:30 in Shanghai
    late_friday_utc = datetime(2026, 1, 9, 23, 30, tzinfo=UTC)
    same_instant_in_shanghai = late_friday_utc.astimezone(SHANGHAI)

    # when
    in_utc = add_working_days(late_friday_utc, 1, ())
    in_shanghai = add_working_days(same_instant_in_shanghai, 1, ())

    # then: the next working day is Monday in both, so the instants differ by the offset's day shift
    assert in_utc == datetime(2026, 1, 12, 23, 30, tzinfo=UTC)
    assert in_shanghai == datetime(2026, 1, 12, 7, 30, tzinfo=SHANGHAI)
    assert in_utc.weekday() == in_shanghai.weekday() == 0


def test_a_start_on_a_weekend_counts_from_the_next_working_day() -> None:
    saturday = datetime(2026, 1, 10, 10, 0, tzinfo=UTC)

    assert add_working_days(saturday, 1, ()) == datetime(2026, 1, 12, 10, 0, tzinfo=UTC)


def test_zero_working_days_is_the_instant_itself_and_negative_is_refused() -> None:
    assert add_working_days(FRIDAY, 0, ()) == FRIDAY
    with pytest.raises(ValueError, match="n"):
        add_working_days(FRIDAY, -1, ())


@given(
    start=st.datetimes(
        min_value=datetime(2020, 1, 1),
        max_value=datetime(2030, 1, 1),
        timezones=st.sampled_from([UTC, SHANGHAI]),
    ),
    n=st.integers(0, 30),
    holidays=st.lists(st.dates(min_value=date(2020, 1, 1), max_value=date(2030, 3, 1)), max_size=5),
)
def test_the_due_is_n_working_days_later_at_the_same_time_of_day(
    start: datetime, n: int, holidays: list[date]
) -> None:
    due = add_working_days(start, n, holidays)

    days = [start.date() + timedelta(days=k) for k in range(1, (due.date() - start.date()).days + 1)]
    working = [d for d in days if d.weekday() < 5 and d not in holidays]
    assert due.timetz() == start.timetz()
    assert len(working) == n
    assert n == 0 or (due.weekday() < 5 and due.date() not in holidays)
