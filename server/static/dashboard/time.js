// Times as people in the park read them: in the park's own time zone, with the zone named, in
// the page's language (i18n.js).
import { _, locale } from "./i18n.js";

const formats = new Map();

function format(zone) {
  if (!formats.has(zone)) {
    formats.set(zone, new Intl.DateTimeFormat(locale, {
      timeZone: zone, year: "numeric", month: "short", day: "numeric", hour: "2-digit",
      minute: "2-digit", hourCycle: "h23", timeZoneName: "short",
    }));
  }
  return formats.get(zone);
}

// "29 Nov 2026, 21:04 GMT+3" for an ISO 8601 time, in `zone` (an IANA name).
export function parkTime(iso, zone) {
  if (!iso) return "—";
  return format(zone).format(new Date(iso));
}

// "4 min ago", "2 h 10 min ago": how long since an ISO time, for "time since the last fix".
export function since(iso, now = Date.now()) {
  if (!iso) return "—";
  const minutes = Math.max(0, Math.round((now - new Date(iso).getTime()) / 60_000));
  if (minutes < 1) return _("just now");
  if (minutes < 60) return _("%(m)s min ago", { m: minutes });
  const hours = Math.floor(minutes / 60);
  if (hours < 48) return _("%(h)s h %(m)s min ago", { h: hours, m: minutes % 60 });
  return _("%(d)s days ago", { d: Math.floor(hours / 24) });
}
