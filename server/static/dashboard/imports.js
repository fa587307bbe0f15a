// The layer import form: Preview shows what an import would change and changes nothing, Import
// changes it; both show the server's report as the CLI prints it (counts per layer, how its
// features were told apart, each refused feature with its reason). Text only, never HTML.
import { getJSON } from "./api.js";
import { _, formatNumber } from "./i18n.js";

// The words of the server's counts per layer.
const COUNTED = {
  created: () => _("created"), updated: () => _("updated"), unchanged: () => _("unchanged"),
  deleted: () => _("deleted"), rejected: () => _("rejected"),
};

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
  if (how.method === "id") return " " + _("(matched by RangerSync id)");
  if (how.method === "content") return " " + _("(matched by geometry and attributes)");
  if (how.method !== "key") return ` (${how.method})`;
  if (how.remembered_from) {
    return " " + _("(matched by key %(key)s, remembered from %(when)s)",
                   { key: how.key, when: how.remembered_from });
  }
  return " " + _("(matched by key %(key)s)", { key: how.key });
}

function line(tag, text, className) {
  const node = document.createElement(tag);
  node.textContent = text;
  if (className) node.className = className;
  return node;
}

function show(out, r, name) {
  out.append(line("h3", `${name}: ${r.preview ? _("preview, nothing changed") : _("imported")}`));
  out.append(line("p", _("accepted %(accepted)s (%(created)s created, %(updated)s updated, %(unchanged)s unchanged), deleted %(deleted)s, rejected %(rejected)s", {
    accepted: r.accepted, created: r.created, updated: r.updated, unchanged: r.unchanged,
    deleted: r.deleted, rejected: r.rejected.length,
  }), "summary"));
  const list = document.createElement("ul");
  for (const [layer, counts] of Object.entries(r.layers)) {
    const parts = Object.entries(counts)
      .map(([what, n]) => `${formatNumber(n)} ${(COUNTED[what] || (() => what))()}`).join(", ");
    list.append(line("li", _("layer %(layer)s: %(counts)s", { layer, counts: parts }) +
                           identity(r.identity[layer])));
  }
  for (const note of r.notes) list.append(line("li", _("note: %(note)s", { note })));
  for (const fix of r.repaired) {
    list.append(line("li", _("repaired %(feature)s: %(detail)s",
                             { feature: `${fix.source_layer}#${fix.index}`, detail: fix.detail })));
  }
  out.append(list);
  if (!r.rejected.length) return;
  const table = document.createElement("table");
  table.className = "rejected";
  const head = table.createTHead().insertRow();
  for (const title of [_("Feature"), _("Reason"), _("Detail"), _("Where")]) head.append(line("th", title));
  const rows = table.createTBody();
  for (const x of r.rejected) {
    const row = rows.insertRow();
    const where = x.location ? `${formatNumber(x.location[0], 6)}; ${formatNumber(x.location[1], 6)}` : "";
    const id = x.source_id ? " " + _("(id %(id)s)", { id: x.source_id }) : "";
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
    for (const text of [l.name, l.kind, formatNumber(l.count), l.geometry_types.join(", ")]) row.append(line("td", text));
    return row;
  }));
}
