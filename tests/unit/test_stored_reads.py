"""Reading stored histories: the one-pass decode of a recorded touchpoint's stored JSON gives
exactly what the library's mapper and the contract's loader give (same touchpoints, same
recording instants), and any other stored form is left to the mapper."""

from __future__ import annotations

import pickle
from collections.abc import Iterator, Sequence
from contextlib import closing
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any
from uuid import UUID

import pytest
from eventsourcing.persistence import StoredEvent
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from journey.aggregates import CustomerJourney, Dealer, TouchpointLedger
from journey.application import TOUCHPOINT_RECORDED, JourneyApplication, Recorded, ledger_id, ledger_of
from journey.touchpoints import SIGNAL_LEVEL, AnyTouchpoint, parse_touchpoint, stored_form
from tests import builders as b
from tests.strategies import journeys

PII_KEY = "test-key"
COMPRESSED = {"COMPRESSOR_TOPIC": "eventsourcing.compressor:ZlibCompressor"}


def open_app(env: dict[str, str] | None = None) -> JourneyApplication:
    return JourneyApplication("sqlite:///:memory:", pii_key=PII_KEY, env=env)


@pytest.fixture
def app() -> Iterator[JourneyApplication]:
    application = open_app()
    yield application
    application.close()


def through_the_mapper(app: JourneyApplication, ledger: UUID) -> list[Recorded]:
    """The reference read: the library's mapper, then the contract's loader."""
    events = app.events.get(ledger)
    return [Recorded.of(e) for e in events if isinstance(e, TouchpointLedger.TouchpointRecorded)]


def assert_identical(read: Sequence[Recorded], reference: Sequence[Recorded]) -> None:
    """Equal, and equal in every detail == leaves out: classes, UTC offsets, tzinfo, fields set."""
    assert list(read) == list(reference)
    assert [repr(r) for r in read] == [repr(r) for r in reference]  # shows each tzinfo and class
    for r, ref in zip(read, reference, strict=True):
        assert type(r.touchpoint) is type(ref.touchpoint)
        assert r.touchpoint.model_fields_set == ref.touchpoint.model_fields_set
        assert r.touchpoint.occurred_at.utcoffset() == ref.touchpoint.occurred_at.utcoffset()
        assert stored_form(r.touchpoint) == stored_form(ref.touchpoint)
        assert r.recorded_at.tzinfo is ref.recorded_at.tzinfo  # the library's datetime.timezone.utc
        assert r.recorded_at.isoformat() == ref.recorded_at.isoformat()


def assert_every_read_identical(app: JourneyApplication, touchpoints: Sequence[AnyTouchpoint]) -> None:
    ledgers = {ledger_of(tp) for tp in touchpoints}
    ids = [ledger_id(cls, key) for cls, key in ledgers]

    read = app.histories(ids)

    assert set(read) == set(ids)
    for (cls, key), agg_id in zip(ledgers, ids, strict=True):
        reference = through_the_mapper(app, agg_id)
        assert_identical(read[agg_id], reference)
        own = app.customer_history(key) if cls is CustomerJourney else app.dealer_history(key)
        assert_identical(own, reference)
    assert sorted(tp.event_id for rs in read.values() for r in rs for tp in [r.touchpoint]) == sorted(
        {tp.event_id for tp in touchpoints}
    )


# ------------------------------------------------------------------ edge-case touchpoints

text = st.text(st.characters(exclude_categories=("Cs", "Cc")), min_size=1, max_size=64)  # any unicode
long_text = st.text(st.characters(exclude_categories=("Cs", "Cc")), min_size=1, max_size=256)
offsets = st.integers(-(23 * 60 + 59), 23 * 60 + 59).map(lambda m: timezone(timedelta(minutes=m)))
instants = st.datetimes(
    datetime(1900, 1, 1), datetime(2199, 12, 31, 23, 59, 59), timezones=offsets | st.just(UTC)
)
days = st.dates(date(1900, 1, 1), date(2199, 12, 31))
decimals = st.decimals(min_value=0, max_value=10**12, allow_nan=False, allow_infinity=False)
scores = st.fixed_dictionaries(
    {d: st.floats(1, 7) for d in ("reliability", "responsiveness", "assurance", "empathy", "tangibles")}
)
signals = st.lists(st.sampled_from(sorted(SIGNAL_LEVEL)), max_size=3)
ABSENT = object()


