// The alerts page: issue an alert, cancel one, and refresh its tables in place when the live feed
// (followed by ops.js for the whole page) says an alert was raised, acknowledged, escalated,
// cancelled or handled. The tables are the server's own rendering, fetched again: what is shown is
// always what the server holds, and the page never reloads under the manager's hands.
import { send } from "./api.js";
import { _ } from "./i18n.js";
import { parkTime } from "./time.js";

const TABLES = ["#active-alerts", "#past-alerts"];

function problemText(error) {
  const errors = error.problem?.errors;
  if (!errors || typeof errors !== "object") return error.message;
  const lines = Object.entries(errors).map(([field, why]) => `${field}: ${JSON.stringify(why)}`);
  return `${error.message} (${lines.join("; ")})`;
}

// The request body from the form, or a message saying what is missing. Nothing is guessed:
// an empty field is left out, never sent as 0.
export function alertBody(f, now = new Date()) {
  const body = { message: f.message.value.trim(), severity: f.severity.value };
  if (f.valid_hours.value) {
    const hours = Number(f.valid_hours.value);
    if (!(hours > 0)) return { error: _("Valid for: a number of hours above 0") };
    body.valid_until = new Date(now.getTime() + hours * 3600_000).toISOString();
  }
  const point = [f.lat.value, f.lon.value, f.radius_km.value];
  const polygon = f.polygon.value.trim();
  if (point.some((v) => v !== "")) {
    if (point.some((v) => v === "")) return { error: _("Give latitude, longitude and radius together") };
    if (polygon) return { error: _("Give either a point and radius or a polygon, not both") };
    body.geometry = { type: "Point", coordinates: [Number(f.lon.value), Number(f.lat.value)] };
    body.radius_m = Number(f.radius_km.value) * 1000;
  } else if (polygon) {
    try {
      body.geometry = JSON.parse(polygon);
    } catch {
      return { error: _("The polygon is not valid JSON") };
    }
  }
  body.audience = f.audience.value === "geofence" ? { geofence: true } : {};
  return { body };
}

function issueForm(form) {
  const errorLine = document.getElementById("issue-error");
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const { body, error } = alertBody(form.elements);
    if (error) {
      errorLine.textContent = error;
      return;
    }
    try {
      await send("POST", form.dataset.api, body);
      form.reset();
      errorLine.textContent = "";
      await refresh();
    } catch (failure) {
      errorLine.textContent = problemText(failure);
    }
  });
}

function cancelButtons(root) {
  const errorLine = document.getElementById("cancel-error");
  root.addEventListener("click", async (event) => {
    const id = event.target.dataset?.cancel;
    if (!id || !confirm(_("Cancel this alert? Devices drop it on their next sync."))) return;
    try {
      await send("POST", `/api/v1/alerts/${id}/cancel`);
      await refresh();
    } catch (failure) {
      errorLine.textContent = problemText(failure);
    }
  });
}

// The tables' bodies as the server renders them now, swapped in; the "who" lists that were open
// stay open. A call during a refresh makes one more refresh after it, so the last word is shown.
async function refreshOnce() {
  const response = await fetch(location.href, { credentials: "same-origin" });
  if (!response.ok) return;
  const fresh = new DOMParser().parseFromString(await response.text(), "text/html");
  for (const selector of TABLES) {
    const old = document.querySelector(`${selector} tbody`);
    const now = fresh.querySelector(`${selector} tbody`);
    if (!old || !now) continue;
    const open = new Set([...old.querySelectorAll("details[open]")]
      .map((d) => d.closest("tr").dataset.alert));
    for (const tr of now.querySelectorAll("tr[data-alert]")) {
      if (open.has(tr.dataset.alert)) tr.querySelector("details")?.setAttribute("open", "");
    }
    old.replaceWith(now);
  }
  document.body.dataset.refreshed = String(Number(document.body.dataset.refreshed || 0) + 1);
}

let running = null;
let again = false;
export function refresh() {
  if (running) {
    again = true;
    return running;
  }
  running = (async () => {
    try {
      do {
        again = false;
        await refreshOnce();
      } while (again);
    } finally {
      running = null;
    }
  })();
  return running;
}

function follow(status) {
  document.addEventListener("rangersync:live", () => {
    refresh();
    const zone = document.getElementById("ops")?.dataset.zone || "UTC";
    status.textContent = _("Following live; updated %(when)s", { when: parkTime(new Date().toISOString(), zone) });
  });
}

export function alertsPage(root) {
  issueForm(document.getElementById("issue-alert"));
  cancelButtons(root);
  follow(document.getElementById("live-status"));
  root.dataset.ready = "true";
}
