// The journey dashboard: reads the JSON API and draws with plotly.js (served from the plotly package).
// Every chart element keeps the numbers it drew in data-plotted (JSON) and sets data-state="ready".
"use strict";

const LEVELS = ["N", "C", "B", "A", "H", "O", "F"];
const LEVEL_NAMES = {
  N: "N · new", C: "C · 6 months", B: "B · 30 days", A: "A · 15 days",
  H: "H · 7 days", O: "O · ordered", F: "F · lost",
};
const LEVEL_COLORS = {
  N: "#9aa5b1", C: "#7fb3d5", B: "#4a90c2", A: "#2e6da4", H: "#1b4f80", O: "#2f9e6f", F: "#c0504d",
};
const STATUSES = ["loyal", "opportunity", "marginal", "lost"];
const STATUS_COLORS = { loyal: "#2f9e6f", opportunity: "#4a90c2", marginal: "#e0a030", lost: "#c0504d" };
const DIMENSIONS = ["reliability", "responsiveness", "assurance", "empathy", "tangibles"];
const GAPS = ["gap1", "gap2", "gap3", "gap4", "gap5"];
const GAP_NAMES = {
  gap1: "gap1 knowledge", gap2: "gap2 standards", gap3: "gap3 delivery",
  gap4: "gap4 communication", gap5: "gap5 customer",
};
const GAP_COLORS = { gap1: "#8e7cc3", gap2: "#6fa8dc", gap3: "#e69138", gap4: "#c27ba0", gap5: "#3d85c6" };
const TASK_NAMES = {
  follow_up: "Lead follow-up", complaint_callback: "Complaint callback",
  complaint_escalation: "Complaint escalation", post_service_callback: "Post-service callback",
  post_delivery_callback: "Post-delivery callback", win_back: "Win-back", maintenance_reminder: "Maintenance reminder",
};
const FONT = { family: "system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif", size: 12, color: "#243447" };
const CONFIG = { displayModeBar: false, responsive: true };
const $ = (id) => document.getElementById(id);

// ------------------------------------------------------------------ API

class Unauthorized extends Error {}

async function api(path) {
  const headers = { Accept: "application/json" };
  const key = sessionStorage.getItem("journey-api-key");
  if (key) headers.Authorization = `Bearer ${key}`;
  const response = await fetch(path, { headers });
  if (response.status === 401) throw new Unauthorized("an API key is required");
  const body = await response.json();
  if (!response.ok) {
    const detail = Array.isArray(body.detail) ? body.detail.map((d) => d.msg).join("; ") : body.detail;
    throw new Error(`${response.status}: ${detail}`);
  }
  return body;
}

// ------------------------------------------------------------------ time

const pad = (n) => String(n).padStart(2, "0");

function toInputValue(date) {  // a Date -> "YYYY-MM-DDTHH:MM" in UTC
  return `${date.getUTCFullYear()}-${pad(date.getUTCMonth() + 1)}-${pad(date.getUTCDate())}` +
    `T${pad(date.getUTCHours())}:${pad(date.getUTCMinutes())}`;
}

function asOfParam(inputValue) {  // "YYYY-MM-DDTHH:MM[:SS]" read as UTC -> RFC 3339
  return (inputValue.length === 16 ? `${inputValue}:00` : inputValue) + "Z";
}

function yearBefore(rfc3339) {
  const d = new Date(rfc3339);
  d.setUTCFullYear(d.getUTCFullYear() - 1);
  return d.toISOString().replace(".000Z", "Z");
}

const shortDate = (rfc3339) => rfc3339.slice(0, 10);
const percent = (v) => (v === null || v === undefined ? "–" : `${(v * 100).toFixed(1)} %`);

// ------------------------------------------------------------------ charts

function layout(extra) {
  return Object.assign({
    font: FONT, paper_bgcolor: "rgba(0,0,0,0)", plot_bgcolor: "rgba(0,0,0,0)",
    margin: { l: 40, r: 12, t: 8, b: 30 }, showlegend: false,
  }, extra);
}

async function draw(id, plotted, traces, extraLayout) {
  const el = $(id);
  el.dataset.state = "drawing";
  el.dataset.plotted = JSON.stringify(plotted);
  await Plotly.react(el, traces, layout(extraLayout), CONFIG);
  el.dataset.state = "ready";
}

function drawFunnel(report) {
  const values = LEVELS.map((l) => report.leads.by_level[l]);
  const plotted = { dealer_id: report.dealer_id, as_of: report.as_of, levels: LEVELS, values };
  return draw("funnel", plotted, [{
    type: "funnel", y: LEVELS.map((l) => LEVEL_NAMES[l]), x: values, textinfo: "value",
    textposition: "outside", cliponaxis: false, marker: { color: LEVELS.map((l) => LEVEL_COLORS[l]) },
    connector: { line: { color: "#d0d7de", width: 1 } }, hovertemplate: "%{y}: %{x} leads<extra></extra>",
  }], { margin: { l: 86, r: 12, t: 4, b: 4 } });
}

