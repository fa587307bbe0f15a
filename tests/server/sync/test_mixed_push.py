"""One push mixing good, duplicate, conflicting and rejected records of every kind: the verdicts
and the rows it leaves are pinned, so that a faster way of applying a push cannot change them.

The expected values were taken from the record-by-record push (one savepoint and one ledger claim
per record) before the push became set-based."""

from __future__ import annotations

import json
import os
import random
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import text

from tests.helpers import count_rows
from tests.server.seizures import helpers as s
from tests.server.sync import helpers as h

EXPECTED = Path(__file__).parent / "expected" / "mixed_push.json"
NAMES = uuid.UUID("5b0c0a4e-7f0e-4f57-9a51-0c1f6f0e2a14")
TABLES = (
    "patrols",
    "patrol_members",
    "patrol_legs",
    "track_points",
    "reports",
    "attachments",
    "seizures",
    "seizure_items",
    "seizure_versions",
    "record_versions",
    "device_status",
    "sync_receipts",
    "sync_conflicts",
    "sync_quarantine",
)


def rid(name: str) -> str:
    return str(uuid.uuid5(NAMES, name))


def _patrol(name: str, **data) -> dict:
    return h.patrol(rid(name), **data)


def _leg(name: str, patrol: str, number: int, **data) -> dict:
    base = {
        "patrol_id": rid(patrol),
        "leg_number": number,
        "patrol_type": "foot",
        "started_at": h.T0.isoformat(),
    }
    return {"kind": "patrol_leg", "id": rid(name), "data": base | data}


def _attachment(name: str, report: str, sha: str = "ab" * 32) -> dict:
    data = {
        "report_id": rid(report),
        "sha256": sha,
        "size_bytes": 1234,
        "media_type": "image/jpeg",
    }
    return {"kind": "attachment", "id": rid(name), "data": data}


def _status(name: str, **data) -> dict:
    base = {"reported_at": h.T0.isoformat(), "battery_pct": 80, "pending": {"report": 3}}
    return {"kind": "device_status", "id": rid(name), "data": base | data}


def _edit(name: str, target: str, base_version: int, changes: dict, kind: str = "report"):
    record = h.edit(rid(target), base_version, changes, target=kind)
    return record | {"id": rid(name)}


def _earlier(taxa: dict[str, str]) -> list[dict]:
    """What the device pushed before: one record of every kind."""
    walk = h.fixes(10)
    return [
        _patrol("P1", leader=None),
        _leg("L1", "P1", 1),
        h.chunk(rid("P1"), 0, walk, chunk_id=rid("C1")),
        h.report(rid("R1"), patrol_id=rid("P1")),
        _attachment("A1", "R1"),
        s.seizure([s.scales(taxa["Manis tricuspis"], 12.5)], seizure_id=rid("S1")),
        _status("D1"),
        _edit("E1", "R1", 1, {"notes": "first"}),
    ]


def _mixed(taxa: dict[str, str], earlier: list[dict]) -> list[dict]:
    """Every kind: new and good, sent again, same id with other content, refused."""
    p1, l1, c1, r1, a1, s1, d1, e1 = earlier
    walk = h.fixes(10)
    moved = h.fixes(15, lat=-3.41)  # the same sequence numbers elsewhere
    later = datetime.now(UTC) + timedelta(hours=2)
    return [
        # patrols
        _patrol("P2"),
        p1,
        p1 | {"data": p1["data"] | {"armed": False}},
        _patrol("P3", ended_at=(h.T0 - timedelta(hours=1)).isoformat()),
        _patrol("P4", patrol_type="hovercraft"),
        _patrol("P5", leader="nobody-here"),
        # legs
        _leg("L2", "P2", 1),
        l1,
        l1 | {"data": l1["data"] | {"transport": "vehicle"}},
        _leg("L3", "P1", 1),
        _leg("L4", "P-missing", 1),
        # track chunks
        h.chunk(rid("P2"), 0, walk, chunk_id=rid("C2")),
        c1,
        h.chunk(rid("P1"), 5, moved[5:15], chunk_id=rid("C3")),
        h.chunk(rid("P1"), 0, walk[:9], chunk_id=rid("C1")),
        h.chunk(rid("P-missing"), 0, walk, chunk_id=rid("C4")),
        h.chunk(rid("P2"), 20, h.fixes(3, lon=200.0), chunk_id=rid("C5")),
        # reports
        h.report(rid("R2"), patrol_id=rid("P2")),
        r1,
        r1 | {"data": r1["data"] | {"notes": "other"}},
        h.report(rid("R3"), category="no.such.category"),
        h.report(rid("R4"), attributes={"snare_type": "wire", "count": "many"}),
        h.report(rid("R5"), geometry={"type": "Point", "coordinates": [37.1, -95.0]}),
        h.report(rid("R6")),
        h.report(rid("R6")),
        h.report(rid("R7"), observed_at=later.isoformat()),
        # seizures
        s.seizure([s.tusks(taxa["Loxodonta africana"])], seizure_id=rid("S2")),
        s1,
        s.seizure([s.scales(taxa["Manis tricuspis"], 99)], seizure_id=rid("S1")),
        s.seizure([s.scales(str(uuid.uuid4()), 1)], seizure_id=rid("S3")),
        # edits
        _edit("E2", "R1", 2, {"notes": "second"}),
        e1,
        _edit("E3", "R1", 1, {"notes": "too late"}),
        _edit("E4", "R-missing", 1, {"notes": "nowhere"}),
        _edit("E5", "R1", 2, {"category": "other"}),
        _edit("E6", "S1", 1, {"place_name": "Checkpoint 2"}, kind="seizure"),
        _edit("E7", "P1", 1, {"objective": "river"}, kind="patrol"),
        # attachments
        _attachment("A2", "R2", "cd" * 32),
        a1,
        a1 | {"data": a1["data"] | {"size_bytes": 999}},
        _attachment("A3", "R-missing"),
        # device status
        _status("D2", battery_pct=40),
        d1,
        d1 | {"data": d1["data"] | {"battery_pct": 10}},
        _status("D3", reported_at=later.isoformat()),
        # envelopes
        {"kind": "bogus", "id": rid("X1"), "data": {}},
        h.report(rid("X2"), notes="nul \x00 inside"),
    ]


