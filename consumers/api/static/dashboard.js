/* The overview: filters, KPI cards, charts, heatmap, model matrix, anomalies, alerts and the
   pipeline's lag (admins). */
"use strict";

const charts = {};
window.ailedgerCharts = charts;
const PALETTE = ["#3b6cf6", "#1f9d63", "#c98a12", "#d64545", "#7a4fd6", "#1496b8", "#e0692a", "#5b6478",
  "#b83c8f", "#6f9c1f"];

function isoDay(d) { return d.toISOString().slice(0, 10); }

function setRange(days) {
  const today = new Date();
  document.getElementById("to").value = isoDay(today);
  document.getElementById("from").value = isoDay(new Date(today.getTime() - (days - 1) * 86400000));
}

/* start/end (end exclusive: the day after "To"), account and granularity from the filter bar. */
function rangeParams() {
  const from = document.getElementById("from").value;
  const to = document.getElementById("to").value;
  const end = to ? isoDay(new Date(Date.parse(to + "T00:00:00Z") + 86400000)) + "T00:00:00Z" : "";
  return {
    start: from ? from + "T00:00:00Z" : "",
    end: end,
    account_id: document.getElementById("account").value.trim(),
    granularity: document.getElementById("granularity").value,
  };
}

function csvHref(report, section, extra) {
  return api.url("/v1/reports/" + report, Object.assign({}, rangeParams(), extra || {}, {format: "csv", section}));
}

function periodLabel(value, granularity) {
  const text = fmt.time(value);
  return granularity === "hour" ? text.slice(5, 16) : text.slice(0, 10);
}

function drawChart(id, config) {
  if (charts[id]) charts[id].destroy();
  config.options = Object.assign({responsive: true, maintainAspectRatio: false, animation: false,
    plugins: {legend: {display: config.type === "doughnut" || (config.data.datasets || []).length > 1}}}, config.options || {});
  charts[id] = new Chart(document.getElementById(id), config);
}

function usdAxis() {
  return {ticks: {callback: v => "$" + Number(v).toLocaleString("en-US", {maximumSignificantDigits: 3})}};
}

function renderKpis(cost, analysis, metrics) {
  const t = cost.rows[0] || {};
  const a = analysis.rows[0] || {};
  const m = metrics.rows[0] || {};
  const p = sectionRows(analysis, "projection")[0] || {};
  const set = (id, html) => { document.getElementById(id).innerHTML = html; };
  set("kpi-cost", fmt.usd(t.cost_usd));
  set("kpi-unpriced", t.unpriced_calls ? `${fmt.int(t.unpriced_calls)} unpriced calls not included` : "all calls priced");
  set("kpi-calls", fmt.int(t.calls));
  set("kpi-errors", `${fmt.int(t.errors)} errors · ${fmt.pct(m.error_rate)}`);
  set("kpi-tokens", fmt.int(t.total_tokens));
  set("kpi-per1k", t.cost_per_1k_tokens == null ? "" : fmt.usd(t.cost_per_1k_tokens) + " per 1K tokens");
  set("kpi-projection", fmt.usd(p.projected_month_usd));
  set("kpi-daily", p.daily_avg_cost_usd == null ? "" : fmt.usd(p.daily_avg_cost_usd) + " a day (last 7 days)");
  set("kpi-latency", fmt.ms(m.avg_duration_ms));
  set("kpi-tps", m.tokens_per_second == null ? "" : fmt.num(m.tokens_per_second) + " tokens/s · cache " + fmt.pct(m.cache_hit_rate));
  set("kpi-efficiency", a.efficiency_score == null ? "–" : fmt.num(a.efficiency_score));
  set("kpi-satisfaction", m.rated ? `satisfaction ${fmt.pct(m.satisfaction_rate)} of ${fmt.int(m.rated)} rated` : "no ratings yet");
}

