"""Device sync health: per device its last sync, what it last said was pending, its oldest unsynced
item, clock drift, app version and battery; devices silent for too long are flagged."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import text
from sqlalchemy.orm import Session

from server.core.policy import Action, Actor, authorize

HEALTH = """
    SELECT d.id AS device_id, d.name, u.username, u.display_name, d.platform,
           coalesce(st.app_version, d.app_version) AS app_version,
           d.enrolled_at, d.revoked_at, d.last_seen_at,
           s.received_at AS last_sync_at, k.clock_skew_s, k.clock_suspect,
           st.reported_at AS status_at, st.battery_pct, st.free_storage_bytes,
           coalesce(st.pending, '{}'::jsonb) AS pending, st.oldest_pending_at,
           (SELECT count(*) FROM sync_quarantine q
            WHERE q.device_id = d.id AND q.state = 'open') AS quarantined,
           d.revoked_at IS NULL AND (s.received_at IS NULL
               OR s.received_at < CAST(:now AS timestamptz) - make_interval(hours => :hours))
             AS stale
    FROM devices d JOIN users u ON u.id = d.user_id
    LEFT JOIN LATERAL (
        SELECT received_at FROM sync_sessions
        WHERE device_id = d.id ORDER BY received_at DESC LIMIT 1
    ) s ON true
    LEFT JOIN LATERAL (
        SELECT clock_skew_s, clock_suspect FROM sync_sessions
        WHERE device_id = d.id AND clock_skew_s IS NOT NULL ORDER BY received_at DESC LIMIT 1
    ) k ON true
    LEFT JOIN LATERAL (
        SELECT reported_at, battery_pct, free_storage_bytes, pending, oldest_pending_at,
               app_version
        FROM device_status WHERE device_id = d.id ORDER BY received_at DESC LIMIT 1
    ) st ON true
    WHERE d.area_id = :area
    ORDER BY stale DESC, s.received_at NULLS FIRST, d.name
"""


def health(
    session: Session, actor: Actor, area_id: uuid.UUID, stale_hours: int, now: datetime
) -> list[dict]:
    authorize(actor, Action.DEVICE_VIEW, area_id, "area")
    rows = session.execute(text(HEALTH), {"area": area_id, "hours": stale_hours, "now": now})
    return [dict(r) for r in rows.mappings()]
