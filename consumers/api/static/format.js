/* Formatting, API access and table helpers shared by the dashboard scripts. */
"use strict";

const fmt = {
  usd(value) {
    if (value === null || value === undefined || value === "") return '<span class="badge unpriced">unpriced</span>';
    const n = Number(value);
    if (n === 0) return "$0.00";
    if (Math.abs(n) >= 1) return "$" + n.toLocaleString("en-US", {minimumFractionDigits: 2, maximumFractionDigits: 2});
    return "$" + Number(n.toPrecision(3)).toLocaleString("en-US", {maximumFractionDigits: 10});
  },
  int(value) {
    if (value === null || value === undefined) return "–";
    const n = Number(value);
    if (Math.abs(n) >= 1e9) return (n / 1e9).toFixed(2) + "B";
    if (Math.abs(n) >= 1e6) return (n / 1e6).toFixed(2) + "M";
    return Math.round(n).toLocaleString("en-US");
  },
  pct(value) { return value === null || value === undefined ? "–" : (Number(value) * 100).toFixed(1) + "%"; },
  ms(value) {
    if (value === null || value === undefined) return "–";
    const n = Number(value);
    return n >= 1000 ? (n / 1000).toFixed(2) + " s" : Math.round(n) + " ms";
  },
  num(value, digits = 1) { return value === null || value === undefined ? "–" : Number(value).toFixed(digits); },
  time(value) { return value ? String(value).replace("T", " ").replace(/(\.\d+)?Z$/, "") : "–"; },
  text(value) {
    if (value === null || value === undefined) return "";
    return String(value).replace(/[&<>"']/g, c => ({"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;"}[c]));
  },
  status(ok) { return ok ? '<span class="badge ok">ok</span>' : '<span class="badge fail">failed</span>'; },
};

const api = {
  key() { return localStorage.getItem("ailedgerKey") || ""; },
  headers() { const k = api.key(); return k ? {"X-API-Key": k} : {}; },
  url(path, params) {
    const q = new URLSearchParams();
    Object.entries(params || {}).forEach(([k, v]) => { if (v !== "" && v !== null && v !== undefined) q.set(k, v); });
    const s = q.toString();
    return s ? path + "?" + s : path;
  },
  async get(path, params) {
    const response = await fetch(api.url(path, params), {headers: api.headers()});
    if (response.status === 401) { document.getElementById("keybar").hidden = false; throw new Error("API key needed"); }
    if (!response.ok) {
      let detail = response.statusText;
      try { detail = (await response.json()).detail || detail; } catch (e) { /* not JSON */ }
      throw new Error(path + ": " + detail);
    }
    return response.json();
  },
  async post(path, body) {
    const response = await fetch(path, {method: "POST", body: JSON.stringify(body),
      headers: Object.assign({"Content-Type": "application/json"}, api.headers())});
    if (!response.ok) throw new Error(path + ": HTTP " + response.status);
    return response.json();
  },
};

/* Rows of a report section as objects ("" = the main table). */
function sectionRows(report, name) {
  if (!name) return report.rows;
  const s = (report.sections || []).find(x => x.name === name);
  return s ? s.rows : [];
}

/* columns: [{key, label, fmt: fn(value, row) -> html, num: bool}] */
function renderTable(element, columns, rows, options = {}) {
  if (!rows || rows.length === 0) {
    element.innerHTML = `<div class="empty">${fmt.text(options.empty || "no data in this range")}</div>`;
    return;
  }
  const head = columns.map(c => `<th class="${c.num ? "num" : ""}">${fmt.text(c.label)}</th>`).join("");
  const body = rows.map((row, i) => {
    const cells = columns.map(c => {
      const v = row[c.key];
      const html = c.fmt ? c.fmt(v, row) : fmt.text(v);
      return `<td class="${c.num ? "num" : ""}">${html}</td>`;
    }).join("");
    return `<tr data-index="${i}" class="${options.onClick ? "clickable" : ""}">${cells}</tr>`;
  }).join("");
  element.innerHTML = `<table><thead><tr>${head}</tr></thead><tbody>${body}</tbody></table>`;
  if (options.onClick) {
    element.querySelectorAll("tbody tr").forEach(tr =>
      tr.addEventListener("click", () => options.onClick(rows[Number(tr.dataset.index)])));
  }
}

/* Download a CSV link with the API key header when one is set (links alone cannot send it). */
function wireCsvLink(anchor) {
  anchor.addEventListener("click", async (event) => {
    if (!api.key()) return;
    event.preventDefault();
    const response = await fetch(anchor.href, {headers: api.headers()});
    const blob = await response.blob();
    const url = URL.createObjectURL(blob);
    const a = document.createElement("a");
    a.href = url;
    a.download = (anchor.dataset.report || "calls") + ".csv";
    a.click();
    URL.revokeObjectURL(url);
  });
}
