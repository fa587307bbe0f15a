"""Concurrency with real transactions: simultaneous pushes of one record, and pulls that must not
skip a long transaction committing after a short one."""

from __future__ import annotations

import random
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

from geoalchemy2.shape import from_shape
from shapely.geometry import Point
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from server.areas.models import MapFeature
from server.devices.service import authenticate_device_token
from server.sync.cursor import Cursor
from server.sync.pull import pull
from server.sync.push import push
from tests.server.sync import helpers as h


def _push_in_own_session(engine, token, records):
    with Session(engine, expire_on_commit=False) as session:
        actor, _ = authenticate_device_token(session, token)
        result = push(session, actor, datetime.now(UTC), records, timedelta(minutes=5))
        session.commit()
        return [v.verdict for v in result.results]


def test_twenty_concurrent_pushes_of_one_record_store_it_once(fresh_engine, committed_db):
    park = h.park(committed_db)
    p = h.patrol()
    h_records = [p, h.chunk(p["id"], 0, h.fixes(50)), *[h.report() for _ in range(8)]]
    barrier = threading.Barrier(20)

    def one(i):
        batch = h_records[:]
        random.Random(i).shuffle(batch)  # every order: a lock-order deadlock would show here
        barrier.wait()
        return _push_in_own_session(fresh_engine, park.token, batch)

    with ThreadPoolExecutor(20) as pool:
        outcomes = list(pool.map(one, range(20)))
    stored = sum(v.count("stored") for v in outcomes)
    assert stored == len(h_records)  # each record stored by exactly one of the twenty
    assert all(set(v) <= {"stored", "duplicate"} for v in outcomes)
    counts = committed_db.execute(
        text(
            "SELECT (SELECT count(*) FROM reports), (SELECT count(*) FROM patrols),"
            " (SELECT count(*) FROM track_points), (SELECT point_count FROM patrols)"
        )
    ).one()
    assert tuple(counts) == (8, 1, 50, 50)


def _feature(area_id, name):
    return MapFeature(
        area_id=area_id, layer="landmark", name=name, geom=from_shape(Point(37.1, -3.4), srid=4326)
    )


def test_pull_never_skips_a_long_transaction_that_commits_late(fresh_engine, committed_db):
    park = h.park(committed_db)
    with Session(fresh_engine) as s:
        actor, _ = authenticate_device_token(s, park.token)
        s.commit()
    seen: set[str] = set()
    cursor: Cursor | None = None

    def pull_round():
        nonlocal cursor
        while True:
            with Session(fresh_engine) as s:
                page = pull(s, actor, cursor, limit=7)
            seen.update(str(c.id) for c in page.changes if c.kind == "map_feature")
            cursor = page.cursor
            if not page.more:
                return

    for trial in range(5):
        stop = threading.Event()
        rng = random.Random(trial)

        def long_writer(trial=trial, rng=rng):
            with Session(fresh_engine) as s:
                s.execute(text("SELECT pg_current_xact_id()"))  # take a transaction id early …
                s.add(_feature(park.area_id, f"long-{trial}"))
                s.flush()
                time.sleep(0.3 + rng.random() * 0.3)  # … and commit after the short ones
                s.commit()

        def short_writer(trial=trial, rng=rng, stop=stop):
            n = 0
            while not stop.is_set():
                with Session(fresh_engine) as s:
                    s.add(_feature(park.area_id, f"short-{trial}-{n}"))
                    s.commit()
                n += 1
                time.sleep(rng.random() * 0.02)

        threads = [threading.Thread(target=long_writer), threading.Thread(target=short_writer)]
        for t in threads:
            t.start()
        deadline = time.monotonic() + 0.8
        while time.monotonic() < deadline:
            pull_round()
        threads[0].join()
        stop.set()
        threads[1].join()
        pull_round()  # after the writers: one last round
        with Session(fresh_engine) as s:
            everything = {str(i) for i in s.scalars(select(MapFeature.id))}
        assert seen == everything, f"trial {trial}: missed {len(everything - seen)} features"
