"""What `journey consume` prints when it ends: its instants in RFC 3339, UTC, like every output."""

from __future__ import annotations

from datetime import UTC, datetime

from consumers.touchpoint_consumer import ConsumeStats


def test_the_stats_give_their_instants_in_rfc_3339_utc() -> None:
    stats = ConsumeStats(started_at=1_795_998_100.5, first_message_at=1_795_998_101.25, partitions={2, 0})

    shown = stats.as_dict()

    assert shown["started_at"] == "2026-11-30T00:21:40.500000+00:00"
    assert datetime.fromisoformat(shown["first_message_at"]) == datetime.fromtimestamp(1_795_998_101.25, UTC)
    assert (shown["last_write_at"], shown["partitions"]) == (None, [0, 2])
