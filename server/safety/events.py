"""The live feed's table: events written in the transaction that caused them, read by id."""

from __future__ import annotations

import json
import uuid
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

CHANNEL = "rangersync_safety"


def record(
    session: Session,
    area_id: uuid.UUID,
    kind: str,
    alert_id: uuid.UUID | None,
    payload: dict,
    locked: bool = False,
) -> None:
    """Append an event; every app process sees it when the transaction commits.

    Event ids come from a sequence, and a reader resumes after the last id it saw, so ids must
    become visible in order: writers of one area take a transaction-level advisory lock before
    taking an id, so they commit one after the other and a late commit can never be stepped over.
    Call it last in the transaction: the lock is held until commit."""
    if not locked:  # the caller took it already (lock_area), in this transaction
        lock_area(session, area_id)
    session.execute(
        text(
            "WITH e AS (INSERT INTO safety_events (area_id, kind, alert_id, payload)"
            " VALUES (:area, :kind, :alert, CAST(:payload AS jsonb)) RETURNING id)"
            " SELECT pg_notify(:channel, (SELECT id FROM e)::text)"
        ),
        {
            "area": area_id,
            "kind": kind,
            "alert": alert_id,
            "payload": json.dumps(payload, default=str),
            "channel": CHANNEL,
        },
    )


def lock_area(session: Session, area_id: uuid.UUID) -> None:
    """The area's alert lock, held until the transaction ends (taking it again is free). A
    transaction that raises alerts takes it before anything else, so such transactions of one
    area follow one another and cannot deadlock on each other's rows."""
    session.execute(
        text("SELECT pg_advisory_xact_lock(hashtextextended(:key, 0))"),
        {"key": f"safety_events:{area_id}"},
    )


def latest_id(session: Session, area_id: uuid.UUID) -> int:
    return session.execute(
        text("SELECT coalesce(max(id), 0) FROM safety_events WHERE area_id = :area"),
        {"area": area_id},
    ).scalar_one()


def since(
    session: Session, area_id: uuid.UUID, after_id: int, limit: int = 100
) -> list[dict[str, Any]]:
    """Events of an area after `after_id`, oldest first."""
    rows = session.execute(
        text(
            "SELECT id, kind, alert_id, payload, created_at FROM safety_events"
            " WHERE area_id = :area AND id > :after ORDER BY id LIMIT :limit"
        ),
        {"area": area_id, "after": after_id, "limit": limit},
    ).all()
    return [
        {
            "id": r.id,
            "kind": r.kind,
            "alert_id": r.alert_id,
            "payload": r.payload,
            "created_at": r.created_at,
        }
        for r in rows
    ]
