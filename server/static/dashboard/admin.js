// The area admins' pages: people and roles, device enrolment and revocation. Every change goes
// through the API (the same calls a script makes); the page then reloads, so what is shown is
// what the server holds. The QR code of an enrolment code is drawn by the server (SVG).
import { areaPath, send } from "./api.js";
import { _, formatTime } from "./i18n.js";

function failed(line) {
  return (error) => { line.textContent = error.message; };
}

export function peopleForms(root, area) {
  const errorLine = root.querySelector("#people-error");
  const fail = failed(errorLine);
  root.querySelector("#add-person")?.addEventListener("submit", async (event) => {
    event.preventDefault();
    const f = event.target.elements;
    const body = { username: f.username.value, password: f.password.value, role: f.role.value };
    if (f.display_name.value) body.display_name = f.display_name.value;
    try {
      await send("POST", areaPath(area, "/members"), body);
      location.reload();
    } catch (error) { fail(error); }
  });
  root.querySelector("#give-role")?.addEventListener("submit", async (event) => {
    event.preventDefault();
    const f = event.target.elements;
    try {
      await send("PUT", areaPath(area, `/members/${encodeURIComponent(f.username.value)}`),
                 { role: f.role.value });
      location.reload();
    } catch (error) { fail(error); }
  });
  root.querySelectorAll("select[name=role][data-username]").forEach((select) => {
    const before = select.value;
    select.addEventListener("change", async () => {
      try {
        await send("PUT", areaPath(area, `/members/${encodeURIComponent(select.dataset.username)}`),
                   { role: select.value });
        location.reload();
      } catch (error) { select.value = before; fail(error); }
    });
  });
  root.addEventListener("click", async (event) => {
    const button = event.target.closest("button[data-action=disable]");
    if (!button) return;
    const username = button.dataset.username;
    if (!confirm(_("Disable %(name)s? Their sessions and devices stop working at once.", { name: username }))) return;
    try {
      await send("POST", `/api/v1/users/${encodeURIComponent(username)}/disable`, {});
      location.reload();
    } catch (error) { fail(error); }
  });
}

export function enrolmentForms(root, area) {
  const fail = failed(root.querySelector("#enrolment-error"));
  root.querySelector("#enrol")?.addEventListener("submit", async (event) => {
    event.preventDefault();
    try {
      const issued = await send("POST", areaPath(area, "/enrolment-codes"),
                                { username: event.target.elements.username.value });
      const shown = root.querySelector("#enrolment-code");
      root.querySelector("#enrolment-qr").innerHTML = issued.qr_svg;  // drawn by our server
      root.querySelector("#enrolment-qr svg")?.setAttribute("aria-label", _("Enrolment QR code"));
      root.querySelector("#enrolment-code-text").textContent = issued.code;
      root.querySelector("#enrolment-for").textContent = issued.username;
      root.querySelector("#enrolment-expires").textContent = formatTime(issued.expires_at);
      shown.hidden = false;
    } catch (error) { fail(error); }
  });
  root.addEventListener("click", async (event) => {
    const button = event.target.closest("button[data-action=revoke]");
    if (!button) return;
    if (!confirm(_("Revoke %(name)s? It stops syncing at once; what it sent stays.", { name: button.dataset.name }))) return;
    try {
      await send("POST", `/api/v1/devices/${button.dataset.device}/revoke`, {});
      location.reload();
    } catch (error) { fail(error); }
  });
}
