"""Sync: the receipt ledger, quarantine, conflicts, record versions, device status, tombstones,
and change tracking (the transaction id of each row's last change) for commit-ordered pulls.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from server.core.db import XID8

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


TRACKED = (
    "areas",
    "zones",
    "map_features",
    "report_categories",
    "safety_alerts",
    "reports",
    "patrols",
)

TRACK_CHANGE = """
CREATE FUNCTION rs_track_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.change_xid := pg_current_xact_id();
    RETURN NEW;
END
$$
"""

# Deleted rows leave a tombstone, so that a device's next pull learns of the deletion.
# TG_ARGV: the kind as devices know it, and whether the row has area_id / device_id.
TOMBSTONE = """
CREATE FUNCTION rs_tombstone() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    row jsonb := to_jsonb(OLD);
BEGIN
    INSERT INTO tombstones (area_id, kind, object_id, device_id)
    VALUES ((row ->> 'area_id')::uuid, TG_ARGV[0], OLD.id, (row ->> 'device_id')::uuid);
    RETURN OLD;
END
$$
"""
# A patrol's display line: its fixes in order, repeated positions dropped (a team standing still),
# and no line at all below two distinct positions, which would not be a valid geometry.
TRACK_LINE = """
CREATE FUNCTION rs_track_line(g geometry) RETURNS geometry
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE WHEN ST_NPoints(r) >= 2 THEN r END FROM (SELECT ST_RemoveRepeatedPoints(g) AS r) s
$$
"""

TOMBSTONED = {
    "zones": "zone",
    "map_features": "map_feature",
    "report_categories": "category",
    "safety_alerts": "alert",
    "reports": "report",
}


def upgrade() -> None:
    op.create_table(
        "tombstones",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("area_id", sa.Uuid(), nullable=True),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("object_id", sa.Uuid(), nullable=False),
        sa.Column("device_id", sa.Uuid(), nullable=True),
        sa.Column(
            "change_xid", XID8(), server_default=sa.text("pg_current_xact_id()"), nullable=False
        ),
        sa.Column(
            "deleted_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tombstones")),
    )
    op.create_index(
        "ix_tombstones_area_id_change_xid", "tombstones", ["area_id", "change_xid"], unique=False
    )
    op.create_table(
        "device_status",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("area_id", sa.Uuid(), nullable=False),
        sa.Column("device_id", sa.Uuid(), nullable=False),
        sa.Column("reported_at_device", sa.DateTime(timezone=True), nullable=False),
        sa.Column("reported_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column(
            "received_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("battery_pct", sa.Float(), nullable=True),
        sa.Column("app_version", sa.Text(), nullable=True),
        sa.Column("free_storage_bytes", sa.BigInteger(), nullable=True),
        sa.Column("pending", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("oldest_pending_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["area_id"],
            ["areas.id"],
            name=op.f("fk_device_status_area_id_areas"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["device_id"], ["devices.id"], name=op.f("fk_device_status_device_id_devices")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_device_status")),
    )
    op.create_index(
        "ix_device_status_device_id_received_at",
        "device_status",
        ["device_id", "received_at"],
        unique=False,
    )
    op.create_table(
        "record_versions",
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("record_id", sa.Uuid(), nullable=False),
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.Column("area_id", sa.Uuid(), nullable=False),
        sa.Column("data", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("edit_id", sa.Uuid(), nullable=True),
        sa.Column("device_id", sa.Uuid(), nullable=True),
        sa.Column("user_id", sa.Uuid(), nullable=True),
        sa.Column(
            "changed_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["area_id"],
            ["areas.id"],
            name=op.f("fk_record_versions_area_id_areas"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["device_id"], ["devices.id"], name=op.f("fk_record_versions_device_id_devices")
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_record_versions_user_id_users")
        ),
        sa.PrimaryKeyConstraint("kind", "record_id", "version", name="pk_record_versions"),
    )
    op.create_table(
        "sync_conflicts",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("area_id", sa.Uuid(), nullable=False),
        sa.Column("device_id", sa.Uuid(), nullable=True),
        sa.Column("sync_id", sa.Uuid(), nullable=True),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("record_id", sa.Uuid(), nullable=False),
        sa.Column("reason", sa.String(length=32), nullable=False),
        sa.Column("base_version", sa.BigInteger(), nullable=True),
        sa.Column("current_version", sa.BigInteger(), nullable=True),
        sa.Column("content", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column(
            "received_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("resolved_by", sa.Uuid(), nullable=True),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "state IN ('open', 'resolved')", name=op.f("ck_sync_conflicts_state_allowed")
        ),
        sa.ForeignKeyConstraint(
            ["area_id"],
            ["areas.id"],
            name=op.f("fk_sync_conflicts_area_id_areas"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["device_id"], ["devices.id"], name=op.f("fk_sync_conflicts_device_id_devices")
        ),
        sa.ForeignKeyConstraint(
            ["resolved_by"], ["users.id"], name=op.f("fk_sync_conflicts_resolved_by_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sync_conflicts")),
    )
    op.create_index(
        "ix_sync_conflicts_area_id_state", "sync_conflicts", ["area_id", "state"], unique=False
    )
    op.create_index(
        op.f("ix_sync_conflicts_record_id"), "sync_conflicts", ["record_id"], unique=False
    )
    op.create_table(
        "sync_quarantine",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("area_id", sa.Uuid(), nullable=False),
        sa.Column("device_id", sa.Uuid(), nullable=True),
        sa.Column("sync_id", sa.Uuid(), nullable=True),
        sa.Column("kind", sa.String(length=32), nullable=True),
        sa.Column("record_id", sa.Text(), nullable=True),
        sa.Column("raw", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("pointer", sa.Text(), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column(
            "received_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("resolved_by", sa.Uuid(), nullable=True),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("resolution", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.CheckConstraint(
            "state IN ('open', 'readmitted', 'dismissed')",
            name=op.f("ck_sync_quarantine_state_allowed"),
        ),
        sa.ForeignKeyConstraint(
            ["area_id"],
            ["areas.id"],
            name=op.f("fk_sync_quarantine_area_id_areas"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["device_id"], ["devices.id"], name=op.f("fk_sync_quarantine_device_id_devices")
        ),
        sa.ForeignKeyConstraint(
            ["resolved_by"], ["users.id"], name=op.f("fk_sync_quarantine_resolved_by_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sync_quarantine")),
    )
    op.create_index(
        "ix_sync_quarantine_area_id_state", "sync_quarantine", ["area_id", "state"], unique=False
    )
    op.create_table(
        "sync_receipts",
        sa.Column("record_id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("area_id", sa.Uuid(), nullable=False),
        sa.Column("device_id", sa.Uuid(), nullable=True),
        sa.Column("content_hash", sa.LargeBinary(length=32), nullable=False),
        sa.Column("sync_id", sa.Uuid(), nullable=True),
        sa.Column(
            "received_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["area_id"],
            ["areas.id"],
            name=op.f("fk_sync_receipts_area_id_areas"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["device_id"], ["devices.id"], name=op.f("fk_sync_receipts_device_id_devices")
        ),
        sa.PrimaryKeyConstraint("record_id", "kind", name="pk_sync_receipts"),
    )
    op.create_index(op.f("ix_sync_receipts_area_id"), "sync_receipts", ["area_id"], unique=False)
    op.create_table(
        "sync_sessions",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("area_id", sa.Uuid(), nullable=False),
        sa.Column("device_id", sa.Uuid(), nullable=False),
        sa.Column("direction", sa.String(length=8), nullable=False),
        sa.Column("protocol", sa.Integer(), nullable=False),
        sa.Column(
            "received_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("device_time", sa.DateTime(timezone=True), nullable=True),
        sa.Column("clock_skew_s", sa.Float(), nullable=True),
        sa.Column("clock_suspect", sa.Boolean(), nullable=False),
        sa.Column("records", sa.Integer(), nullable=False),
        sa.Column("verdicts", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.ForeignKeyConstraint(
            ["area_id"],
            ["areas.id"],
            name=op.f("fk_sync_sessions_area_id_areas"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["device_id"], ["devices.id"], name=op.f("fk_sync_sessions_device_id_devices")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sync_sessions")),
    )
    op.create_index(
        "ix_sync_sessions_device_id_received_at",
        "sync_sessions",
        ["device_id", "received_at"],
        unique=False,
    )
    op.add_column(
        "areas",
        sa.Column(
            "change_xid", XID8(), server_default=sa.text("pg_current_xact_id()"), nullable=False
        ),
    )
    op.create_index(op.f("ix_areas_change_xid"), "areas", ["change_xid"], unique=False)
    op.add_column(
        "map_features",
        sa.Column(
            "change_xid", XID8(), server_default=sa.text("pg_current_xact_id()"), nullable=False
        ),
    )
    op.create_index(
        op.f("ix_map_features_change_xid"), "map_features", ["change_xid"], unique=False
    )
    op.add_column(
        "patrols", sa.Column("started_at_device", sa.DateTime(timezone=True), nullable=True)
    )
    op.add_column(
        "patrols",
        sa.Column("clock_suspect", sa.Boolean(), server_default=sa.false(), nullable=False),
    )
    op.add_column("patrols", sa.Column("max_seq", sa.BigInteger(), nullable=True))
    op.add_column(
        "patrols",
        sa.Column(
            "change_xid", XID8(), server_default=sa.text("pg_current_xact_id()"), nullable=False
        ),
    )
    op.create_index(op.f("ix_patrols_change_xid"), "patrols", ["change_xid"], unique=False)
    op.add_column(
        "report_categories",
        sa.Column(
            "change_xid", XID8(), server_default=sa.text("pg_current_xact_id()"), nullable=False
        ),
    )
    op.create_index(
        op.f("ix_report_categories_change_xid"), "report_categories", ["change_xid"], unique=False
    )
    op.add_column(
        "reports",
        sa.Column("clock_suspect", sa.Boolean(), server_default=sa.false(), nullable=False),
    )
    op.add_column(
        "reports",
        sa.Column(
            "change_xid", XID8(), server_default=sa.text("pg_current_xact_id()"), nullable=False
        ),
    )
    op.create_index(op.f("ix_reports_change_xid"), "reports", ["change_xid"], unique=False)
    op.add_column(
        "safety_alerts",
        sa.Column(
            "change_xid", XID8(), server_default=sa.text("pg_current_xact_id()"), nullable=False
        ),
    )
    op.create_index(
        op.f("ix_safety_alerts_change_xid"), "safety_alerts", ["change_xid"], unique=False
    )
    op.add_column(
        "zones",
        sa.Column(
            "change_xid", XID8(), server_default=sa.text("pg_current_xact_id()"), nullable=False
        ),
    )
    op.create_index(op.f("ix_zones_change_xid"), "zones", ["change_xid"], unique=False)
    op.execute(
        "CREATE TABLE tombstone_horizon (singleton boolean PRIMARY KEY DEFAULT true"
        " CHECK (singleton), purged_through xid8 NOT NULL)"
    )
    op.execute("INSERT INTO tombstone_horizon VALUES (true, '0'::xid8)")
    op.execute(TRACK_CHANGE)
    op.execute(TRACK_LINE)
    for table in TRACKED:
        op.execute(
            f"CREATE TRIGGER {table}_track_change BEFORE UPDATE ON {table}"
            " FOR EACH ROW EXECUTE FUNCTION rs_track_change()"
        )
    op.execute(TOMBSTONE)
    for table, kind in TOMBSTONED.items():
        op.execute(
            f"CREATE TRIGGER {table}_tombstone AFTER DELETE ON {table}"
            f" FOR EACH ROW EXECUTE FUNCTION rs_tombstone('{kind}')"
        )


def downgrade() -> None:
    for table in TOMBSTONED:
        op.execute(f"DROP TRIGGER {table}_tombstone ON {table}")
    op.execute("DROP FUNCTION rs_tombstone()")
    for table in TRACKED:
        op.execute(f"DROP TRIGGER {table}_track_change ON {table}")
    op.execute("DROP FUNCTION rs_track_change()")
    op.execute("DROP TABLE tombstone_horizon")
    op.execute("DROP FUNCTION rs_track_line(geometry)")
    op.drop_index(op.f("ix_zones_change_xid"), table_name="zones")
    op.drop_column("zones", "change_xid")
    op.drop_index(op.f("ix_safety_alerts_change_xid"), table_name="safety_alerts")
    op.drop_column("safety_alerts", "change_xid")
    op.drop_index(op.f("ix_reports_change_xid"), table_name="reports")
    op.drop_column("reports", "change_xid")
    op.drop_column("reports", "clock_suspect")
    op.drop_index(op.f("ix_report_categories_change_xid"), table_name="report_categories")
    op.drop_column("report_categories", "change_xid")
    op.drop_index(op.f("ix_patrols_change_xid"), table_name="patrols")
    op.drop_column("patrols", "change_xid")
    op.drop_column("patrols", "max_seq")
    op.drop_column("patrols", "clock_suspect")
    op.drop_column("patrols", "started_at_device")
    op.drop_index(op.f("ix_map_features_change_xid"), table_name="map_features")
    op.drop_column("map_features", "change_xid")
    op.drop_index(op.f("ix_areas_change_xid"), table_name="areas")
    op.drop_column("areas", "change_xid")
    op.drop_index("ix_sync_sessions_device_id_received_at", table_name="sync_sessions")
    op.drop_table("sync_sessions")
    op.drop_index(op.f("ix_sync_receipts_area_id"), table_name="sync_receipts")
    op.drop_table("sync_receipts")
    op.drop_index("ix_sync_quarantine_area_id_state", table_name="sync_quarantine")
    op.drop_table("sync_quarantine")
    op.drop_index(op.f("ix_sync_conflicts_record_id"), table_name="sync_conflicts")
    op.drop_index("ix_sync_conflicts_area_id_state", table_name="sync_conflicts")
    op.drop_table("sync_conflicts")
    op.drop_table("record_versions")
    op.drop_index("ix_device_status_device_id_received_at", table_name="device_status")
    op.drop_table("device_status")
    op.drop_index("ix_tombstones_area_id_change_xid", table_name="tombstones")
    op.drop_table("tombstones")
