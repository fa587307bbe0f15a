"""Safety alerts: who receives which alert, acknowledgements, who has seen it, escalation."""

from __future__ import annotations

import json

from sqlalchemy import text

from server.accounts.models import Team, TeamMember
from server.areas.models import Zone
from server.safety import rules
from tests.server.safety import helpers as s

INSIDE = (37.10, -3.40)
OUTSIDE = (37.25, -3.40)  # about 16 km east


def test_an_area_alert_reaches_every_device_and_the_manager_sees_who_has_seen_it(
    committed_client, committed_db
):
    client = committed_client
    park = s.park(committed_db, client, devices=3)
    issued = s.issue(client, park, severity="critical", message="Armed group near Mto post")
    assert issued.status_code == 201, issued.get_json()
    alert = issued.get_json()
    assert alert["recipients"] == 3 and alert["acknowledged"] == 0
    for device in park.devices:
        changes, _ = s.pull_alerts(client, device)
        assert changes[alert["id"]]["data"]["message"] == "Armed group near Mto post"
        assert changes[alert["id"]]["data"]["severity"] == "critical"
    first, second, third = park.devices
    ack = client.post(f"/api/v1/alerts/{alert['id']}/ack", json={}, headers=first.headers)
    assert ack.status_code == 200 and ack.get_json()["first"] is True
    again = client.post(f"/api/v1/alerts/{alert['id']}/ack", json={}, headers=first.headers)
    assert again.get_json()["first"] is False
    assert again.get_json()["acknowledged_at"] == ack.get_json()["acknowledged_at"]
    detail = client.get(f"/api/v1/alerts/{alert['id']}", headers=park.manager).get_json()
    assert [r["device_id"] for r in detail["seen"]] == [str(first.device_id)]
    assert {r["device_id"] for r in detail["not_seen"]} == {
        str(second.device_id),
        str(third.device_id),
    }
    assert (detail["recipients"], detail["acknowledged"]) == (3, 1)
    listed = client.get(f"/api/v1/areas/{park.slug}/alerts", headers=park.manager).get_json()
    assert [(a["id"], a["acknowledged"]) for a in listed] == [(alert["id"], 1)]


def test_a_geofenced_alert_reaches_devices_last_seen_inside_and_those_that_walk_in_later(
    committed_client, committed_db
):
    client = committed_client
    park = s.park(committed_db, client, devices=3)
    inside, outside, unknown = park.devices
    s.walk(client, inside, *INSIDE)
    s.walk(client, outside, *OUTSIDE)
    _, outside_cursor = s.pull_alerts(client, outside)
    polygon = s.square(*INSIDE, half=0.02)
    alert = s.issue(client, park, geometry=polygon, audience={"geofence": True}).get_json()
    assert alert["recipients"] == 1
    assert alert["id"] in s.pull_alerts(client, inside)[0]
    assert alert["id"] not in s.pull_alerts(client, unknown)[0]  # never reported a position
    changes, outside_cursor = s.pull_alerts(client, outside, outside_cursor)
    assert changes[alert["id"]]["deleted"] is True  # not for this device (drop it if held)
    # The outside patrol walks into the polygon: its next incremental pull brings the alert.
    s.walk(client, outside, INSIDE[0] + 0.005, INSIDE[1])
    changes, _ = s.pull_alerts(client, outside, outside_cursor)
    assert changes[alert["id"]]["deleted"] is False
    assert changes[alert["id"]]["data"]["geometry"]["type"] == "Polygon"
    detail = client.get(f"/api/v1/alerts/{alert['id']}", headers=park.manager).get_json()
    assert {r["device_id"] for r in detail["not_seen"]} == {
        str(inside.device_id),
        str(outside.device_id),
    }


def test_a_point_and_radius_alert_matches_by_distance(committed_client, committed_db):
    client = committed_client
    park = s.park(committed_db, client, devices=2)
    near, far = park.devices
    s.walk(client, near, INSIDE[0] + 0.04, INSIDE[1])  # about 4.4 km away
    s.walk(client, far, INSIDE[0] + 0.06, INSIDE[1])  # about 6.7 km away
    point = {"type": "Point", "coordinates": list(INSIDE)}
    alert = s.issue(client, park, geometry=point, radius_m=5000, audience={"geofence": True})
    alert_id = alert.get_json()["id"]
    assert alert_id in s.pull_alerts(client, near)[0]
    assert alert_id not in s.pull_alerts(client, far)[0]


