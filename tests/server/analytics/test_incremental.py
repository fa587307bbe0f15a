"""Coverage kept current as chunks arrive through the real sync push, in any order, retried and
overlapping, equals a full recomputation from the stored fixes."""

from __future__ import annotations

import dataclasses
import random
from datetime import timedelta

import pytest
from sqlalchemy import text

from server.analytics.tracks import refresh_area
from sync.protocol.tracks import Fix
from tests.server.analytics.helpers import zone
from tests.server.sync import helpers as h

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
            tuple(
                round(v, 6) if isinstance(v, float) else v
                for k, v in row.items()
                if k != "computed_at"
            )
            for row in rows
        ]
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
        h.derive(db)  # the worker's step after the push
        incremental = snapshot(db)
        refresh_area(db, park.area_id)
        assert _close(snapshot(db), incremental)
    final = snapshot(db)
    assert sum(row[5] for row in final["coverage_visits"]) == 2 * 80 - 4  # 4 fixes flagged
    assert {row[2] for row in final["patrol_effort"]} == {80}


def _close(a: dict, b: dict) -> bool:
    """Same rows; floats equal to 1e-6 (sums taken in another order)."""
    for table in TABLES:
        if len(a[table]) != len(b[table]):
            return False
        for x, y in zip(a[table], b[table], strict=True):
            for u, v in zip(x, y, strict=True):
                if isinstance(u, float) and isinstance(v, float):
                    if u != pytest.approx(v, rel=1e-9, abs=1e-6):
                        return False
                elif u != v:
                    return False
    return True


def boundary_trouble(n: int = 60) -> list[Fix]:
    """A walk whose chunk ends (every 10th fix) hold what can flip when the next chunk comes:
    a jump at a chunk's last fix, a fix that looks impossible only until its successor arrives,
    and a poor-accuracy last fix."""
    fixes = [
        Fix(37.05 + 0.0004 * k, -3.45, h.T0 + timedelta(seconds=60 * k), 5.0) for k in range(n)
    ]
    fixes[9] = dataclasses.replace(fixes[9], lon=fixes[9].lon + 0.05)  # a jump and back
    for k in range(19, n):  # from 19 on, the walk carries on 500 m further east
        fixes[k] = dataclasses.replace(fixes[k], lon=fixes[k].lon + 0.0045)
    fixes[29] = dataclasses.replace(fixes[29], accuracy_m=250.0)
    fixes[39] = dataclasses.replace(fixes[39], lat=fixes[39].lat + 0.03)  # two fixes away,
    fixes[40] = dataclasses.replace(fixes[40], lat=fixes[40].lat + 0.03)  # across a chunk end
    return fixes


def test_appended_chunks_update_only_the_tail_and_agree_with_a_full_recomputation(
    client, db, monkeypatch
):
    from server.analytics import incremental

    taken = []
    real = incremental._append
    monkeypatch.setattr(
        incremental, "_append", lambda *a: taken.append(result := real(*a)) or result
    )
    park = h.park(db)
    zone(db, park.area_id, (37.0, -3.5, 37.06, -3.4), name="west")
    db.commit()
    p = h.patrol()
    assert h.verdicts(h.push(client, park, [p])) == ["stored"]
    fixes = boundary_trouble()
    for first in range(0, len(fixes), 10):
        chunk = h.chunk(p["id"], first, fixes[first : first + 10])
        assert h.verdicts(h.push(client, park, [chunk])) == ["stored"]
        h.derive(db)  # the worker's step after the push
        incremental_rows = snapshot(db)
        refresh_area(db, park.area_id)
        assert _close(snapshot(db), incremental_rows), f"after the chunk from {first}"
    assert taken == [True] * 5  # every chunk after the first took the incremental path
    effort = snapshot(db)["patrol_effort"][0]
    # fixes, poor accuracy (29), impossible jumps (9). Fixes 39-40 away together are not
    # flagged: the spike rule catches single-fix jumps only (see ARCHITECTURE).
    assert effort[2:5] == (60, 1, 1)
