"""Rate limits every app process shares (limits' storage in PostgreSQL: moving-window entries and
fixed-window counters), and export jobs (an area's export made by the worker, with progress and
a file to download until it expires).

Revision ID: 0013
Revises: 0011
Create Date: 2026-11-29
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "rate_limit_hits",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("key", sa.Text(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rate_limit_hits")),
    )
    op.create_index("ix_rate_limit_hits_key_at", "rate_limit_hits", ["key", "at"])
    op.create_index(op.f("ix_rate_limit_hits_expires_at"), "rate_limit_hits", ["expires_at"])
    op.create_table(
        "rate_limit_counters",
        sa.Column("key", sa.Text(), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_rate_limit_counters")),
    )
    op.create_table(
        "export_jobs",
        sa.Column("area_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("format", sa.String(length=8), nullable=False),
        sa.Column("everything", sa.Boolean(), nullable=False),
        sa.Column("requested_by", sa.Uuid(), nullable=True),
        sa.Column("partner_key_id", sa.Uuid(), nullable=True),
        sa.Column("collections", postgresql.ARRAY(sa.Text()), nullable=True),
        sa.Column("state", sa.String(length=8), nullable=False),
        sa.Column("rows_total", sa.Integer(), nullable=True),
        sa.Column("rows_done", sa.Integer(), nullable=False),
        sa.Column("written", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("size_bytes", sa.BigInteger(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "state IN ('queued', 'running', 'done', 'failed', 'expired')",
            name=op.f("ck_export_jobs_state_allowed"),
        ),
        sa.CheckConstraint(
            "format IN ('gpkg', 'csv', 'geojson', 'gpx', 'kml', 'dwca')",
            name=op.f("ck_export_jobs_format_allowed"),
        ),
        sa.ForeignKeyConstraint(
            ["area_id"], ["areas.id"], name=op.f("fk_export_jobs_area_id_areas"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["requested_by"],
            ["users.id"],
            name=op.f("fk_export_jobs_requested_by_users"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["partner_key_id"],
            ["partner_keys.id"],
            name=op.f("fk_export_jobs_partner_key_id_partner_keys"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("area_id", "id", name=op.f("pk_export_jobs")),
    )


def downgrade() -> None:
    op.drop_table("export_jobs")
    op.drop_table("rate_limit_counters")
    op.drop_table("rate_limit_hits")
