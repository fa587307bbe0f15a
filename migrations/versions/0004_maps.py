"""Maps: free layer names for map features, offline map packages and the parks' raster base maps.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-25
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from server.core.db import XID8

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OLD_LAYERS = (
    "road",
    "river",
    "ranger_post",
    "water_point",
    "boundary_buffer",
    "airstrip",
    "fence",
    "landmark",
    "other",
)


def upgrade() -> None:
    op.drop_constraint(op.f("ck_map_features_layer_allowed"), "map_features", type_="check")
    op.create_check_constraint("layer_format", "map_features", "layer ~ '^[a-z][a-z0-9_]{0,31}$'")
    op.create_table(
        "map_packages",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("area_id", sa.Uuid(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column(
            "built_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False
        ),
        sa.Column("superseded_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("snapshot", sa.Text(), nullable=False),
        sa.Column("min_zoom", sa.SmallInteger(), nullable=False),
        sa.Column("max_zoom", sa.SmallInteger(), nullable=False),
        sa.Column("bounds", postgresql.ARRAY(sa.Float()), nullable=False),
        sa.Column("tile_count", sa.Integer(), nullable=False),
        sa.Column("tiles_sha256", sa.String(64), nullable=False),
        sa.Column("files", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column(
            "change_xid", XID8(), server_default=sa.text("pg_current_xact_id()"), nullable=False
        ),
        sa.CheckConstraint("version >= 1", name=op.f("ck_map_packages_version_positive")),
        sa.CheckConstraint(
            "min_zoom BETWEEN 0 AND 22 AND max_zoom BETWEEN min_zoom AND 22",
            name=op.f("ck_map_packages_zoom_range"),
        ),
        sa.ForeignKeyConstraint(
            ["area_id"],
            ["areas.id"],
            ondelete="CASCADE",
            name=op.f("fk_map_packages_area_id_areas"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_map_packages")),
        sa.UniqueConstraint("area_id", "version", name=op.f("uq_map_packages_area_id_version")),
    )
    op.create_index(op.f("ix_map_packages_change_xid"), "map_packages", ["change_xid"])
    op.execute(
        "CREATE TRIGGER map_packages_track_change BEFORE UPDATE ON map_packages"
        " FOR EACH ROW EXECUTE FUNCTION rs_track_change()"
    )
    op.create_table(
        "map_basemaps",
        sa.Column("area_id", sa.Uuid(), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("format", sa.Text(), nullable=False),
        sa.Column(
            "attached_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint("format IN ('png', 'jpg', 'webp')", name=op.f("ck_map_basemaps_format")),
        sa.ForeignKeyConstraint(
            ["area_id"],
            ["areas.id"],
            ondelete="CASCADE",
            name=op.f("fk_map_basemaps_area_id_areas"),
        ),
        sa.PrimaryKeyConstraint("area_id", name=op.f("pk_map_basemaps")),
    )


def downgrade() -> None:
    op.drop_table("map_basemaps")
    op.execute("DROP TRIGGER map_packages_track_change ON map_packages")
    op.drop_index(op.f("ix_map_packages_change_xid"), table_name="map_packages")
    op.drop_table("map_packages")
    op.drop_constraint(op.f("ck_map_features_layer_format"), "map_features", type_="check")
    quoted = ", ".join(f"'{v}'" for v in OLD_LAYERS)
    op.create_check_constraint("layer_allowed", "map_features", f"layer IN ({quoted})")
