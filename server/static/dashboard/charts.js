// Charts and tables of the analytics page, drawn from the API with uPlot (served by this server).
import { getJSON } from "./api.js";
import { _, formatNumber } from "./i18n.js";

const fmt = (x, digits = 1) => formatNumber(x === null || x === undefined ? null : Number(x), digits);

function fill(table, rows, cells) {
  const body = table.querySelector("tbody");
  body.replaceChildren(...rows.map((row) => {
    const tr = document.createElement("tr");
    for (const value of cells(row)) {
      const td = document.createElement("td");
      td.textContent = value;
      tr.append(td);
    }
    return tr;
  }));
  if (!rows.length) {
    const td = document.createElement("td");
    td.colSpan = 9;
    td.textContent = _("Nothing in this period.");
    body.replaceChildren(document.createElement("tr"));
    body.firstChild.append(td);
  }
}

function days(start, end) {
  const out = [];
  for (let d = new Date(`${start}T00:00:00Z`); d <= new Date(`${end}T00:00:00Z`);
       d.setUTCDate(d.getUTCDate() + 1)) out.push(d.toISOString().slice(0, 10));
  return out;
}

function plot(element, series, data, width) {
  element.replaceChildren();
  // The x values are the park's calendar days (the API counts days in the park's zone), written
  // as UTC midnights; read back in UTC they are the same days whatever the browser's own zone.
  return new uPlot({ width, height: 220, series, axes: [{}, {}], scales: { x: { time: true } },
                     tzDate: (ts) => uPlot.tzDate(new Date(ts * 1e3), "Etc/UTC") },
                   data, element);
}

export async function analytics(root) {
  const api = root.dataset.api;
  const q = root.dataset.query;
  const params = new URLSearchParams(q);
  const width = Math.min(root.clientWidth || 800, 900);

  const perDay = await getJSON(`${api}/effort?by=day&${q}`);
  const hours = new Map(perDay.map((r) => [r.key, r.hours]));
  const xs = days(params.get("start"), params.get("end"));
  plot(document.getElementById("chart-effort"),
       [{ label: _("Day") }, { label: _("hours"), stroke: "#2f5d3a", fill: "rgba(47,93,58,.2)" }],
       [xs.map((d) => Date.parse(d) / 1000), xs.map((d) => hours.get(d) || 0)], width);

  const trends = await getJSON(`${api}/findings/trends?${q}`);
  const months = [...new Set(xs.map((d) => d.slice(0, 7)))];
  const findings = months.map((m) => trends.filter((t) => t.month === m)
                                           .reduce((n, t) => n + t.findings, 0));
  const effort = months.map((m) => trends.find((t) => t.month === m)?.hours || 0);
  plot(document.getElementById("chart-trends"),
       [{ label: _("Month") }, { label: _("findings"), stroke: "#d7301f" },
        { label: _("per 100 h"), stroke: "#08519c" }],
       [months.map((m) => Date.parse(`${m}-01`) / 1000), findings,
        findings.map((n, i) => (effort[i] ? (100 * n) / effort[i] : null))], width);

  const effortTable = document.getElementById("effort-table");
  const showEffort = async (by) => {
    const rows = await getJSON(`${api}/effort?by=${by}&${q}`);
    fill(effortTable, rows, (r) => [r.label, formatNumber(r.patrols), fmt(r.km), fmt(r.hours),
                                    fmt(r.moving_hours)]);
    document.getElementById("effort-csv").href = `${api}/effort?by=${by}&${q}&format=csv`;
  };
  document.querySelectorAll("[data-by]").forEach((b) =>
    b.addEventListener("click", () => showEffort(b.dataset.by)));
  await showEffort("ranger");

  const cpue = await getJSON(`${api}/findings/cpue?${q}`);
  fill(document.getElementById("cpue-table"), cpue, (r) =>
    [r.category, formatNumber(r.findings), fmt(r.per_km && 100 * r.per_km, 2),
     fmt(r.per_hour && 100 * r.per_hour, 2)]);
  const hot = await getJSON(`${api}/findings/hotspots?${q}`);
  fill(document.getElementById("hotspot-table"), hot, (r) =>
    [`${r.i}; ${r.j}`, formatNumber(r.findings), r.categories, fmt(r.hours)]);
  root.dataset.ready = "true";
}
