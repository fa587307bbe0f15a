// The page's language for its scripts: `_("…")` looks a string up in the JSON catalogue the
// server renders into each page (server/core/i18n.py); `make messages` finds these calls.
// Parameters are named as in Python: _("%(n)s rangers", {n: 3}). Times are shown in the park's
// zone, named, and numbers as the page's language writes them.
const element = document.getElementById("i18n");
const data = element ? JSON.parse(element.textContent) : {};
const messages = data.messages || {};

export const locale = data.locale || "en";
export const timeZone = data.time_zone || undefined;

export function _(msgid, params) {
  const text = messages[msgid] || msgid;
  if (!params) return text;
  return text.replace(/%\((\w+)\)s/g, (whole, name) => (name in params ? String(params[name]) : whole));
}

export function formatTime(value, options = {}) {
  if (value === null || value === undefined || value === "") return "—";
  const when = value instanceof Date ? value : new Date(value);
  // (dateStyle cannot be combined with timeZoneName: the parts are named one by one)
  return new Intl.DateTimeFormat(locale, {
    year: "numeric", month: "short", day: "numeric", hour: "numeric", minute: "2-digit",
    timeZone, timeZoneName: "short", ...options,
  }).format(when);
}

export function formatNumber(value, digits) {
  if (value === null || value === undefined) return "—";
  const fixed = digits === undefined ? {} : { minimumFractionDigits: digits, maximumFractionDigits: digits };
  return new Intl.NumberFormat(locale, fixed).format(value);
}
