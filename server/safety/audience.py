"""Who an alert concerns, as SQL shared by the pull, the who-has-seen list and the matcher.

An alert with no `teams`, `zones` or `geofence` in its audience is for the whole area. Otherwise
it is for the members of its teams and for the devices matched by position (last seen in one of
its zones or inside its geometry), which `alert_matches` records, sticky, as positions arrive.
"""

# ruff: noqa: S608  (every fragment here is a constant; values are bound parameters)
from __future__ import annotations

import uuid

from sqlalchemy import text
from sqlalchemy.orm import Session

TARGETED = "(a.audience ?| array['teams', 'zones', 'geofence'])"


def concerns(device: str, user: str) -> str:
    """A condition on alert `a`: it concerns the device/user given as SQL expressions."""
    return f"""(NOT {TARGETED}
        OR EXISTS (SELECT 1 FROM team_members tm WHERE tm.user_id = {user} AND tm.team_id::text
                   IN (SELECT jsonb_array_elements_text(a.audience -> 'teams')))
        OR EXISTS (SELECT 1 FROM alert_matches m
                   WHERE m.alert_id = a.id AND m.device_id = {device}))"""


ACTIVE = "a.cancelled_at IS NULL AND (a.valid_until IS NULL OR a.valid_until > now())"

# Devices (by last known position) that enter targeted alerts' audience; the alerts they enter
# are touched so that their change_xid moves and every device's next pull looks at them again.
_MATCH = f"""
WITH new AS (
    INSERT INTO alert_matches (alert_id, device_id, area_id)
    SELECT a.id, p.device_id, a.area_id
    FROM safety_alerts a
    JOIN device_positions p ON p.area_id = a.area_id
    JOIN devices d ON d.id = p.device_id AND d.revoked_at IS NULL
    WHERE a.area_id = :area AND {ACTIVE} AND {TARGETED}
      AND (CAST(:alert AS uuid) IS NULL OR a.id = CAST(:alert AS uuid))
      AND (CAST(:device AS uuid) IS NULL OR p.device_id = CAST(:device AS uuid))
      AND ((a.geom IS NOT NULL AND CASE WHEN a.radius_m IS NULL
                THEN ST_Intersects(a.geom, p.geom)
                ELSE ST_DWithin(a.geom::geography, p.geom::geography, a.radius_m) END)
           OR EXISTS (SELECT 1 FROM zones z
                      WHERE z.area_id = a.area_id AND z.deleted_at IS NULL
                        AND z.id::text IN (SELECT jsonb_array_elements_text(a.audience -> 'zones'))
                        AND ST_Intersects(z.geom, p.geom)))
    ON CONFLICT DO NOTHING
    RETURNING alert_id
)
UPDATE safety_alerts SET audience_version = audience_version + 1
WHERE id IN (SELECT alert_id FROM new)
RETURNING id
"""


def match_positions(
    session: Session,
    area_id: uuid.UUID,
    *,
    alert_id: uuid.UUID | None = None,
    device_id: uuid.UUID | None = None,
) -> list[uuid.UUID]:
    """Record the devices whose last position puts them in targeted alerts' audience; returns
    the alerts that gained devices."""
    rows = session.execute(
        text(_MATCH), {"area": area_id, "alert": alert_id, "device": device_id}
    ).scalars()
    return list(rows)


RECIPIENTS = f"""
SELECT d.id AS device_id, d.name AS device_name, u.username, k.acknowledged_at
FROM safety_alerts a
JOIN devices d ON d.area_id = a.area_id AND d.revoked_at IS NULL
JOIN users u ON u.id = d.user_id
LEFT JOIN alert_acks k ON k.alert_id = a.id AND k.device_id = d.id
WHERE a.id = :alert AND {concerns("d.id", "d.user_id")}
ORDER BY u.username, d.name, d.id
"""

# Per alert: how many devices it concerns and how many acknowledged it.
COUNTS = f"""
SELECT count(*) AS recipients, count(k.device_id) AS acknowledged
FROM devices d
LEFT JOIN alert_acks k ON k.alert_id = a.id AND k.device_id = d.id
WHERE d.area_id = a.area_id AND d.revoked_at IS NULL AND {concerns("d.id", "d.user_id")}
"""