def test_team_and_zone_audiences(committed_client, committed_db):
    client, db = committed_client, committed_db
    park = s.park(db, client, devices=3)
    in_team, in_zone, neither = park.devices
    team = Team(area_id=park.area_id, name="Rapid response")
    db.add(team)
    db.flush()
    user_id = db.execute(
        text("SELECT user_id FROM devices WHERE id = :d"), {"d": in_team.device_id}
    ).scalar_one()
    db.add(TeamMember(team_id=team.id, user_id=user_id, area_id=park.area_id))
    zone = Zone(
        area_id=park.area_id,
        name="Northern block",
        kind="intensive_protection",
        geom=f"SRID=4326;MULTIPOLYGON((({OUTSIDE[0] - 0.01} {OUTSIDE[1] - 0.01},"
        f"{OUTSIDE[0] + 0.01} {OUTSIDE[1] - 0.01},{OUTSIDE[0] + 0.01} {OUTSIDE[1] + 0.01},"
        f"{OUTSIDE[0] - 0.01} {OUTSIDE[1] - 0.01})))",
    )
    db.add(zone)
    db.commit()
    s.walk(client, in_zone, *OUTSIDE)
    s.walk(client, neither, *INSIDE)
    alert = s.issue(client, park, audience={"teams": [str(team.id)], "zones": [str(zone.id)]})
    assert alert.status_code == 201, alert.get_json()
    alert_id = alert.get_json()["id"]
    assert alert_id in s.pull_alerts(client, in_team)[0]
    assert alert_id in s.pull_alerts(client, in_zone)[0]
    assert alert_id not in s.pull_alerts(client, neither)[0]
    refused = client.post(f"/api/v1/alerts/{alert_id}/ack", json={}, headers=neither.headers)
    assert refused.status_code == 404


def test_a_cancelled_alert_is_dropped_by_devices(committed_client, committed_db):
    client = committed_client
    park = s.park(committed_db, client, devices=1)
    (device,) = park.devices
    alert_id = s.issue(client, park).get_json()["id"]
    _, cursor = s.pull_alerts(client, device)
    cancelled = client.post(f"/api/v1/alerts/{alert_id}/cancel", headers=park.manager)
    assert cancelled.status_code == 200 and cancelled.get_json()["cancelled_at"]
    changes, _ = s.pull_alerts(client, device, cursor)
    assert changes[alert_id]["deleted"] is True
    twice = client.post(f"/api/v1/alerts/{alert_id}/cancel", headers=park.manager)
    assert twice.status_code == 409


def test_bad_alerts_are_refused_with_the_reason(client, db):
    park = s.park(db, client, devices=1)
    point = {"type": "Point", "coordinates": list(INSIDE)}
    cases = [
        ({"geometry": point}, "radius_m"),
        ({"geometry": s.square(*INSIDE), "radius_m": 100}, "radius_m"),
        ({"audience": {"geofence": True}}, "audience"),
        ({"severity": "apocalyptic"}, "severity"),
        ({"message": ""}, "message"),
        (
            {"valid_from": "2026-11-20T10:00:00+00:00", "valid_until": "2026-11-20T09:00:00+00:00"},
            "valid_until",
        ),
        ({"valid_until": "2026-11-20T09:00:00"}, "valid_until"),  # naive: refused, not guessed
        ({"audience": {"everyone": True}}, "audience"),
    ]
    for body, field in cases:
        response = s.issue(client, park, **body)
        assert response.status_code == 422, (body, response.get_json())
        assert response.content_type == "application/problem+json"
        assert any(field in key for key in response.get_json()["errors"]), response.get_json()
    ranger = client.post(
        f"/api/v1/areas/{park.slug}/alerts",
        json={"severity": "info", "message": "x"},
        headers=park.devices[0].headers,
    )
    assert ranger.status_code == 403


def test_managers_of_another_park_cannot_see_or_cancel(client, db):
    park = s.park(db, client, devices=1)
    other = s.park(db, client, devices=1, west=30.0)
    alert_id = s.issue(client, park).get_json()["id"]
    assert client.get(f"/api/v1/alerts/{alert_id}", headers=other.manager).status_code == 404
    cancel = client.post(f"/api/v1/alerts/{alert_id}/cancel", headers=other.manager)
    assert cancel.status_code == 404
    ack = client.post(f"/api/v1/alerts/{alert_id}/ack", json={}, headers=other.devices[0].headers)
    assert ack.status_code == 404


