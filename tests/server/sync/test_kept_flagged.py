"""What a push keeps that is not quite right: a rejected record whole up to a size in quarantine
(past it, its first bytes, its size and its SHA-256, so a misbehaving app cannot fill the
database with megabytes per retry); a report far outside the park, stored and flagged."""

from __future__ import annotations

import hashlib
import json

from sqlalchemy import text

from server.sync import common
from tests import factories
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


def test_a_report_far_outside_the_park_is_stored_and_flagged(client, db):
    park = h.park(db)
    manager = factories.user(db, park.area_id, "manager")
    db.commit()
    far = h.report(geometry={"type": "Point", "coordinates": [10.0, 50.0]})
    near = h.report()  # inside the park

    results = h.push(client, park, [far, near]).get_json()["results"]

    assert [r["verdict"] for r in results] == ["stored", "stored"]
    assert results[0]["code"] == "far-outside-area" and "code" not in results[1]
    headers = factories.auth(factories.token(client, manager.username))
    seen = {
        r["id"]: client.get(f"/api/v1/reports/{r['id']}", headers=headers).get_json()
        for r in (far, near)
    }
    assert seen[far["id"]]["location_suspect"] is True
    assert seen[near["id"]]["location_suspect"] is False
