"""Property: for any two versions of a tile set, the old one plus the delta between them holds
exactly the new one's tiles (what a handheld relies on to skip the full download)."""

from __future__ import annotations

import shutil
import sqlite3
import tempfile
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from server.maps import mbtiles
from sync.device.mappack import apply_delta
from sync.protocol.digests import tiles_digest

keys = st.tuples(st.integers(0, 3), st.integers(0, 7), st.integers(0, 7))
tile_sets = st.dictionaries(keys, st.binary(min_size=0, max_size=40), max_size=25)


def _write(path: Path, tiles: dict) -> None:
    db = mbtiles.create(path, {"name": "t", "format": "pbf"})
    db.executemany(
        "INSERT INTO tiles VALUES (?, ?, ?, ?)",
        [(z, x, y, data) for (z, x, y), data in tiles.items()],
    )
    db.close()


@settings(max_examples=60, deadline=None)
@given(old=tile_sets, new=tile_sets)
def test_old_plus_delta_is_new(old, new):
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        _write(root / "old.mbtiles", old)
        _write(root / "new.mbtiles", new)
        changed = mbtiles.write_delta(
            root / "new.mbtiles",
            root / "old.mbtiles",
            root / "delta.mbtiles",
            {"name": "t", "format": "pbf"},
        )
        assert changed == sum(old.get(k) != v for k, v in new.items()) + len(
            old.keys() - new.keys()
        )
        shutil.copyfile(root / "old.mbtiles", root / "device.mbtiles")
        apply_delta(root / "device.mbtiles", root / "delta.mbtiles", 2)
        with (
            sqlite3.connect(root / "device.mbtiles") as device,
            sqlite3.connect(root / "new.mbtiles") as server,
        ):
            assert tiles_digest(device) == tiles_digest(server)
            got = {(z, x, y): d for z, x, y, d in device.execute("SELECT * FROM tiles")}
        assert got == new
