"""Partners: partner keys and the areas they reach, their request log, geoprivacy rules.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-29
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

NOW = sa.text("now()")


def upgrade() -> None:
    op.create_table(
        "partner_keys",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("organisation", sa.Text(), nullable=False),
        sa.Column("key_hash", sa.LargeBinary(length=32), nullable=False),
        sa.Column("key_prefix", sa.String(length=16), nullable=False),
        sa.Column("collections", postgresql.ARRAY(sa.Text()), nullable=True),
        sa.Column("networks", postgresql.ARRAY(postgresql.CIDR()), nullable=True),
        sa.Column("rate_limit", sa.Text(), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_by", sa.Uuid(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=NOW, nullable=False),
        sa.Column("last_used_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["created_by"], ["users.id"], name=op.f("fk_partner_keys_created_by_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_partner_keys")),
        sa.UniqueConstraint("key_hash", name=op.f("uq_partner_keys_key_hash")),
    )
    op.create_table(
        "partner_key_areas",
        sa.Column("key_id", sa.Uuid(), nullable=False),
        sa.Column("area_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["area_id"],
            ["areas.id"],
            name=op.f("fk_partner_key_areas_area_id_areas"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["key_id"],
            ["partner_keys.id"],
            name=op.f("fk_partner_key_areas_key_id_partner_keys"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("key_id", "area_id", name=op.f("pk_partner_key_areas")),
    )
    op.create_index(
        op.f("ix_partner_key_areas_area_id"), "partner_key_areas", ["area_id"], unique=False
    )
    op.create_table(
        "partner_requests",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("key_id", sa.Uuid(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), server_default=NOW, nullable=False),
        sa.Column("method", sa.String(length=8), nullable=False),
        sa.Column("path", sa.Text(), nullable=False),
        sa.Column("query", sa.Text(), nullable=False),
        sa.Column("collection", sa.Text(), nullable=True),
        sa.Column("bbox", postgresql.ARRAY(sa.Float()), nullable=True),
        sa.Column("features", sa.Integer(), nullable=True),
        sa.Column("status", sa.SmallInteger(), nullable=False),
        sa.Column("remote_addr", postgresql.INET(), nullable=True),
        sa.ForeignKeyConstraint(
            ["key_id"],
            ["partner_keys.id"],
            name=op.f("fk_partner_requests_key_id_partner_keys"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_partner_requests")),
    )
    op.create_index(
        "ix_partner_requests_key_id_at", "partner_requests", ["key_id", "at"], unique=False
    )
    op.create_table(
        "geoprivacy_rules",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("area_id", sa.Uuid(), nullable=False),
        sa.Column("category_id", sa.Uuid(), nullable=True),
        sa.Column("species", sa.Text(), nullable=True),
        sa.Column("visibility", sa.String(length=8), nullable=False),
        sa.Column("cell_m", sa.Integer(), nullable=True),
        sa.Column("embargo_days", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=NOW, nullable=False),
        sa.CheckConstraint(
            "visibility IN ('hidden', 'snapped', 'exact')",
            name=op.f("ck_geoprivacy_rules_visibility"),
        ),
        sa.CheckConstraint(
            "(visibility = 'snapped') = (cell_m IS NOT NULL)"
            " AND (cell_m IS NULL OR cell_m BETWEEN 100 AND 100000)",
            name=op.f("ck_geoprivacy_rules_cell_when_snapped"),
        ),
        sa.CheckConstraint(
            "embargo_days BETWEEN 0 AND 36500", name=op.f("ck_geoprivacy_rules_embargo_range")
        ),
        sa.CheckConstraint(
            "species IS NULL OR species = lower(btrim(species))",
            name=op.f("ck_geoprivacy_rules_species_norm"),
        ),
        sa.ForeignKeyConstraint(
            ["area_id"],
            ["areas.id"],
            name=op.f("fk_geoprivacy_rules_area_id_areas"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["category_id"],
            ["report_categories.id"],
            name=op.f("fk_geoprivacy_rules_category_id_report_categories"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_geoprivacy_rules")),
    )
    op.create_index(
        op.f("ix_geoprivacy_rules_area_id"), "geoprivacy_rules", ["area_id"], unique=False
    )
    # One rule per (area, category, species), an empty category or species counting as a value.
    op.create_index(
        "uq_geoprivacy_rules_target",
        "geoprivacy_rules",
        ["area_id", "category_id", "species"],
        unique=True,
        postgresql_nulls_not_distinct=True,
    )

    # A layer's features in id order, for the partner API's keyset pages; it serves every query
    # the (area_id, layer) index served.
    op.create_index(
        "ix_map_features_area_id_layer_id", "map_features", ["area_id", "layer", "id"], unique=False
    )
    op.drop_index("ix_map_features_area_id_layer", table_name="map_features")


def downgrade() -> None:
    op.create_index(
        "ix_map_features_area_id_layer", "map_features", ["area_id", "layer"], unique=False
    )
    op.drop_index("ix_map_features_area_id_layer_id", table_name="map_features")
    op.drop_table("geoprivacy_rules")
    op.drop_table("partner_requests")
    op.drop_table("partner_key_areas")
    op.drop_table("partner_keys")
