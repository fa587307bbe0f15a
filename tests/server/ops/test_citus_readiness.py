"""What the schema promises today towards distribution by park (docs/capacity.md): every table
that grows with field data carries `area_id`; the tables whose primary key still lacks it are a
known list that may only shrink."""

from __future__ import annotations

from sqlalchemy import text

# Tables that do not belong to one park: reference data, accounts (users span parks), and
# bookkeeping that stays on a coordinator.
NOT_PER_AREA = {
    "alembic_version",
    "areas",
    "users",
    "api_tokens",
    "spatial_ref_sys",
    "audit_chain_head",
    "tombstone_horizon",
    # reference data delivered to every device, like the standard categories
    "taxa",
    "report_category_versions",
    # partner keys may span parks (their areas are in partner_key_areas); their request log
    # stays with them
    "partner_keys",
    "partner_requests",
    # rate limits every app process shares: counted per key, partner key or source address
    "rate_limit_hits",
    "rate_limit_counters",
}
# Per-area tables whose primary key does not include area_id yet: Citus needs it there (see
# docs/capacity.md, "What changes in the schema"). Remove a name when its key is changed; a new
# table must not be added here. (Seizures, their items and versions, geoprivacy rules and a
# park's own report categories were added when their branches were merged: they are keyed by
# the device's or the catalogue's id like reports and categories, and move with them.)
KEY_WITHOUT_AREA = {
    "geoprivacy_rules",
    "report_categories",
    "seizure_items",
    "seizure_versions",
    "seizures",
    "alert_acks",
    "alert_matches",
    "attachments",
    "audit_log",
    "coverage_visits",
    "device_positions",
    "device_status",
    "devices",
    "enrolment_codes",
    "map_features",
    "map_packages",
    "notifications",
    "patrol_effort",
    "patrol_legs",
    "patrol_members",
    "patrol_plans",
    "patrols",
    "record_versions",
    "reports",
    "safety_alerts",
    "safety_events",
    "sos_calls",
    "sync_conflicts",
    "sync_quarantine",
    "sync_receipts",
    "sync_sessions",
    "team_members",
    "teams",
    "tombstones",
    "track_points",
    "uploads",
    "zone_visits",
    "zones",
}

TABLES = """
SELECT t.relname AS name,
       EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = t.oid AND a.attname = 'area_id'
               AND NOT a.attisdropped) AS has_area,
       EXISTS (SELECT 1 FROM pg_index i JOIN pg_attribute a
                 ON a.attrelid = i.indrelid AND a.attnum = ANY (i.indkey)
               WHERE i.indrelid = t.oid AND i.indisprimary AND a.attname = 'area_id') AS area_in_key
FROM pg_class t JOIN pg_namespace n ON n.oid = t.relnamespace
WHERE n.nspname = 'public' AND t.relkind IN ('r', 'p') AND NOT t.relispartition
"""


def test_every_table_of_field_data_carries_its_area(db):
    tables = db.execute(text(TABLES)).all()
    without_area = {t.name for t in tables if not t.has_area} - NOT_PER_AREA
    assert not without_area, f"per-park tables without area_id: {sorted(without_area)}"


def test_tables_keyed_without_their_area_are_a_known_list_that_only_shrinks(db):
    tables = db.execute(text(TABLES)).all()
    lacking = {t.name for t in tables if t.has_area and not t.area_in_key}
    assert lacking <= KEY_WITHOUT_AREA, (
        f"new tables keyed without area_id (Citus needs it in the key): "
        f"{sorted(lacking - KEY_WITHOUT_AREA)}"
    )
    fixed = KEY_WITHOUT_AREA - lacking
    assert not fixed, f"now keyed with area_id: remove from KEY_WITHOUT_AREA: {sorted(fixed)}"
