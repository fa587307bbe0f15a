"""What follows from fixes comes after the push's answer: the deriver, woken by the commit."""

from __future__ import annotations

import time

from sqlalchemy import text

from server.worker import Deriver
from tests.server.sync import helpers as h


def _figures(db, patrol_id: str):
    db.rollback()  # a fresh snapshot: what the deriver committed since
    return db.execute(
        text(
            "SELECT p.line IS NOT NULL AS drawn, p.distance_m, e.fixes"
            " FROM patrols p LEFT JOIN patrol_effort e ON e.patrol_id = p.id WHERE p.id = :p"
        ),
        {"p": patrol_id},
    ).one()


def test_the_deriver_draws_line_figures_and_effort_after_the_push_commits(
    committed_client, committed_db, fresh_engine
):
    park = h.park(committed_db)
    deriver = Deriver(fresh_engine, fresh_engine.url.render_as_string(hide_password=False))
    deriver.start()
    try:
        p, walk = h.patrol(), h.fixes(40)
        assert h.verdicts(h.push(committed_client, park, [p, h.chunk(p["id"], 0, walk[:20])]))
        deadline = time.monotonic() + 30
        while not (row := _figures(committed_db, p["id"])).drawn:
            assert time.monotonic() < deadline, "the deriver never drew the patrol"
            time.sleep(0.05)
        assert 19 * 33 < row.distance_m < 19 * 34 and row.fixes == 20
        # a second push of the same patrol: extended from where the first left it
        h.push(committed_client, park, [h.chunk(p["id"], 20, walk[20:])])
        while _figures(committed_db, p["id"]).fixes != 40:
            assert time.monotonic() < deadline + 30, "the deriver never took the second push"
            time.sleep(0.05)
        waiting = committed_db.execute(text("SELECT count(*) FROM derived_backlog")).scalar_one()
        assert waiting == 0
    finally:
        deriver.stop()
        deriver.join(timeout=10)