function drawRetention(report) {
  const values = STATUSES.map((s) => report.owners.by_status[s]);
  const total = values.reduce((a, b) => a + b, 0) || 1;
  const plotted = { dealer_id: report.dealer_id, as_of: report.as_of, statuses: STATUSES, values };
  return draw("retention", plotted, [{
    type: "pie", hole: 0.55, labels: STATUSES, values, sort: false, direction: "clockwise",
    marker: { colors: STATUSES.map((s) => STATUS_COLORS[s]) }, textinfo: "text", textposition: "inside",
    text: values.map((v) => (v ? `${v}<br>${Math.round((100 * v) / total)}%` : "")),
    hovertemplate: "%{label}: %{value} owners<extra></extra>",
  }], {
    showlegend: true, legend: { orientation: "v", x: 1.0, y: 0.5, font: { size: 12 } },
    margin: { l: 4, r: 4, t: 4, b: 4 },
    annotations: [{ text: `${report.owners.total}<br><span style="font-size:11px">owners</span>`,
      showarrow: false, font: { size: 16 }, x: 0.5, y: 0.5, xref: "paper", yref: "paper" }],
  });
}

function drawCsi(trend) {
  const months = trend.months.map((m) => m.month);
  const values = trend.months.map((m) => m.csi_mean);
  const plotted = { dealer_id: trend.dealer_id, as_of: trend.as_of, target: trend.target, months, values };
  const low = Math.min(trend.target, ...values.filter((v) => v !== null)) - 4;
  return draw("csi", plotted, [
    {
      type: "scatter", mode: "lines+markers+text", name: "CSI mean", x: months, y: values,
      text: values.map((v) => (v === null ? "" : v.toFixed(1))), textposition: "top center",
      textfont: { size: 10 }, line: { color: "#3d85c6", width: 2 }, connectgaps: false, cliponaxis: false,
      marker: { size: 7, color: values.map((v) => (v !== null && v > trend.target ? "#2f9e6f" : "#c0504d")) },
      customdata: trend.months.map((m) => m.n), hovertemplate: "%{x}: %{y:.1f} (%{customdata} surveys)<extra></extra>",
    },
    {
      type: "scatter", mode: "lines", name: `target ${trend.target}`, x: months,
      y: months.map(() => trend.target), line: { color: "#c0504d", dash: "dash", width: 1.5 },
      hovertemplate: `target ${trend.target}<extra></extra>`,
    },
  ], {
    margin: { l: 34, r: 10, t: 16, b: 40 },
    yaxis: { range: [Math.max(0, Math.floor(low)), 102], gridcolor: "#eef1f4" },
    xaxis: { type: "category", tickangle: -45, tickfont: { size: 10 } },
    annotations: [{ text: `target ${trend.target}`, x: 1, xref: "paper", xanchor: "right", y: trend.target,
      yanchor: "bottom", showarrow: false, font: { size: 10, color: "#c0504d" } }],
  });
}

function drawGaps(gaps) {
  const values = {};
  for (const g of GAPS) values[g] = DIMENSIONS.map((d) => gaps.dimensions[d][g].value);
  const plotted = { dealer_id: gaps.dealer_id, from: gaps.from, to: gaps.to, dimensions: DIMENSIONS, values };
  const traces = GAPS.map((g) => ({
    type: "bar", name: GAP_NAMES[g], x: DIMENSIONS, y: values[g], marker: { color: GAP_COLORS[g] },
    text: values[g].map((v) => (v === null ? "" : v.toFixed(2))), textposition: "outside",
    textfont: { size: 9 }, cliponaxis: false,
    customdata: DIMENSIONS.map((d) => gaps.dimensions[d][g].n),
    hovertemplate: `${GAP_NAMES[g]} · %{x}: %{y:.3f} (n=%{customdata})<extra></extra>`,
  }));
  $("gaps-caption").textContent = `${shortDate(gaps.from)} to ${shortDate(gaps.to)} · 0 = no gap, below 0 = short`;
  return draw("gaps", plotted, traces, {
    barmode: "group", bargap: 0.16, bargroupgap: 0.06, showlegend: true,
    legend: { orientation: "h", x: 0, y: 1.12, font: { size: 11 } },
    margin: { l: 40, r: 10, t: 26, b: 24 },
    yaxis: { zeroline: true, zerolinecolor: "#7a8794", gridcolor: "#eef1f4" },
  });
}

