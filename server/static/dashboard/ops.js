// The operations room on every dashboard page: one live feed (SSE) per page, a banner of the
// area's active SOS and critical alerts as cards (the ranger, their phone, last position and
// patrol, time since the last fix, the handling so far and its buttons), a sound and a count in
// the tab's title when one arrives. Other page modules follow the same feed through the
// `rangersync:live` DOM event instead of opening a stream of their own.
import { areaPath, getJSON, send } from "./api.js";
import { _ } from "./i18n.js";
import { parkTime, since } from "./time.js";

const LIVE_EVENTS = ["alert", "acknowledged", "escalated", "cancelled", "handling"];
const STATE_TEXT = { open: _("Nobody is handling it yet"), acknowledged: _("Being handled"),
  assigned: _("Responder assigned"), resolved: _("Resolved") };

const STEP_TEXT = { acknowledge: _("is handling it"), assign: _("assigned"), note: _("note"),
  resolve: _("resolved") };

const urgent = (a) => a.kind === "sos" || a.severity === "critical";

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === null || v === undefined || v === false) continue;
    if (k === "text") node.textContent = v;
    else if (k === "dataset") Object.assign(node.dataset, v);
    else node.setAttribute(k, v === true ? "" : v);
  }
  node.append(...children.filter((c) => c !== null && c !== undefined));
  return node;
}

// A siren-like pair of tones, made on the spot (no sound file). Browsers let a page make sound
// only after the person has interacted with it once: until then the banner says so.
class Alarm {
  constructor(button) {
    this.button = button;
    this.muted = localStorage.getItem("rangersync-mute") === "1";
    this.context = null;
    this.played = 0;
    this.label();
    // The first click or key anywhere on the page unlocks sound for the rest of the visit.
    const unlock = () => {
      try {
        this.context ||= new AudioContext();
        this.context.resume();
      } catch {
        // No audio device.
      }
      this.label();
    };
    document.addEventListener("pointerdown", unlock, { once: true, capture: true });
    document.addEventListener("keydown", unlock, { once: true, capture: true });
    button.addEventListener("click", () => {
      this.muted = !this.muted;
      localStorage.setItem("rangersync-mute", this.muted ? "1" : "0");
      this.label();
      if (!this.muted) this.ring();
    });
  }

  label() {
    const locked = !this.muted && this.context?.state !== "running";
    this.button.textContent = this.muted ? _("Sound off")
      : locked ? _("Sound on (click the page once to allow it)") : _("Sound on");
    this.button.setAttribute("aria-pressed", String(!this.muted));
  }

  ring() {
    if (this.muted) return;
    try {
      this.context ||= new AudioContext();
      if (this.context.state === "suspended") this.context.resume();
      const start = this.context.currentTime;
      for (let i = 0; i < 6; i++) {
        const tone = this.context.createOscillator();
        const gain = this.context.createGain();
        tone.type = "square";
        tone.frequency.value = i % 2 ? 660 : 880;
        gain.gain.setValueAtTime(0.08, start + i * 0.25);
        gain.gain.exponentialRampToValueAtTime(0.001, start + i * 0.25 + 0.24);
        tone.connect(gain).connect(this.context.destination);
        tone.start(start + i * 0.25);
        tone.stop(start + i * 0.25 + 0.25);
      }
      this.played += 1;
      document.body.dataset.alarms = String(this.played);
      this.context.addEventListener("statechange", () => this.label(), { once: true });
    } catch {
      // No audio device: the banner and the title still say it.
    }
  }
}

export function showOnMap(slug, lon, lat, label) {
  if (window.focusDashboardMap) {
    window.focusDashboardMap(lon, lat, label);
    return;
  }
  const query = new URLSearchParams({ focus: `${lon},${lat}`, label });
  location.assign(`/areas/${encodeURIComponent(slug)}/map?${query}`);
}

