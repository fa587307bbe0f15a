"""Track chunks on the wire: columnar, delta-encoded integers.

A chunk holds consecutive fixes of one patrol from device sequence number `seq` on. Positions are
integers in microdegrees (1e-6°, about 0.11 m: finer than any handheld GPS). A walking patrol
moves at a nearly steady pace, so positions are sent as second differences — the first item is
the first step, each later item the change of step — which keeps the numbers small and gzip-able:

    {"patrol_id": "…", "seq": 120, "t0": "2026-11-20T06:00:00Z",
     "lon0": 37612345, "lat0": -3401234, "dt": [30, 30, 31],
     "ddlon": [212, -14, 9], "ddlat": [-166, -34, 0], "acc": [5, 5, 6, 4]}

decodes to lon = 37612345, 37612557, 37612755, 37612962 (steps 212, 198, 207). `dt` (whole seconds
between fixes), `ddlon` and `ddlat` have one item fewer than the chunk has fixes; `acc` (accuracy
in whole metres, optional, null where unknown) has one per fix. This module is the protocol's
executable definition of the encoding and imports nothing of the server.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np

MICRODEGREES = 1_000_000


@dataclass(frozen=True)
class Fix:
    lon: float
    lat: float
    time: datetime
    accuracy_m: float | None = None


def encode(patrol_id: str, first_seq: int, fixes: Sequence[Fix]) -> dict:
    """Fixes (in sequence order, times with offsets) → one chunk's `data`."""
    if not fixes:
        raise ValueError("a chunk holds at least one fix")
    lon = np.rint(np.array([f.lon for f in fixes]) * MICRODEGREES).astype(np.int64)
    lat = np.rint(np.array([f.lat for f in fixes]) * MICRODEGREES).astype(np.int64)
    t0 = fixes[0].time
    seconds = np.array([round((f.time - t0).total_seconds()) for f in fixes], dtype=np.int64)
    chunk = {
        "patrol_id": patrol_id,
        "seq": first_seq,
        "t0": t0.isoformat(),
        "lon0": int(lon[0]),
        "lat0": int(lat[0]),
        "dt": np.diff(seconds).tolist(),
        "ddlon": _second_differences(lon),
        "ddlat": _second_differences(lat),
    }
    if any(f.accuracy_m is not None for f in fixes):
        chunk["acc"] = [None if f.accuracy_m is None else round(f.accuracy_m) for f in fixes]
    return chunk


def _second_differences(values: np.ndarray) -> list[int]:
    steps = np.diff(values)
    return np.diff(steps, prepend=0).tolist()


def _undo_second_differences(first: int, dd) -> np.ndarray:
    steps = np.cumsum(np.asarray(dd, dtype=np.int64))
    return np.concatenate(([first], first + np.cumsum(steps)))


@dataclass(frozen=True)
class Columns:
    """A decoded chunk: absolute values as numpy arrays, one item per fix."""

    seq: np.ndarray  # int64
    lon_e6: np.ndarray  # int64 microdegrees
    lat_e6: np.ndarray  # int64 microdegrees
    seconds: np.ndarray  # int64, from t0
    t0: datetime
    accuracy: np.ndarray | None  # float64 with NaN for "not given"

    def __len__(self) -> int:
        return len(self.seq)

    def times(self) -> list[datetime]:
        return [self.t0 + timedelta(seconds=int(s)) for s in self.seconds]


def decode(
    first_seq: int, t0: datetime, lon0: int, lat0: int, dt, ddlon, ddlat, acc=None
) -> Columns:
    """Checked columns → absolute values (the checks themselves are the server's business)."""
    n = len(dt) + 1
    seconds = np.concatenate(([0], np.cumsum(np.asarray(dt, dtype=np.int64))))
    lon = _undo_second_differences(lon0, ddlon)
    lat = _undo_second_differences(lat0, ddlat)
    accuracy = None
    if acc is not None:
        accuracy = np.array([np.nan if a is None else a for a in acc], dtype=np.float64)
    return Columns(
        np.arange(first_seq, first_seq + n, dtype=np.int64), lon, lat, seconds, t0, accuracy
    )
