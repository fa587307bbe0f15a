"""Backups that restore, for real: a park filled by simulated handhelds through the HTTP API, a
full and an incremental pgBackRest backup with the evidence files, more field data, a restore to a
point in time into a new cluster and files folder, then the restored park checked against what
the live one held at that time: row counts, every evidence file's SHA-256, the audit chain."""

from __future__ import annotations

import hashlib
import time
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

from server.core.db import make_engine
from server.core.pgcluster import Cluster, free_port
from server.demo.seed import DEMO_PASSWORD
from server.ops.verify import row_counts, verify_restore
from sync.device.simulate import run_fleet
from tests.server.ops.helpers import Installation, open_dir

pytestmark = pytest.mark.slow


def _fill(base: str, seed: int, workdir: Path) -> None:
    result = run_fleet(
        base,
        password=DEMO_PASSWORD,
        devices=2,
        hours=0.5,
        reports_per_patrol=2,
        photo_rate=1.0,
        seed=seed,
        workdir=_made(workdir / f"fleet-{seed}"),
        say=lambda _: None,
    )
    assert result.complete and result.photos_uploaded == 4


def _evidence_files(root: Path) -> int:
    evidence = root / "var" / "evidence"  # Installation.var_dir
    return sum(1 for p in evidence.rglob("*") if p.is_file() and "partial" not in p.parts)


def _made(folder: Path) -> Path:
    folder.mkdir()
    return folder


def _snapshot(session: Session) -> dict:
    stored = session.scalars(
        text("SELECT DISTINCT sha256 FROM attachments WHERE state = 'stored'")
    ).all()
    last_audit = session.scalar(text("SELECT max(id) FROM audit_log"))
    return {"rows": row_counts(session), "evidence": set(stored), "last_audit": last_audit}


def _archive_current_wal(session: Session, timeout: float = 60.0) -> None:
    """Close the current WAL segment and wait until pgBackRest has it in the repository."""
    segment = session.scalar(text("SELECT pg_walfile_name(pg_switch_wal())"))
    session.commit()
    deadline = time.monotonic() + timeout
    while session.scalar(text("SELECT last_archived_wal FROM pg_stat_archiver")) != segment:
        session.commit()  # statistics are a snapshot per transaction
        assert time.monotonic() < deadline, f"WAL segment {segment} was never archived"
        time.sleep(0.2)


def test_a_park_restored_to_a_point_in_time_has_its_rows_evidence_and_audit_chain():
    park = Installation(open_dir("rangersync-ops-"))
    restored_root = open_dir("rangersync-restore-")
    restored = Cluster(restored_root / "pg", free_port())
    server = None
    try:
        park.rangersync("db", "upgrade")
        init = park.rangersync("backup", "init")
        assert "WAL is archived" in init.stdout
        server = park.serve()
        engine = make_engine(park.cluster.url())

        _fill(server.url, 1, park.root)
        first = _evidence_files(park.root)  # the demo park's and the fleet's photos, thumbnails
        full = park.rangersync("backup", "run", "--type", "full")
        assert "full backup" in full.stdout
        assert f"evidence files: {first} copied" in full.stdout

        _fill(server.url, 2, park.root)
        incremental = park.rangersync("backup", "run")
        assert "incr backup" in incremental.stdout
        added = _evidence_files(park.root) - first
        assert added == 8  # 4 photos, 4 thumbnails
        assert f"evidence files: {added} copied, {first} already backed up" in incremental.stdout

        _fill(server.url, 3, park.root)  # after the last backup: only the WAL has it
        with Session(engine) as session:
            at_target = _snapshot(session)
            target = session.scalar(text("SELECT clock_timestamp()"))
        time.sleep(1.0)

        _fill(server.url, 4, park.root)  # after the target time: must not come back
        park.rangersync("backup", "files")
        with Session(engine) as session:
            at_end = _snapshot(session)
            _archive_current_wal(session)
        engine.dispose()
        assert at_end["rows"]["reports"] == at_target["rows"]["reports"] + 4
        assert len(at_end["evidence"]) == len(at_target["evidence"]) + 4
        stored = len(at_target["evidence"])  # the fleet's 12 photos and the demo case's

        out = park.rangersync(
            "backup", "restore", "--target-time", target.isoformat(), "--into", str(restored_root)
        )
        print(out.stdout)
        assert f"evidence: {stored} stored files checked, 0 missing, 0 not matching" in out.stdout
        assert "audit chain: intact" in out.stdout

        restored.start()
        restored_engine = make_engine(restored.url())
        with Session(restored_engine) as session:
            after = _snapshot(session)
            check = verify_restore(session, restored_root / "evidence")
        restored_engine.dispose()
        assert after == at_target  # every count, every evidence hash, the last audit entry
        assert check.ok and check.evidence_checked == stored and check.audit_entries > 0
        for sha in after["evidence"]:
            blob = restored_root / "evidence" / "sha256" / sha[:2] / sha[2:4] / sha
            assert hashlib.sha256(blob.read_bytes()).hexdigest() == sha
    finally:
        if server is not None:
            server.stop()
        restored.destroy()
        park.destroy()
