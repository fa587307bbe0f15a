"""Device tokens expire and are renewed on sync: each device's token has an expiry, and the token
it held before its last renewal stays valid (until its own expiry) until the device is first seen
with the new one, so a renewal lost on a dropped connection never locks a handheld out. And an
upload knows who started it: only they, or a manager, may send its bytes or end it.

Revision ID: 0017
Revises: 0011
Create Date: 2026-11-29
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Tokens issued before this revision get the default lifetime from now: no handheld in the
    # field is locked out by the upgrade.
    op.add_column(
        "devices",
        sa.Column(
            "token_expires_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now() + interval '30 days'"),
            nullable=False,
        ),
    )
    op.alter_column("devices", "token_expires_at", server_default=None)
    op.add_column("devices", sa.Column("previous_token_hash", sa.LargeBinary(32), nullable=True))
    op.add_column(
        "devices",
        sa.Column("previous_token_expires_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_unique_constraint(
        op.f("uq_devices_previous_token_hash"), "devices", ["previous_token_hash"]
    )

    op.add_column(
        "reports",
        sa.Column("location_suspect", sa.Boolean(), server_default=sa.false(), nullable=False),
    )
    op.add_column("uploads", sa.Column("user_id", sa.Uuid(), nullable=True))
    op.create_foreign_key(op.f("fk_uploads_user_id_users"), "uploads", "users", ["user_id"], ["id"])


def downgrade() -> None:
    op.drop_constraint(op.f("fk_uploads_user_id_users"), "uploads", type_="foreignkey")
    op.drop_column("uploads", "user_id")
    op.drop_column("reports", "location_suspect")
    op.drop_constraint(op.f("uq_devices_previous_token_hash"), "devices", type_="unique")
    op.drop_column("devices", "previous_token_expires_at")
    op.drop_column("devices", "previous_token_hash")
    op.drop_column("devices", "token_expires_at")
