"""Map imports remember the key field a layer's import of one source matched features by.

Revision ID: 0010
Revises: 0006
Create Date: 2026-11-29
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "map_import_sources",
        sa.Column("area_id", sa.Uuid(), nullable=False),
        sa.Column("layer", sa.Text(), nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("key_field", sa.Text(), nullable=False),
        sa.Column("filename", sa.Text(), nullable=False),
        sa.Column(
            "imported_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["area_id"],
            ["areas.id"],
            ondelete="CASCADE",
            name=op.f("fk_map_import_sources_area_id_areas"),
        ),
        sa.PrimaryKeyConstraint("area_id", "layer", "source", name=op.f("pk_map_import_sources")),
    )


def downgrade() -> None:
    op.drop_table("map_import_sources")