function drawTasks(queue) {
  const el = $("tasks");
  const rows = queue.tasks.map((t) => ({
    kind: t.kind, customer_id: t.customer_id, due_at: t.due_at,
    days_overdue: Math.floor((new Date(queue.as_of) - new Date(t.due_at)) / 86400000),
  }));
  el.dataset.plotted = JSON.stringify({ dealer_id: queue.dealer_id, as_of: queue.as_of, counts: queue.counts, rows });
  $("tasks-caption").textContent = `${queue.counts.overdue} overdue of ${queue.counts.open} open` +
    (queue.counts.overdue > rows.length ? ` · oldest ${rows.length}` : "");
  const table = document.createElement("table");
  table.innerHTML = "<thead><tr><th>Task</th><th>Customer</th><th>Due (UTC)</th><th>Late</th></tr></thead>";
  const body = table.createTBody();
  for (const r of rows) {
    const tr = body.insertRow();
    for (const text of [TASK_NAMES[r.kind] || r.kind, r.customer_id, r.due_at.slice(0, 16).replace("T", " "),
      `${r.days_overdue} d`]) {
      tr.insertCell().textContent = text;
    }
    tr.dataset.kind = r.kind;
  }
  if (!rows.length) body.insertRow().insertCell().textContent = "No overdue task.";
  el.replaceChildren(table);
  el.dataset.state = "ready";
}

function drawTiles(report, trend) {
  const lastCsi = [...trend.months].reverse().find((m) => m.csi_mean !== null);
  const tiles = [
    ["Customers", report.customers],
    ["Open leads", report.leads.total],
    ["Overdue follow-ups", report.leads.overdue_follow_ups],
    ["Owners", report.owners.total],
    ["Active ratio", percent(report.active_ratio)],
    ["Churn", percent(report.churn)],
    ["Hold rate", percent(report.hold_rate)],
    ["Last CSI", lastCsi ? `${lastCsi.csi_mean.toFixed(1)} (${lastCsi.month})` : "–"],
  ];
  $("tiles").replaceChildren(...tiles.map(([label, value]) => {
    const tile = document.createElement("div");
    tile.className = "tile";
    tile.innerHTML = "<b></b><span></span>";
    tile.firstChild.textContent = value;
    tile.lastChild.textContent = label;
    return tile;
  }));
}

// ------------------------------------------------------------------ page

function status(text, kind) {
  $("status").textContent = text;
  $("status").className = kind || "";
}

async function show() {
  const dealer = $("dealer").value;
  const asOf = asOfParam($("as-of").value);
  const d = encodeURIComponent(dealer);
  const q = `as_of=${encodeURIComponent(asOf)}`;
  document.body.dataset.state = "loading";
  status(`Loading ${dealer} as of ${asOf} …`);
  history.replaceState(null, "", `?dealer=${d}&${q}`);
  try {
    const [report, gaps, queue, trend] = await Promise.all([
      api(`/dealers/${d}/report?${q}`),
      api(`/dealers/${d}/gaps?from=${encodeURIComponent(yearBefore(asOf))}&to=${encodeURIComponent(asOf)}`),
      api(`/dealers/${d}/tasks?${q}&overdue=true&limit=12`),
      api(`/dealers/${d}/csi_trend?${q}&months=12`),
    ]);
    drawTiles(report, trend);
    drawTasks(queue);
    await Promise.all([drawFunnel(report), drawRetention(report), drawCsi(trend), drawGaps(gaps)]);
    document.body.dataset.state = "ready";
    status(`${dealer} as of ${asOf.replace("T", " ").replace("Z", " UTC")}`);
    $("status").title = `rules ${report.rules_version}`;
  } catch (error) {
    fail(error);
  }
}

function fail(error) {
  document.body.dataset.state = "error";
  if (error instanceof Unauthorized) {
    $("key-field").hidden = false;
    $("api-key").focus();
    status("Enter an API key (JOURNEY_API_KEYS) and press Show.", "error");
  } else {
    status(String(error.message || error), "error");
  }
}

async function start() {
  const params = new URLSearchParams(location.search);
  const asOf = params.get("as_of");
  $("as-of").value = asOf ? toInputValue(new Date(asOf)) : toInputValue(new Date());
  $("controls").addEventListener("submit", (event) => {
    event.preventDefault();
    const key = $("api-key").value.trim();
    if (key) sessionStorage.setItem("journey-api-key", key);
    (($("dealer").options.length ? Promise.resolve() : loadDealers(params.get("dealer")))).then(show, fail);
  });
  try {
    await loadDealers(params.get("dealer"));
    await show();
  } catch (error) {
    fail(error);
  }
}

async function loadDealers(wanted) {
  const { dealers } = await api("/dealers");
  $("dealer").replaceChildren(...dealers.map((id) => new Option(id, id, false, id === wanted)));
  if (!dealers.length) throw new Error("The store has no dealer yet: ingest touchpoints first.");
}

start();
