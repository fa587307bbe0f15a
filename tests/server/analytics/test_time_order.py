"""Logs whose times go back: a track whose fix times are shuffled within and across chunks is
stored whole and gives the line, distance, moving time, cleaning flags, coverage and zone hours
of the same fixes sent in time order, whatever order its chunks arrive in."""

from __future__ import annotations

import dataclasses
import itertools
from datetime import timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import text

from server.analytics.tracks import refresh_patrols
from sync.protocol.tracks import Fix
from tests.server.analytics.helpers import zone
from tests.server.sync import helpers as h

PATROL = """
    SELECT point_count, max_seq, distance_m, moving_s, duration_s,
           ST_AsText(ST_SnapToGrid(line, 1e-7)) AS line
    FROM patrols WHERE id = :p
"""
EFFORT = """
    SELECT fixes, poor_accuracy, impossible_speed, quality, distance_m, duration_s, moving_s,
           first_at, last_at
    FROM patrol_effort WHERE patrol_id = :p
"""
CELLS = """
    SELECT i, j, day, fixes, distance_m, seconds, moving_s FROM coverage_visits
    WHERE patrol_id = :p ORDER BY i, j, day
"""
ZONES = """
    SELECT z.name, day, fixes, distance_m, seconds FROM zone_visits v JOIN zones z ON z.id = v.zone_id
    WHERE patrol_id = :p ORDER BY z.name, day
"""


@st.composite
def walks(draw) -> list[Fix]:
    """A wandering walk in time order, distinct times, with a poor fix and a GPS jump."""
    n = draw(st.integers(8, 60))
    steps = draw(st.lists(st.integers(30, 240), min_size=n - 1, max_size=n - 1))
    moves = draw(
        st.lists(st.tuples(st.integers(-300, 800), st.integers(-500, 500)), min_size=n, max_size=n)
    )
    fixes, t, x, y = [], 0, 37_050_000, -3_450_000
    for k in range(n):
        x, y = x + moves[k][0], y + moves[k][1]
        fixes.append(Fix(x / 1e6, y / 1e6, h.T0 + timedelta(seconds=t), 5.0))
        t += steps[k] if k < n - 1 else 0
    bad, jump = draw(st.lists(st.integers(1, n - 2), min_size=2, max_size=2, unique=True))
    fixes[bad] = dataclasses.replace(fixes[bad], accuracy_m=90.0)
    fixes[jump] = dataclasses.replace(fixes[jump], lon=fixes[jump].lon + 0.04)
    return fixes


def chunked(patrol_id: str, fixes: list[Fix], cuts: list[int]) -> list[dict]:
    bounds = sorted({0, len(fixes), *(c for c in cuts if 0 < c < len(fixes))})
    return [h.chunk(patrol_id, a, fixes[a:b]) for a, b in itertools.pairwise(bounds)]


def figures(db, patrol_id: str) -> dict:
    p = {"p": patrol_id}
    return {
        "patrol": db.execute(text(PATROL), p).one()._asdict(),
        "effort": db.execute(text(EFFORT), p).one()._asdict(),
        "cells": [tuple(r) for r in db.execute(text(CELLS), p)],
        "zones": [tuple(r) for r in db.execute(text(ZONES), p)],
    }


def assert_same(a, b, where=""):
    if isinstance(a, dict):
        assert a.keys() == b.keys(), where
        for key in a:
            assert_same(a[key], b[key], f"{where}/{key}")
    elif isinstance(a, list | tuple):
        assert len(a) == len(b), f"{where}: {a} != {b}"
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            assert_same(x, y, f"{where}/{i}")
    elif isinstance(a, float):
        assert a == pytest.approx(b, rel=1e-9, abs=1e-6), where
    else:
        assert a == b, where


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data(), walk=walks())
def test_shuffled_times_give_the_figures_of_the_sorted_track(client, db, data, walk):
    park = h.park(db)
    zone(db, park.area_id, (37.0, -3.5, 37.06, -3.4), name="west")
    db.commit()
    logged = data.draw(st.permutations(walk), label="logged order")  # the device's sequence
    cuts = data.draw(st.lists(st.integers(1, len(walk) - 1), max_size=5), label="chunk cuts")
    shuffled, in_order = h.patrol(), h.patrol()
    assert h.verdicts(h.push(client, park, [shuffled, in_order])) == ["stored", "stored"]

    records = chunked(shuffled["id"], logged, cuts)
    arrival = data.draw(st.permutations(records), label="arrival order")
    for record in arrival:
        response = h.push(client, park, [record])
        assert h.verdicts(response) == ["stored"], response.get_json()
        h.derive(db)  # the worker's step after each push
    sorted_walk = sorted(logged, key=lambda f: f.time)
    for record in chunked(in_order["id"], sorted_walk, cuts):
        assert h.verdicts(h.push(client, park, [record])) == ["stored"]
        h.derive(db)

    got, expected = figures(db, shuffled["id"]), figures(db, in_order["id"])
    assert got["patrol"]["point_count"] == len(walk)
    assert got["effort"]["fixes"] == len(walk)
    assert got["effort"]["poor_accuracy"] == 1 and got["effort"]["impossible_speed"] >= 1
    assert_same(got, expected)
    # and what was kept up incrementally is what a full recomputation gives
    refresh_patrols(db, [shuffled["id"], in_order["id"]])
    assert_same(figures(db, shuffled["id"]), got)
    assert_same(figures(db, in_order["id"]), expected)


def test_a_chunk_whose_times_go_back_is_stored_with_its_device_order_kept(client, db):
    park = h.park(db)
    p = h.patrol()
    walk = h.fixes(4)  # 0 s, 30 s, 60 s, 90 s, 33 m apart, east
    logged = [walk[0], walk[2], walk[1], walk[3]]  # a fix written late
    response = h.push(client, park, [p, h.chunk(p["id"], 0, logged)])
    assert h.verdicts(response) == ["stored", "stored"]
    stored = db.execute(
        text("SELECT seq, device_time FROM track_points WHERE patrol_id = :p ORDER BY seq"),
        {"p": p["id"]},
    ).all()
    assert [row.device_time for row in stored] == [f.time for f in logged]
    h.derive(db)
    distance = db.execute(text("SELECT distance_m FROM patrols WHERE id = :p"), {"p": p["id"]})
    assert distance.scalar_one() == pytest.approx(3 * 33.3, rel=0.01)  # not 33 + 67 + 67 + 33


def test_a_step_back_beyond_seven_days_is_refused(client, db):
    park = h.park(db)
    p = h.patrol()
    walk = h.fixes(2)
    late = dataclasses.replace(walk[1], time=walk[0].time - timedelta(days=8))
    response = h.push(client, park, [p, h.chunk(p["id"], 0, [walk[0], late])])
    result = response.get_json()["results"][1]
    assert (result["verdict"], result["code"], result["pointer"]) == (
        "rejected",
        "invalid-chunk",
        "/data/dt/0",
    )
