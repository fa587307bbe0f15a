"""Foundation: areas, accounts, devices, patrols and tracks, reports, alerts, the audit chain.

Revision ID: 0001
Revises:
Create Date: 2026-11-24

PostGIS specifics are explicit here: the extension, rs_geometry_ok() behind every geometry CHECK,
the time-partitioned track_points table and the audit log's hash chain and append-only triggers.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from geoalchemy2 import Geometry
from sqlalchemy.dialects import postgresql

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


# Valid, non-empty, in lon/lat range. NaN fails the range test (PostgreSQL sorts NaN above every
# number) and so does lon 200, which a cast to geography would silently wrap to -160.
GEOMETRY_OK = """
CREATE FUNCTION rs_geometry_ok(g geometry) RETURNS boolean
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT g IS NULL OR (
        NOT ST_IsEmpty(g)
        AND ST_XMin(g) >= -180 AND ST_XMax(g) <= 180
        AND ST_YMin(g) >= -90 AND ST_YMax(g) <= 90
        AND ST_IsValid(g)
    )
$$
"""

# Monthly partitions of track_points are made on demand by the ingest path; the default partition
# catches anything else so that no fix is ever refused for want of a partition.
ENSURE_TRACK_PARTITION = """
CREATE FUNCTION rs_ensure_track_partition(month date) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
    first_day date := date_trunc('month', month)::date;
    part text := format('track_points_%s', to_char(first_day, 'YYYY_MM'));
BEGIN
    -- Two ingests of the same new month must not both try to create it.
    PERFORM pg_advisory_xact_lock(hashtext(part));
    IF to_regclass(part) IS NULL THEN
        EXECUTE format(
            'CREATE TABLE IF NOT EXISTS %I PARTITION OF track_points FOR VALUES FROM (%L) TO (%L)',
            part, first_day, (first_day + interval '1 month')::date);
    END IF;
    RETURN part;
END
$$
"""

AUDIT_DIGEST = """
CREATE FUNCTION rs_audit_digest(
    prev bytea, id bigint, at timestamptz, actor_kind text, actor_id uuid, area_id uuid,
    action text, object_type text, object_id text, details jsonb
) RETURNS bytea LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT sha256(prev || convert_to(concat_ws(E'\\x1f',
        id::text, (extract(epoch FROM at) * 1000000)::bigint::text, actor_kind,
        coalesce(actor_id::text, ''), coalesce(area_id::text, ''), action, object_type,
        coalesce(object_id, ''), details::text), 'UTF8'))
$$
"""

# The chain head is one row; updating it takes a row lock, which serialises writers so that ids
# and links follow one order even with concurrent transactions.
AUDIT_CHAIN = """
CREATE FUNCTION rs_audit_chain() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    head record;
BEGIN
    UPDATE audit_chain_head SET last_id = last_id + 1 WHERE singleton
        RETURNING last_id, last_hash INTO head;
    NEW.id := head.last_id;
    NEW.prev_hash := head.last_hash;
    NEW.hash := rs_audit_digest(NEW.prev_hash, NEW.id, NEW.at, NEW.actor_kind, NEW.actor_id,
        NEW.area_id, NEW.action, NEW.object_type, NEW.object_id, NEW.details);
    UPDATE audit_chain_head SET last_hash = NEW.hash WHERE singleton;
    RETURN NEW;
