"""Report snapshots: the month starts an interval covers, and the deltas of replacing intervals."""

from __future__ import annotations

from datetime import UTC, datetime

from hypothesis import given, settings
from hypothesis import strategies as st

from journey.projections.snapshots import HORIZON, checkpoint, covered, snapshot_deltas
from journey.projections.timecols import OPEN_END, micros

MAR = micros(datetime(2025, 3, 1, tzinfo=UTC))
APR = micros(datetime(2025, 4, 1, tzinfo=UTC))
MAY = micros(datetime(2025, 5, 1, tzinfo=UTC))


def interval(valid_from: int, valid_to: int, status: str = "loyal", level: str | None = None) -> tuple:
    return ("D1", valid_from, valid_to, level, status, None, None, 1, 0)


def test_an_interval_covers_the_month_starts_from_its_start_to_before_its_end() -> None:
    assert covered(MAR, MAY) == [MAR, APR]
    assert covered(MAR + 1, MAY + 1) == [APR, MAY]
    assert covered(MAR + 1, APR) == []
    assert covered(MAY, OPEN_END)[-1] == HORIZON


def test_a_report_starts_from_the_nearest_month_start() -> None:
    assert checkpoint(APR) == APR
    assert checkpoint(APR - 1) == APR
    assert checkpoint(APR + 1) == APR
    assert checkpoint(MAR + (APR - MAR) // 3) == MAR
    assert checkpoint(OPEN_END - 1) == HORIZON
    assert checkpoint(micros(datetime(1980, 1, 1, tzinfo=UTC))) is None


def test_identical_intervals_cancel_and_a_changed_one_moves_its_month_starts() -> None:
    same = interval(MAR, APR)
    assert snapshot_deltas([same], [same]) == {}

    deltas = snapshot_deltas(
        [same, interval(APR, OPEN_END)], [same, interval(APR, MAY), interval(MAY, OPEN_END, "lost")]
    )

    assert deltas[("D1", MAY, "", "loyal", "", "", 1, 0)] == -1
    assert deltas[("D1", MAY, "", "lost", "", "", 1, 0)] == 1
    assert ("D1", APR, "", "loyal", "", "", 1, 0) not in deltas  # April's state did not change


MONTHS = [micros(datetime(2024 + m // 12, m % 12 + 1, 1, tzinfo=UTC)) for m in range(36)]
instants = st.sampled_from(MONTHS).flatmap(lambda m: st.sampled_from([m - 1, m, m + 1]))
intervals = st.builds(
    lambda dealer, a, length, status, level: (
        dealer,
        a,
        OPEN_END if length is None else a + length,
        level,
        status,
        None,
        None,
        1,
        0,
    ),
    st.sampled_from(["D1", "D2"]),
    instants,
    st.none() | st.integers(0, MONTHS[-1] - MONTHS[0]),
    st.sampled_from(["loyal", "lost"]),
    st.sampled_from([None, "A"]),
)


@settings(max_examples=300, deadline=None)
@given(st.lists(intervals, max_size=8), st.lists(intervals, max_size=8))
def test_a_delta_is_how_many_more_new_than_old_intervals_cover_its_month_start(old: list, new: list) -> None:
    def covering(rows: list, key: tuple) -> int:
        dealer, at, *state = key
        return sum(
            1
            for d, a, b, *s in rows
            if d == dealer and a <= at < b and tuple("" if v is None else v for v in s) == tuple(state)
        )

    deltas = snapshot_deltas(old, new)
    assert all(n == covering(new, k) - covering(old, k) != 0 for k, n in deltas.items())
    for d, a, b, *s in old + new:  # every month start whose count changed has its delta
        for at in covered(a, b):
            key = (d, at, *("" if v is None else v for v in s))
            assert deltas.get(key, 0) == covering(new, key) - covering(old, key)
