"""Push: per-record verdicts, exactly once, conflicts kept, quarantine, clocks, edits."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text

from server.core.policy import SYSTEM
from server.devices.service import revoke
from tests.helpers import count_rows
from tests.server.sync import helpers as h


def _scalar(db, sql, **params):
    return db.execute(text(sql), params).scalar_one()


def test_patrol_track_and_report_are_stored_and_answered_per_record(client, db):
    park = h.park(db)
    p = h.patrol()
    records = [h.report(patrol_id=p["id"]), h.chunk(p["id"], 0, h.fixes(20)), p]
    response = h.push(client, park, records)
    assert h.verdicts(response) == ["stored", "stored", "stored"]  # in the order sent
    body = response.get_json()
    assert body["results"][1]["points"] == {"new": 20, "duplicate": 0, "conflict": 0}
    assert body["summary"] == {"stored": 3}
    assert _scalar(db, "SELECT count(*) FROM track_points WHERE patrol_id = :p", p=p["id"]) == 20
    assert h.derive(db) == 1  # the line and figures follow the answer, in the worker
    distance = _scalar(db, "SELECT distance_m FROM patrols WHERE id = :p", p=p["id"])
    assert 19 * 33 < distance < 19 * 34  # 0.0003° of longitude at 3.4° S ≈ 33.3 m


def test_a_retried_push_stores_each_record_once(client, db):
    park = h.park(db)
    p = h.patrol()
    records = [p, h.chunk(p["id"], 0, h.fixes(10)), h.report(), h.report()]
    assert h.verdicts(h.push(client, park, records)) == ["stored"] * 4
    before = {t: count_rows(db, t) for t in ("patrols", "track_points", "reports", "sync_receipts")}
    for _ in range(3):
        assert h.verdicts(h.push(client, park, records[::-1])) == ["duplicate"] * 4
    assert {t: count_rows(db, t) for t in before} == before


def test_same_id_other_content_is_a_kept_conflict(client, db):
    park = h.park(db)
    original = h.report(attributes={"snare_type": "wire", "count": 2})
    h.push(client, park, [original])
    changed = original | {
        "data": original["data"] | {"attributes": {"snare_type": "rope", "count": 9}}
    }
    response = h.push(client, park, [changed])
    assert h.verdicts(response) == ["conflict"]
    assert response.get_json()["results"][0]["code"] == "content-differs"
    stored = _scalar(
        db, "SELECT attributes->>'snare_type' FROM reports WHERE id = :r", r=original["id"]
    )
    assert stored == "wire"  # nothing overwritten
    kept = _scalar(
        db,
        "SELECT content->'attributes'->>'snare_type' FROM sync_conflicts WHERE record_id = :r",
        r=original["id"],
    )
    assert kept == "rope"


def test_overlapping_and_out_of_order_chunks_never_duplicate_a_fix(client, db):
    park = h.park(db)
    p = h.patrol()
    walk = h.fixes(30)
    h.push(client, park, [p])
    late = h.push(client, park, [h.chunk(p["id"], 20, walk[20:])])
    assert late.get_json()["results"][0]["points"]["new"] == 10
    overlap = h.push(client, park, [h.chunk(p["id"], 0, walk[:25])])
    assert overlap.get_json()["results"][0]["points"] == {"new": 20, "duplicate": 5, "conflict": 0}
    seqs = db.execute(
        text("SELECT seq FROM track_points WHERE patrol_id = :p ORDER BY seq"), {"p": p["id"]}
    )
    assert [s for (s,) in seqs] == list(range(30))
    h.derive(db)
    # The derived figures equal a recomputation from scratch.
    incremental = db.execute(
        text(
            "SELECT distance_m, moving_s, point_count, ST_AsText(line) FROM patrols WHERE id = :p"
        ),
        {"p": p["id"]},
    ).one()
    from server.patrols.service import derive_figures

    derive_figures(db, p["id"])
    recomputed = db.execute(
        text(
            "SELECT distance_m, moving_s, point_count, ST_AsText(line) FROM patrols WHERE id = :p"
        ),
        {"p": p["id"]},
    ).one()
    assert incremental.point_count == recomputed.point_count == 30
    assert abs(incremental.distance_m - recomputed.distance_m) < 1e-6
    assert incremental[3] == recomputed[3]


def test_appended_chunks_are_derived_after_the_push_once_for_several_pushes(client, db):
    park = h.park(db)
    p = h.patrol()
    walk = h.fixes(40)
    h.push(client, park, [p, h.chunk(p["id"], 0, walk[:15])])
    h.push(client, park, [h.chunk(p["id"], 15, walk[15:])])
    answered = db.execute(
        text("SELECT point_count, max_seq, line FROM patrols WHERE id = :p"), {"p": p["id"]}
    ).one()
    assert answered.point_count == 40 and answered.max_seq == 39  # counted by the push
    assert answered.line is None  # drawn by the worker, after the answer
    assert _scalar(db, "SELECT count(*) FROM derived_backlog WHERE patrol_id = :p", p=p["id"]) == 1
    assert h.derive(db) == 1  # both pushes' fixes, derived once
    row = db.execute(
        text(
            "SELECT distance_m, duration_s, moving_s, max_seq, ST_NPoints(line) AS n"
            " FROM patrols WHERE id = :p"
        ),
        {"p": p["id"]},
    ).one()
    assert row.n == 40 and row.max_seq == 39
    # Each push corrects by its own measured skew (milliseconds here), hence approx.
    assert row.duration_s == pytest.approx(39 * 30, abs=1) == row.moving_s
    assert 39 * 33 < row.distance_m < 39 * 34


def test_a_resent_fix_with_other_values_is_a_conflict_and_the_stored_one_stays(client, db):
    park = h.park(db)
    p = h.patrol()
    walk = h.fixes(5)
    h.push(client, park, [p, h.chunk(p["id"], 0, walk)])
    moved = [f.__class__(f.lon + 0.01, f.lat, f.time, f.accuracy_m) for f in walk]
    response = h.push(client, park, [h.chunk(p["id"], 0, moved)])
    result = response.get_json()["results"][0]
    assert result["verdict"] == "conflict" and result["points"] == {
        "new": 0,
        "duplicate": 0,
        "conflict": 5,
    }
    assert count_rows(db, "track_points") == 5


def test_one_bad_record_does_not_sink_the_batch(client, db):
    park = h.park(db)
    good, bad = h.report(), h.report(attributes={"snare_type": "laser", "count": 1})
    response = h.push(client, park, [good, bad])
    assert h.verdicts(response) == ["stored", "rejected"]
    rejected = response.get_json()["results"][1]
    assert rejected["code"] == "invalid-attributes"
    assert rejected["pointer"] == "/data/attributes/snare_type"
    raw = _scalar(db, "SELECT raw FROM sync_quarantine WHERE record_id = :r", r=bad["id"])
    assert raw == bad  # kept exactly as sent


def test_edits_apply_on_the_current_version_and_conflict_on_a_stale_one(client, db):
    park = h.park(db)
    r = h.report()
    h.push(client, park, [r])
    first = h.edit(r["id"], 1, {"notes": "three snares, removed"})
    applied = h.push(client, park, [first]).get_json()["results"][0]
    assert (applied["verdict"], applied["version"]) == ("stored", 2)
    stale = h.edit(r["id"], 1, {"notes": "made offline on the old version"})
    result = h.push(client, park, [stale]).get_json()["results"][0]
    assert (
        result["verdict"] == "conflict"
        and result["code"] == "stale-base"
        and result["version"] == 2
    )
    assert (
        _scalar(db, "SELECT notes FROM reports WHERE id = :r", r=r["id"]) == "three snares, removed"
    )
    versions = db.execute(
        text(
            "SELECT version, data->>'notes' FROM record_versions WHERE record_id = :r"
            " ORDER BY version"
        ),
        {"r": r["id"]},
    ).all()
    assert versions == [(1, None), (2, "three snares, removed")]
    assert _scalar(db, "SELECT count(*) FROM sync_conflicts WHERE record_id = :r", r=r["id"]) == 1
    # A retried edit is a duplicate, not a stale conflict.
    assert h.verdicts(h.push(client, park, [first])) == ["duplicate"]


def test_rangers_cannot_triage_by_edit(client, db):
    park = h.park(db)
    r = h.report()
    h.push(client, park, [r])
    result = h.push(client, park, [h.edit(r["id"], 1, {"status": "in_review"})]).get_json()[
        "results"
    ][0]
    assert result["verdict"] == "rejected" and result["code"] == "forbidden"


def test_device_clock_is_corrected_flagged_and_never_drops_data(client, db):
    park = h.park(db)
    now = datetime.now(UTC)
    behind = now - timedelta(hours=2)  # the device's clock is two hours slow
    r = h.report(observed_at=(behind - timedelta(minutes=10)).isoformat())
    body = h.push(client, park, [r], device_time=behind).get_json()
    assert body["clock_suspect"] is True and 7100 < body["clock_skew_s"] < 7300
    row = db.execute(
        text("SELECT observed_at, observed_at_device, clock_suspect FROM reports WHERE id = :r"),
        {"r": r["id"]},
    ).one()
    assert row.clock_suspect
    assert (
        abs((row.observed_at - row.observed_at_device).total_seconds() - body["clock_skew_s"]) < 1
    )
    assert abs((row.observed_at - (now - timedelta(minutes=10))).total_seconds()) < 5
    assert (
        _scalar(db, "SELECT clock_skew_s FROM sync_sessions ORDER BY received_at DESC LIMIT 1")
        > 7100
    )


def test_revoked_device_is_refused_and_its_records_kept(client, db):
    park = h.park(db)
    revoke(db, SYSTEM, park.device_id)
    db.commit()
    records = [h.report(), h.report()]
    response = h.push(client, park, records)
    assert response.status_code == 401
    assert response.get_json()["type"] == "/problems/device-revoked"
    kept = db.execute(
        text("SELECT record_id, code FROM sync_quarantine WHERE device_id = :d"),
        {"d": park.device_id},
    ).all()
    assert sorted(kept) == sorted((r["id"], "device-revoked") for r in records)


def test_protocol_version_is_required_and_checked(client, db):
    park = h.park(db)
    body = {"device_time": datetime.now(UTC).isoformat(), "records": []}
    auth = {"Authorization": park.headers["Authorization"]}
    missing = client.post("/api/v1/sync/push", json=body, headers=auth)
    assert missing.status_code == 400 and missing.get_json()["type"] == "/problems/protocol-missing"
    old = client.post("/api/v1/sync/push", json=body, headers=auth | {"RangerSync-Protocol": "0"})
    assert old.status_code == 426 and old.get_json()["supported"] == [1]
    new = client.post("/api/v1/sync/push", json=body, headers=auth | {"RangerSync-Protocol": "9"})
    assert new.status_code == 400 and new.get_json()["type"] == "/problems/protocol-unsupported"
    ok = client.post("/api/v1/sync/push", json=body, headers=park.headers)
    assert ok.status_code == 200 and ok.headers["RangerSync-Protocol"] == "1"


def test_gzip_bodies_are_accepted(client, db):
    park = h.park(db)
    records = [h.report() for _ in range(5)]
    body = {"device_time": datetime.now(UTC).isoformat(), "records": records}
    response = client.post(
        "/api/v1/sync/push",
        data=h.gzipped(body),
        headers=park.headers | {"Content-Type": "application/json", "Content-Encoding": "gzip"},
    )
    assert h.verdicts(response) == ["stored"] * 5


def test_manager_fixes_and_readmits_a_quarantined_record(client, db):
    from tests import factories

    park = h.park(db)
    factories.user(db, park.area_id, "manager", "boss")
    db.commit()
    bad = h.report(attributes={"snare_type": "laser", "count": 1})
    h.push(client, park, [bad])
    manager = factories.auth(factories.token(client, "boss"))
    listed = client.get(f"/api/v1/areas/{park.slug}/quarantine", headers=manager).get_json()
    assert [(e["record_id"], e["code"]) for e in listed] == [(bad["id"], "invalid-attributes")]
    entry = listed[0]["id"]
    again = client.post(f"/api/v1/quarantine/{entry}/readmit", json={}, headers=manager).get_json()
    assert again["verdict"]["verdict"] == "rejected" and again["entry"]["state"] == "open"
    fixed = bad | {"data": bad["data"] | {"attributes": {"snare_type": "wire", "count": 1}}}
    done = client.post(
        f"/api/v1/quarantine/{entry}/readmit", json={"record": fixed}, headers=manager
    )
    assert done.get_json()["verdict"]["verdict"] == "stored"
    assert done.get_json()["entry"]["state"] == "readmitted"
    assert _scalar(db, "SELECT device_id FROM reports WHERE id = :r", r=bad["id"]) == park.device_id
    # …and the device's own retry of it is now a duplicate, not a second report.
    assert h.verdicts(h.push(client, park, [fixed])) == ["duplicate"]


def test_several_chunks_of_one_patrol_in_one_push_count_each_step_once(client, db):
    from server.patrols.service import derive_figures

    park = h.park(db)
    p = h.patrol()
    walk = h.fixes(60)
    h.push(
        client,
        park,
        [
            p,
            h.chunk(p["id"], 0, walk[:20]),
            h.chunk(p["id"], 20, walk[20:40]),
            h.chunk(p["id"], 40, walk[40:]),
        ],
    )
    h.derive(db)
    kept = db.execute(
        text("SELECT distance_m, moving_s, duration_s, point_count FROM patrols WHERE id = :p"),
        {"p": p["id"]},
    ).one()
    derive_figures(db, p["id"])
    fresh = db.execute(
        text("SELECT distance_m, moving_s, duration_s, point_count FROM patrols WHERE id = :p"),
        {"p": p["id"]},
    ).one()
    assert kept.point_count == fresh.point_count == 60
    assert kept.distance_m == pytest.approx(fresh.distance_m, rel=1e-6)
    assert kept.moving_s == pytest.approx(fresh.moving_s, abs=0.01)
    assert kept.duration_s == pytest.approx(fresh.duration_s, abs=0.01)


def test_a_device_whose_clock_reset_to_1970_still_syncs(client, db):
    from datetime import UTC, datetime

    park = h.park(db)
    reset = datetime(1970, 1, 1, 0, 10, tzinfo=UTC)  # a phone that lost its clock
    r = h.report(observed_at=datetime(1970, 1, 1, 0, 5, tzinfo=UTC).isoformat())
    body = h.push(client, park, [r], device_time=reset).get_json()
    assert body["results"][0]["verdict"] == "stored" and body["clock_suspect"]
    observed = _scalar(db, "SELECT observed_at FROM reports WHERE id = :r", r=r["id"])
    assert abs((datetime.now(UTC) - observed).total_seconds() - 300) < 10  # five minutes ago


def test_absurd_device_clocks_never_cause_a_server_error(client, db):
    from datetime import UTC, datetime

    park = h.park(db)
    for device_time in (datetime(9999, 12, 31, tzinfo=UTC), datetime(1, 1, 2, tzinfo=UTC)):
        p = h.patrol(started_at=datetime(2026, 1, 1, tzinfo=UTC))
        r = h.report(observed_at=datetime(2026, 1, 1, tzinfo=UTC).isoformat())
        response = h.push(client, park, [p, r], device_time=device_time)
        assert response.status_code == 200
        assert {x["verdict"] for x in response.get_json()["results"]} == {"rejected"}
