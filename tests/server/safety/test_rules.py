"""The automatic safety rules: each fires once per event, and not at all when it should not."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import text

from server.areas.models import Zone
from server.safety import rules
from tests.server.safety import helpers as s
from tests.server.sync import helpers as h

HERE = (37.10, -3.40)


def _alerts(client, park, kind: str | None = None) -> list[dict]:
    listed = client.get(f"/api/v1/areas/{park.slug}/alerts", headers=park.manager).get_json()
    return [a for a in listed if kind is None or a["kind"] == kind]


def _push(client, device, records):
    body = {"device_time": datetime.now(UTC).isoformat(), "records": records}
    response = client.post("/api/v1/sync/push", json=body, headers=device.headers)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def test_an_overdue_patrol_raises_one_alert_and_an_ended_or_punctual_one_none(
    committed_client, committed_db
):
    client, db = committed_client, committed_db
    park = s.park(db, client, devices=4)
    late, ended, punctual, nearby = park.devices
    # Due two hours ago, but within the grace period the area allows (150 minutes):
    grace = {"overdue_grace_min": 150}
    assert (
        client.patch(
            f"/api/v1/areas/{park.slug}/safety-settings", json=grace, headers=park.manager
        ).status_code
        == 200
    )
    now = datetime.now(UTC)
    two_hours_ago = (now - timedelta(hours=2)).isoformat()
    s.walk(client, late, *HERE, patrol={"planned_end": two_hours_ago})
    s.walk(
        client,
        ended,
        *HERE,
        start=now - timedelta(hours=3),
        patrol={
            "planned_end": two_hours_ago,
            "ended_at": (now - timedelta(minutes=90)).isoformat(),
        },
    )
    s.walk(client, punctual, *HERE, patrol={"planned_end": (now + timedelta(hours=1)).isoformat()})
    s.walk(client, nearby, HERE[0] + 0.03, HERE[1])
    assert rules.evaluate(db, park.area_id).alerts == []
    assert _alerts(client, park) == []
    db.execute(
        text("UPDATE safety_settings SET overdue_grace_min = 60 WHERE area_id = :a"),
        {"a": park.area_id},
    )
    db.execute(
        text("UPDATE areas SET timezone = 'Africa/Nairobi' WHERE id = :a"), {"a": park.area_id}
    )
    db.commit()
    fired = rules.evaluate(db, park.area_id).alerts
    db.commit()
    assert [(a.kind, str(a.subject_id)) for a in fired] == [("overdue_patrol", late.patrol_id)]
    # Times in the message are the park's, with its zone named (not UTC).
    planned = datetime.fromisoformat(two_hours_ago).astimezone(ZoneInfo("Africa/Nairobi"))
    assert f"planned to end {planned:%Y-%m-%d %H:%M} EAT and not ended" in fired[0].message
    assert "UTC" not in fired[0].message
    assert rules.evaluate(db, park.area_id).alerts == []  # once per event
    db.commit()
    (alert,) = _alerts(client, park, "overdue_patrol")
    assert alert["severity"] == "critical" and "overdue" in alert["message"]
    assert alert["id"] in s.pull_alerts(client, nearby)[0]  # the patrols near its last position


def test_no_movement_fires_once_per_stop_and_not_for_a_moving_patrol(
    committed_client, committed_db
):
    client, db = committed_client, committed_db
    park = s.park(db, client, devices=2)
    still, moving = park.devices
    start = datetime.now(UTC) - timedelta(hours=3)
    s.walk(client, moving, *HERE, minutes=60, step=0.0003, start=start)  # 33 m every 30 s
    assert _alerts(client, park, "no_movement") == []
    s.walk(client, still, *HERE, minutes=30, step=0.0003, start=start)
    s.walk(
        client,
        still,
        HERE[0] + 0.02,
        HERE[1],
        minutes=30,
        jitter=0.00002,
        start=start + timedelta(minutes=30),
    )
    assert _alerts(client, park, "no_movement") == []  # 30 minutes still: not yet (45)
    s.walk(
        client,
        still,
        HERE[0] + 0.02,
        HERE[1],
        minutes=20,
        jitter=0.00002,
        start=start + timedelta(minutes=60),
    )
    (first,) = _alerts(client, park, "no_movement")
    assert first["subject_id"] == still.patrol_id and first["severity"] == "critical"
    s.walk(
        client,
        still,
        HERE[0] + 0.02,
        HERE[1],
        minutes=10,
        jitter=0.00002,
        start=start + timedelta(minutes=80),
    )
    assert rules.evaluate(db, park.area_id).alerts == []
    db.commit()
    assert len(_alerts(client, park, "no_movement")) == 1  # the same stop: the same event
    # It walks on, then stops again for 50 minutes: a new event.
    s.walk(
        client,
        still,
        HERE[0] + 0.03,
        HERE[1],
        minutes=10,
        step=0.0003,
        start=start + timedelta(minutes=90),
    )
    s.walk(
        client,
        still,
        HERE[0] + 0.05,
        HERE[1],
        minutes=50,
        jitter=0.00002,
        start=start + timedelta(minutes=100),
    )
    assert len(_alerts(client, park, "no_movement")) == 2


def _danger_zone(db, park, lon, lat, half=0.01, kind="danger"):
    zone = Zone(
        area_id=park.area_id,
        name="Rebel corridor",
        kind=kind,
        geom=f"SRID=4326;MULTIPOLYGON((({lon - half} {lat - half},{lon + half} {lat - half},"
        f"{lon + half} {lat + half},{lon - half} {lat + half},{lon - half} {lat - half})))",
    )
    db.add(zone)
    db.commit()
    return zone


def test_entering_a_danger_zone_fires_once_per_patrol_and_zone(committed_client, committed_db):
    client, db = committed_client, committed_db
    park = s.park(db, client, devices=2)
    entering, outside = park.devices
    zone = _danger_zone(db, park, HERE[0] + 0.05, HERE[1])
    _danger_zone(db, park, HERE[0], HERE[1] + 0.05, kind="management")  # not a danger zone
    s.walk(client, outside, HERE[0], HERE[1] + 0.05)  # inside the management zone only
    s.walk(client, entering, *HERE, minutes=20, step=0.001)  # 40 fixes, 4 km east: not yet
    assert _alerts(client, park, "danger_zone") == []
    # crosses in: the alert comes with the push, before the worker has drawn the line
    s.walk(client, entering, HERE[0] + 0.04, HERE[1], minutes=10, step=0.001, derive=False)
    (alert,) = _alerts(client, park, "danger_zone")
    assert alert["subject_id"] == entering.patrol_id and zone.name in alert["message"]
    s.walk(client, entering, HERE[0] + 0.05, HERE[1], minutes=5, step=0.0002)  # still inside
    assert rules.evaluate(db, park.area_id).alerts == []
    db.commit()
    assert len(_alerts(client, park, "danger_zone")) == 1
    assert alert["id"] in s.pull_alerts(client, entering)[0]


def test_a_hostile_report_warns_patrols_within_range_only(committed_client, committed_db):
    client, db = committed_client, committed_db
    park = s.park(db, client, devices=3)
    reporter, near, far = park.devices
    s.walk(client, near, HERE[0] + 0.03, HERE[1])  # about 3.3 km from the gunshot
    s.walk(client, far, HERE[0] + 0.2, HERE[1])  # about 22 km
    now = datetime.now(UTC)
    gunshot = h.report(
        category="poaching.gunshot",
        attributes={"shots": 3},
        geometry={"type": "Point", "coordinates": list(HERE)},
        observed_at=now.isoformat(),
    )
    snare = h.report(
        category="poaching.snare",
        observed_at=now.isoformat(),
        geometry={"type": "Point", "coordinates": list(HERE)},
    )
    old = h.report(
        category="poaching.gunshot",
        attributes={"shots": 1},
        geometry={"type": "Point", "coordinates": list(HERE)},
        observed_at=(now - timedelta(days=1)).isoformat(),
    )
    distant = h.report(
        category="poaching.gunshot",
        attributes={"shots": 1},
        geometry={"type": "Point", "coordinates": [HERE[0] + 0.1, HERE[1] - 0.1]},
        observed_at=now.isoformat(),
    )
    results = _push(client, reporter, [gunshot, snare, old, distant])["results"]
    assert {r["verdict"] for r in results} == {"stored"}, results
    (alert,) = _alerts(client, park, "hostile_incident")
    assert alert["subject_id"] == gunshot["id"] and alert["radius_m"] == 5000
    assert alert["id"] in s.pull_alerts(client, near)[0]
    assert alert["id"] not in s.pull_alerts(client, far)[0]
    assert rules.evaluate(db, park.area_id).alerts == []
    db.commit()
    assert len(_alerts(client, park, "hostile_incident")) == 1


def test_a_patrol_that_syncs_after_its_planned_end_is_overdue_at_once(
    committed_client, committed_db
):
    client = committed_client
    park = s.park(committed_db, client, devices=1)
    (late,) = park.devices
    due = (datetime.now(UTC) - timedelta(hours=2)).isoformat()
    s.walk(client, late, *HERE, patrol={"planned_end": due})  # no worker: the push evaluates
    (alert,) = _alerts(client, park, "overdue_patrol")
    assert alert["subject_id"] == late.patrol_id


def test_evaluations_running_at_once_raise_each_event_once(
    committed_client, committed_db, fresh_engine
):
    import threading

    from sqlalchemy.orm import sessionmaker

    client, db = committed_client, committed_db
    park = s.park(db, client, devices=5)
    grace = {"overdue_grace_min": 600}  # not yet overdue when they sync
    client.patch(f"/api/v1/areas/{park.slug}/safety-settings", json=grace, headers=park.manager)
    due = (datetime.now(UTC) - timedelta(hours=2)).isoformat()
    for i, device in enumerate(park.devices):
        s.walk(client, device, HERE[0] + 0.01 * i, HERE[1], patrol={"planned_end": due})
    assert _alerts(client, park) == []
    db.execute(
        text("UPDATE safety_settings SET overdue_grace_min = 60 WHERE area_id = :a"),
        {"a": park.area_id},
    )
    db.commit()
    results, errors = [], []
    start = threading.Barrier(4)

    def evaluate():
        with sessionmaker(bind=fresh_engine)() as session:
            try:
                start.wait()
                results.append(len(rules.evaluate(session).alerts))
                session.commit()
            except Exception as error:  # collected and asserted below
                errors.append(error)

    threads = [threading.Thread(target=evaluate) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == []
    assert sum(results) == 5
    overdue = _alerts(client, park, "overdue_patrol")
    assert sorted(a["subject_id"] for a in overdue) == sorted(d.patrol_id for d in park.devices)
