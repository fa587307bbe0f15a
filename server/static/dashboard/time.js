// Times as people in the park read them: in the park's own time zone, with the zone named.
const formats = new Map();

function format(zone) {
  if (!formats.has(zone)) {
    formats.set(zone, new Intl.DateTimeFormat("en-GB", {
      timeZone: zone, year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit",
      minute: "2-digit", hourCycle: "h23", timeZoneName: "short",
    }));
  }
  return formats.get(zone);
}

// "2026-11-29 21:04 GMT+3" for an ISO 8601 time, in `zone` (an IANA name such as Africa/Nairobi).
export function parkTime(iso, zone) {
  if (!iso) return "—";
  const parts = Object.fromEntries(format(zone).formatToParts(new Date(iso))
    .map((p) => [p.type, p.value]));
  return `${parts.year}-${parts.month}-${parts.day} ${parts.hour}:${parts.minute} ${parts.timeZoneName}`;
}

// The calendar day of `date` in `zone`, as YYYY-MM-DD.
export function parkDay(date, zone) {
  return parkTime(date.toISOString(), zone).slice(0, 10);
}

// "4 min ago", "2 h 10 min ago": how long since an ISO time, for "time since the last fix".
export function since(iso, now = Date.now()) {
  if (!iso) return "—";
  const minutes = Math.max(0, Math.round((now - new Date(iso).getTime()) / 60_000));
  if (minutes < 1) return "just now";
  if (minutes < 60) return `${minutes} min ago`;
  const hours = Math.floor(minutes / 60);
  if (hours < 48) return `${hours} h ${minutes % 60} min ago`;
  return `${Math.floor(hours / 24)} days ago`;
}
