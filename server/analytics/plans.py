"""Patrol plans: a manager's target hours and/or km in some zones (or anywhere in the area) over a
run of days, scored against the synced tracks whenever they are read."""

from __future__ import annotations

import uuid
from datetime import date

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from server.analytics.common import cell_size
from server.analytics.models import PatrolPlan
from server.analytics.tracks import GRID_SRID
from server.areas.models import Zone
from server.core import audit
from server.core.errors import Invalid
from server.core.policy import Action, Actor, authorize, load_in_area

SCORE = f"""
    WITH targets AS (SELECT unnest(CAST(:zones AS uuid[])) AS zone_id),
    actual AS (
        SELECT coalesce(sum(seconds), 0) / 3600 AS hours, coalesce(sum(distance_m), 0) / 1000 AS km
        FROM zone_visits
        WHERE area_id = :area AND day BETWEEN :start AND :end
          AND zone_id IN (SELECT zone_id FROM targets)
    ), anywhere AS (
        SELECT coalesce(sum(seconds), 0) / 3600 AS hours, coalesce(sum(distance_m), 0) / 1000 AS km
        FROM coverage_visits WHERE area_id = :area AND day BETWEEN :start AND :end
    ), cells AS (
        SELECT DISTINCT g.i, g.j
        FROM zones z, ST_Transform(z.geom, {GRID_SRID}) AS b, ST_SquareGrid(:cell, b) AS g
        WHERE z.id IN (SELECT zone_id FROM targets) AND ST_Intersects(g.geom, b)
        UNION
        SELECT DISTINCT g.i, g.j
        FROM areas a, ST_Transform(a.boundary, {GRID_SRID}) AS b, ST_SquareGrid(:cell, b) AS g
        WHERE a.id = :area AND cardinality(CAST(:zones AS uuid[])) = 0
          AND ST_Intersects(g.geom, b)
    ), visited AS (
        SELECT DISTINCT i, j FROM coverage_visits
        WHERE area_id = :area AND day BETWEEN :start AND :end
    )
    SELECT CASE WHEN cardinality(CAST(:zones AS uuid[])) = 0 THEN anywhere.hours
                ELSE actual.hours END AS hours,
           CASE WHEN cardinality(CAST(:zones AS uuid[])) = 0 THEN anywhere.km
                ELSE actual.km END AS km,
           (SELECT count(*) FROM cells) AS cells,
           (SELECT count(*) FROM cells JOIN visited USING (i, j)) AS cells_visited
    FROM actual, anywhere"""


def _score(session: Session, plan: PatrolPlan) -> dict:
    row = session.execute(
        text(SCORE),
        {
            "area": plan.area_id,
            "start": plan.starts_on,
            "end": plan.ends_on,
            "zones": [str(z) for z in plan.zone_ids],
            "cell": cell_size(session, plan.area_id),
        },
    ).one()
    hours_pct = 100 * row.hours / plan.target_hours if plan.target_hours else None
    km_pct = 100 * row.km / plan.target_km if plan.target_km else None
    done = [x for x in (hours_pct, km_pct) if x is not None]
    return {
        "id": plan.id,
        "area_id": plan.area_id,
        "name": plan.name,
        "starts_on": plan.starts_on,
        "ends_on": plan.ends_on,
        "zone_ids": plan.zone_ids,
        "target_hours": plan.target_hours,
        "target_km": plan.target_km,
        "actual_hours": row.hours,
        "actual_km": row.km,
        "hours_percent": hours_pct,
        "km_percent": km_pct,
        "coverage_percent": round(100 * row.cells_visited / row.cells, 2) if row.cells else 0.0,
        "score_percent": min(min(done), 100.0) if done else None,
    }


def create_plan(
    session: Session,
    actor: Actor,
    area_id: uuid.UUID,
    *,
    name: str,
    starts_on: date,
    ends_on: date,
    zone_ids: list[uuid.UUID],
    target_hours: float | None = None,
    target_km: float | None = None,
) -> dict:
    authorize(actor, Action.MAP_EDIT, area_id, "area")
    if ends_on < starts_on:
        raise Invalid("the plan ends before it starts", errors={"ends_on": ["before starts_on"]})
    if target_hours is None and target_km is None:
        raise Invalid(
            "a plan needs target hours, target km or both",
            errors={"target_hours": ["set this or target_km"]},
        )
    zone_ids = sorted(set(zone_ids), key=str)
    known = set(
        session.scalars(
            select(Zone.id).where(
                Zone.area_id == area_id, Zone.id.in_(zone_ids), Zone.deleted_at.is_(None)
            )
        )
    )
    unknown = [str(z) for z in zone_ids if z not in known]
    if unknown:
        raise Invalid(
            f"no such zones in this area: {', '.join(unknown)}", errors={"zone_ids": unknown}
        )
    plan = PatrolPlan(
        area_id=area_id,
        name=name,
        starts_on=starts_on,
        ends_on=ends_on,
        zone_ids=zone_ids,
        target_hours=target_hours,
        target_km=target_km,
        created_by=actor.user_id,
    )
    session.add(plan)
    session.flush()
    audit.record(session, actor, "plan.create", "patrol_plan", plan.id, area_id=area_id)
    return _score(session, plan)


def list_plans(session: Session, actor: Actor, area_id: uuid.UUID) -> list[dict]:
    authorize(actor, Action.ANALYTICS_VIEW, area_id, "area")
    plans = session.scalars(
        select(PatrolPlan)
        .where(PatrolPlan.area_id == area_id)
        .order_by(PatrolPlan.starts_on.desc(), PatrolPlan.name)
    )
    return [_score(session, plan) for plan in plans]


def delete_plan(session: Session, actor: Actor, plan_id: uuid.UUID) -> None:
    plan = load_in_area(session, actor, Action.MAP_EDIT, PatrolPlan, plan_id, "plan")
    session.delete(plan)
    audit.record(session, actor, "plan.delete", "patrol_plan", plan_id, area_id=plan.area_id)
