"""Lists of patrols as typed rows: an area's patrols started in a period (local days), one
patrol, and a patrol's legs."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from server.core.policy import Action, Actor, authorize, load_in_area
from server.patrols.models import Patrol


@dataclass(frozen=True)
class PatrolRow:
    id: uuid.UUID
    area_id: uuid.UUID
    patrol_type: str
    mandate: str | None
    objective: str | None
    started_at: datetime
    ended_at: datetime | None
    armed: bool
    team: str | None
    leader: str | None
    members: str | None  # display names, comma-separated
    point_count: int
    geometry: dict[str, Any] | None  # the simplified line as GeoJSON, when asked for


@dataclass(frozen=True)
class LegRow:
    leg_number: int
    patrol_type: str
    transport: str | None
    started_at: datetime
    ended_at: datetime | None


_PATROLS = """
    SELECT p.id, p.area_id, p.patrol_type, p.mandate, p.objective, p.started_at, p.ended_at,
           p.armed, t.name AS team, u.display_name AS leader,
           (SELECT string_agg(mu.display_name, ', ' ORDER BY mu.display_name)
            FROM patrol_members m JOIN users mu ON mu.id = m.user_id
            WHERE m.patrol_id = p.id) AS members,
           p.point_count, {geometry} AS geometry
    FROM patrols p LEFT JOIN teams t ON t.id = p.team_id LEFT JOIN users u ON u.id = p.leader_id
    JOIN areas a ON a.id = p.area_id
"""
_LINE = "ST_AsGeoJSON(p.line, 7)::json"


def _patrol_rows(session: Session, sql: str, params: dict) -> list[PatrolRow]:
    return [PatrolRow(**row) for row in session.execute(text(sql), params).mappings()]


def list_patrols(
    session: Session,
    actor: Actor,
    area_id: uuid.UUID,
    start: date,
    end: date,
    with_tracks: bool = False,
) -> list[PatrolRow]:
    """Patrols that started between `start` and `end` (the area's local days, both included),
    newest first; `with_tracks` adds each simplified line."""
    authorize(actor, Action.PATROL_VIEW, area_id, "area")
    return _patrol_rows(
        session,
        _PATROLS.format(geometry=_LINE if with_tracks else "NULL::json")
        + """WHERE p.area_id = :area
             AND (p.started_at AT TIME ZONE a.timezone)::date BETWEEN :start AND :end
           ORDER BY p.started_at DESC""",
        {"area": area_id, "start": start, "end": end},
    )


def get_patrol_row(session: Session, actor: Actor, patrol_id: uuid.UUID) -> PatrolRow:
    """One patrol with its line."""
    load_in_area(session, actor, Action.PATROL_VIEW, Patrol, patrol_id, "patrol")
    [row] = _patrol_rows(
        session, _PATROLS.format(geometry=_LINE) + "WHERE p.id = :p", {"p": patrol_id}
    )
    return row


def legs_of(session: Session, patrol_id: uuid.UUID) -> list[LegRow]:
    """A patrol's legs in order. The caller has authorized seeing the patrol."""
    rows = session.execute(
        text(
            "SELECT leg_number, patrol_type, transport, started_at, ended_at FROM patrol_legs"
            " WHERE patrol_id = :p ORDER BY leg_number"
        ),
        {"p": patrol_id},
    )
    return [LegRow(**row) for row in rows.mappings()]
