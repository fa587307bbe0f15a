"""Analytics: coverage per patrol × grid cell × day, effort per zone, cleaned effort and track
quality per patrol, the grid setting of each area, and patrol plans.

Revision ID: 0006
Revises: 0003
Create Date: 2026-11-25
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "coverage_settings",
        sa.Column("area_id", sa.Uuid(), nullable=False),
        sa.Column("cell_m", sa.Integer(), nullable=False),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "cell_m BETWEEN 50 AND 20000", name=op.f("ck_coverage_settings_cell_m_range")
        ),
        sa.ForeignKeyConstraint(
            ["area_id"],
            ["areas.id"],
            name=op.f("fk_coverage_settings_area_id_areas"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("area_id", name=op.f("pk_coverage_settings")),
    )
    op.create_table(
        "patrol_plans",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("area_id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("starts_on", sa.Date(), nullable=False),
        sa.Column("ends_on", sa.Date(), nullable=False),
        sa.Column("zone_ids", sa.ARRAY(sa.Uuid()), nullable=False),
        sa.Column("target_hours", sa.Float(), nullable=True),
        sa.Column("target_km", sa.Float(), nullable=True),
        sa.Column("created_by", sa.Uuid(), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint("ends_on >= starts_on", name=op.f("ck_patrol_plans_ends_after_start")),
        sa.CheckConstraint(
            "target_hours IS NOT NULL OR target_km IS NOT NULL",
            name=op.f("ck_patrol_plans_has_a_target"),
        ),
        sa.CheckConstraint(
            "target_hours IS NULL OR target_hours > 0", name=op.f("ck_patrol_plans_hours_positive")
        ),
        sa.CheckConstraint(
            "target_km IS NULL OR target_km > 0", name=op.f("ck_patrol_plans_km_positive")
        ),
        sa.ForeignKeyConstraint(
            ["area_id"],
            ["areas.id"],
            name=op.f("fk_patrol_plans_area_id_areas"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["created_by"], ["users.id"], name=op.f("fk_patrol_plans_created_by_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_patrol_plans")),
    )
    op.create_index(
        "ix_patrol_plans_area_id_starts_on", "patrol_plans", ["area_id", "starts_on"], unique=False
    )
    op.create_table(
        "coverage_visits",
        sa.Column("patrol_id", sa.Uuid(), nullable=False),
        sa.Column("i", sa.Integer(), nullable=False),
        sa.Column("j", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("area_id", sa.Uuid(), nullable=False),
        sa.Column("fixes", sa.Integer(), nullable=False),
        sa.Column("distance_m", sa.Float(), nullable=False),
        sa.Column("seconds", sa.Float(), nullable=False),
        sa.Column("moving_s", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(
            ["area_id"],
            ["areas.id"],
            name=op.f("fk_coverage_visits_area_id_areas"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["patrol_id"],
            ["patrols.id"],
            name=op.f("fk_coverage_visits_patrol_id_patrols"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("patrol_id", "i", "j", "day", name="pk_coverage_visits"),
    )
    op.create_index(
        "ix_coverage_visits_area_id_day", "coverage_visits", ["area_id", "day"], unique=False
    )
    op.create_table(
        "patrol_effort",
        sa.Column("patrol_id", sa.Uuid(), nullable=False),
        sa.Column("area_id", sa.Uuid(), nullable=False),
        sa.Column("fixes", sa.Integer(), nullable=False),
        sa.Column("poor_accuracy", sa.Integer(), nullable=False),
        sa.Column("impossible_speed", sa.Integer(), nullable=False),
        sa.Column("quality", sa.Float(), nullable=False),
        sa.Column("distance_m", sa.Float(), nullable=False),
        sa.Column("duration_s", sa.Float(), nullable=False),
        sa.Column("moving_s", sa.Float(), nullable=False),
        sa.Column("first_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "computed_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["area_id"],
            ["areas.id"],
            name=op.f("fk_patrol_effort_area_id_areas"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["patrol_id"],
            ["patrols.id"],
            name=op.f("fk_patrol_effort_patrol_id_patrols"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("patrol_id", name=op.f("pk_patrol_effort")),
    )
    op.create_index(op.f("ix_patrol_effort_area_id"), "patrol_effort", ["area_id"], unique=False)
    op.create_table(
        "zone_visits",
        sa.Column("patrol_id", sa.Uuid(), nullable=False),
        sa.Column("zone_id", sa.Uuid(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("area_id", sa.Uuid(), nullable=False),
        sa.Column("fixes", sa.Integer(), nullable=False),
        sa.Column("distance_m", sa.Float(), nullable=False),
        sa.Column("seconds", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(
            ["area_id"], ["areas.id"], name=op.f("fk_zone_visits_area_id_areas"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["patrol_id"],
            ["patrols.id"],
            name=op.f("fk_zone_visits_patrol_id_patrols"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["zone_id"], ["zones.id"], name=op.f("fk_zone_visits_zone_id_zones"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("patrol_id", "zone_id", "day", name="pk_zone_visits"),
    )
    op.create_index("ix_zone_visits_area_id_day", "zone_visits", ["area_id", "day"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_zone_visits_area_id_day", table_name="zone_visits")
    op.drop_table("zone_visits")
    op.drop_index(op.f("ix_patrol_effort_area_id"), table_name="patrol_effort")
    op.drop_table("patrol_effort")
    op.drop_index("ix_coverage_visits_area_id_day", table_name="coverage_visits")
    op.drop_table("coverage_visits")
    op.drop_index("ix_patrol_plans_area_id_starts_on", table_name="patrol_plans")
    op.drop_table("patrol_plans")
    op.drop_table("coverage_settings")
