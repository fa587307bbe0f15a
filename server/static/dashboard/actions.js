// Buttons that change things: report triage, plans, quarantine and conflicts. Each calls the API
// and reloads the page, so what is shown is always what the server holds.
import { send } from "./api.js";
import { _ } from "./i18n.js";

export function triage(form) {
  if (!form) return;
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const status = event.submitter.value;
    const notes = form.elements.notes.value;
    try {
      await send("POST", `/api/v1/reports/${form.dataset.report}/status`, {
        status, base_version: Number(form.dataset.version), notes: notes || null,
      });
      location.reload();
    } catch (error) {
      document.getElementById("triage-error").textContent = error.message;
    }
  });
}

export function planForm(form) {
  if (!form) return;
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const f = form.elements;
    const body = {
      name: f.name.value, starts_on: f.starts_on.value, ends_on: f.ends_on.value,
      zone_ids: [...f.zone_ids.selectedOptions].map((o) => o.value),
    };
    if (f.target_hours.value) body.target_hours = Number(f.target_hours.value);
    if (f.target_km.value) body.target_km = Number(f.target_km.value);
    try {
      await send("POST", `${form.dataset.api}/plans`, body);
      location.reload();
    } catch (error) {
      document.getElementById("plan-error").textContent = error.message;
    }
  });
}

const REVIEW = {
  readmit: (id) => send("POST", `/api/v1/quarantine/${id}/readmit`, {}),
  dismiss: (id) => send("POST", `/api/v1/quarantine/${id}/dismiss`,
                        { reason: prompt(_("Why dismiss it?")) || _("dismissed from the dashboard") }),
  resolve: (id) => send("POST", `/api/v1/conflicts/${id}/resolve`),
};

export function reviewButtons(root, errorLine) {
  root.addEventListener("click", async (event) => {
    const action = REVIEW[event.target.dataset?.action];
    if (!action) return;
    try {
      await action(event.target.dataset.id);
      location.reload();
    } catch (error) {
      errorLine.textContent = error.message;
    }
  });
}
