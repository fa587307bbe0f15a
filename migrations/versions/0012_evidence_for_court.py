"""Evidence for court: numbered evidence items, the server's signed receipts of files, the custody
log (append-only: a trigger refuses UPDATE, DELETE and TRUNCATE, as on the audit log), handovers
waiting for the giver's acknowledgement, cases with their links and encrypted suspects, forensic
lab results; and the `investigator` role.

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-29
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


CUSTODY_APPEND_ONLY = """
CREATE FUNCTION rs_custody_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'custody_entries is append-only: % refused (correct with a new entry)', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END
$$
"""
OLD_ROLES = "role IN ('admin', 'manager', 'ranger', 'partner')"
NEW_ROLES = "role IN ('admin', 'manager', 'ranger', 'partner', 'investigator')"


def _roles(check: str) -> None:
    op.drop_constraint(op.f("ck_memberships_role_allowed"), "memberships", type_="check")
    op.create_check_constraint(op.f("ck_memberships_role_allowed"), "memberships", check)


def upgrade() -> None:
    _roles(NEW_ROLES)
    op.create_table(
        "cases",
        sa.Column("area_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("number", sa.String(length=40), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("court", sa.Text(), nullable=True),
        sa.Column("court_reference", sa.Text(), nullable=True),
        sa.Column("charges", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("hearings", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("outcome", sa.String(length=16), nullable=True),
        sa.Column("sentence", sa.Text(), nullable=True),
        sa.Column("created_by", sa.Uuid(), nullable=True),
        sa.Column(
            "opened_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False
        ),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "outcome IN ('convicted', 'acquitted', 'dismissed', 'withdrawn', 'fined')",
            name=op.f("ck_cases_outcome_allowed"),
        ),
        sa.CheckConstraint(
            "status <> 'closed' OR outcome IS NOT NULL", name=op.f("ck_cases_closed_has_outcome")
        ),
        sa.CheckConstraint(
            "status IN ('open', 'charged', 'in_court', 'closed')",
            name=op.f("ck_cases_status_allowed"),
        ),
        sa.ForeignKeyConstraint(
            ["area_id"], ["areas.id"], name=op.f("fk_cases_area_id_areas"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["created_by"], ["users.id"], name=op.f("fk_cases_created_by_users")
        ),
        sa.PrimaryKeyConstraint("area_id", "id", name=op.f("pk_cases")),
        sa.UniqueConstraint("area_id", "number", name=op.f("uq_cases_area_id_number")),
    )
    op.create_table(
        "case_links",
        sa.Column("area_id", sa.Uuid(), nullable=False),
        sa.Column("case_id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("object_id", sa.Uuid(), nullable=False),
        sa.CheckConstraint(
            "kind IN ('seizure', 'report')", name=op.f("ck_case_links_kind_allowed")
        ),
        sa.ForeignKeyConstraint(
            ["area_id", "case_id"],
            ["cases.area_id", "cases.id"],
            name="fk_case_links_case_id_cases",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["area_id"], ["areas.id"], name=op.f("fk_case_links_area_id_areas"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint(
            "area_id", "case_id", "kind", "object_id", name=op.f("pk_case_links")
        ),
    )
    op.create_table(
        "case_suspects",
        sa.Column("area_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("case_id", sa.Uuid(), nullable=False),
        sa.Column("sealed", sa.LargeBinary(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["area_id", "case_id"],
            ["cases.area_id", "cases.id"],
            name="fk_case_suspects_case_id_cases",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["area_id"],
            ["areas.id"],
            name=op.f("fk_case_suspects_area_id_areas"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("area_id", "id", name=op.f("pk_case_suspects")),
    )
    op.create_index(op.f("ix_case_suspects_case_id"), "case_suspects", ["case_id"], unique=False)
    op.create_table(
        "evidence_items",
        sa.Column("area_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("number", sa.String(length=40), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("seizure_id", sa.Uuid(), nullable=True),
        sa.Column("report_id", sa.Uuid(), nullable=True),
        sa.Column("attachment_id", sa.Uuid(), nullable=True),
        sa.Column("parent_id", sa.Uuid(), nullable=True),
        sa.Column("analysis", sa.String(length=16), nullable=True),
        sa.Column("created_by", sa.Uuid(), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "analysis IN ('dna', 'wood_anatomy', 'isotopes', 'morphology', 'other')",
            name=op.f("ck_evidence_items_analysis_allowed"),
        ),
        sa.CheckConstraint(
            "kind <> 'digital' OR attachment_id IS NOT NULL",
            name=op.f("ck_evidence_items_digital_has_file"),
        ),
        sa.CheckConstraint(
            "kind <> 'sample' OR parent_id IS NOT NULL",
            name=op.f("ck_evidence_items_sample_has_parent"),
        ),
        sa.CheckConstraint(
            "kind IN ('digital', 'physical', 'sample')", name=op.f("ck_evidence_items_kind_allowed")
        ),
        sa.CheckConstraint(
            "seizure_id IS NOT NULL OR report_id IS NOT NULL",
            name=op.f("ck_evidence_items_linked_to_seizure_or_report"),
        ),
        sa.ForeignKeyConstraint(
            ["area_id", "parent_id"],
            ["evidence_items.area_id", "evidence_items.id"],
            name="fk_evidence_items_parent_id_evidence_items",
        ),
        sa.ForeignKeyConstraint(
            ["area_id"],
            ["areas.id"],
            name=op.f("fk_evidence_items_area_id_areas"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["attachment_id"],
            ["attachments.id"],
            name=op.f("fk_evidence_items_attachment_id_attachments"),
        ),
        sa.ForeignKeyConstraint(
            ["created_by"], ["users.id"], name=op.f("fk_evidence_items_created_by_users")
        ),
        sa.ForeignKeyConstraint(
            ["report_id"], ["reports.id"], name=op.f("fk_evidence_items_report_id_reports")
        ),
        sa.ForeignKeyConstraint(
            ["seizure_id"], ["seizures.id"], name=op.f("fk_evidence_items_seizure_id_seizures")
        ),
        sa.PrimaryKeyConstraint("area_id", "id", name=op.f("pk_evidence_items")),
        sa.UniqueConstraint("area_id", "number", name=op.f("uq_evidence_items_area_id_number")),
    )
    op.create_index(
        op.f("ix_evidence_items_report_id"), "evidence_items", ["report_id"], unique=False
    )
    op.create_index(
        op.f("ix_evidence_items_seizure_id"), "evidence_items", ["seizure_id"], unique=False
    )
    op.create_table(
        "evidence_receipts",
        sa.Column("area_id", sa.Uuid(), nullable=False),
        sa.Column("attachment_id", sa.Uuid(), nullable=False),
        sa.Column("key_id", sa.String(length=32), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("signature", sa.LargeBinary(length=64), nullable=False),
        sa.Column(
            "issued_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False
        ),
        sa.ForeignKeyConstraint(
            ["area_id"],
            ["areas.id"],
            name=op.f("fk_evidence_receipts_area_id_areas"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["attachment_id"],
            ["attachments.id"],
            name=op.f("fk_evidence_receipts_attachment_id_attachments"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("area_id", "attachment_id", name=op.f("pk_evidence_receipts")),
    )
    op.create_table(
        "custody_entries",
        sa.Column("area_id", sa.Uuid(), nullable=False),
        sa.Column("item_id", sa.Uuid(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("from_user_id", sa.Uuid(), nullable=True),
        sa.Column("to_user_id", sa.Uuid(), nullable=True),
        sa.Column("recorded_by", sa.Uuid(), nullable=True),
        sa.Column("acknowledged_by", sa.Uuid(), nullable=True),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("prev_hash", sa.LargeBinary(length=32), nullable=False),
        sa.Column("hash", sa.LargeBinary(length=32), nullable=False),
        sa.Column("audit_id", sa.BigInteger(), nullable=False),
        sa.Column(
            "recorded_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "kind IN ('intake', 'transfer', 'external_out', 'external_in', 'correction')",
            name=op.f("ck_custody_entries_kind_allowed"),
        ),
        sa.CheckConstraint("seq >= 1", name=op.f("ck_custody_entries_seq_positive")),
        sa.ForeignKeyConstraint(
            ["acknowledged_by"], ["users.id"], name=op.f("fk_custody_entries_acknowledged_by_users")
        ),
        sa.ForeignKeyConstraint(
            ["area_id", "item_id"],
            ["evidence_items.area_id", "evidence_items.id"],
            name="fk_custody_entries_item_id_evidence_items",
        ),
        sa.ForeignKeyConstraint(
            ["area_id"],
            ["areas.id"],
            name=op.f("fk_custody_entries_area_id_areas"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["from_user_id"], ["users.id"], name=op.f("fk_custody_entries_from_user_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["recorded_by"], ["users.id"], name=op.f("fk_custody_entries_recorded_by_users")
        ),
        sa.ForeignKeyConstraint(
            ["to_user_id"], ["users.id"], name=op.f("fk_custody_entries_to_user_id_users")
        ),
        sa.PrimaryKeyConstraint("area_id", "item_id", "seq", name=op.f("pk_custody_entries")),
    )
    op.create_table(
        "custody_handovers",
        sa.Column("area_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("item_id", sa.Uuid(), nullable=False),
        sa.Column("from_user_id", sa.Uuid(), nullable=False),
        sa.Column("to_user_id", sa.Uuid(), nullable=False),
        sa.Column("details", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "state IN ('pending', 'acknowledged', 'withdrawn')",
            name=op.f("ck_custody_handovers_state_allowed"),
        ),
        sa.ForeignKeyConstraint(
            ["area_id", "item_id"],
            ["evidence_items.area_id", "evidence_items.id"],
            name="fk_custody_handovers_item_id_evidence_items",
        ),
        sa.ForeignKeyConstraint(
            ["area_id"],
            ["areas.id"],
            name=op.f("fk_custody_handovers_area_id_areas"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["from_user_id"], ["users.id"], name=op.f("fk_custody_handovers_from_user_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["to_user_id"], ["users.id"], name=op.f("fk_custody_handovers_to_user_id_users")
        ),
        sa.PrimaryKeyConstraint("area_id", "id", name=op.f("pk_custody_handovers")),
    )
    op.create_index(
        op.f("ix_custody_handovers_item_id"), "custody_handovers", ["item_id"], unique=False
    )
    op.create_table(
        "lab_results",
        sa.Column("area_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("sample_id", sa.Uuid(), nullable=False),
        sa.Column("lab", sa.Text(), nullable=False),
        sa.Column("lab_reference", sa.Text(), nullable=False),
        sa.Column("species_confirmed", sa.Text(), nullable=True),
        sa.Column("origin", sa.Text(), nullable=True),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("matched_item_id", sa.Uuid(), nullable=True),
        sa.Column("matched_seizure_id", sa.Uuid(), nullable=True),
        sa.Column("reported_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("recorded_by", sa.Uuid(), nullable=True),
        sa.Column(
            "recorded_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["area_id", "matched_item_id"],
            ["evidence_items.area_id", "evidence_items.id"],
            name="fk_lab_results_matched_item_id_evidence_items",
        ),
        sa.ForeignKeyConstraint(
            ["area_id", "sample_id"],
            ["evidence_items.area_id", "evidence_items.id"],
            name="fk_lab_results_sample_id_evidence_items",
        ),
        sa.ForeignKeyConstraint(
            ["area_id"], ["areas.id"], name=op.f("fk_lab_results_area_id_areas"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["matched_seizure_id"],
            ["seizures.id"],
            name=op.f("fk_lab_results_matched_seizure_id_seizures"),
        ),
        sa.ForeignKeyConstraint(
            ["recorded_by"], ["users.id"], name=op.f("fk_lab_results_recorded_by_users")
        ),
        sa.PrimaryKeyConstraint("area_id", "id", name=op.f("pk_lab_results")),
    )
    op.create_index(
        op.f("ix_lab_results_matched_item_id"), "lab_results", ["matched_item_id"], unique=False
    )
    op.create_index(
        op.f("ix_lab_results_matched_seizure_id"),
        "lab_results",
        ["matched_seizure_id"],
        unique=False,
    )
    op.create_index(op.f("ix_lab_results_sample_id"), "lab_results", ["sample_id"], unique=False)
    op.execute(CUSTODY_APPEND_ONLY)
    op.execute(
        "CREATE TRIGGER custody_entries_append_only BEFORE UPDATE OR DELETE ON custody_entries"
        " FOR EACH ROW EXECUTE FUNCTION rs_custody_append_only()"
    )
    op.execute(
        "CREATE TRIGGER custody_entries_no_truncate BEFORE TRUNCATE ON custody_entries"
        " FOR EACH STATEMENT EXECUTE FUNCTION rs_custody_append_only()"
    )


def downgrade() -> None:
    op.execute("DELETE FROM memberships WHERE role = 'investigator'")
    _roles(OLD_ROLES)
    op.drop_index(op.f("ix_lab_results_sample_id"), table_name="lab_results")
    op.drop_index(op.f("ix_lab_results_matched_seizure_id"), table_name="lab_results")
    op.drop_index(op.f("ix_lab_results_matched_item_id"), table_name="lab_results")
    op.drop_table("lab_results")
    op.drop_index(op.f("ix_custody_handovers_item_id"), table_name="custody_handovers")
    op.drop_table("custody_handovers")
    op.drop_table("custody_entries")  # the triggers go with it
    op.execute("DROP FUNCTION rs_custody_append_only()")
    op.drop_table("evidence_receipts")
    op.drop_index(op.f("ix_evidence_items_seizure_id"), table_name="evidence_items")
    op.drop_index(op.f("ix_evidence_items_report_id"), table_name="evidence_items")
    op.drop_table("evidence_items")
    op.drop_index(op.f("ix_case_suspects_case_id"), table_name="case_suspects")
    op.drop_table("case_suspects")
    op.drop_table("case_links")
    op.drop_table("cases")
