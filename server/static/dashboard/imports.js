// The layer import form: Preview shows what an import would change and changes nothing, Import
// changes it; both show the server's report as the CLI prints it (counts per layer, how its
// features were told apart, each refused feature with its reason). Text only, never HTML.
import { getJSON } from "./api.js";

export function importForm(form, out, errorLine, layerRows) {
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const preview = event.submitter?.value !== "import";
    const f = form.elements;
    const query = new URLSearchParams({ preview, replace: f.replace.checked, repair: f.repair.checked });
    if (f.layer.value) query.set("layer", f.layer.value);
    if (f.key.value) query.set("key", f.key.value);
    const body = new FormData();
    body.append("file", f.file.files[0]);
    errorLine.textContent = "";
    out.replaceChildren();
    const response = await fetch(`${form.dataset.api}/imports?${query}`, {
      method: "POST",
      credentials: "same-origin",
      headers: { "X-Requested-With": "fetch" },
      body,
    });
    const report = await response.json().catch(() => ({}));
    if (!response.ok) {
      errorLine.textContent = report.detail || report.title || `${response.status}`;
      return;
    }
    show(out, report, f.file.files[0].name);
    if (!preview) layers(layerRows, `${form.dataset.api}/layers`);
  });
}

function identity(how) {
  if (!how) return "";
  if (how.method !== "key") return ` (matched by ${how.method})`;
  const from = how.remembered_from ? `, remembered from ${how.remembered_from}` : "";
  return ` (matched by key ${how.key}${from})`;
}

function line(tag, text, className) {
  const node = document.createElement(tag);
  node.textContent = text;
  if (className) node.className = className;
  return node;
}

function show(out, r, name) {
  out.append(line("h3", `${name}: ${r.preview ? "preview, nothing changed" : "imported"}`));
  out.append(line("p", `accepted ${r.accepted} (${r.created} created, ${r.updated} updated, ` +
    `${r.unchanged} unchanged), deleted ${r.deleted}, rejected ${r.rejected.length}`, "summary"));
  const list = document.createElement("ul");
  for (const [layer, counts] of Object.entries(r.layers)) {
    const parts = Object.entries(counts).map(([what, n]) => `${n} ${what}`).join(", ");
    list.append(line("li", `layer ${layer}: ${parts}${identity(r.identity[layer])}`));
  }
  for (const note of r.notes) list.append(line("li", `note: ${note}`));
  for (const fix of r.repaired) list.append(line("li", `repaired ${fix.source_layer}#${fix.index}: ${fix.detail}`));
  out.append(list);
  if (!r.rejected.length) return;
  const table = document.createElement("table");
  table.className = "rejected";
  const head = table.createTHead().insertRow();
  for (const title of ["Feature", "Reason", "Detail", "Where"]) head.append(line("th", title));
  const rows = table.createTBody();
  for (const x of r.rejected) {
    const row = rows.insertRow();
    const where = x.location ? `${x.location[0].toFixed(6)}, ${x.location[1].toFixed(6)}` : "";
    const id = x.source_id ? ` (id ${x.source_id})` : "";
    for (const text of [`${x.source_layer}#${x.index}${id}`, x.reason, x.detail, where]) {
      row.append(line("td", text));
    }
  }
  out.append(table);
}

async function layers(rows, path) {
  const found = await getJSON(path);
  rows.replaceChildren(...found.map((l) => {
    const row = document.createElement("tr");
    for (const text of [l.name, l.kind, `${l.count}`, l.geometry_types.join(", ")]) row.append(line("td", text));
    return row;
  }));
}