class Room {
  constructor(root, slug, zone) {
    this.root = root;
    this.slug = slug;
    this.zone = zone;
    this.cards = new Map();  // alert id → card (as the API gives it)
    this.title = document.title;
    this.list = root.querySelector(".ops-cards");
    this.alarm = new Alarm(root.querySelector(".ops-sound"));
    setInterval(() => this.tick(), 15_000);
  }

  put(card) {
    if (card.state === "resolved" || card.alert.cancelled_at) this.cards.delete(card.alert.id);
    else this.cards.set(card.alert.id, card);
    this.render();
  }

  drop(id) {
    if (this.cards.delete(id)) this.render();
  }

  render() {
    const cards = [...this.cards.values()].sort((a, b) =>
      (b.alert.kind === "sos") - (a.alert.kind === "sos") ||
      b.alert.created_at.localeCompare(a.alert.created_at));
    const open = this.list.querySelectorAll("details[open]");
    const keep = new Set([...open].map((d) => d.dataset.alert));
    const focused = document.activeElement?.closest?.(".ops-card");
    // A card being typed in is left as it is: an officer's half-written note is never wiped.
    const typing = focused && this.root.contains(focused) ? focused.dataset.alert : null;
    const nodes = cards.map((c) => (c.alert.id === typing
      ? this.list.querySelector(`.ops-card[data-alert="${typing}"]`)
      : this.card(c, keep.has(c.alert.id) || c.alert.kind === "sos")));
    this.list.replaceChildren(...nodes);
    this.root.hidden = cards.length === 0;
    const sos = cards.filter((c) => c.alert.kind === "sos").length;
    const count = cards.length;
    document.title = count ? `(${count}) ${sos ? "SOS" : "CRITICAL"} · ${this.title}` : this.title;
    this.root.querySelector(".ops-count").textContent =
      _("SOS: %(sos)s · critical alerts: %(critical)s", { sos, critical: count - sos });
    this.root.classList.toggle("has-sos", sos > 0);
    this.root.dataset.count = String(count);
  }

  tick() {
    for (const node of this.root.querySelectorAll("[data-fix-at]")) {
      node.textContent = since(node.dataset.fixAt);
    }
  }

  card(c, open) {
    const a = c.alert, r = c.ranger;
    const who = r ? (r.display_name || r.username) : null;
    const headline = a.kind === "sos" ? _("SOS: %(who)s", { who: who || _("a ranger") })
      : `${a.severity.toUpperCase()}: ${a.kind.replaceAll("_", " ")}`;
    const facts = el("dl", { class: "ops-facts" });
    const fact = (term, ...value) => facts.append(el("dt", { text: term }), el("dd", {}, ...value));
    fact(_("Message"), a.message);
    fact(_("Raised"), parkTime(a.created_at, this.zone));
    if (r) {
      fact(_("Ranger"), `${who}${r.device_name ? ` (${r.device_name})` : ""}`);
      fact(_("Phone"), r.phone ? el("a", { href: `tel:${r.phone}`, class: "ops-phone", text: r.phone })
        : _("no number on file"));
      if (r.last_position) {
        const [lon, lat] = r.last_position.coordinates;
        const button = el("button", { type: "button", class: "ops-show", text: _("Show on map") });
        button.addEventListener("click", () => showOnMap(this.slug, lon, lat, who || ""));
        fact(_("Last position"), `${lat.toFixed(5)}, ${lon.toFixed(5)} `, button);
        fact(_("Last fix"), el("span", { class: "ops-since", dataset: { fixAt: r.last_fix_at },
                                      text: since(r.last_fix_at) }),
             ` (${parkTime(r.last_fix_at, this.zone)})`);
      }
      if (r.patrol_id) {
        fact(_("Patrol"), el("a", { href: `/areas/${encodeURIComponent(this.slug)}/patrols/${r.patrol_id}`,
                                    text: _("open the patrol") }));
      }
    }
    fact(_("Handling"), el("strong", { class: "ops-state", text: STATE_TEXT[c.state] || c.state }),
         c.handled_by ? ` ${_("by %(name)s", { name: c.handled_by })}` : "",
         c.responder ? `; ${_("responder: %(name)s", { name: c.responder })}` : "");
    const steps = el("ol", { class: "ops-steps" }, ...c.steps.map((s) => el("li", {
      text: `${parkTime(s.at, this.zone)} · ${s.by_name}: ${STEP_TEXT[s.step] || s.step}` +
            `${s.responder ? ` → ${s.responder}` : ""}${s.note ? ` — ${s.note}` : ""}` })));
    const form = el("form", { class: "ops-actions" });
    const error = el("p", { class: "error", role: "alert" });
    if (!c.handled_by) form.append(el("button", { type: "button", value: "acknowledge", text: _("I'm handling it") }));
    form.append(
      el("label", {}, `${_("Responder")} `, el("input", { name: "responder", maxlength: "200", placeholder: _("who goes") })),
      el("button", { type: "button", value: "assign", text: _("Assign") }),
      el("label", {}, `${_("Note")} `, el("input", { name: "note", maxlength: "2000" })),
      el("button", { type: "button", value: "note", text: _("Add note") }),
      el("button", { type: "button", value: "resolve", class: "ops-resolve", text: _("Resolve") }),
    );
    form.addEventListener("click", (event) => {
      const step = event.target.closest("button")?.value;
      if (step) this.step(a.id, step, form, error);
    });
    const summary = el("summary", {}, el("strong", { text: headline }), " · ",
                       el("span", { text: STATE_TEXT[c.state] || c.state }));
    return el("details", { class: `ops-card severity-${a.severity} kind-${a.kind}`, open,
                           dataset: { alert: a.id, state: c.state } },
              summary, facts, steps, form, error);
  }

