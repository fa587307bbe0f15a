// The alerts page: issue an alert, cancel one, and reload when the live feed (SSE) says an alert
// was raised, acknowledged, escalated or cancelled. Every change goes through the API and the page
// reloads, so what is shown is always what the server holds.
import { areaPath, send } from "./api.js";

const LIVE_EVENTS = ["alert", "acknowledged", "escalated", "cancelled"];

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
    if (!(hours > 0)) return { error: "Valid for: a number of hours above 0" };
    body.valid_until = new Date(now.getTime() + hours * 3600_000).toISOString();
  }
  const point = [f.lat.value, f.lon.value, f.radius_km.value];
  const polygon = f.polygon.value.trim();
  if (point.some((v) => v !== "")) {
    if (point.some((v) => v === "")) return { error: "Give latitude, longitude and radius together" };
    if (polygon) return { error: "Give either a point and radius or a polygon, not both" };
    body.geometry = { type: "Point", coordinates: [Number(f.lon.value), Number(f.lat.value)] };
    body.radius_m = Number(f.radius_km.value) * 1000;
  } else if (polygon) {
    try {
      body.geometry = JSON.parse(polygon);
    } catch {
      return { error: "The polygon is not valid JSON" };
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
      location.reload();
    } catch (failure) {
      errorLine.textContent = problemText(failure);
    }
  });
}

function cancelButtons(root) {
  const errorLine = document.getElementById("cancel-error");
  root.addEventListener("click", async (event) => {
    const id = event.target.dataset?.cancel;
    if (!id || !confirm("Cancel this alert? Devices drop it on their next sync.")) return;
    try {
      await send("POST", `/api/v1/alerts/${id}/cancel`);
      location.reload();
    } catch (failure) {
      errorLine.textContent = problemText(failure);
    }
  });
}

// Reload when the area's live feed announces a change after the events the page was rendered
// with, unless the manager is typing an alert (then say so).
function follow(slug, after, status) {
  if (!window.EventSource) return;
  const source = new EventSource(areaPath(slug, `/live?after=${after}`));
  const form = document.getElementById("issue-alert");
  const busy = () => form.contains(document.activeElement) && form.elements.message.value;
  for (const kind of LIVE_EVENTS) {
    source.addEventListener(kind, () => {
      if (busy()) status.textContent = "New activity: reload to see it.";
      else location.reload();
    });
  }
  source.addEventListener("open", () => { status.textContent = "Following live."; });
  source.addEventListener("error", () => { status.textContent = "Live feed interrupted; reload to refresh."; });
}

export function alertsPage(root, slug, afterEvent) {
  issueForm(document.getElementById("issue-alert"));
  cancelButtons(root);
  follow(slug, afterEvent, document.getElementById("live-status"));
  root.dataset.ready = "true";
}
