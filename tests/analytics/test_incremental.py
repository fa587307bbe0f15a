"""Coverage kept current as chunks arrive through the real sync push, in any order, retried and
overlapping, equals a full recomputation from the stored fixes."""

from __future__ import annotations

import dataclasses
import random
from datetime import timedelta

import pytest
from sqlalchemy import text

from server.analytics.tracks import refresh_area
from sync.tracks import Fix
from tests.analytics.helpers import zone
from tests.sync import helpers as h

TABLES = {
    "coverage_visits": "patrol_id, i, j, day",
    "zone_visits": "patrol_id, zone_id, day",
    "patrol_effort": "patrol_id",
}


def snapshot(db) -> dict[str, list[tuple]]:
    out = {}
    for table, key in TABLES.items():
        rows = db.execute(text(f"SELECT * FROM {table} ORDER BY {key}")).mappings().all()
        out[table] = [
            tuple(round(v, 6) if isinstance(v, float) else v
                  for k, v in row.items() if k != "computed_at")
            for row in rows
        ]  # fmt: skip
    return out


def messy_walk(rng: random.Random, n: int, lon: float) -> list[Fix]:
    """A wandering walk with a poor-accuracy fix and a GPS jump in it."""
    fixes, x, y = [], lon, -3.45
    for k in range(n):
        x += rng.uniform(-0.0002, 0.0008)
        y += rng.uniform(-0.0005, 0.0005)
        fixes.append(Fix(round(x, 6), round(y, 6), h.T0 + timedelta(seconds=30 * k), 5.0))
    bad, jump = rng.sample(range(1, n - 1), 2)
    fixes[bad] = dataclasses.replace(fixes[bad], accuracy_m=90.0)
    fixes[jump] = dataclasses.replace(fixes[jump], lon=fixes[jump].lon + 0.04)
    return fixes


def chunks_of(patrol_id: str, fixes: list[Fix], rng: random.Random) -> list[dict]:
    cuts = sorted(rng.sample(range(1, len(fixes)), 6))
    bounds = list(zip([0, *cuts], [*cuts, len(fixes)], strict=True))
    records = [h.chunk(patrol_id, a, fixes[a:b]) for a, b in bounds]
    # An overlapping re-send (new id, fixes partly stored already) and a plain retry.
    a = rng.randrange(0, len(fixes) - 10)
    records.append(h.chunk(patrol_id, a, fixes[a : a + 10]))
    records.append(dict(records[0]))
    return records


@pytest.mark.parametrize("seed", range(4))
def test_incremental_coverage_equals_full_recomputation(client, db, seed):
    rng = random.Random(seed)
    park = h.park(db)
    zone(db, park.area_id, (37.0, -3.5, 37.02, -3.4), name="west")
    zone(db, park.area_id, (37.01, -3.5, 37.3, -3.3), name="overlapping east")
    db.commit()
    patrols = [h.patrol() for _ in range(2)]
    assert h.verdicts(h.push(client, park, patrols)) == ["stored", "stored"]
    records = []
    for p, lon in zip(patrols, (37.0, 37.005), strict=True):  # two patrols sharing cells
        records += chunks_of(p["id"], messy_walk(rng, 80, lon), rng)
    rng.shuffle(records)
    for k in range(0, len(records), 3):
        verdicts = h.verdicts(h.push(client, park, records[k : k + 3]))
        assert set(verdicts) <= {"stored", "duplicate"}
        incremental = snapshot(db)
        refresh_area(db, park.area_id)
        assert snapshot(db) == incremental
    final = snapshot(db)
    assert sum(row[5] for row in final["coverage_visits"]) == 2 * 80 - 4  # 4 fixes flagged
    assert {row[2] for row in final["patrol_effort"]} == {80}
