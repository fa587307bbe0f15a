"""GPX import: a track recorded on a handheld GPS unit (Garmin and the like) becomes patrols and
fixes in the device client's outbox, and travels through the same protocol as any other track.

Each <trk> becomes one patrol; its <trkpt>s, in document order, become fixes. A point without a
time cannot be placed in a patrol's timeline and is refused, with its position in the file,
rather than given an invented time.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sync.device.client import DeviceClient
from sync.protocol.tracks import Fix

MAX_BYTES = 64 * 1024 * 1024


class GPXError(ValueError):
    pass


@dataclass(frozen=True)
class GPXTrack:
    name: str | None
    fixes: list[Fix]


def read_gpx(path: Path) -> list[GPXTrack]:
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
    tracks = []
    for t, trk in enumerate(root.iter(f"{ns}trk")):
        name = trk.findtext(f"{ns}name")
        fixes = []
        for p, point in enumerate(trk.iter(f"{ns}trkpt")):
            where = f"{path.name}: track {t + 1}, point {p + 1}"
            try:
                lat, lon = float(point.attrib["lat"]), float(point.attrib["lon"])
            except (KeyError, ValueError):
                raise GPXError(f"{where}: lat and lon must be numbers") from None
            if not (-90 <= lat <= 90 and -180 <= lon <= 180):
                raise GPXError(f"{where}: lat {lat}, lon {lon} is off the globe")
            stamp = point.findtext(f"{ns}time")
            if not stamp:
                raise GPXError(f"{where}: no time")
            try:
                time = datetime.fromisoformat(stamp.strip().replace("Z", "+00:00"))
            except ValueError:
                raise GPXError(f"{where}: time {stamp!r} is not ISO 8601") from None
            if time.tzinfo is None:
                raise GPXError(f"{where}: time {stamp!r} has no time zone")
            fixes.append(Fix(lon, lat, time, None))
        if fixes:
            tracks.append(GPXTrack(name, fixes))
    if not tracks:
        raise GPXError(f"{path.name}: no track points")
    return tracks


def import_gpx(
    client: DeviceClient, path: Path, patrol_type: str = "foot", **patrol
) -> list[tuple[str, int]]:
    """Every track of the file as a patrol in the client's outbox: (patrol id, fixes) each."""
    patrol_ids = []
    for track in read_gpx(path):
        fixes = sorted(track.fixes, key=lambda f: f.time)
        objective = patrol.pop("objective", None) or (f"GPX: {track.name}" if track.name else None)
        patrol_id = client.start_patrol(
            patrol_type,
            started_at=fixes[0].time,
            ended_at=fixes[-1].time.isoformat(),
            objective=objective,
            **patrol,
        )
        for fix in fixes:
            client.record_fix(patrol_id, fix)
        patrol_ids.append((patrol_id, len(fixes)))
    return patrol_ids
