/* The calls explorer, one call's detail (with rating) and the prompt-type statistics. */
"use strict";

const explorer = {offset: 0, limit: 25, total: 0};

function callFilters() {
  const form = document.getElementById("call-filters");
  const values = {};
  new FormData(form).forEach((v, k) => { if (String(v).trim() !== "") values[k] = String(v).trim(); });
  return values;
}

async function loadCalls(offset) {
  explorer.offset = Math.max(0, offset);
  const params = Object.assign({}, rangeParams(), callFilters(), {limit: explorer.limit, offset: explorer.offset});
  delete params.granularity;
  const page = await api.get("/v1/calls", params);
  explorer.total = page.notes.total;
  document.getElementById("calls-csv").href = api.url("/v1/calls", Object.assign({}, params,
    {limit: 10000, offset: 0, format: "csv"}));
  renderTable(document.getElementById("calls"), [
    {key: "occurred_at", label: "when", fmt: fmt.time}, {key: "account_id", label: "account"},
    {key: "user_id", label: "user"}, {key: "prompt_type", label: "prompt type"},
    {key: "operation", label: "operation"}, {key: "model", label: "model"},
    {key: "total_tokens", label: "tokens", num: true, fmt: fmt.int},
    {key: "latency_ms", label: "latency", num: true, fmt: fmt.ms},
    {key: "cost_usd", label: "cost", num: true, fmt: fmt.usd},
    {key: "success", label: "status", fmt: (v, row) => fmt.status(v) + (row.error_message
      ? ` <span title="${fmt.text(row.error_message)}">${fmt.text(row.error_type || "")}</span>` : "")},
  ], page.rows, {empty: "no calls match", onClick: row => showCall(row.event_id)});
  const last = Math.min(explorer.offset + page.rows.length, explorer.total);
  document.getElementById("page-info").textContent =
    explorer.total ? `${explorer.offset + 1}–${last} of ${fmt.int(explorer.total)}` : "";
  document.getElementById("prev").disabled = explorer.offset === 0;
  document.getElementById("next").disabled = last >= explorer.total;
}

async function showCall(eventId) {
  const panel = document.getElementById("call-detail");
  const detail = await api.get("/v1/calls/" + encodeURIComponent(eventId));
  const call = detail.rows[0];
  const skip = new Set(["prompt", "response", "metadata"]);
  const fields = Object.keys(call).filter(k => !skip.has(k) && call[k] !== "" && call[k] !== null)
    .map(k => `<tr><th>${fmt.text(k)}</th><td>${k.includes("usd") ? fmt.usd(call[k]) : fmt.text(call[k])}</td></tr>`)
    .join("");
  const ratings = sectionRows(detail, "ratings").map(r => (r.rating > 0 ? "👍" : r.rating < 0 ? "👎" : "•")).join(" ");
  panel.innerHTML = `<h2>Call ${fmt.text(call.event_id)}</h2>
    <div class="pager">Rate this call: <button type="button" data-rating="1">👍</button>
      <button type="button" data-rating="0">•</button><button type="button" data-rating="-1">👎</button>
      <span id="rating-state">${ratings}</span></div>
    <div class="grid two"><div class="table-wrap"><table>${fields}</table></div>
    <div><h2>Prompt</h2><pre>${fmt.text(call.prompt) || "(not stored)"}</pre>
      <h2>Response</h2><pre>${fmt.text(call.response) || "(not stored)"}</pre>
      <h2>Metadata</h2><pre>${fmt.text(call.metadata)}</pre></div></div>`;
  panel.hidden = false;
  panel.querySelectorAll("button[data-rating]").forEach(b => b.addEventListener("click", async () => {
    await api.post(`/v1/calls/${encodeURIComponent(eventId)}/rating`, {rating: Number(b.dataset.rating)});
    document.getElementById("rating-state").textContent = "rated " + b.textContent;
  }));
}

/* Our prompt_types report for the range, joined (for admins) with the prompt-types service's
   all-time figures and tracking switches when the server mounts /v1/prompt-types. */
async function serviceFigures() {
  const [spec, me] = await Promise.all([api.get("/openapi.json"), api.get("/v1/whoami")]);
  if (!(spec.paths && spec.paths["/v1/prompt-types"] && me.is_admin)) return {};
  const data = await api.get("/v1/prompt-types");
  const byType = {};
  (data.prompt_types || []).forEach(p => { byType[p.prompt_type] = p; });
  return byType;
}

async function loadPromptTypes() {
  const [report, service] = await Promise.all([api.get("/v1/reports/prompt_types", rangeParams()), serviceFigures()]);
  const latest = {};
  sectionRows(report, "latest_calls").forEach(r => { latest[r.prompt_type] = r; });
  const rows = report.rows.map(r => Object.assign({}, r, {latest: latest[r.prompt_type], service: service[r.prompt_type]}));
  const columns = [
    {key: "prompt_type", label: "prompt type"}, {key: "calls", label: "calls", num: true, fmt: fmt.int},
    {key: "cost_usd", label: "cost", num: true, fmt: fmt.usd},
    {key: "avg_cost_per_call", label: "avg/call", num: true, fmt: fmt.usd},
    {key: "errors", label: "errors", num: true, fmt: fmt.int},
    {key: "avg_latency_ms", label: "avg latency", num: true, fmt: fmt.ms},
  ];
  if (Object.keys(service).length) {
    columns.push({key: "service", label: "all-time calls", num: true, fmt: v => v ? fmt.int(v.calls) : "–"});
    columns.push({key: "service", label: "tracking", fmt: v => !v || !v.config ? "–" :
      (v.config.is_active === false ? "logging off" : v.config.track_full_data ? "full data" : "metadata")});
  }
  columns.push({key: "latest", label: "latest call", fmt: v => v ? `${fmt.time(v.occurred_at)} · ${fmt.text(v.model)} · ` +
    `${fmt.int(v.input_tokens)}→${fmt.int(v.output_tokens)} tokens · ${fmt.usd(v.cost_usd)}` : "–"});
  renderTable(document.getElementById("prompt-types"), columns, rows,
    {empty: "no prompt types in this range", onClick: row => row.latest && showCall(row.latest.event_id)});
}

function setupExplorer() {
  document.getElementById("call-filters").addEventListener("submit", e => { e.preventDefault(); loadCalls(0); });
  document.getElementById("prev").addEventListener("click", () => loadCalls(explorer.offset - explorer.limit));
  document.getElementById("next").addEventListener("click", () => loadCalls(explorer.offset + explorer.limit));
}