END
$$
"""

AUDIT_APPEND_ONLY = """
CREATE FUNCTION rs_audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_log is append-only: % refused', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END
$$
"""


def upgrade() -> None:
    op.execute("CREATE EXTENSION IF NOT EXISTS postgis")
    op.execute(GEOMETRY_OK)
    op.create_geospatial_table(
        "areas",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("slug", sa.String(length=63), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column(
            "boundary",
            Geometry(
                geometry_type="MULTIPOLYGON",
                srid=4326,
                dimension=2,
                spatial_index=False,
                from_text="ST_GeomFromEWKT",
                name="geometry",
                nullable=False,
            ),
            nullable=False,
        ),
        sa.Column("timezone", sa.Text(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint("slug ~ '^[a-z0-9][a-z0-9-]{0,62}$'", name=op.f("ck_areas_slug_format")),
        sa.CheckConstraint("rs_geometry_ok(boundary)", name=op.f("ck_areas_boundary_valid")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_areas")),
        sa.UniqueConstraint("slug", name=op.f("uq_areas_slug")),
    )
    op.create_geospatial_index(
        "idx_areas_boundary",
        "areas",
        ["boundary"],
        unique=False,
        postgresql_using="gist",
        postgresql_ops={},
    )
    op.create_table(
        "audit_log",
        sa.Column("id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column(
            "at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False
        ),
        sa.Column("actor_kind", sa.String(length=16), nullable=False),
        sa.Column("actor_id", sa.Uuid(), nullable=True),
        sa.Column("area_id", sa.Uuid(), nullable=True),
        sa.Column("action", sa.Text(), nullable=False),
        sa.Column("object_type", sa.Text(), nullable=False),
        sa.Column("object_id", sa.Text(), nullable=True),
        sa.Column("details", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("prev_hash", sa.LargeBinary(length=32), nullable=False),
        sa.Column("hash", sa.LargeBinary(length=32), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_log")),
    )
    op.create_index(op.f("ix_audit_log_area_id"), "audit_log", ["area_id"], unique=False)
    op.execute(
        "CREATE TABLE audit_chain_head (singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),"
        " last_id bigint NOT NULL, last_hash bytea NOT NULL)"
    )
    op.execute("INSERT INTO audit_chain_head VALUES (true, 0, '\\x'::bytea)")
    op.execute(AUDIT_DIGEST)
    op.execute(AUDIT_CHAIN)
    op.execute(AUDIT_APPEND_ONLY)
    op.execute(
        "CREATE TRIGGER audit_log_chain BEFORE INSERT ON audit_log"
        " FOR EACH ROW EXECUTE FUNCTION rs_audit_chain()"
    )
    op.execute(
        "CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log"
        " FOR EACH ROW EXECUTE FUNCTION rs_audit_append_only()"
    )
    op.execute(
        "CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log"
        " FOR EACH STATEMENT EXECUTE FUNCTION rs_audit_append_only()"
    )
    op.create_table(
        "report_categories",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("key", sa.String(length=100), nullable=False),
        sa.Column("parent_id", sa.Uuid(), nullable=True),
        sa.Column("label", sa.Text(), nullable=False),
        sa.Column("attribute_schema", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("geometry_kind", sa.String(length=20), nullable=False),
        sa.Column("hostile", sa.Boolean(), nullable=False),
        sa.Column("sensitive", sa.Boolean(), nullable=False),
        sa.Column("retired_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "geometry_kind IN ('point', 'polygon', 'point_or_polygon')",
            name=op.f("ck_report_categories_geometry_kind_allowed"),
        ),
        sa.CheckConstraint(
            "key ~ '^[a-z0-9_]+(\\.[a-z0-9_]+)*$'", name=op.f("ck_report_categories_key_format")
        ),
        sa.ForeignKeyConstraint(
            ["parent_id"],
            ["report_categories.id"],
            name=op.f("fk_report_categories_parent_id_report_categories"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_report_categories")),
        sa.UniqueConstraint("key", name=op.f("uq_report_categories_key")),
    )
    op.create_geospatial_table(
        "track_points",
        sa.Column("patrol_id", sa.Uuid(), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("track_month", sa.Date(), nullable=False),
        sa.Column("area_id", sa.Uuid(), nullable=False),
        sa.Column("leg_id", sa.Uuid(), nullable=True),
        sa.Column("device_time", sa.DateTime(timezone=True), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
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
        sa.Column("accuracy_m", sa.Float(), nullable=True),
        sa.Column("altitude_m", sa.Float(), nullable=True),
        sa.Column("speed_mps", sa.Float(), nullable=True),
        sa.Column(
            "received_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "accuracy_m IS NULL OR accuracy_m >= 0",
            name=op.f("ck_track_points_accuracy_non_negative"),
        ),
        sa.CheckConstraint("rs_geometry_ok(geom)", name=op.f("ck_track_points_geom_valid")),
        sa.CheckConstraint("seq >= 0", name=op.f("ck_track_points_seq_non_negative")),
        sa.PrimaryKeyConstraint("patrol_id", "seq", "track_month", name="pk_track_points"),
        postgresql_partition_by="RANGE (track_month)",
    )
    op.execute("CREATE TABLE track_points_default PARTITION OF track_points DEFAULT")
    op.execute(ENSURE_TRACK_PARTITION)
    op.create_table(
        "users",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("username", sa.String(length=63), nullable=False),
        sa.Column("display_name", sa.Text(), nullable=False),
        sa.Column("password_hash", sa.Text(), nullable=True),
        sa.Column("is_superuser", sa.Boolean(), nullable=False),
        sa.Column("disabled_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "username ~ '^[a-z0-9][a-z0-9._-]{1,62}$'", name=op.f("ck_users_username_format")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_users")),
        sa.UniqueConstraint("username", name=op.f("uq_users_username")),
    )
    op.create_table(
        "api_tokens",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("token_hash", sa.LargeBinary(length=32), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_used_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_api_tokens_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_tokens")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_api_tokens_token_hash")),
    )
    op.create_index(op.f("ix_api_tokens_user_id"), "api_tokens", ["user_id"], unique=False)
    op.create_table(
        "devices",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("area_id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("token_hash", sa.LargeBinary(length=32), nullable=False),
        sa.Column(
            "enrolled_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_by", sa.Uuid(), nullable=True),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("app_version", sa.Text(), nullable=True),
        sa.Column("platform", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["area_id"], ["areas.id"], name=op.f("fk_devices_area_id_areas"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["revoked_by"], ["users.id"], name=op.f("fk_devices_revoked_by_users")
        ),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_devices_user_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_devices")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_devices_token_hash")),
    )
    op.create_index(op.f("ix_devices_area_id"), "devices", ["area_id"], unique=False)
    op.create_index(op.f("ix_devices_user_id"), "devices", ["user_id"], unique=False)
    op.create_geospatial_table(
        "map_features",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("area_id", sa.Uuid(), nullable=False),
        sa.Column("layer", sa.String(length=32), nullable=False),
        sa.Column("name", sa.Text(), nullable=True),
        sa.Column(
            "geom",
            Geometry(
                srid=4326,
                dimension=2,
                spatial_index=False,
                from_text="ST_GeomFromEWKT",
                name="geometry",
                nullable=False,
            ),
            nullable=False,
        ),
        sa.Column("properties", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "layer IN ('road', 'river', 'ranger_post', 'water_point', 'boundary_buffer', 'airstrip', 'fence', 'landmark', 'other')",
            name=op.f("ck_map_features_layer_allowed"),
        ),
        sa.CheckConstraint("rs_geometry_ok(geom)", name=op.f("ck_map_features_geom_valid")),
        sa.ForeignKeyConstraint(
            ["area_id"],
            ["areas.id"],
            name=op.f("fk_map_features_area_id_areas"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_map_features")),
    )
    op.create_geospatial_index(
        "idx_map_features_geom",
        "map_features",
        ["geom"],
        unique=False,
        postgresql_using="gist",
        postgresql_ops={},
    )
    op.create_index(
        "ix_map_features_area_id_layer", "map_features", ["area_id", "layer"], unique=False
    )
    op.create_table(
        "memberships",
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("area_id", sa.Uuid(), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "role IN ('admin', 'manager', 'ranger', 'partner')",
            name=op.f("ck_memberships_role_allowed"),
        ),
        sa.ForeignKeyConstraint(
            ["area_id"], ["areas.id"], name=op.f("fk_memberships_area_id_areas"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_memberships_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("user_id", "area_id", name=op.f("pk_memberships")),
    )
    op.create_index(op.f("ix_memberships_area_id"), "memberships", ["area_id"], unique=False)
    op.create_geospatial_table(
        "safety_alerts",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("area_id", sa.Uuid(), nullable=False),
        sa.Column(
            "geom",
            Geometry(
                srid=4326,
                dimension=2,
                spatial_index=False,
                from_text="ST_GeomFromEWKT",
                name="geometry",
            ),
            nullable=True,
        ),
        sa.Column("severity", sa.String(length=16), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("valid_from", sa.DateTime(timezone=True), nullable=False),
        sa.Column("valid_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("audience", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("created_by", sa.Uuid(), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("cancelled_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "severity IN ('info', 'warning', 'critical')",
            name=op.f("ck_safety_alerts_severity_allowed"),
        ),
        sa.CheckConstraint("rs_geometry_ok(geom)", name=op.f("ck_safety_alerts_geom_valid")),
        sa.CheckConstraint(
            "valid_until IS NULL OR valid_until > valid_from",
            name=op.f("ck_safety_alerts_valid_window"),
        ),
        sa.ForeignKeyConstraint(
            ["area_id"],
            ["areas.id"],
            name=op.f("fk_safety_alerts_area_id_areas"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["created_by"], ["users.id"], name=op.f("fk_safety_alerts_created_by_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_safety_alerts")),
    )
    op.create_geospatial_index(
        "idx_safety_alerts_geom",
        "safety_alerts",
        ["geom"],
        unique=False,
        postgresql_using="gist",
        postgresql_ops={},
    )
    op.create_index(
        "ix_safety_alerts_area_id_valid_from",
        "safety_alerts",
        ["area_id", "valid_from"],
        unique=False,
    )
    op.create_table(
        "teams",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("area_id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["area_id"], ["areas.id"], name=op.f("fk_teams_area_id_areas"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_teams")),
    )
    op.create_index(op.f("ix_teams_area_id"), "teams", ["area_id"], unique=False)
    op.create_geospatial_table(
        "zones",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("area_id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column(
            "geom",
            Geometry(
                geometry_type="MULTIPOLYGON",
                srid=4326,
                dimension=2,
                spatial_index=False,
                from_text="ST_GeomFromEWKT",
                name="geometry",
                nullable=False,
            ),
            nullable=False,
        ),
        sa.Column("properties", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "kind IN ('management', 'intensive_protection', 'danger', 'buffer', 'community', 'other')",
            name=op.f("ck_zones_kind_allowed"),
        ),
        sa.CheckConstraint("rs_geometry_ok(geom)", name=op.f("ck_zones_geom_valid")),
        sa.ForeignKeyConstraint(
            ["area_id"], ["areas.id"], name=op.f("fk_zones_area_id_areas"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_zones")),
    )
    op.create_geospatial_index(
        "idx_zones_geom",
        "zones",
        ["geom"],
        unique=False,
        postgresql_using="gist",
        postgresql_ops={},
    )
    op.create_index(op.f("ix_zones_area_id"), "zones", ["area_id"], unique=False)
    op.create_table(
        "enrolment_codes",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("area_id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("code_hash", sa.LargeBinary(length=32), nullable=False),
        sa.Column("created_by", sa.Uuid(), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("device_id", sa.Uuid(), nullable=True),
        sa.ForeignKeyConstraint(
            ["area_id"],
            ["areas.id"],
            name=op.f("fk_enrolment_codes_area_id_areas"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["created_by"], ["users.id"], name=op.f("fk_enrolment_codes_created_by_users")
        ),
        sa.ForeignKeyConstraint(
            ["device_id"], ["devices.id"], name=op.f("fk_enrolment_codes_device_id_devices")
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_enrolment_codes_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_enrolment_codes")),
        sa.UniqueConstraint("code_hash", name=op.f("uq_enrolment_codes_code_hash")),
    )
    op.create_index(
        op.f("ix_enrolment_codes_area_id"), "enrolment_codes", ["area_id"], unique=False
    )
    op.create_geospatial_table(
        "patrols",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("area_id", sa.Uuid(), nullable=False),
        sa.Column("device_id", sa.Uuid(), nullable=True),
        sa.Column("patrol_type", sa.Text(), nullable=False),
        sa.Column("transport", sa.Text(), nullable=True),
        sa.Column("mandate", sa.Text(), nullable=True),
        sa.Column("team_id", sa.Uuid(), nullable=True),
        sa.Column("leader_id", sa.Uuid(), nullable=True),
        sa.Column("armed", sa.Boolean(), nullable=False),
        sa.Column("objective", sa.Text(), nullable=True),
        sa.Column("planned_start", sa.DateTime(timezone=True), nullable=True),
        sa.Column("planned_end", sa.DateTime(timezone=True), nullable=True),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("track_month", sa.Date(), nullable=False),
        sa.Column(
            "line",
            Geometry(
                geometry_type="LINESTRING",
                srid=4326,
                dimension=2,
                spatial_index=False,
                from_text="ST_GeomFromEWKT",
                name="geometry",
            ),
            nullable=True,
        ),
        sa.Column("distance_m", sa.Float(), nullable=False),
        sa.Column("duration_s", sa.Float(), nullable=False),
        sa.Column("moving_s", sa.Float(), nullable=False),
        sa.Column("point_count", sa.Integer(), nullable=False),
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "date_trunc('month', track_month) = track_month",
            name=op.f("ck_patrols_track_month_first"),
        ),
        sa.CheckConstraint(
            "patrol_type IN ('foot', 'vehicle', 'boat', 'aerial')",
            name=op.f("ck_patrols_patrol_type_allowed"),
        ),
        sa.CheckConstraint(
            "ended_at IS NULL OR ended_at >= started_at", name=op.f("ck_patrols_ends_after_start")
        ),
        sa.CheckConstraint(
            "planned_end IS NULL OR planned_start IS NULL OR planned_end >= planned_start",
            name=op.f("ck_patrols_plan_ends_after_start"),
        ),
        sa.CheckConstraint("rs_geometry_ok(line)", name=op.f("ck_patrols_line_valid")),
        sa.ForeignKeyConstraint(
            ["area_id"], ["areas.id"], name=op.f("fk_patrols_area_id_areas"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["device_id"], ["devices.id"], name=op.f("fk_patrols_device_id_devices")
        ),
        sa.ForeignKeyConstraint(
            ["leader_id"], ["users.id"], name=op.f("fk_patrols_leader_id_users")
        ),
        sa.ForeignKeyConstraint(["team_id"], ["teams.id"], name=op.f("fk_patrols_team_id_teams")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_patrols")),
    )
    op.create_geospatial_index(
        "idx_patrols_line",
        "patrols",
        ["line"],
        unique=False,
        postgresql_using="gist",
        postgresql_ops={},
    )
    op.create_index(
        "ix_patrols_area_id_started_at", "patrols", ["area_id", "started_at"], unique=False
    )
    op.create_table(
        "team_members",
        sa.Column("team_id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("area_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["area_id"],
            ["areas.id"],
            name=op.f("fk_team_members_area_id_areas"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["team_id"],
            ["teams.id"],
            name=op.f("fk_team_members_team_id_teams"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_team_members_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("team_id", "user_id", name=op.f("pk_team_members")),
    )
    op.create_index(op.f("ix_team_members_user_id"), "team_members", ["user_id"], unique=False)
    op.create_table(
        "patrol_legs",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("patrol_id", sa.Uuid(), nullable=False),
        sa.Column("area_id", sa.Uuid(), nullable=False),
        sa.Column("leg_number", sa.Integer(), nullable=False),
        sa.Column("patrol_type", sa.Text(), nullable=False),
        sa.Column("transport", sa.Text(), nullable=True),
        sa.Column("leader_id", sa.Uuid(), nullable=True),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("attributes", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "patrol_type IN ('foot', 'vehicle', 'boat', 'aerial')",
            name=op.f("ck_patrol_legs_patrol_type_allowed"),
        ),
        sa.CheckConstraint(
            "ended_at IS NULL OR ended_at >= started_at",
            name=op.f("ck_patrol_legs_ends_after_start"),
        ),
        sa.ForeignKeyConstraint(
            ["area_id"], ["areas.id"], name=op.f("fk_patrol_legs_area_id_areas"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["leader_id"], ["users.id"], name=op.f("fk_patrol_legs_leader_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["patrol_id"],
            ["patrols.id"],
            name=op.f("fk_patrol_legs_patrol_id_patrols"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_patrol_legs")),
    )
    op.create_index(
        "ix_patrol_legs_patrol_id_leg_number",
        "patrol_legs",
        ["patrol_id", "leg_number"],
        unique=True,
    )
    op.create_table(
        "patrol_members",
        sa.Column("patrol_id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("area_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["area_id"],
            ["areas.id"],
            name=op.f("fk_patrol_members_area_id_areas"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["patrol_id"],
            ["patrols.id"],
            name=op.f("fk_patrol_members_patrol_id_patrols"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_patrol_members_user_id_users")
        ),
        sa.PrimaryKeyConstraint("patrol_id", "user_id", name=op.f("pk_patrol_members")),
    )
    op.create_index(op.f("ix_patrol_members_user_id"), "patrol_members", ["user_id"], unique=False)
    op.create_geospatial_table(
        "reports",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("area_id", sa.Uuid(), nullable=False),
        sa.Column("category_id", sa.Uuid(), nullable=False),
        sa.Column("patrol_id", sa.Uuid(), nullable=True),
        sa.Column("device_id", sa.Uuid(), nullable=True),
        sa.Column("reported_by", sa.Uuid(), nullable=True),
        sa.Column("attributes", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column(
            "geom",
            Geometry(
                srid=4326,
                dimension=2,
                spatial_index=False,
                from_text="ST_GeomFromEWKT",
                name="geometry",
                nullable=False,
            ),
            nullable=False,
        ),
        sa.Column("observed_at_device", sa.DateTime(timezone=True), nullable=False),
        sa.Column("observed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("clock_skew_s", sa.Float(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("priority", sa.SmallInteger(), nullable=False),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.Column(
            "received_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "GeometryType(geom) IN ('POINT', 'POLYGON')",
            name=op.f("ck_reports_geom_point_or_polygon"),
        ),
        sa.CheckConstraint(
            "status IN ('new', 'in_review', 'confirmed', 'rejected', 'closed')",
            name=op.f("ck_reports_status_allowed"),
        ),
        sa.CheckConstraint("priority BETWEEN 1 AND 4", name=op.f("ck_reports_priority_range")),
        sa.CheckConstraint("rs_geometry_ok(geom)", name=op.f("ck_reports_geom_valid")),
        sa.ForeignKeyConstraint(
            ["area_id"], ["areas.id"], name=op.f("fk_reports_area_id_areas"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["category_id"],
            ["report_categories.id"],
            name=op.f("fk_reports_category_id_report_categories"),
        ),
        sa.ForeignKeyConstraint(
            ["device_id"], ["devices.id"], name=op.f("fk_reports_device_id_devices")
        ),
        sa.ForeignKeyConstraint(
            ["patrol_id"], ["patrols.id"], name=op.f("fk_reports_patrol_id_patrols")
        ),
        sa.ForeignKeyConstraint(
            ["reported_by"], ["users.id"], name=op.f("fk_reports_reported_by_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reports")),
    )
    op.create_geospatial_index(
        "idx_reports_geom",
        "reports",
        ["geom"],
        unique=False,
        postgresql_using="gist",
        postgresql_ops={},
    )
    op.create_index(
        "ix_reports_area_id_observed_at", "reports", ["area_id", "observed_at"], unique=False
    )
    op.create_index("ix_reports_area_id_status", "reports", ["area_id", "status"], unique=False)
    op.create_table(
        "attachments",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("area_id", sa.Uuid(), nullable=False),
        sa.Column("report_id", sa.Uuid(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("size_bytes", sa.BigInteger(), nullable=False),
        sa.Column("media_type", sa.Text(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("stored_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("sha256 ~ '^[0-9a-f]{64}$'", name=op.f("ck_attachments_sha256_hex")),
        sa.CheckConstraint(
            "state IN ('expected', 'uploading', 'stored', 'failed')",
            name=op.f("ck_attachments_state_allowed"),
        ),
        sa.CheckConstraint("size_bytes >= 0", name=op.f("ck_attachments_size_non_negative")),
        sa.ForeignKeyConstraint(
            ["area_id"], ["areas.id"], name=op.f("fk_attachments_area_id_areas"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["report_id"],
            ["reports.id"],
            name=op.f("fk_attachments_report_id_reports"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_attachments")),
    )
    op.create_index(op.f("ix_attachments_report_id"), "attachments", ["report_id"], unique=False)
    op.create_index(op.f("ix_attachments_sha256"), "attachments", ["sha256"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_attachments_sha256"), table_name="attachments")
    op.drop_index(op.f("ix_attachments_report_id"), table_name="attachments")
    op.drop_table("attachments")
    op.drop_index("ix_reports_area_id_status", table_name="reports")
    op.drop_index("ix_reports_area_id_observed_at", table_name="reports")
    op.drop_geospatial_index(
        "idx_reports_geom", table_name="reports", postgresql_using="gist", column_name="geom"
    )
    op.drop_geospatial_table("reports")
    op.drop_index(op.f("ix_patrol_members_user_id"), table_name="patrol_members")
    op.drop_table("patrol_members")
    op.drop_index("ix_patrol_legs_patrol_id_leg_number", table_name="patrol_legs")
    op.drop_table("patrol_legs")
    op.drop_index(op.f("ix_team_members_user_id"), table_name="team_members")
    op.drop_table("team_members")
    op.drop_index("ix_patrols_area_id_started_at", table_name="patrols")
    op.drop_geospatial_index(
        "idx_patrols_line", table_name="patrols", postgresql_using="gist", column_name="line"
    )
    op.drop_geospatial_table("patrols")
    op.drop_index(op.f("ix_enrolment_codes_area_id"), table_name="enrolment_codes")
    op.drop_table("enrolment_codes")
    op.drop_index(op.f("ix_zones_area_id"), table_name="zones")
    op.drop_geospatial_index(
        "idx_zones_geom", table_name="zones", postgresql_using="gist", column_name="geom"
    )
    op.drop_geospatial_table("zones")
    op.drop_index(op.f("ix_teams_area_id"), table_name="teams")
    op.drop_table("teams")
    op.drop_index("ix_safety_alerts_area_id_valid_from", table_name="safety_alerts")
    op.drop_geospatial_index(
        "idx_safety_alerts_geom",
        table_name="safety_alerts",
        postgresql_using="gist",
        column_name="geom",
    )
    op.drop_geospatial_table("safety_alerts")
    op.drop_index(op.f("ix_memberships_area_id"), table_name="memberships")
    op.drop_table("memberships")
    op.drop_index("ix_map_features_area_id_layer", table_name="map_features")
    op.drop_geospatial_index(
        "idx_map_features_geom",
        table_name="map_features",
        postgresql_using="gist",
        column_name="geom",
    )
    op.drop_geospatial_table("map_features")
    op.drop_index(op.f("ix_devices_user_id"), table_name="devices")
    op.drop_index(op.f("ix_devices_area_id"), table_name="devices")
    op.drop_table("devices")
    op.drop_index(op.f("ix_api_tokens_user_id"), table_name="api_tokens")
    op.drop_table("api_tokens")
    op.drop_table("users")
    op.drop_geospatial_table("track_points")  # and every partition with it
    op.execute("DROP FUNCTION rs_ensure_track_partition(date)")
    op.drop_table("report_categories")
    op.drop_index(op.f("ix_audit_log_area_id"), table_name="audit_log")
    op.drop_table("audit_log")  # DROP TABLE is not TRUNCATE: the downgrade may remove it
    op.execute("DROP TABLE audit_chain_head")
    op.execute("DROP FUNCTION rs_audit_chain()")
    op.execute("DROP FUNCTION rs_audit_append_only()")
    op.execute(
        "DROP FUNCTION rs_audit_digest(bytea, bigint, timestamptz, text, uuid, uuid, text, text, text, jsonb)"
    )
    op.drop_geospatial_index(
        "idx_areas_boundary", table_name="areas", postgresql_using="gist", column_name="boundary"
    )
    op.drop_geospatial_table("areas")
    op.execute("DROP FUNCTION rs_geometry_ok(geometry)")
    # The extension stays: other databases' objects or a DBA's may use it, and re-creating is a no-op.
