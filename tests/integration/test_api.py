"""The HTTP read API (`journey serve`) on an SQLite store of a small generated data set: every route
answers the object the engine (and so the CLI's --json) gives, keys, errors, metrics and docs."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from journey.api import create_app
from journey.demo_data import generate, write_jsonl
from journey.engine import Engine
from journey.settings import Settings
from journey.timeparse import parse_instant
from tests.browser import journey_serve


@dataclass
class Store:
    url: str
    engine: Engine
    client: TestClient
    customers: list[str]
    dealers: list[str]
    as_of: datetime

    @property
    def dealer(self) -> str:
        return self.dealers[0]

    @property
    def customer(self) -> str:
        return self.customers[0]


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    tmp = tmp_path_factory.mktemp("api")
    touchpoints = generate(customers=150)
    write_jsonl(touchpoints, tmp / "touchpoints.jsonl")
    url = f"sqlite:///{tmp}/journey.db"
    engine = Engine.open(Settings(database_url=url, pii_key="test-key"))
    engine.ingest_file(tmp / "touchpoints.jsonl")
    as_of = max(parse_instant(tp["occurred_at"], "occurred_at") for tp in touchpoints).astimezone(UTC)
    customers = sorted({tp["customer_id"] for tp in touchpoints if tp.get("customer_id")})
    with TestClient(create_app(engine)) as client:
        yield Store(url, engine, client, customers, sorted(engine.dealers()), as_of)
    engine.close()


def q(at: datetime) -> str:
    return at.isoformat().replace("+00:00", "Z")


def body(obj: dict[str, Any]) -> Any:
    """The object as JSON carries it (what the CLI's --json prints)."""
    return json.loads(json.dumps(obj))


# ------------------------------------------------------------------ every route = the engine's object


def test_customer_answers_the_engines_view_as_of_and_known_at(store: Store) -> None:
    at, known = store.as_of - timedelta(days=200), datetime.now(UTC)

    response = store.client.get(f"/customers/{store.customer}", params={"as_of": q(at), "known_at": q(known)})

    assert response.status_code == 200
    assert response.json() == body(store.engine.customer(store.customer, at, known))


def test_customer_json_equals_the_clis_json(store: Store) -> None:
    env = os.environ | {"JOURNEY_DATABASE_URL": store.url, "JOURNEY_PII_KEY": "test-key"}
    cli = subprocess.run(
        [
            sys.executable,
            "-m",
            "journey.cli",
            "customer",
            store.customer,
            "--as-of",
            q(store.as_of),
            "--json",
        ],
        env=env,
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )

    response = store.client.get(f"/customers/{store.customer}", params={"as_of": q(store.as_of)})

    assert response.json() == json.loads(cli.stdout)


def test_history_answers_the_engines_replay(store: Store) -> None:
    response = store.client.get(f"/customers/{store.customer}/history", params={"as_of": q(store.as_of)})

    assert response.status_code == 200
    assert response.json() == body(store.engine.history(store.customer, store.as_of))


def test_report_answers_the_engines_report(store: Store) -> None:
    for dealer in store.dealers:
        response = store.client.get(f"/dealers/{dealer}/report", params={"as_of": q(store.as_of)})

        assert response.status_code == 200
        assert response.json() == body(store.engine.report(dealer, store.as_of))


def test_gaps_answers_the_engines_gaps_over_the_window(store: Store) -> None:
    start = store.as_of - timedelta(days=365)

    end, known = store.as_of - timedelta(days=30), store.as_of

    response = store.client.get(
        f"/dealers/{store.dealer}/gaps", params={"from": q(start), "to": q(end), "as_of": q(known)}
    )

    assert response.status_code == 200
    assert response.json() == body(store.engine.gaps(store.dealer, start, end, known))


def test_tasks_are_paginated_pages_of_the_engines_queue(store: Store) -> None:
    params: dict[str, Any] = {"as_of": q(store.as_of), "overdue": "true", "limit": 3}

    first = store.client.get(f"/dealers/{store.dealer}/tasks", params=params)
    second = store.client.get(f"/dealers/{store.dealer}/tasks", params=params | {"offset": 3})

    assert first.status_code == second.status_code == 200
    assert first.json() == body(store.engine.tasks(store.dealer, store.as_of, overdue_only=True, limit=3))
    assert second.json() == body(
        store.engine.tasks(store.dealer, store.as_of, overdue_only=True, limit=3, offset=3)
    )
    assert 'rel="next"' in first.headers["link"] and "offset=3" in first.headers["link"]


def test_kpis_answer_the_engines_kpis_of_the_month(store: Store) -> None:
    month = (store.as_of - timedelta(days=40)).strftime("%Y-%m")

    response = store.client.get(f"/dealers/{store.dealer}/kpis", params={"month": month})

    assert response.status_code == 200
    assert response.json() == body(store.engine.kpis(store.dealer, month))


def test_dealers_and_the_csi_trend_feed_the_dashboard(store: Store) -> None:
    month_start = store.as_of.replace(day=1, hour=0, minute=0, second=0, microsecond=0)

    dealers = store.client.get("/dealers").json()
    trend = store.client.get(f"/dealers/{store.dealer}/csi_trend", params={"as_of": q(store.as_of)}).json()

    assert dealers == {"dealers": store.engine.dealers()}
    assert len(trend["months"]) == 12 and trend["target"] == 90
    assert trend["months"][-1]["month"] == store.as_of.strftime("%Y-%m")
    assert (
        trend["months"][-1]["csi_mean"]
        == store.engine.gaps(store.dealer, month_start, store.as_of, store.as_of)["csi_mean"]["value"]
    )


# ------------------------------------------------------------------ errors


@pytest.mark.parametrize(
    ("url", "parameter"),
    [
        ("/customers/{customer}?as_of=yesterday", "as_of"),
        ("/customers/{customer}?known_at=2026-13-01", "known_at"),
        ("/customers/{customer}/history?as_of=2026-06-01T00:00:00", "as_of"),
        ("/dealers/{dealer}/report?as_of=yesterday", "as_of"),
        ("/dealers/{dealer}/gaps?from=last-year&to=2026-01-01", "from"),
        ("/dealers/{dealer}/gaps?from=2026-01-01", "to"),
        ("/dealers/{dealer}/gaps?from=2026-01-01&to=2025-01-01", "to"),
        ("/dealers/{dealer}/tasks?limit=0", "limit"),
        ("/dealers/{dealer}/kpis?month=May", "month"),
        ("/dealers/{dealer}/kpis?month=9999-12", "month"),
        ("/customers/{customer}?as_of=0001-01-01T00:00:00%2B05:00", "as_of"),
        ("/dealers/{dealer}/report?as_of=9999-12-31T23:00:00-12:00", "as_of"),
    ],
)
def test_a_bad_parameter_answers_422_naming_it(store: Store, url: str, parameter: str) -> None:
    response = store.client.get(url.format(customer=store.customer, dealer=store.dealer))

    assert response.status_code == 422
    assert [d["loc"] for d in response.json()["detail"]] == [["query", parameter]]


def test_an_unencoded_plus_offset_answers_as_the_encoded_one_when_it_arrives_as_a_space(store: Store) -> None:
    beijing = timezone(timedelta(hours=8))
    at, known = (store.as_of - timedelta(days=200)).astimezone(beijing), datetime.now(beijing)
    start, end = (store.as_of - timedelta(days=90)).isoformat(), store.as_of.isoformat()
    routes = [
        (f"/customers/{store.customer}", {"as_of": at.isoformat(), "known_at": known.isoformat()}),
        (f"/customers/{store.customer}/history", {"as_of": at.isoformat()}),
        (f"/dealers/{store.dealer}/gaps", {"from": start, "to": end, "as_of": end}),
    ]

    for path, params in routes:
        encoded = store.client.get(path, params=params)
        typed = store.client.get(path + "?" + "&".join(f"{k}={v}" for k, v in params.items()))

        assert "+" in typed.request.url.query.decode()
        assert (typed.status_code, encoded.status_code) == (200, 200), path
        assert typed.json() == encoded.json(), path


@pytest.mark.parametrize(
    ("query", "parameter"),
    [
        ("as_of=2026-06-01T08:00:00 99:00", "as_of"),
        ("as_of=2026-06-01T08:00:00  08:00", "as_of"),
        ("known_at=yesterday+08:00", "known_at"),
        ("as_of=2026-06-01+08:00", "as_of"),
    ],
)
def test_a_bad_instant_answers_422_naming_it_when_it_holds_a_space(
    store: Store, query: str, parameter: str
) -> None:
    response = store.client.get(f"/customers/{store.customer}?{query}")

    assert response.status_code == 422
    assert [d["loc"] for d in response.json()["detail"]] == [["query", parameter]]


def test_an_unknown_customer_or_dealer_answers_404(store: Store) -> None:
    assert store.client.get("/customers/C-404").status_code == 404
    assert store.client.get("/customers/C-404/history").status_code == 404
    for route in ("report", "gaps?from=2026-01-01&to=2026-02-01", "tasks", "kpis?month=2026-01", "csi_trend"):
        response = store.client.get(f"/dealers/D-404/{route}")

        assert response.status_code == 404, route
        assert "D-404" in response.json()["detail"]


# ------------------------------------------------------------------ keys


def test_with_keys_every_route_but_health_needs_one(store: Store) -> None:
    keyed = Engine.open(Settings(database_url=store.url, pii_key="test-key", api_keys="k-one, k-two"))
    try:
        with TestClient(create_app(keyed)) as client:
            routes = [
                f"/customers/{store.customer}",
                f"/dealers/{store.dealer}/report",
                "/dealers",
                "/metrics",
            ]
            for route in routes:
                assert client.get(route).status_code == 401, route
                assert client.get(route, headers={"Authorization": "Bearer wrong"}).status_code == 401, route
                assert client.get(route, headers={"Authorization": "Bearer k-two"}).status_code == 200, route
                assert client.get(route, headers={"X-API-Key": "k-one"}).status_code == 200, route
                assert client.get(route, headers={"X-API-Key": "wrong"}).status_code == 401, route
            assert client.get("/health").status_code == 200
            assert client.get("/customers/C-1").headers["www-authenticate"] == "Bearer"
    finally:
        keyed.close()


def test_without_keys_the_api_is_open(store: Store) -> None:
    assert store.client.get(f"/dealers/{store.dealer}/report").status_code == 200


# ------------------------------------------------------------------ operations


def test_health_says_the_store_is_reachable_and_the_views_lag(store: Store) -> None:
    response = store.client.get("/health")

    assert response.status_code == 200
    assert response.json()["store"] == "reachable"
    assert response.json()["views"]["lag"] == store.engine.views.lag() == 0


def test_metrics_count_requests_by_route_template_and_show_the_views_lag(store: Store) -> None:
    store.client.get(f"/customers/{store.customer}")
    store.client.get("/customers/C-404")

    text = store.client.get("/metrics").text

    assert 'journey_http_requests_total{method="GET",route="/customers/{customer_id}",status="200"}' in text
    assert 'journey_http_requests_total{method="GET",route="/customers/{customer_id}",status="404"}' in text
    assert "journey_http_request_duration_seconds_bucket{" in text
    assert "journey_views_lag 0.0" in text
    assert "journey_store_events_total" in text
    assert store.customer not in text


def test_openapi_docs_and_the_dashboard_are_served_without_a_cdn(store: Store) -> None:
    docs = store.client.get("/docs")
    spec = store.client.get("/openapi.json").json()
    page = store.client.get("/")

    assert docs.status_code == 200 and "cdn" not in docs.text
    assert store.client.get("/static/vendor/swagger-ui/swagger-ui-bundle.js").status_code == 200
    assert {"/customers/{customer_id}", "/dealers/{dealer_id}/report", "/dealers/{dealer_id}/tasks"} <= set(
        spec["paths"]
    )
    assert page.status_code == 200 and "/static/vendor/plotly.min.js" in page.text
    plotly = store.client.get("/static/vendor/plotly.min.js")
    assert plotly.status_code == 200 and "plotly.js" in plotly.text[:200]
    assert store.client.get("/static/app.js").status_code == 200


def test_serve_with_two_workers_answers_every_request(store: Store) -> None:
    with journey_serve(store.url, env={"JOURNEY_PII_KEY": "test-key"}, args=["--workers", "2"]) as server:
        answers = [
            httpx.get(f"{server.base}/dealers/{store.dealer}/report", params={"as_of": q(store.as_of)})
            for _ in range(20)
        ]

    assert {a.status_code for a in answers} == {200}
    assert answers[-1].json() == body(store.engine.report(store.dealer, store.as_of))


def test_the_package_ships_the_dashboard_files() -> None:
    static = Path(__file__).resolve().parents[2] / "journey" / "api" / "static"

    assert {"index.html", "app.js", "app.css"} <= {p.name for p in static.iterdir()}


def test_a_server_with_other_rules_than_the_views_answers_409_for_the_dealer_views(
    store: Store, tmp_path: Path
) -> None:
    rules = tmp_path / "other.toml"
    rules.write_text('version = "other"\n[intent.levels.N]\nfollow_up_days = 3\n')
    other = Engine.open(Settings(database_url=store.url, pii_key="test-key", rules=str(rules)))

    with TestClient(create_app(other)) as client:
        views = [client.get(f"/dealers/{store.dealer}/{route}") for route in ("report", "tasks")]
        views.append(client.get(f"/dealers/{store.dealer}/kpis", params={"month": "2026-05"}))
        views.append(
            client.get(f"/dealers/{store.dealer}/gaps", params={"from": "2026-01-01", "to": "2026-06-01"})
        )
        computed = client.get(f"/customers/{store.customer}")  # from the touchpoints, with its own rules

    other.close()
    assert [r.status_code for r in views] == [409] * 4
    assert all("computed with rules 'domain-defaults" in r.json()["detail"] for r in views)
    assert computed.status_code == 200 and computed.json()["rules_version"].startswith("other#")
