"""Bytes on disk and in the WAL per GPS fix, for the capacity model (docs/capacity.md).

Workload: bench/ingest.py's 20 foot patrols of 5 000 fixes (100 000), pushed through
`rangersync serve` as a device sends them. Measured: the track_points partitions with their
indexes, the derived analytics rows (coverage cells, zone visits, effort) and the sync receipts,
each per stored fix, and the WAL written per fix (what streaming replication and pgBackRest's
archive carry). The reference is the fix's own payload: 8-byte lon, lat, time and accuracy
(32 bytes), printed as a ratio.

    .venv/bin/python bench/storage.py
"""

from __future__ import annotations

import json
import random
import time

import psycopg

try:
    from bench._common import database, served
    from bench.ingest import _bodies, _push, _setup
except ModuleNotFoundError:  # run as `python bench/storage.py`
    from _common import database, served
    from ingest import _bodies, _push, _setup

PAYLOAD_BYTES = 32

_SIZES = """
SELECT coalesce(sum(pg_total_relation_size(c.oid)) FILTER (
           WHERE c.relname LIKE 'track_points_%%' AND c.relkind = 'r'), 0) AS fixes,
       pg_total_relation_size('coverage_visits') + pg_total_relation_size('zone_visits')
           + pg_total_relation_size('patrol_effort') AS derived,
       pg_total_relation_size('sync_receipts') + pg_total_relation_size('sync_sessions')
           AS receipts
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'public'
"""


def main() -> None:
    rng = random.Random(7)
    with database("bench", prefix="rangersync-bench-") as (root, url):
        token = _setup(url)
        bodies, points = _bodies(rng)
        conninfo = url.replace("postgresql+psycopg://", "postgresql://")
        with psycopg.connect(conninfo, autocommit=True) as conn:
            wal_before = conn.execute("SELECT pg_current_wal_lsn()").fetchone()[0]
        with served(url, root) as base:
            began = time.perf_counter()
            for body in bodies:
                _push(base, token, body)
            seconds = time.perf_counter() - began
        with psycopg.connect(conninfo, autocommit=True) as conn:
            conn.execute("VACUUM ANALYZE")
            wal = conn.execute(
                "SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), %s)", (wal_before,)
            ).fetchone()[0]
            stored = conn.execute("SELECT count(*) FROM track_points").fetchone()[0]
            fixes, derived, receipts = conn.execute(_SIZES).fetchone()
    assert stored == points, f"stored {stored} of {points}"
    per_fix = {
        "track_points": float(fixes) / stored,
        "derived": float(derived) / stored,
        "receipts": float(receipts) / stored,
        "wal": float(wal) / stored,
    }
    on_disk = per_fix["track_points"] + per_fix["derived"] + per_fix["receipts"]
    print(f"fixes: {stored} pushed in {seconds:.1f} s ({stored / seconds:.0f} fixes/s)")
    for name, value in per_fix.items():
        print(f"  {name:<13} {value:8.1f} B/fix")
    print(
        f"on disk: {on_disk:.1f} B/fix = {on_disk / PAYLOAD_BYTES:.2f} x the {PAYLOAD_BYTES} B payload"
    )
    print(
        json.dumps(
            {
                "metric": "disk_bytes_per_fix",
                "value": round(on_disk, 1),
                "unit": "bytes",
                "ratio_to_payload": round(on_disk / PAYLOAD_BYTES, 2),
                "wal_bytes_per_fix": round(per_fix["wal"], 1),
                "fixes_per_s": round(stored / seconds),
            }
        )
    )


if __name__ == "__main__":
    main()