function renderCharts(cost, analysis, usage, granularity) {
  const trend = sectionRows(analysis, "trend");
  drawChart("chart-cost-trend", {type: "line", data: {labels: trend.map(r => periodLabel(r.period, granularity)),
    datasets: [{label: "cost (USD)", data: trend.map(r => Number(r.cost_usd || 0)), borderColor: PALETTE[0],
      backgroundColor: "rgba(59,108,246,.12)", fill: true, tension: .25}]}, options: {scales: {y: usdAxis()}}});
  const tokens = sectionRows(usage, "trend");
  drawChart("chart-token-trend", {type: "bar", data: {labels: tokens.map(r => periodLabel(r.period, granularity)),
    datasets: [{label: "input", data: tokens.map(r => r.input_tokens), backgroundColor: PALETTE[0]},
      {label: "output", data: tokens.map(r => r.output_tokens), backgroundColor: PALETTE[1]},
      {label: "other", data: tokens.map(r => r.total_tokens - r.input_tokens - r.output_tokens), backgroundColor: PALETTE[7]}]},
    options: {scales: {x: {stacked: true}, y: {stacked: true}}}});
  const models = sectionRows(cost, "by_model").filter(r => r.cost_usd !== null);
  drawChart("chart-by-model", {type: "doughnut", data: {labels: models.map(r => r.model),
    datasets: [{data: models.map(r => Number(r.cost_usd)), backgroundColor: PALETTE}]},
    options: {plugins: {legend: {position: "right"}}}});
  const types = sectionRows(cost, "by_prompt_type");
  drawChart("chart-by-prompt-type", {type: "bar", data: {labels: types.map(r => r.prompt_type),
    datasets: [{label: "cost (USD)", data: types.map(r => Number(r.cost_usd || 0)), backgroundColor: PALETTE[4]}]},
    options: {indexAxis: "y", scales: {x: usdAxis()}}});
  const accounts = sectionRows(analysis, "by_account");
  drawChart("chart-top-accounts", {type: "bar", data: {labels: accounts.map(r => r.account_id),
    datasets: [{label: "cost (USD)", data: accounts.map(r => Number(r.cost_usd || 0)), backgroundColor: PALETTE[5]}]},
    options: {indexAxis: "y", scales: {x: usdAxis()}}});
}

function renderHeatmap(usage) {
  const cells = sectionRows(usage, "heatmap");
  const max = Math.max(1, ...cells.map(c => c.calls));
  const at = {};
  cells.forEach(c => { at[c.weekday + ":" + c.hour_of_day] = c; });
  const days = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
  let html = '<div class="axis"></div>' + Array.from({length: 24}, (_, h) => `<div class="axis">${h}</div>`).join("");
  days.forEach((name, i) => {
    html += `<div class="axis">${name}</div>`;
    for (let h = 0; h < 24; h++) {
      const c = at[(i + 1) + ":" + h];
      const alpha = c ? (0.15 + 0.85 * c.calls / max).toFixed(2) : 0;
      const style = c ? `background: rgba(59,108,246,${alpha})` : "";
      const tip = c ? `${name} ${h}:00 — ${c.calls} calls, ${c.total_tokens} tokens` : "";
      html += `<div class="cell" style="${style}" title="${tip}"></div>`;
    }
  });
  document.getElementById("heatmap").innerHTML = html;
}

