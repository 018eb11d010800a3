"""Report snapshots: the month starts an interval covers, and the deltas of replacing intervals."""

from __future__ import annotations

from datetime import UTC, datetime

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
