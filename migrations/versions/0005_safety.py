"""Safety: alert audiences and acknowledgements, last known positions, per-area rule thresholds,
SOS calls, the live event feed, the notification outbox, and procrastinate's job queue (in its own
schema, `procrastinate`, installed from the library's schema.sql of the pinned version).

Revision ID: 0005
Revises: 0003
Create Date: 2026-11-25
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from geoalchemy2 import Geometry
from procrastinate.schema import SchemaManager
from sqlalchemy.dialects import postgresql

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "safety_events",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("area_id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("alert_id", sa.Uuid(), nullable=True),
        sa.Column("payload", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["area_id"],
            ["areas.id"],
            name=op.f("fk_safety_events_area_id_areas"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_safety_events")),
    )
    op.create_index("ix_safety_events_area_id_id", "safety_events", ["area_id", "id"], unique=False)
    op.create_table(
        "safety_settings",
        sa.Column("area_id", sa.Uuid(), nullable=False),
        sa.Column("overdue_grace_min", sa.Integer(), server_default="60", nullable=False),
        sa.Column("no_movement_min", sa.Integer(), server_default="45", nullable=False),
        sa.Column("no_movement_radius_m", sa.Float(), server_default="50", nullable=False),
        sa.Column("hostile_radius_km", sa.Float(), server_default="5", nullable=False),
        sa.Column("hostile_max_age_min", sa.Integer(), server_default="360", nullable=False),
        sa.Column("nearby_radius_km", sa.Float(), server_default="10", nullable=False),
        sa.Column("escalate_after_min", sa.Integer(), server_default="15", nullable=False),
        sa.Column(
            "notify_emails", postgresql.ARRAY(sa.Text()), server_default="{}", nullable=False
        ),
        sa.Column("notify_sms", postgresql.ARRAY(sa.Text()), server_default="{}", nullable=False),
        sa.Column(
            "notify_webhooks", postgresql.ARRAY(sa.Text()), server_default="{}", nullable=False
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "overdue_grace_min >= 0 AND no_movement_min > 0 AND no_movement_radius_m > 0 AND hostile_radius_km > 0 AND hostile_max_age_min > 0 AND nearby_radius_km > 0 AND escalate_after_min > 0",
            name=op.f("ck_safety_settings_positive"),
        ),
        sa.ForeignKeyConstraint(
            ["area_id"],
            ["areas.id"],
            name=op.f("fk_safety_settings_area_id_areas"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("area_id", name=op.f("pk_safety_settings")),
    )
    op.create_table(
        "alert_acks",
        sa.Column("alert_id", sa.Uuid(), nullable=False),
        sa.Column("device_id", sa.Uuid(), nullable=False),
        sa.Column("area_id", sa.Uuid(), nullable=False),
        sa.Column("acknowledged_at_device", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "acknowledged_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["alert_id"],
            ["safety_alerts.id"],
            name=op.f("fk_alert_acks_alert_id_safety_alerts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["area_id"], ["areas.id"], name=op.f("fk_alert_acks_area_id_areas"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["device_id"],
            ["devices.id"],
            name=op.f("fk_alert_acks_device_id_devices"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("alert_id", "device_id", name=op.f("pk_alert_acks")),
    )
    op.create_table(
        "alert_matches",
        sa.Column("alert_id", sa.Uuid(), nullable=False),
        sa.Column("device_id", sa.Uuid(), nullable=False),
        sa.Column("area_id", sa.Uuid(), nullable=False),
        sa.Column(
            "matched_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["alert_id"],
            ["safety_alerts.id"],
            name=op.f("fk_alert_matches_alert_id_safety_alerts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["area_id"],
            ["areas.id"],
            name=op.f("fk_alert_matches_area_id_areas"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["device_id"],
            ["devices.id"],
            name=op.f("fk_alert_matches_device_id_devices"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("alert_id", "device_id", name=op.f("pk_alert_matches")),
    )
    op.create_index(
        op.f("ix_alert_matches_device_id"), "alert_matches", ["device_id"], unique=False
    )
    op.create_geospatial_table(
        "device_positions",
        sa.Column("device_id", sa.Uuid(), nullable=False),
        sa.Column("area_id", sa.Uuid(), nullable=False),
        sa.Column(
            "geom",
            Geometry(
                geometry_type="POINT",
                srid=4326,
                dimension=2,
                spatial_index=False,
                from_text="ST_GeomFromEWKT",
                name="geometry",
                nullable=False,
            ),
            nullable=False,
        ),
        sa.Column("fixed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("patrol_id", sa.Uuid(), nullable=True),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint("rs_geometry_ok(geom)", name=op.f("ck_device_positions_geom_valid")),
        sa.ForeignKeyConstraint(
            ["area_id"],
            ["areas.id"],
            name=op.f("fk_device_positions_area_id_areas"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["device_id"],
            ["devices.id"],
            name=op.f("fk_device_positions_device_id_devices"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("device_id", name=op.f("pk_device_positions")),
    )
    op.create_geospatial_index(
        "idx_device_positions_geom",
        "device_positions",
        ["geom"],
        unique=False,
        postgresql_using="gist",
        postgresql_ops={},
    )
    op.create_index(
        op.f("ix_device_positions_area_id"), "device_positions", ["area_id"], unique=False
    )
    op.create_table(
        "notifications",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("area_id", sa.Uuid(), nullable=False),
        sa.Column("alert_id", sa.Uuid(), nullable=False),
        sa.Column("purpose", sa.String(length=16), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("target", sa.Text(), nullable=False),
        sa.Column("subject", sa.Text(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "channel IN ('email', 'sms', 'webhook')", name=op.f("ck_notifications_channel_allowed")
        ),
        sa.CheckConstraint(
            "state IN ('pending', 'sending', 'sent', 'failed')",
            name=op.f("ck_notifications_state_allowed"),
        ),
        sa.ForeignKeyConstraint(
            ["alert_id"],
            ["safety_alerts.id"],
            name=op.f("fk_notifications_alert_id_safety_alerts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["area_id"],
            ["areas.id"],
            name=op.f("fk_notifications_area_id_areas"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notifications")),
    )
    op.create_index(
        "ix_notifications_alert_id_purpose_channel_target",
        "notifications",
        ["alert_id", "purpose", "channel", "target"],
        unique=True,
    )
    op.create_index(
        "ix_notifications_state_lease_until",
        "notifications",
        ["state", "lease_until"],
        unique=False,
    )
    op.create_geospatial_table(
        "sos_calls",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("area_id", sa.Uuid(), nullable=False),
        sa.Column("device_id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("counter", sa.BigInteger(), nullable=False),
        sa.Column(
            "geom",
            Geometry(
                geometry_type="POINT",
                srid=4326,
                dimension=2,
                spatial_index=False,
                from_text="ST_GeomFromEWKT",
                name="geometry",
                nullable=False,
            ),
            nullable=False,
        ),
        sa.Column("sent_at_device", sa.DateTime(timezone=True), nullable=False),
        sa.Column("text", sa.Text(), nullable=True),
        sa.Column("channel", sa.String(length=8), nullable=False),
        sa.Column("sender", sa.Text(), nullable=True),
        sa.Column("alert_id", sa.Uuid(), nullable=True),
        sa.Column(
            "received_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint("channel IN ('http', 'sms')", name=op.f("ck_sos_calls_channel_allowed")),
        sa.CheckConstraint("rs_geometry_ok(geom)", name=op.f("ck_sos_calls_geom_valid")),
        sa.ForeignKeyConstraint(
            ["area_id"], ["areas.id"], name=op.f("fk_sos_calls_area_id_areas"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["device_id"],
            ["devices.id"],
            name=op.f("fk_sos_calls_device_id_devices"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_sos_calls_user_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sos_calls")),
    )
    op.create_index(op.f("ix_sos_calls_area_id"), "sos_calls", ["area_id"], unique=False)
    op.create_index(
        "ix_sos_calls_device_id_counter", "sos_calls", ["device_id", "counter"], unique=True
    )
    op.add_column("safety_alerts", sa.Column("radius_m", sa.Float(), nullable=True))
    op.add_column(
        "safety_alerts",
        sa.Column("kind", sa.String(length=32), server_default="manual", nullable=False),
    )
    op.add_column("safety_alerts", sa.Column("dedupe_key", sa.Text(), nullable=True))
    op.add_column("safety_alerts", sa.Column("subject_id", sa.Uuid(), nullable=True))
    op.add_column(
        "safety_alerts", sa.Column("escalated_at", sa.DateTime(timezone=True), nullable=True)
    )
    op.add_column(
        "safety_alerts",
        sa.Column("audience_version", sa.BigInteger(), server_default="1", nullable=False),
    )
    op.create_index(
        "ix_safety_alerts_area_id_dedupe_key",
        "safety_alerts",
        ["area_id", "dedupe_key"],
        unique=True,
        postgresql_where=sa.text("dedupe_key IS NOT NULL"),
    )
    op.create_check_constraint(
        op.f("ck_safety_alerts_kind_allowed"),
        "safety_alerts",
        "kind IN ('manual', 'sos', 'overdue_patrol', 'no_movement', 'danger_zone', 'hostile_incident')",
    )
    op.create_check_constraint(
        op.f("ck_safety_alerts_radius"),
        "safety_alerts",
        "radius_m IS NULL OR (radius_m > 0 AND geom IS NOT NULL)",
    )
    install_job_queue()
    op.execute(TRACK_LINE.format(condition="ST_NPoints(r) >= 2 AND ST_Length(r) > 0"))


# A patrol standing still (every fix at one spot) left a two-point line of zero length, which
# rs_geometry_ok() refuses, so its track chunks were rejected: a ranger who does not move is
# exactly whom the no-movement rule must see. Now such a patrol has no line until it moves.
TRACK_LINE = """
CREATE OR REPLACE FUNCTION rs_track_line(g geometry) RETURNS geometry
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE WHEN {condition} THEN r END FROM (SELECT ST_RemoveRepeatedPoints(g) AS r) s
$$
"""


def install_job_queue() -> None:
    """procrastinate's tables and functions, in a schema of their own so that they stay out of
    our metadata; its functions carry their search_path, so a job can be deferred (a row
    inserted) inside any of our transactions, atomically with the notification it delivers."""
    op.execute("CREATE SCHEMA procrastinate")
    op.execute("SET LOCAL search_path TO procrastinate, public")
    op.execute(SchemaManager.get_schema())  # written for a paramstyle driver: "%%" is meant
    op.execute(
        """
        DO $$
        DECLARE f record;
        BEGIN
            FOR f IN SELECT p.oid::regprocedure AS sig FROM pg_proc p
                     JOIN pg_namespace n ON n.oid = p.pronamespace
                     WHERE n.nspname = 'procrastinate' AND p.prokind = 'f'
            LOOP
                EXECUTE format('ALTER FUNCTION %s SET search_path = procrastinate, public', f.sig);
            END LOOP;
        END $$
        """
    )
    op.execute("RESET search_path")


def downgrade() -> None:
    op.execute(TRACK_LINE.format(condition="ST_NPoints(r) >= 2"))
    op.execute("DROP SCHEMA procrastinate CASCADE")
    op.drop_constraint(op.f("ck_safety_alerts_radius"), "safety_alerts", type_="check")
    op.drop_constraint(op.f("ck_safety_alerts_kind_allowed"), "safety_alerts", type_="check")
    op.drop_index(
        "ix_safety_alerts_area_id_dedupe_key",
        table_name="safety_alerts",
        postgresql_where=sa.text("dedupe_key IS NOT NULL"),
    )
    op.drop_column("safety_alerts", "audience_version")
    op.drop_column("safety_alerts", "escalated_at")
    op.drop_column("safety_alerts", "subject_id")
    op.drop_column("safety_alerts", "dedupe_key")
    op.drop_column("safety_alerts", "kind")
    op.drop_column("safety_alerts", "radius_m")
    op.drop_index("ix_sos_calls_device_id_counter", table_name="sos_calls")
    op.drop_index(op.f("ix_sos_calls_area_id"), table_name="sos_calls")
    op.drop_geospatial_table("sos_calls")
    op.drop_index("ix_notifications_state_lease_until", table_name="notifications")
    op.drop_index("ix_notifications_alert_id_purpose_channel_target", table_name="notifications")
    op.drop_table("notifications")
    op.drop_index(op.f("ix_device_positions_area_id"), table_name="device_positions")
    op.drop_geospatial_index(
        "idx_device_positions_geom",
        table_name="device_positions",
        postgresql_using="gist",
        column_name="geom",
    )
    op.drop_geospatial_table("device_positions")
    op.drop_index(op.f("ix_alert_matches_device_id"), table_name="alert_matches")
    op.drop_table("alert_matches")
    op.drop_table("alert_acks")
    op.drop_table("safety_settings")
    op.drop_index("ix_safety_events_area_id_id", table_name="safety_events")
    op.drop_table("safety_events")
