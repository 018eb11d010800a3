"""Hypothesis strategies of customer journeys, shared by the property tests."""

from __future__ import annotations

from datetime import UTC, timedelta, timezone

from hypothesis import strategies as st

from journey.touchpoints import SIGNAL_LEVEL, AnyTouchpoint
from tests import builders as b

TICK = timedelta(microseconds=1)
SIGNALS = sorted(SIGNAL_LEVEL)
ZONES = (UTC, timezone(timedelta(hours=8)), timezone(timedelta(hours=-5)))
FAR = timedelta(days=20_000)

# ---------------------------------------------------------------- strategies

# Days made of the rules' own windows make touchpoints fall on each other's edges (the
# instants that matter); odd hours and UTC offsets make the others fall anywhere.
STEPS = (0, 1, 2, 4, 7, 15, 30, 90, 180, 181, 200, 365, 366)
instants = st.builds(
    lambda d0, d1, d2, h, z: (b.T0 + timedelta(days=d0 + d1 + d2, hours=h)).astimezone(z),
    st.integers(0, 10),
    st.sampled_from(STEPS),
    st.sampled_from(STEPS),
    st.sampled_from([0, 0, 0, 6, 23.5]),
    st.sampled_from(ZONES),
)
signal_lists = st.lists(st.sampled_from(SIGNALS), max_size=2)
kw = {"dealer": st.sampled_from(["D1", "D2"])}

touchpoint_strategies: list[st.SearchStrategy[AnyTouchpoint]] = [
    st.builds(
        lambda at, s, p, **k: b.visit(at, *s, purpose=p, **k),
        instants,
        signal_lists,
        st.sampled_from(["browse", "negotiation", "service", "pickup", "other"]),
        **kw,
    ),
    st.builds(lambda at, s, **k: b.test_drive(at, *s, **k), instants, signal_lists, **kw),
    st.builds(
        lambda at, s, r, reached, cid, **k: b.callback(
            at, *s, reason=r, reached=reached, complaint_id=cid, **k
        ),
        instants,
        signal_lists,
        st.sampled_from(["lead_follow_up", "lead_follow_up", "complaint", "post_service", "win_back"]),
        st.booleans(),
        st.sampled_from([None, "K1", "K2"]),
        **kw,
    ),
    st.builds(b.order, instants, **kw),
    st.builds(b.lead_lost, instants, **kw),
    st.builds(b.delivery, instants, warranty_months=st.sampled_from([1, 12, 36, 72]), **kw),
    st.builds(b.maintenance, instants, repeat_repair=st.booleans(), **kw),
    st.builds(b.complaint, instants, complaint_id=st.sampled_from(["K1", "K2"]), **kw),
    st.builds(
        b.complaint_resolved,
        instants,
        complaint_id=st.sampled_from(["K1", "K2"]),
        satisfied=st.booleans(),
        **kw,
    ),
    st.builds(b.csi, instants, st.sampled_from([50, 89.9, 90, 100]), **kw),
    st.builds(b.servqual, instants, st.integers(1, 7), st.integers(1, 7), **kw),
    st.builds(b.registered, instants, st.sampled_from([None, "private", "commercial"]), **kw),
]
journeys = st.lists(st.one_of(touchpoint_strategies), max_size=10)