def test_an_unacknowledged_critical_alert_escalates_once(committed_client, committed_db):
    client, db = committed_client, committed_db
    park = s.park(db, client, devices=2)
    first, second = park.devices
    settings = {"escalate_after_min": 10, "notify_emails": ["warden@example.org"]}
    changed = client.patch(
        f"/api/v1/areas/{park.slug}/safety-settings", json=settings, headers=park.manager
    )
    assert changed.status_code == 200, changed.get_json()
    critical = s.issue(client, park, severity="critical").get_json()["id"]
    acked = s.issue(client, park, severity="critical", message="All seen").get_json()["id"]
    warning = s.issue(client, park, severity="warning").get_json()["id"]
    for device in (first, second):
        client.post(f"/api/v1/alerts/{acked}/ack", json={}, headers=device.headers)
    client.post(f"/api/v1/alerts/{critical}/ack", json={}, headers=first.headers)
    assert rules.evaluate(db, park.area_id).escalated == []  # not yet: too young
    db.rollback()
    db.execute(
        text(
            "UPDATE safety_alerts SET created_at = now() - interval '11 minutes' WHERE area_id = :a"
        ),
        {"a": park.area_id},
    )
    db.commit()
    assert [str(a) for a in rules.evaluate(db, park.area_id).escalated] == [critical]
    db.commit()
    assert rules.evaluate(db, park.area_id).escalated == []
    db.commit()
    detail = client.get(f"/api/v1/alerts/{critical}", headers=park.manager).get_json()
    assert detail["escalated_at"] is not None
    notes = client.get(f"/api/v1/alerts/{critical}/notifications", headers=park.manager)
    assert [(n["purpose"], n["channel"], n["target"]) for n in notes.get_json()] == [
        ("escalated", "email", "warden@example.org")
    ]
    for alert_id in (acked, warning):
        detail = client.get(f"/api/v1/alerts/{alert_id}", headers=park.manager).get_json()
        assert detail["escalated_at"] is None


def _stream(client, path, headers) -> list[dict]:
    """A short SSE stream (it ends after `seconds`), parsed into events."""
    response = client.get(path, headers=headers)
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.mimetype == "text/event-stream"
    events = []
    for block in response.get_data(as_text=True).split("\n\n"):
        fields = dict(
            line.split(": ", 1)
            for line in block.splitlines()
            if ": " in line and not line.startswith(":")
        )
        if fields.get("event") not in (None, "reconnect"):
            events.append(fields)
    return events


def test_the_live_stream_gives_managers_everything_and_a_device_its_own_alerts(
    committed_client, committed_db
):
    client = committed_client
    park = s.park(committed_db, client, devices=2)
    here, elsewhere = park.devices
    s.walk(client, here, *INSIDE)
    s.walk(client, elsewhere, *OUTSIDE)
    everyone = s.issue(client, park, message="For everyone").get_json()["id"]
    fenced = s.issue(
        client,
        park,
        geometry=s.square(*OUTSIDE),
        audience={"geofence": True},
        message="Only over there",
    ).get_json()["id"]
    client.post(f"/api/v1/alerts/{everyone}/ack", json={}, headers=here.headers)
    path = f"/api/v1/areas/{park.slug}/live?after=0&seconds=1"
    manager = _stream(client, path, park.manager)
    assert [
        (e["event"], json.loads(e["data"]).get("id") or json.loads(e["data"])["alert_id"])
        for e in manager
    ] == [("alert", everyone), ("alert", fenced), ("acknowledged", everyone)]
    ids = [int(e["id"]) for e in manager]
    assert ids == sorted(ids)
    mine = _stream(client, path, here.headers)
    assert [(e["event"], json.loads(e["data"])["id"]) for e in mine] == [("alert", everyone)]
    theirs = _stream(client, path, elsewhere.headers)
    assert [json.loads(e["data"])["id"] for e in theirs] == [everyone, fenced]
    resumed = _stream(
        client,
        f"/api/v1/areas/{park.slug}/live?seconds=1",
        park.manager | {"Last-Event-ID": str(ids[1])},
    )
    assert [e["event"] for e in resumed] == ["acknowledged"]
