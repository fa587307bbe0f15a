"""What follows from stored fixes, done after the push has answered: each patrol's line and
figures (server.patrols), its coverage, hours per zone and effort (server.analytics), and the
safety rules that read them (server.safety.rules.after_derived).

A push notes its patrols in `derived_backlog` and sends NOTIFY rangersync_derived at commit; a
worker (server/worker.py, in `rangersync worker` and in every `rangersync serve` process) wakes,
takes a batch of waiting patrols — their patrol rows locked first, SKIP LOCKED, the order a push
takes them in (patrol, then backlog) so the two cannot deadlock — derives them and commits. In a
storm the batch grows and the derived figures come a few seconds late, while the pushes stay
short; a patrol that had several pushes waiting is derived once.
"""

from __future__ import annotations

import logging
import uuid

from sqlalchemy import text
from sqlalchemy.orm import Session

from server.analytics import tracks
from server.analytics.incremental import fixes_arrived
from server.patrols.service import derive_figures
from server.safety import rules
from server.sync.track_ingest import DERIVED_CHANNEL

log = logging.getLogger(__name__)
BATCH = 50  # patrols per transaction: short locks, steady progress

CLAIM = text(
    """
    WITH locked AS (
        SELECT p.id FROM patrols p
        WHERE p.id IN (SELECT patrol_id FROM derived_backlog ORDER BY queued_at LIMIT :limit)
        ORDER BY p.id
        FOR UPDATE OF p SKIP LOCKED
    )
    DELETE FROM derived_backlog b USING locked
    WHERE b.patrol_id = locked.id
    RETURNING b.area_id, b.patrol_id, b.extends, b.since_at, b.since_seq
    """
)
CHANNEL = DERIVED_CHANNEL


def derive_waiting(session: Session, limit: int = BATCH) -> int:
    """Derive one batch of waiting patrols and commit; answers how many (0: none waited that
    another worker was not already deriving)."""
    rows = sorted(session.execute(CLAIM, {"limit": limit}).all(), key=lambda r: r.patrol_id)
    if not rows:
        session.rollback()
        return 0
    whole: list[uuid.UUID] = []
    for row in rows:
        derive_figures(session, row.patrol_id)
        if row.extends and row.since_at is not None:
            fixes_arrived(
                session,
                row.patrol_id,
                extends=True,
                previous_last=(row.since_at, row.since_seq),
            )
        else:
            whole.append(row.patrol_id)
    tracks.refresh_patrols(session, whole)  # one statement for every patrol re-derived whole
    fired = rules.after_derived(session, [(r.area_id, r.patrol_id) for r in rows])
    session.commit()
    if fired.alerts:
        log.info("movement rules raised %d alerts", len(fired.alerts))
    return len(rows)


def derive_all_waiting(session: Session) -> int:
    """Every waiting patrol, batch after batch (tests, and a worker catching up)."""
    done = total = derive_waiting(session)
    while done:
        done = derive_waiting(session)
        total += done
    return total
