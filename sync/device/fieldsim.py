"""Realistic foot patrols for simulators, tests and benchmarks: a walk with GPS error as handhelds
show it — correlated from fix to fix (an AR(1) process, not white noise), accuracy that drifts
slowly, stops at sightings and rests, one fix every 30 s."""

from __future__ import annotations

import math
import random
from datetime import datetime, timedelta

from pyproj import Geod

from sync.protocol.tracks import Fix

GEOD = Geod(ellps="WGS84")
FIX_INTERVAL_S = 30
WALKING_SPEED_MPS = 1.1
GPS_ERROR_M = 4.0  # standard deviation of the position error
GPS_ERROR_CORRELATION = 0.95  # from one fix to the next, 30 s apart


def foot_patrol(
    start: tuple[float, float], started_at: datetime, fixes: int, rng: random.Random
) -> list[Fix]:
    lon, lat = start
    heading = rng.uniform(0, 360)
    error_x = error_y = 0.0
    innovation = GPS_ERROR_M * math.sqrt(1 - GPS_ERROR_CORRELATION**2)
    accuracy = rng.choice((4, 5, 6))
    resting = 0
    out = []
    for i in range(fixes):
        if resting:
            resting -= 1
        elif rng.random() < 0.03:
            resting = rng.randint(2, 20)  # a sighting, a snare to remove, a rest
        else:
            heading += rng.gauss(0, 12)
            lon, lat, _ = GEOD.fwd(
                lon, lat, heading, WALKING_SPEED_MPS * FIX_INTERVAL_S * rng.uniform(0.8, 1.2)
            )
        error_x = GPS_ERROR_CORRELATION * error_x + rng.gauss(0, innovation)
        error_y = GPS_ERROR_CORRELATION * error_y + rng.gauss(0, innovation)
        shown_lon, shown_lat, _ = GEOD.fwd(lon, lat, 90, error_x)
        shown_lon, shown_lat, _ = GEOD.fwd(shown_lon, shown_lat, 0, error_y)
        accuracy = min(25, max(3, accuracy + rng.choice((0, 0, 0, 0, 0, 0, 1, -1))))
        out.append(
            Fix(
                shown_lon,
                shown_lat,
                started_at + timedelta(seconds=FIX_INTERVAL_S * i),
                float(accuracy),
            )
        )
    return out
