"""The operations room: duty officers' handling steps of an SOS or critical alert (acknowledged,
a responder assigned, notes, resolved), and a phone number on users so an SOS card can say whom
to call.

Revision ID: 0014
Revises: 0011
Create Date: 2026-11-29
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("users", sa.Column("phone", sa.Text(), nullable=True))
    op.create_check_constraint(
        op.f("ck_users_phone_format"), "users", "phone ~ '^[+][1-9][0-9]{6,14}$'"
    )
    op.create_table(
        "alert_handling_steps",
        sa.Column("area_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("alert_id", sa.Uuid(), nullable=False),
        sa.Column("step", sa.String(length=16), nullable=False),
        sa.Column("by_user_id", sa.Uuid(), nullable=True),
        sa.Column("responder", sa.Text(), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column(
            "at",
            sa.DateTime(timezone=True),
            server_default=sa.text("clock_timestamp()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "step IN ('acknowledge', 'assign', 'note', 'resolve')",
            name=op.f("ck_alert_handling_steps_step_allowed"),
        ),
        sa.CheckConstraint(
            "step <> 'assign' OR responder IS NOT NULL",
            name=op.f("ck_alert_handling_steps_assign_names_responder"),
        ),
        sa.CheckConstraint(
            "step <> 'note' OR note IS NOT NULL", name=op.f("ck_alert_handling_steps_note_has_text")
        ),
        sa.ForeignKeyConstraint(
            ["area_id"],
            ["areas.id"],
            name=op.f("fk_alert_handling_steps_area_id_areas"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["alert_id"],
            ["safety_alerts.id"],
            name=op.f("fk_alert_handling_steps_alert_id_safety_alerts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["by_user_id"], ["users.id"], name=op.f("fk_alert_handling_steps_by_user_id_users")
        ),
        sa.PrimaryKeyConstraint("area_id", "id", name=op.f("pk_alert_handling_steps")),
    )
    op.create_index(
        "ix_alert_handling_steps_alert_id_at", "alert_handling_steps", ["alert_id", "at"]
    )


def downgrade() -> None:
    op.drop_index("ix_alert_handling_steps_alert_id_at", table_name="alert_handling_steps")
    op.drop_table("alert_handling_steps")
    op.drop_constraint(op.f("ck_users_phone_format"), "users", type_="check")
    op.drop_column("users", "phone")
