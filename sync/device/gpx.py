"""GPX import: tracks recorded on a handheld GPS unit (Garmin and the like) become patrols and
fixes in the device client's outbox, and travel through the same protocol as any other track.

A GPX file as units write it holds more than walked tracks: planned routes (<rte>) and tracks
copied from a map or a planning tool, without times, next to the tracks the unit logged. Each
<trk> whose every point has a time becomes one patrol, its <trkpt>s (all segments, in document
order, which is the unit's logging order) its fixes; their times need not be in order. A track
without times, or with some points untimed, cannot be placed in a patrol's timeline: it is
skipped with the reason, never given invented times, and the other tracks are imported. Routes
are plans, not patrols: skipped, and said so.

What makes the whole file unusable (not XML, a DTD, not GPX, too large) is a GPXError.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from sync.device.client import DeviceClient
from sync.protocol.tracks import Fix

MAX_BYTES = 64 * 1024 * 1024


class GPXError(ValueError):
    pass


class _Skip(Exception):
    pass


@dataclass(frozen=True)
class GPXTrack:
    name: str | None
    fixes: list[Fix]
    number: int = 1  # its place among the file's tracks, from 1


@dataclass(frozen=True)
class Skipped:
    what: str  # "track 2 (Planned loop)", "route 1 (Road to the dam)"
    reason: str


@dataclass
class GPXFile:
    tracks: list[GPXTrack] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)


@dataclass(frozen=True)
class Imported:
    patrol_id: str
    track: GPXTrack


def _label(kind: str, number: int, name: str | None) -> str:
    return f"{kind} {number}" + (f" ({name.strip()})" if name and name.strip() else "")


def _fix(point: ET.Element, ns: str, p: int) -> Fix:
    try:
        lat, lon = float(point.attrib["lat"]), float(point.attrib["lon"])
    except (KeyError, ValueError):
        raise _Skip(f"point {p}: lat and lon must be numbers") from None
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        raise _Skip(f"point {p}: lat {lat}, lon {lon} is off the globe")
    stamp = point.findtext(f"{ns}time")
    if not stamp or not stamp.strip():
        raise _Skip(f"point {p}: no time")
    try:
        time = datetime.fromisoformat(stamp.strip().replace("Z", "+00:00"))
    except ValueError:
        raise _Skip(f"point {p}: time {stamp!r} is not ISO 8601") from None
    if time.tzinfo is None:
        raise _Skip(f"point {p}: time {stamp!r} has no time zone")
    return Fix(lon, lat, time, None)


def _track(trk: ET.Element, ns: str, number: int) -> GPXTrack:
    points = list(trk.iter(f"{ns}trkpt"))
    if not points:
        raise _Skip("no track points")
    untimed = sum(1 for point in points if not (point.findtext(f"{ns}time") or "").strip())
    if untimed == len(points):
        raise _Skip(
            f"none of its {len(points)} points has a time (a planned or drawn track, not a "
            "walked one)"
        )
    if untimed:
        raise _Skip(f"{untimed} of its {len(points)} points have no time")
    return GPXTrack(
        trk.findtext(f"{ns}name"), [_fix(pt, ns, p) for p, pt in enumerate(points, 1)], number
    )


def read_gpx(path: Path) -> GPXFile:
    raw = path.read_bytes()
    if len(raw) > MAX_BYTES:
        raise GPXError(f"{path.name}: larger than {MAX_BYTES // 2**20} MiB")
    if b"<!DOCTYPE" in raw[:2048] or b"<!ENTITY" in raw:
        raise GPXError(f"{path.name}: a GPX file has no DTD or entities")
    try:
        root = ET.fromstring(raw)  # noqa: S314 (DTDs refused above)
    except ET.ParseError as error:
        raise GPXError(f"{path.name}: not valid XML ({error})") from None
    ns = root.tag[: root.tag.index("}") + 1] if root.tag.startswith("{") else ""
    if root.tag != f"{ns}gpx":
        raise GPXError(f"{path.name}: not a GPX file")
    found = GPXFile()
    for number, trk in enumerate(root.iter(f"{ns}trk"), 1):
        try:
            found.tracks.append(_track(trk, ns, number))
        except _Skip as skip:
            label = _label("track", number, trk.findtext(f"{ns}name"))
            found.skipped.append(Skipped(label, str(skip)))
    for number, rte in enumerate(root.iter(f"{ns}rte"), 1):
        points = len(list(rte.iter(f"{ns}rtept")))
        found.skipped.append(
            Skipped(
                _label("route", number, rte.findtext(f"{ns}name")),
                f"a route ({points} points) is a plan, not a walked track",
            )
        )
    return found


def import_gpx(
    client: DeviceClient, path: Path, patrol_type: str = "foot", **patrol
) -> tuple[list[Imported], list[Skipped]]:
    """Every timed track of the file as a patrol in the client's outbox, its fixes in the
    file's order; and the tracks and routes skipped, with the reason."""
    found = read_gpx(path)
    imported = []
    for track in found.tracks:
        times = [fix.time for fix in track.fixes]
        objective = patrol.get("objective") or (f"GPX: {track.name}" if track.name else None)
        patrol_id = client.start_patrol(
            patrol_type,
            started_at=min(times),
            ended_at=max(times).isoformat(),
            **(patrol | {"objective": objective}),
        )
        for fix in track.fixes:
            client.record_fix(patrol_id, fix)
        imported.append(Imported(patrol_id, track))
    return imported, found.skipped
