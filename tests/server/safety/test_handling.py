"""Duty officers handle an SOS: its card names the ranger, their phone, last position and patrol;
one officer acknowledges, another assigns a responder, notes are added, and resolving ends the
alert. Each step is stored, audited, and told to the live feed; a step after the end, a second
"I'm handling it" or a half-filled step is refused with a clear problem."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import text

from server.accounts.models import User
from server.core import audit
from server.safety import events
from tests import factories
from tests.server.safety import helpers as s

HERE = (37.10, -3.40)


def _sos(client, device, message="Leg injured at the river"):
    body = {
        "counter": 1,
        "position": {"type": "Point", "coordinates": list(HERE)},
        "sent_at": datetime.now(UTC).replace(microsecond=0).isoformat(),
        "text": message,
    }
    response = client.post("/api/v1/sos", json=body, headers=device.headers)
    assert response.status_code == 201, response.get_json()
    return response.get_json()["alert_id"]


def _step(client, headers, alert_id, **body):
    return client.post(f"/api/v1/alerts/{alert_id}/handling", json=body, headers=headers)


def test_two_duty_officers_handle_an_sos_to_resolution(committed_client, committed_db):
    client, db = committed_client, committed_db
    park = s.park(db, client, devices=1)
    caller = park.devices[0]
    ranger = db.query(User).filter_by(username=caller.username).one()
    ranger.display_name, ranger.phone = "Amani Mollel", "+255712345678"
    second = factories.user(db, park.area_id, "manager")
    db.commit()
    other = factories.auth(factories.token(client, second.username))
    s.walk(client, caller, HERE[0] - 0.01, HERE[1], minutes=5, step=0.0005)
    after = events.latest_id(db, park.area_id)
    alert_id = _sos(client, caller)

    urgent = client.get(f"/api/v1/areas/{park.slug}/alerts/urgent", headers=park.manager)
    assert urgent.status_code == 200
    [card] = urgent.get_json()
    assert card["alert"]["id"] == alert_id and card["state"] == "open" and card["steps"] == []
    who = card["ranger"]
    assert (who["display_name"], who["phone"]) == ("Amani Mollel", "+255712345678")
    assert who["patrol_id"] == caller.patrol_id and who["sos_text"] == "Leg injured at the river"
    assert who["last_position"]["coordinates"] == list(HERE) and who["last_fix_at"]

    first = _step(client, park.manager, alert_id, step="acknowledge")
    assert first.status_code == 201, first.get_json()
    assert first.get_json()["state"] == "acknowledged"
    handler = first.get_json()["handled_by"]
    again = _step(client, other, alert_id, step="acknowledge")
    assert again.status_code == 409 and handler in again.get_json()["detail"]
    assigned = _step(client, other, alert_id, step="assign", responder="Rapid team B (Juma)")
    assert assigned.status_code == 201 and assigned.get_json()["responder"] == "Rapid team B (Juma)"
    noted = _step(client, park.manager, alert_id, step="note", note="Called him: conscious")
    assert noted.get_json()["state"] == "assigned"
    resolved = _step(client, other, alert_id, step="resolve", note="Evacuated to HQ")
    assert resolved.status_code == 201 and resolved.get_json()["state"] == "resolved"
    assert resolved.get_json()["alert"]["cancelled_at"] is not None
    steps = resolved.get_json()["steps"]
    assert [x["step"] for x in steps] == ["acknowledge", "assign", "note", "resolve"]
    assert [x["note"] for x in steps] == [None, None, "Called him: conscious", "Evacuated to HQ"]
    late = _step(client, park.manager, alert_id, step="note", note="one more")
    assert late.status_code == 409
    assert client.get(f"/api/v1/areas/{park.slug}/alerts/urgent", headers=other).get_json() == []
    card = client.get(f"/api/v1/alerts/{alert_id}/card", headers=other).get_json()
    assert card["state"] == "resolved" and len(card["steps"]) == 4

    db.expire_all()
    told = [e for e in events.since(db, park.area_id, after) if e["kind"] == "handling"]
    assert [e["payload"]["state"] for e in told] == [
        "acknowledged",
        "assigned",
        "assigned",
        "resolved",
    ]
    assert "cancelled" in [e["kind"] for e in events.since(db, park.area_id, after)]
    logged = db.execute(
        text("SELECT action FROM audit_log WHERE object_id = :a ORDER BY id"), {"a": alert_id}
    ).scalars()
    assert [a for a in logged if a != "alert.issue"] == [
        "alert.acknowledge",
        "alert.assign",
        "alert.note",
        "alert.resolve",
    ]
    assert audit.verify_chain(db).intact


def test_incomplete_steps_and_rangers_are_refused(committed_client, committed_db):
    client, db = committed_client, committed_db
    park = s.park(db, client, devices=1)
    alert_id = _sos(client, park.devices[0])
    for body in (
        {"step": "assign"},
        {"step": "assign", "responder": "  "},
        {"step": "note"},
        {"step": "acknowledge", "responder": "Juma"},
        {"step": "escalate"},
    ):
        response = _step(client, park.manager, alert_id, **body)
        assert response.status_code == 422, (body, response.get_json())
        assert response.headers["Content-Type"].startswith("application/problem+json")
    ranger = factories.user(db, park.area_id, "ranger")
    db.commit()
    as_ranger = factories.auth(factories.token(client, ranger.username))
    assert _step(client, as_ranger, alert_id, step="acknowledge").status_code == 403
    card = client.get(f"/api/v1/alerts/{alert_id}/card", headers=park.manager).get_json()
    assert card["steps"] == [] and card["state"] == "open"
