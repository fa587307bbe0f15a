"""Wire bytes per track point for realistic foot patrols, against gzip'd GeoJSON of the same fixes.

Workload: 12 foot patrols of 8 hours (one fix every 30 s, correlated GPS error, stops), as a
device sends them after days offline: chunks of up to 480 fixes, up to 4 chunks per push,
each push body gzip'd (level 6, what Android's and OkHttp's gzip use). The reference is a
GeoJSON FeatureCollection of the same fixes (point, time, accuracy), gzip'd the same way, at the
same precision as the wire format (6 decimals, 0.11 m) — the fair comparison — and, for
information, with full double precision, which is what a device's JSON serializer writes.
Goals: ≤ 4 bytes per point, and ≤ 0.2 × the GeoJSON.

    .venv/bin/python bench/wire.py
"""

from __future__ import annotations

import gzip
import json
import random
import uuid
from datetime import UTC, datetime

from sync.device.fieldsim import foot_patrol
from sync.protocol.tracks import encode

PATROLS = 12
FIXES_PER_PATROL = 8 * 120
CHUNK = 480
CHUNKS_PER_PUSH = 4
LEVEL = 6


def main() -> None:
    rng = random.Random(42)
    patrols = [
        (
            str(uuid.UUID(int=rng.getrandbits(128))),
            foot_patrol(
                (37.45 + rng.random() * 0.3, -3.48 + rng.random() * 0.15),
                datetime(2026, 11, 1 + i, 6, tzinfo=UTC),
                FIXES_PER_PATROL,
                rng,
            ),
        )
        for i in range(PATROLS)
    ]
    points = sum(len(fixes) for _, fixes in patrols)
    records = [
        {
            "kind": "track_chunk",
            "id": str(uuid.UUID(int=rng.getrandbits(128))),
            "data": encode(patrol_id, seq, fixes[seq : seq + CHUNK]),
        }
        for patrol_id, fixes in patrols
        for seq in range(0, len(fixes), CHUNK)
    ]
    raw = wire = 0
    for i in range(0, len(records), CHUNKS_PER_PUSH):
        body = {
            "device_time": "2026-11-24T09:00:00+03:00",
            "records": records[i : i + CHUNKS_PER_PUSH],
        }
        payload = json.dumps(body, separators=(",", ":")).encode()
        raw += len(payload)
        wire += len(gzip.compress(payload, LEVEL))
    same_precision = _geojson_bytes(patrols, decimals=6)
    full_precision = _geojson_bytes(patrols, decimals=None)
    per_point = wire / points
    ratio = wire / same_precision
    pushes = -(-len(records) // CHUNKS_PER_PUSH)
    print(f"points: {points} in {len(records)} chunks, {pushes} pushes")
    print(f"rangersync:            {raw / points:6.2f} B/point as JSON, {per_point:.2f} gzip'd")
    print(f"GeoJSON, 6 decimals:   {same_precision / points:6.2f} B/point gzip'd")
    print(f"GeoJSON, full doubles: {full_precision / points:6.2f} B/point gzip'd")
    print(f"ratio to GeoJSON at the same precision: {ratio:.3f} (goal <= 0.2)")
    print(f"ratio to GeoJSON with full doubles:     {wire / full_precision:.3f}")
    result = {
        "metric": "wire_bytes_per_point",
        "value": round(per_point, 3),
        "goal": 4,
        "unit": "bytes/point",
        "vs_gzip_geojson": round(ratio, 3),
        "vs_gzip_geojson_goal": 0.2,
        "vs_gzip_geojson_full_doubles": round(wire / full_precision, 3),
    }
    print(json.dumps(result))


def _geojson_bytes(patrols, decimals: int | None) -> int:
    def r(value: float) -> float:
        return value if decimals is None else round(value, decimals)

    features = [
        {
            "type": "Feature",
            "geometry": {"type": "Point", "coordinates": [r(f.lon), r(f.lat)]},
            "properties": {"patrol_id": pid, "time": f.time.isoformat(), "accuracy": f.accuracy_m},
        }
        for pid, fixes in patrols
        for f in fixes
    ]
    body = json.dumps({"type": "FeatureCollection", "features": features}).encode()
    return len(gzip.compress(body, LEVEL))


if __name__ == "__main__":
    main()
