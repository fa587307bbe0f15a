"""The push stores fixes; what is derived from them (line, distance, coverage, effort, movement
rules) waits in derived_backlog for the worker, which the push's commit wakes (NOTIFY).

Revision ID: 0016
Revises: 0011
Create Date: 2026-11-29
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "derived_backlog",
        sa.Column("area_id", sa.Uuid(), nullable=False),
        sa.Column("patrol_id", sa.Uuid(), nullable=False),
        sa.Column("extends", sa.Boolean(), nullable=False),
        sa.Column("since_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("since_seq", sa.BigInteger(), nullable=True),
        sa.Column(
            "queued_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.ForeignKeyConstraint(
            ["area_id"],
            ["areas.id"],
            name=op.f("fk_derived_backlog_area_id_areas"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["patrol_id"],
            ["patrols.id"],
            name=op.f("fk_derived_backlog_patrol_id_patrols"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("area_id", "patrol_id", name=op.f("pk_derived_backlog")),
    )
    # Patrols already stored were derived in their push; nothing waits.


def downgrade() -> None:
    op.drop_table("derived_backlog")