function renderTables(analysis, alerts) {
  renderTable(document.getElementById("model-matrix"), [
    {key: "model", label: "model"}, {key: "provider", label: "provider"},
    {key: "calls", label: "calls", num: true, fmt: fmt.int},
    {key: "success_rate", label: "success", num: true, fmt: fmt.pct},
    {key: "avg_latency_ms", label: "avg latency", num: true, fmt: fmt.ms},
    {key: "avg_tokens_per_call", label: "tokens/call", num: true, fmt: fmt.int},
    {key: "output_tokens_per_second", label: "tokens/s", num: true, fmt: v => fmt.num(v)},
    {key: "cost_usd", label: "cost", num: true, fmt: fmt.usd},
    {key: "avg_cost_per_call", label: "cost/call", num: true, fmt: fmt.usd},
    {key: "cost_per_1k_tokens", label: "cost/1K tokens", num: true, fmt: fmt.usd},
    {key: "efficiency_score", label: "efficiency", num: true, fmt: v => fmt.num(v)},
  ], sectionRows(analysis, "model_comparison"));
  renderTable(document.getElementById("anomalies"), [
    {key: "occurred_at", label: "when", fmt: fmt.time}, {key: "account_id", label: "account"},
    {key: "prompt_type", label: "prompt type"}, {key: "model", label: "model"},
    {key: "cost_usd", label: "cost", num: true, fmt: fmt.usd},
    {key: "times_average", label: "× avg", num: true, fmt: v => fmt.num(v)},
  ], sectionRows(analysis, "anomalies"), {empty: "no anomalies", onClick: row => showCall(row.event_id)});
  renderTable(document.getElementById("alerts"), [
    {key: "occurred_at", label: "when", fmt: fmt.time},
    {key: "severity", label: "severity", fmt: v => `<span class="badge ${fmt.text(v)}">${fmt.text(v)}</span>`},
    {key: "kind", label: "kind"}, {key: "subject", label: "subject"}, {key: "message", label: "message"},
  ], alerts.rows, {empty: "no alerts"});
}

/* Each stage's lag, for admins (others never see the card); refreshed on its own timer. */
async function loadPipeline() {
  const card = document.getElementById("pipeline-card");
  try {
    if (!(await api.get("/v1/whoami")).is_admin) return;
    const answer = await api.get("/v1/pipeline/lag");
    document.getElementById("pipeline-checked").textContent =
      "messages each stage has not processed yet, at " + fmt.time(answer.checked_at);
    renderTable(document.getElementById("pipeline"), [
      {key: "stage", label: "stage"},
      {key: "behind", label: "behind", num: true, fmt: v => v === null ? "no topic"
        : v === 0 ? '<span class="badge ok">caught up</span>' : fmt.int(v)},
      {key: "group", label: "consumer group"}, {key: "topic", label: "topic"},
    ], answer.stages, {empty: "no stages"});
    card.hidden = false;
  } catch (e) {
    card.hidden = true;  /* the reports say what is wrong with the key or the server */
  }
}

function wireCsvLinks() {
  document.querySelectorAll("a.csv[data-report]").forEach(a => {
    a.href = csvHref(a.dataset.report, a.dataset.section || "");
  });
}

async function refresh() {
  const params = rangeParams();
  const error = document.getElementById("error");
  try {
    const [cost, analysis, usage, metrics, alerts] = await Promise.all(
      ["cost", "cost_analysis", "token_usage", "metrics", "alerts"].map(n => api.get("/v1/reports/" + n, params)));
    error.hidden = true;
    renderKpis(cost, analysis, metrics);
    renderCharts(cost, analysis, usage, params.granularity);
    renderHeatmap(usage);
    renderTables(analysis, alerts);
    wireCsvLinks();
    await Promise.all([loadPromptTypes(), loadCalls(0)]);
    document.body.dataset.loaded = String(Number(document.body.dataset.loaded || 0) + 1);
  } catch (e) {
    error.textContent = "Could not load the dashboard: " + e.message;
    error.hidden = false;
  }
}

document.addEventListener("DOMContentLoaded", () => {
  setRange(30);
  document.getElementById("filters").addEventListener("submit", e => { e.preventDefault(); refresh(); });
  document.querySelectorAll(".presets button").forEach(b =>
    b.addEventListener("click", () => { setRange(Number(b.dataset.days)); refresh(); }));
  document.getElementById("keyform").addEventListener("submit", e => {
    e.preventDefault();
    localStorage.setItem("ailedgerKey", document.getElementById("apikey").value.trim());
    document.getElementById("keybar").hidden = true;
    refresh();
  });
  document.querySelectorAll("a.csv").forEach(wireCsvLink);
  setupExplorer();
  refresh();
  loadPipeline();
  setInterval(loadPipeline, 15000);
});
