"""The dashboard in a real browser: `journey serve` on a demo-like store, Debian's headless Chromium
driven by playwright; the charts must show the engine's numbers. Saves test-output/dashboard.png."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from journey.demo_data import generate, write_jsonl
from journey.engine import Engine
from journey.settings import Settings
from journey.timeparse import parse_instant
from tests.browser import CHROMIUM_ARGS, Server, ensure_chromium, journey_serve

pytestmark = pytest.mark.browser

OUTPUT = Path(__file__).resolve().parents[2] / "test-output"
LEVELS = ["N", "C", "B", "A", "H", "O", "F"]
DIMENSIONS = ["reliability", "responsiveness", "assurance", "empathy", "tangibles"]
GAPS = ["gap1", "gap2", "gap3", "gap4", "gap5"]
AS_OF = datetime(2026, 6, 30, 12, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Engine, list[dict[str, Any]]]]:
    """What `journey demo` builds: the seeded data set (300 customers) ingested into an SQLite store."""
    tmp = tmp_path_factory.mktemp("dashboard")
    touchpoints = generate(customers=300)
    write_jsonl(touchpoints, tmp / "touchpoints.jsonl")
    engine = Engine.open(Settings(database_url=f"sqlite:///{tmp}/journey.db"))
    engine.ingest_file(tmp / "touchpoints.jsonl")
    yield engine, touchpoints
    engine.close()


@pytest.fixture(scope="module")
def server(demo: tuple[Engine, list[dict[str, Any]]]) -> Iterator[Server]:
    engine, _ = demo
    with journey_serve(engine.settings.database_url, env={"JOURNEY_API_KEYS": ""}) as running:
        yield running


def plotted(page: Any, element: str) -> Any:
    return json.loads(page.get_attribute(f"#{element}", "data-plotted"))


def svg_texts(page: Any, element: str) -> list[str]:
    """The value labels plotly drew in a chart's SVG."""
    texts: list[str] = page.eval_on_selector_all(
        f"#{element} svg text.bartext", "ts => ts.map(t => t.textContent)"
    )
    return texts


def test_the_dashboard_charts_show_the_engines_numbers(
    demo: tuple[Engine, list[dict[str, Any]]], server: Server
) -> None:
    from playwright.sync_api import sync_playwright

    engine, touchpoints = demo
    chromium = ensure_chromium()
    dealer = sorted(engine.dealers())[1]
    OUTPUT.mkdir(exist_ok=True)

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(chromium), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1366, "height": 768})
            errors: list[str] = []
            page.on("pageerror", lambda exc: errors.append(str(exc)))
            page.goto(server.base + "/")
            page.wait_for_selector("body[data-state=ready]", timeout=30_000)

            page.select_option("#dealer", dealer)
            page.fill("#as-of", AS_OF.strftime("%Y-%m-%dT%H:%M"))
            page.click("#show")
            page.wait_for_function(
                "([d, t]) => document.body.dataset.state === 'ready' && "
                "JSON.parse(document.getElementById('funnel').dataset.plotted).dealer_id === d && "
                "JSON.parse(document.getElementById('funnel').dataset.plotted).as_of === t",
                arg=[dealer, AS_OF.isoformat()],
                timeout=30_000,
            )
            page.screenshot(path=str(OUTPUT / "dashboard.png"), full_page=True)

            funnel, retention = plotted(page, "funnel"), plotted(page, "retention")
            gaps, csi, tasks = plotted(page, "gaps"), plotted(page, "csi"), plotted(page, "tasks")
            funnel_svg, gaps_svg = svg_texts(page, "funnel"), svg_texts(page, "gaps")
            funnel_drawn = page.evaluate("document.getElementById('funnel').data[0].x")
            gaps_drawn = page.evaluate("document.getElementById('gaps').data.map(t => t.y)")
            task_rows = page.locator("#tasks tbody tr").count()
        finally:
            browser.close()

    assert errors == []
    report = engine.report(dealer, AS_OF)
    by_level = [report["leads"]["by_level"][level] for level in LEVELS]
    assert funnel["values"] == funnel_drawn == by_level
    assert funnel_svg == [str(v) for v in by_level]
    assert retention["values"] == [
        report["owners"]["by_status"][s] for s in ("loyal", "opportunity", "marginal", "lost")
    ]

    start = parse_instant(gaps["from"], "from")
    assert start == AS_OF.replace(year=AS_OF.year - 1) and parse_instant(gaps["to"], "to") == AS_OF
    expected = engine.gaps(dealer, start, AS_OF)["dimensions"]
    by_gap = [[expected[d][g]["value"] for d in DIMENSIONS] for g in GAPS]
    assert [gaps["values"][g] for g in GAPS] == gaps_drawn == by_gap
    assert sorted(gaps_svg) == sorted(f"{v:.2f}" for row in by_gap for v in row if v is not None)

    month_start = AS_OF.replace(day=1, hour=0, minute=0)
    assert csi["months"][-1] == "2026-06" and csi["target"] == 90
    assert csi["values"][-1] == engine.gaps(dealer, month_start, AS_OF)["csi_mean"]["value"]
    may = engine.gaps(dealer, datetime(2026, 5, 1, tzinfo=UTC), month_start)
    assert csi["values"][-2] == may["csi_mean"]["value"]

    queue = engine.tasks(dealer, AS_OF, overdue_only=True, limit=12)
    assert [r["customer_id"] for r in tasks["rows"]] == [t["customer_id"] for t in queue["tasks"]]
    assert task_rows == len(queue["tasks"]) > 0

    assert (OUTPUT / "dashboard.png").stat().st_size > 20_000
    _assert_no_personal_data_logged(server.output(), touchpoints)


def _assert_no_personal_data_logged(log: str, touchpoints: list[dict[str, Any]]) -> None:
    """The server logged its requests (route templates only): no customer id, name or phone."""
    assert '"event": "http_request"' in log and "/dealers/{dealer_id}/report" in log
    personal = {
        str(value)
        for tp in touchpoints
        if tp["type"] == "customer_registered"
        for key, value in tp["data"].items()
        if key in ("name", "phone", "national_id") and value
    }
    customers = {tp["customer_id"] for tp in touchpoints if tp.get("customer_id")}
    assert personal and not [p for p in personal if p in log]
    assert not [c for c in customers if c in log]


def test_with_api_keys_the_dashboard_asks_for_one_and_then_draws(
    demo: tuple[Engine, list[dict[str, Any]]],
) -> None:
    from playwright.sync_api import sync_playwright

    engine, _ = demo
    chromium = ensure_chromium()
    with (
        journey_serve(engine.settings.database_url, env={"JOURNEY_API_KEYS": "k-dash"}) as keyed,
        sync_playwright() as pw,
    ):
        browser = pw.chromium.launch(executable_path=str(chromium), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1366, "height": 768})
            page.goto(keyed.base + "/")
            page.wait_for_selector("body[data-state=error]", timeout=30_000)
            asked = page.is_visible("#api-key")

            page.fill("#api-key", "k-dash")
            page.click("#show")
            page.wait_for_selector("body[data-state=ready]", timeout=30_000)
            dealers = page.eval_on_selector_all("#dealer option", "os => os.map(o => o.value)")
        finally:
            browser.close()

    assert asked
    assert dealers == engine.dealers()