  async step(id, step, form, error) {
    const body = { step };
    const responder = form.elements.responder.value.trim();
    const note = form.elements.note.value.trim();
    if (step === "assign") {
      if (!responder) { error.textContent = _("Name the responder first."); return; }
      body.responder = responder;
    }
    if ((step === "note" || step === "resolve") && note) body.note = note;
    if (step === "note" && !note) { error.textContent = _("Write the note first."); return; }
    try {
      const card = await send("POST", `/api/v1/alerts/${id}/handling`, body);
      document.activeElement?.blur();
      this.put(card);
    } catch (failure) {
      error.textContent = failure.message;
    }
  }

  async arrived(alert) {
    if (!urgent(alert) || alert.cancelled_at) return;
    const fresh = !this.cards.has(alert.id);
    try {
      this.put(await getJSON(`/api/v1/alerts/${alert.id}/card`));
    } catch {
      this.put({ alert, ranger: null, steps: [], state: "open" });
    }
    if (fresh) this.alarm.ring();
  }
}

// `after`: the last live event the page knew of when it was made; the feed resumes after it, and
// the cards are fetched once the feed is open, so nothing falls between the two.
export function opsRoom(root, slug, zone, after) {
  const room = new Room(root, slug, zone);
  window.opsRoom = room;
  const load = getJSON(areaPath(slug, "/alerts/urgent")).then((cards) => {
    for (const card of cards) room.put(card);
    if (cards.some((c) => c.state === "open")) room.alarm.ring();
  }).catch(() => {});
  if (!window.EventSource) return room;
  const source = new EventSource(areaPath(slug, `/live?after=${after}`));
  const status = root.parentNode.querySelector(".ops-live");
  for (const kind of LIVE_EVENTS) {
    source.addEventListener(kind, async (event) => {
      const data = JSON.parse(event.data);
      await load;
      if (kind === "alert" || kind === "escalated") room.arrived(data);
      else if (kind === "cancelled") room.drop(data.id);
      else if (kind === "handling") room.put(data);
      document.dispatchEvent(new CustomEvent("rangersync:live", { detail: { kind, data } }));
    });
  }
  source.addEventListener("open", () => {
    if (status) { status.textContent = `● ${_("live")}`; status.dataset.state = "open"; }
    document.body.dataset.live = "open";
  });
  source.addEventListener("error", () => {
    if (status) { status.textContent = `○ ${_("reconnecting…")}`; status.dataset.state = "error"; }
  });
  return room;
}