def _verdicts(response) -> list[tuple]:
    assert response.status_code == 200, response.get_json()
    return [
        (
            r["kind"],
            r["verdict"],
            r.get("code"),
            r.get("pointer"),
            r.get("version"),
            r.get("points"),
        )
        for r in response.get_json()["results"]
    ]


NAMED = {rid(n): n for n in [f"{k}{i}" for k in "PLCRSEADX" for i in range(1, 8)]}


def _rows(db) -> dict:
    """What the push left, with ids by their names here; derived figures are not the push's."""

    def rows(sql: str) -> list[tuple]:
        named = (tuple(NAMED.get(str(v), str(v)) for v in row) for row in db.execute(text(sql)))
        return sorted(named)

    return {
        "counts": {t: count_rows(db, t) for t in TABLES},
        "quarantine": rows(
            "SELECT kind, record_id, code, pointer FROM sync_quarantine ORDER BY 2, 3"
        ),
        "conflicts": rows("SELECT kind, record_id, reason FROM sync_conflicts ORDER BY 2, 1, 3"),
        "receipts": rows("SELECT kind, record_id FROM sync_receipts ORDER BY 2, 1"),
        "versions": rows("SELECT kind, record_id, version FROM record_versions ORDER BY 2, 3"),
        "patrols": rows("SELECT id, armed FROM patrols"),
        "points": rows(
            "SELECT patrol_id, seq, ST_AsText(geom) FROM track_points ORDER BY patrol_id, seq"
        ),
        "reports": rows("SELECT id, version, notes FROM reports ORDER BY id"),
        "seizures": rows("SELECT id, version, place_name FROM seizures ORDER BY id"),
        "status": rows("SELECT id, battery_pct FROM device_status ORDER BY id"),
    }


def test_a_mixed_push_gives_the_verdicts_and_rows_it_always_gave(client, db):
    park, taxa = h.park(db), s.taxa(db)
    earlier = _earlier(taxa)
    assert h.verdicts(h.push(client, park, earlier)) == ["stored"] * 8
    mixed = _mixed(taxa, earlier)
    random.Random(14).shuffle(mixed)  # answered in the order sent, applied in their own
    first = _verdicts(h.push(client, park, mixed))
    after_first = _rows(db)
    again = _verdicts(h.push(client, park, mixed))
    seen = {"first": first, "rows": after_first, "again": again, "counts": _rows(db)["counts"]}
    seen = json.loads(json.dumps(seen))  # tuples as the file holds them: lists
    if os.environ.get("RANGERSYNC_WRITE_EXPECTED"):
        EXPECTED.write_text(json.dumps(seen, indent=1) + "\n")
    assert seen == json.loads(EXPECTED.read_text())


def test_a_record_the_database_refuses_is_found_and_the_rest_stored_once(client, db, monkeypatch):
    """The batch is applied without a savepoint per record; a refusal by the database itself
    (here a status whose battery the database cannot take) sends the batch the careful way:
    the record at fault is rejected with the database's reason, every other record is stored
    once, and nothing it claimed in the ledger is left behind."""
    from server.sync import push as push_service

    real = push_service.HANDLERS["device_status"]

    def refused_by_the_database(ctx, record_id, data, digest, raw):
        verdict = real(ctx, record_id, data, digest, raw)
        if data.get("battery_pct") == 13:
            ctx.session.execute(text("SELECT 1 / 0"))
        return verdict

    monkeypatch.setitem(push_service.HANDLERS, "device_status", refused_by_the_database)
    park = h.park(db)
    p = h.patrol()
    records = [
        p,
        h.chunk(p["id"], 0, h.fixes(10)),
        h.report(patrol_id=p["id"]),
        _status("D1", battery_pct=13),
        _status("D2"),
    ]
    response = h.push(client, park, records)
    assert h.verdicts(response) == ["stored", "stored", "stored", "rejected", "stored"]
    assert response.get_json()["results"][3]["code"] == "database-refused"
    counts = {t: count_rows(db, t) for t in ("patrols", "track_points", "reports", "device_status")}
    assert counts == {"patrols": 1, "track_points": 10, "reports": 1, "device_status": 1}
    receipts = {r for (r,) in db.execute(text("SELECT record_id::text FROM sync_receipts"))}
    assert rid("D1") not in receipts and len(receipts) == 4
    assert h.verdicts(h.push(client, park, records)) == [
        "duplicate",
        "duplicate",
        "duplicate",
        "rejected",
        "duplicate",
    ]
