"""The checks after a restore: row counts, every stored evidence file against its SHA-256, the
audit chain. `rangersync backup restore` runs them; the restore test compares them with the park."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.orm import Session

from server.core.audit import verify_chain
from server.ops.backup import sha256_of

# The tables a park's field data grows in, counted after a restore.
COUNTED_TABLES = (
    "areas",
    "users",
    "devices",
    "patrols",
    "track_points",
    "reports",
    "attachments",
    "sync_receipts",
    "safety_alerts",
    "audit_log",
)


@dataclass
class RestoreCheck:
    rows: dict[str, int]
    evidence_checked: int
    evidence_missing: list[str] = field(default_factory=list)
    evidence_corrupt: list[str] = field(default_factory=list)
    audit_entries: int = 0
    audit_broken_at: int | None = None

    @property
    def ok(self) -> bool:
        return not (self.evidence_missing or self.evidence_corrupt) and self.audit_broken_at is None

    def lines(self) -> list[str]:
        rows = ", ".join(f"{name} {count}" for name, count in self.rows.items())
        audit = (
            f"intact ({self.audit_entries} entries)"
            if self.audit_broken_at is None
            else f"BROKEN at entry {self.audit_broken_at} ({self.audit_entries} entries)"
        )
        return [
            f"rows: {rows}",
            f"evidence: {self.evidence_checked} stored files checked, "
            f"{len(self.evidence_missing)} missing, {len(self.evidence_corrupt)} not matching "
            "their SHA-256",
            *(f"  missing: {sha}" for sha in self.evidence_missing),
            *(f"  corrupt: {sha}" for sha in self.evidence_corrupt),
            f"audit chain: {audit}",
        ]


def row_counts(session: Session) -> dict[str, int]:
    selects = " UNION ALL ".join(
        f"SELECT '{name}' AS name, count(*) AS n FROM {name}"  # noqa: S608 (our constants)
        for name in COUNTED_TABLES
    )
    return {row.name: row.n for row in session.execute(text(selects))}


def verify_restore(session: Session, evidence_dir: Path) -> RestoreCheck:
    """Every attachment the database says is stored must be in evidence_dir with its hash."""
    stored = session.scalars(
        text("SELECT DISTINCT sha256 FROM attachments WHERE state = 'stored' ORDER BY sha256")
    ).all()
    check = RestoreCheck(rows=row_counts(session), evidence_checked=len(stored))
    for sha in stored:
        path = evidence_dir / "sha256" / sha[:2] / sha[2:4] / sha
        if not path.is_file():
            check.evidence_missing.append(sha)
        elif sha256_of(path) != sha:
            check.evidence_corrupt.append(sha)
    chain = verify_chain(session)
    check.audit_entries, check.audit_broken_at = chain.entries, chain.first_broken_id
    return check
