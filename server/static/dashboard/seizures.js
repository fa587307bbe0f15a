// The managers' seizure form: items with a taxon looked up by name (or kept as words until it is
// identified), units limited to those the CITES guidelines give for the specimen type. It files
// the seizure with an id made here, so a double click or a retry cannot file it twice.
import { areaPath, getJSON, send } from "./api.js";
import { _ } from "./i18n.js";

const codes = (text) => text.split(/[;,\s]+/).map((c) => c.trim().toUpperCase()).filter(Boolean);

function offsetOf(localValue, zone) {
  // The park's UTC offset at that local time, as "+03:00".
  const probe = new Date(`${localValue}:00Z`);
  const parts = new Intl.DateTimeFormat("en-GB", {
    timeZone: zone, hourCycle: "h23", year: "numeric", month: "2-digit", day: "2-digit",
    hour: "2-digit", minute: "2-digit",
  }).formatToParts(probe);
  const get = (type) => Number(parts.find((p) => p.type === type).value);
  const asLocal = Date.UTC(get("year"), get("month") - 1, get("day"), get("hour"), get("minute"));
  const minutes = Math.round((asLocal - probe.getTime()) / 60000);
  const sign = minutes < 0 ? "-" : "+";
  const abs = Math.abs(minutes);
  return `${sign}${String(Math.floor(abs / 60)).padStart(2, "0")}:${String(abs % 60).padStart(2, "0")}`;
}

// Seizures and items per month of the year, beside the tables (uPlot, served by this server).
export function monthChart(element) {
  if (!element || typeof uPlot === "undefined") return;
  const rows = JSON.parse(element.dataset.months);
  const year = Number(element.dataset.year);
  const months = Array.from({ length: 12 }, (_, i) => `${year}-${String(i + 1).padStart(2, "0")}`);
  const of = (key) => months.map((m) => rows.find((r) => r.month === m)?.[key] || 0);
  const xs = months.map((m) => Date.parse(`${m}-01T00:00:00Z`) / 1000);
  new uPlot({
    width: Math.min(element.clientWidth || 800, 900), height: 200, scales: { x: { time: true } },
    series: [{ label: _("Month") }, { label: _("seizures"), stroke: "#67001f", fill: "rgba(103,0,31,.15)" },
             { label: _("items"), stroke: "#fc8d59" }],
  }, [xs, of("seizures"), of("items")], element);
}

function limitUnits(item) {
  const term = item.querySelector("select[name=term]");
  const unit = item.querySelector("select[name=unit]");
  const allowed = term.selectedOptions[0].dataset.units.split(" ");
  for (const option of unit.options) option.disabled = !allowed.includes(option.value);
  if (!allowed.includes(unit.value)) unit.value = allowed[0];
}

export function seizureForm(form) {
  if (!form) return;
  const taxa = new Map();
  const list = document.getElementById("taxa-list");
  const template = document.getElementById("item-template");
  const addItem = () => {
    const item = template.content.firstElementChild.cloneNode(true);
    item.querySelector("select[name=term]").addEventListener("change", () => limitUnits(item));
    limitUnits(item);
    template.parentNode.insertBefore(item, document.getElementById("add-item"));
  };
  document.getElementById("add-item").addEventListener("click", addItem);
  addItem();
  form.addEventListener("input", async (event) => {
    if (event.target.name !== "taxon" || event.target.value.length < 3) return;
    const found = await getJSON(`/api/v1/taxa?q=${encodeURIComponent(event.target.value)}&limit=20`);
    list.replaceChildren(...found.map((t) => {
      taxa.set(t.scientific_name, t.id);
      const option = document.createElement("option");
      option.value = t.scientific_name;
      option.label = Object.values(t.common_names).flat().slice(0, 3).join(", ");
      return option;
    }));
  });
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const f = form.elements;
    const items = [...form.querySelectorAll(".item")].map((row) => {
      const get = (name) => row.querySelector(`[name=${name}]`).value.trim();
      const item = { term: get("term"), unit: get("unit"), quantity: Number(get("quantity")) };
      const name = get("taxon");
      if (taxa.has(name)) item.taxon_id = taxa.get(name); else item.taxon_text = name;
      if (get("count")) item.count = Number(get("count"));
      if (get("value")) item.value = Number(get("value"));
      if (get("currency")) item.currency = get("currency").toUpperCase();
      if (get("source")) item.source = get("source");
      return item;
    });
    const body = {
      id: form.dataset.id || (form.dataset.id = crypto.randomUUID()),
      seized_at: `${f.seized_at.value}:00${offsetOf(f.seized_at.value, f.timezone.value)}`,
      geometry: { type: "Point", coordinates: [Number(f.lon.value), Number(f.lat.value)] },
      agency: f.agency.value.trim(),
      detection_method: f.detection_method.value,
      transport_mode: f.transport_mode.value,
      origin_countries: codes(f.origin_countries.value),
      transit_countries: codes(f.transit_countries.value),
      destination_countries: codes(f.destination_countries.value),
      offender_nationalities: codes(f.offender_nationalities.value),
      items,
    };
    for (const name of ["place_name", "operation", "reference", "notes", "reason"]) {
      if (f[name].value.trim()) body[name] = f[name].value.trim();
    }
    const error = document.getElementById("seizure-error");
    const open = (id) => location.assign(`${location.pathname.replace(/\/seizures$/, "")}/seizures/${id}`);
    try {
      open((await send("POST", areaPath(form.dataset.area, "/seizures"), body)).id);
    } catch (problem) {
      // Already filed (an earlier answer was lost): show the stored one, never file it twice.
      if (problem.problem?.status === 409) return open(body.id);
      const fields = problem.problem?.errors ? JSON.stringify(problem.problem.errors) : "";
      error.textContent = `${problem.message} ${fields}`.trim();
    }
  });
}
