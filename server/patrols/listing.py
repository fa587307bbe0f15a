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
    planned_start: datetime | None
    planned_end: datetime | None
    overdue: bool  # not ended, and its planned end is past
    armed: bool
    team: str | None
    leader: str | None  # the patrol's leader, else the ranger whose handheld recorded it
    members: str | None  # display names, comma-separated
    point_count: int
    distance_m: float
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
           p.planned_start, p.planned_end,
           (p.ended_at IS NULL AND p.planned_end IS NOT NULL AND p.planned_end < now()) AS overdue,
           p.armed, t.name AS team, COALESCE(u.display_name, du.display_name) AS leader,
           (SELECT string_agg(mu.display_name, ', ' ORDER BY mu.display_name)
            FROM patrol_members m JOIN users mu ON mu.id = m.user_id
            WHERE m.patrol_id = p.id) AS members,
           p.point_count, p.distance_m, {geometry} AS geometry
    FROM patrols p LEFT JOIN teams t ON t.id = p.team_id LEFT JOIN users u ON u.id = p.leader_id
    LEFT JOIN devices d ON d.id = p.device_id LEFT JOIN users du ON du.id = d.user_id
    JOIN areas a ON a.id = p.area_id
"""
_LINE = "ST_AsGeoJSON(p.line, 7)::json"


def _patrol_rows(session: Session, sql: str, params: dict) -> list[PatrolRow]:
    return [PatrolRow(**row) for row in session.execute(text(sql), params).mappings()]


PATROL_ORDERS = {  # a closed set: no text from a request reaches ORDER BY
    "newest": "p.started_at DESC, p.id",
    "oldest": "p.started_at ASC, p.id",
    "longest": "p.distance_m DESC, p.started_at DESC, p.id",
    "overdue": "overdue DESC, p.started_at DESC, p.id",
}


def list_patrols(
    session: Session,
    actor: Actor,
    area_id: uuid.UUID,
    start: date,
    end: date,
    with_tracks: bool = False,
    *,
    q: str | None = None,
    sort: str = "newest",
    limit: int | None = None,
    offset: int = 0,
) -> list[PatrolRow]:
    """Patrols that started between `start` and `end` (the area's local days, both included),
    newest first unless `sort` (PATROL_ORDERS) says; `q` keeps those whose leader, team, members
    or objective hold the words; `with_tracks` adds each simplified line."""
    authorize(actor, Action.PATROL_VIEW, area_id, "area")
    pattern = _like(q)
    return _patrol_rows(
        session,
        "SELECT * FROM ("  # noqa: S608 (the order comes from a closed set)
        + _PATROLS.format(geometry=_LINE if with_tracks else "NULL::json")
        + """WHERE p.area_id = :area
             AND (p.started_at AT TIME ZONE a.timezone)::date BETWEEN :start AND :end
           ) p WHERE (CAST(:q AS text) IS NULL OR concat_ws(' ', p.leader, p.team, p.members,
                      p.objective, p.patrol_type) ILIKE '%' || CAST(:q AS text) || '%')
           ORDER BY """
        + PATROL_ORDERS[sort]
        + " LIMIT :limit OFFSET :offset",
        {
            "area": area_id,
            "start": start,
            "end": end,
            "q": pattern or None,
            "limit": limit,
            "offset": offset,
        },
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


def _like(words: str | None) -> str | None:
    """Search words as a LIKE pattern's middle: the wildcards typed are matched literally."""
    if not words or not words.strip():
        return None
    return words.strip().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