def maybe(values: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """An optional field: absent, null or a value."""
    return st.just(ABSENT) | st.none() | values


def iso(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime | date) else value


payloads: st.SearchStrategy[tuple[str, dict[str, Any]]] = st.one_of(
    st.tuples(
        st.just("customer_registered"),
        st.fixed_dictionaries(
            {},
            optional={
                "usage": maybe(st.sampled_from(["private", "official", "commercial"])),
                "name": maybe(text),
                "phone": maybe(text),
            },
        ),
    ),
    st.tuples(
        st.just("store_visit"),
        st.fixed_dictionaries(
            {"purpose": st.sampled_from(["browse", "service"]), "signals": signals},
            optional={"models": st.lists(text, max_size=3), "consultant_id": maybe(text)},
        ),
    ),
    st.tuples(st.just("test_drive"), st.fixed_dictionaries({"model": text, "signals": signals})),
    st.tuples(
        st.just("order_placed"),
        st.fixed_dictionaries(
            {"model": text, "price": decimals.map(str) | st.integers(0, 10**9)},
            optional={"promised_delivery_date": maybe(days)},
        ),
    ),
    st.tuples(
        st.just("lead_lost"),
        st.fixed_dictionaries({"reason": long_text}, optional={"competitor": maybe(text)}),
    ),
    st.tuples(
        st.just("maintenance"),
        st.fixed_dictionaries(
            {
                "vin": st.just(b.VIN),
                "kind": st.sampled_from(["scheduled", "repair", "recall"]),
                "mileage_km": st.integers(0, 2**70),
                "amount": decimals.map(str) | st.floats(0, 10**6),
            },
            optional={"promised_ready_at": maybe(instants), "ready_at": maybe(instants)},
        ),
    ),
    st.tuples(
        st.just("callback"),
        st.fixed_dictionaries(
            {"reason": st.just("complaint"), "channel": st.just("wechat"), "reached": st.booleans()},
            optional={"signals": signals, "complaint_id": maybe(text)},
        ),
    ),
    st.tuples(
        st.just("survey"),
        st.fixed_dictionaries({"kind": st.just("csi"), "csi_score": st.floats(0, 100)}),
    ),
    st.tuples(
        st.just("survey"),
        st.fixed_dictionaries(
            {"kind": st.just("servqual"), "expectations": scores, "perceptions": scores},
            optional={"csi_score": maybe(st.floats(0, 100))},
        ),
    ),
    st.tuples(
        st.just("service_standard_set"),
        st.fixed_dictionaries({}, optional={"complaint_callback_hours": st.floats(0.01, 100)}),
    ),
    st.tuples(
        st.just("management_survey"),
        st.fixed_dictionaries({"perceived_expectations": scores, "standards_specification": scores}),
    ),
)


@st.composite
def edge_touchpoints(draw: st.DrawFn) -> AnyTouchpoint:
    type_, data = draw(payloads)
    raw: dict[str, Any] = {
        "event_id": draw(text.filter(lambda s: s.strip() == s and s.isprintable())),
        "type": type_,
        "dealer_id": draw(st.sampled_from(["D1", "经销商-北京", 'D "q" \\ é'])),
        "occurred_at": draw(instants).isoformat(),
        "data": {k: iso(v) for k, v in data.items() if v is not ABSENT},
    }
    if type_ not in ("service_standard_set", "management_survey"):
        raw["customer_id"] = draw(st.sampled_from(["C1", "客户-1", "C\u2028😀"]))
    if draw(st.booleans()):
        raw["source"] = draw(text)
    return parse_touchpoint(raw)


# ------------------------------------------------------------------ properties

SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(journeys, journeys)
def test_histories_read_the_touchpoints_the_mapper_reads(
    first: list[AnyTouchpoint], later: list[AnyTouchpoint]
) -> None:
    with closing(open_app()) as app:
        app.ingest(first)
        for dealer in {tp.dealer_id for tp in first}:
            app.dealer_history(dealer)  # kept, then only newer events are read
        app.ingest(later)

        assert_every_read_identical(app, [*first, *later])


@SETTINGS
@given(st.lists(edge_touchpoints(), min_size=1, max_size=8, unique_by=lambda tp: tp.event_id))
def test_odd_offsets_unicode_and_absent_or_null_fields_read_back_identically(
    touchpoints: list[AnyTouchpoint],
) -> None:
    with closing(open_app()) as app:
        app.ingest(touchpoints)

        assert_every_read_identical(app, touchpoints)


# ------------------------------------------------------------------ examples


def test_a_plain_json_store_reads_touchpoints_without_the_library_mapper(
    app: JourneyApplication, monkeypatch: pytest.MonkeyPatch
) -> None:
    tps = [
        b.visit(b.day(0), "revisit"),
        b.order(b.day(1), price="12.50"),
        b.registered(b.day(2), name="张三"),
    ]
    app.ingest(tps)
    reference = through_the_mapper(app, CustomerJourney.id_for(b.CUSTOMER))

    def no_mapper(stored: StoredEvent) -> Any:
        raise AssertionError(f"decoded through the mapper: {stored.topic}")

    monkeypatch.setattr(app.mapper, "to_domain_event", no_mapper)

    assert_identical(app.customer_history(b.CUSTOMER), reference)
    assert_identical(
        app.histories([CustomerJourney.id_for(b.CUSTOMER)])[CustomerJourney.id_for(b.CUSTOMER)], reference
    )


def test_a_compressed_store_is_read_through_the_library_mapper() -> None:
    tps = [
        b.visit(b.day(0), "revisit", dealer="D1"),
        b.touchpoint("service_standard_set", b.day(0), customer=None),
    ]
    plain, compressed = open_app(), open_app(COMPRESSED)
    plain.ingest(tps)
    compressed.ingest(tps)

    read = compressed.customer_history(b.CUSTOMER)

    assert_every_read_identical(compressed, tps)
    assert [r.touchpoint for r in read] == [r.touchpoint for r in plain.customer_history(b.CUSTOMER)]
    assert [r.touchpoint for r in compressed.dealer_history(b.DEALER)] == [tps[1]]


def test_a_stored_state_in_another_form_is_left_to_the_library_mapper(app: JourneyApplication) -> None:
    tp = b.visit(b.day(0, hours=1.5).astimezone(timezone(timedelta(hours=-3, minutes=-30))), "revisit")
    ledger = CustomerJourney.id_for(b.CUSTOMER)
    # occurred_at written as the library's own datetime transcoding: not the contract's JSON
    state = app.mapper.transcoder.encode(
        {"timestamp": datetime.now(UTC), "touchpoint": {**stored_form(tp), "occurred_at": tp.occurred_at}}
    )
    app.recorder.insert_events([StoredEvent(ledger, 1, TOUCHPOINT_RECORDED, state)])

    read = app.histories([ledger])[ledger]

    assert_identical(read, through_the_mapper(app, ledger))
    assert [r.touchpoint for r in read] == [tp]


def test_creation_events_are_not_touchpoints(app: JourneyApplication) -> None:
    app.ingest([b.visit(b.day(0)), b.touchpoint("service_standard_set", b.day(0), customer=None)])

    read = app.histories(
        [CustomerJourney.id_for(b.CUSTOMER), Dealer.id_for(b.DEALER), Dealer.id_for("nobody")]
    )

    assert {k: len(v) for k, v in read.items()} == {
        CustomerJourney.id_for(b.CUSTOMER): 1,
        Dealer.id_for(b.DEALER): 1,
    }
    assert app.customer_history("nobody") == []


def test_a_recorded_touchpoint_pickles(app: JourneyApplication) -> None:
    app.ingest([b.maintenance(b.day(0), amount="880.50")])
    recorded = app.customer_history(b.CUSTOMER)[0]

    assert pickle.loads(pickle.dumps(recorded)) == recorded
    assert recorded.touchpoint.data.amount == Decimal("880.50")  # type: ignore[union-attr]
