"""Real field data and real parks: fixes found by time within their patrol (logs are not always
in time order, so lines, distances and cleaning take fixes by time, and a chunk's "does it extend
the patrol" test looks up the patrol's last fix in time); report categories of a park's own,
versioned, with the version each report was checked against.

Revision ID: 0011
Revises: 0008
Create Date: 2026-11-29
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0011"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # On the partitioned parent: PostgreSQL creates it on every partition, present and future.
    op.create_index(
        "ix_track_points_patrol_time", "track_points", ["patrol_id", "recorded_at", "seq"]
    )
    # Categories: the standard ones (area_id NULL) and each park's own; keys unique per park,
    # and a park's key never shadows a standard one (checked by the service).
    op.add_column("report_categories", sa.Column("area_id", sa.Uuid(), nullable=True))
    op.add_column(
        "report_categories",
        sa.Column("version", sa.Integer(), server_default=sa.text("1"), nullable=False),
    )
    op.create_foreign_key(
        op.f("fk_report_categories_area_id_areas"),
        "report_categories",
        "areas",
        ["area_id"],
        ["id"],
    )
    op.drop_constraint("uq_report_categories_key", "report_categories", type_="unique")
    op.create_index(
        "uq_report_categories_standard_key",
        "report_categories",
        ["key"],
        unique=True,
        postgresql_where=sa.text("area_id IS NULL"),
    )
    op.create_index(
        "uq_report_categories_area_key",
        "report_categories",
        ["area_id", "key"],
        unique=True,
        postgresql_where=sa.text("area_id IS NOT NULL"),
    )
    op.create_table(
        "report_category_versions",
        sa.Column("category_id", sa.Uuid(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("label", sa.Text(), nullable=False),
        sa.Column("attribute_schema", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("geometry_kind", sa.String(length=20), nullable=False),
        sa.Column("changed_by", sa.Uuid(), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["category_id"],
            ["report_categories.id"],
            name=op.f("fk_report_category_versions_category_id_report_categories"),
        ),
        sa.PrimaryKeyConstraint("category_id", "version", name=op.f("pk_report_category_versions")),
    )
    op.execute(
        "INSERT INTO report_category_versions"
        " (category_id, version, label, attribute_schema, geometry_kind)"
        " SELECT id, version, label, attribute_schema, geometry_kind FROM report_categories"
    )
    op.add_column("reports", sa.Column("category_version", sa.Integer(), nullable=True))


def downgrade() -> None:
    op.drop_column("reports", "category_version")
    op.drop_table("report_category_versions")
    op.drop_index("uq_report_categories_area_key", table_name="report_categories")
    op.drop_index("uq_report_categories_standard_key", table_name="report_categories")
    op.create_unique_constraint("uq_report_categories_key", "report_categories", ["key"])
    op.drop_constraint(
        op.f("fk_report_categories_area_id_areas"), "report_categories", type_="foreignkey"
    )
    op.drop_column("report_categories", "version")
    op.drop_column("report_categories", "area_id")
    op.drop_index("ix_track_points_patrol_time", table_name="track_points")
