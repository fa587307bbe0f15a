"""Quarantine keeps a rejected record whole up to a size; past it, the record's first bytes, its
size and its SHA-256, so a misbehaving app cannot fill the database with megabytes per retry."""

from __future__ import annotations

import hashlib
import json

from sqlalchemy import text

from server.sync import common
from tests.server.sync import helpers as h


def _kept(db, record_id: str):
    return db.execute(
        text("SELECT raw FROM sync_quarantine WHERE record_id = :r"), {"r": record_id}
    ).scalar_one()


def test_a_large_rejected_record_is_kept_as_its_head_size_and_hash(client, db, monkeypatch):
    monkeypatch.setattr(common, "MAX_QUARANTINED_BYTES", 1024)
    park = h.park(db)
    large = h.report(attributes={"snare_type": "laser", "count": 1}, notes="n" * 8000)
    small = h.report(attributes={"snare_type": "laser", "count": 1}, notes="short")

    answer = h.push(client, park, [large, small])

    assert [r["verdict"] for r in answer.get_json()["results"]] == ["rejected", "rejected"]
    kept = _kept(db, large["id"])
    whole = json.dumps(large, ensure_ascii=True)
    assert kept["size_bytes"] == len(whole)
    assert kept["sha256"] == hashlib.sha256(whole.encode()).hexdigest()
    assert kept["truncated_json"] == whole[:1024]
    assert _kept(db, small["id"]) == small  # a small one stays whole, as sent
    # a retry of the same large record is kept once
    h.push(client, park, [large])
    count = db.execute(
        text("SELECT count(*) FROM sync_quarantine WHERE record_id = :r"), {"r": large["id"]}
    ).scalar_one()
    assert count == 1
