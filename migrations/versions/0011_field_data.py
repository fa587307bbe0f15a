"""Real field data: fixes found by time within their patrol (logs are not always in time order,
so lines, distances and cleaning take fixes by time, and a chunk's "does it extend the patrol"
test looks up the patrol's last fix in time).

Revision ID: 0011
Revises: 0006
Create Date: 2026-11-29
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0011"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # On the partitioned parent: PostgreSQL creates it on every partition, present and future.
    op.create_index(
        "ix_track_points_patrol_time", "track_points", ["patrol_id", "recorded_at", "seq"]
    )


def downgrade() -> None:
    op.drop_index("ix_track_points_patrol_time", table_name="track_points")
