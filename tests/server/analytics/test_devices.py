"""Device sync health as a manager sees it, after a real push from the device."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tests import factories
from tests.server.sync import helpers as h


def test_device_health_shows_what_a_device_reported_on_its_last_sync(client, db):
    park = h.park(db)
    manager = factories.user(db, park.area_id, "manager")
    db.commit()
    device_time = datetime.now(UTC) - timedelta(seconds=90)  # the handheld's clock is 90 s slow
    status = {
        "kind": "device_status",
        "id": h.rid(),
        "data": {
            "reported_at": device_time.isoformat(),
            "battery_pct": 41.0,
            "app_version": "2.3.1",
            "pending": {"track_chunk": 12, "report": 2},
            "oldest_pending_at": (device_time - timedelta(hours=5)).isoformat(),
        },
    }
    assert h.verdicts(h.push(client, park, [status], device_time=device_time)) == ["stored"]
    token = factories.token(client, manager.username)
    [row] = client.get(
        f"/api/v1/areas/{park.slug}/devices/health", headers=factories.auth(token)
    ).get_json()
    assert row["stale"] is False and row["last_sync_at"] is not None
    assert row["battery_pct"] == 41.0 and row["app_version"] == "2.3.1"
    assert row["pending"] == {"track_chunk": 12, "report": 2}
    assert row["clock_skew_s"] == pytest.approx(90, abs=30)
    assert row["oldest_pending_at"] is not None
    stale = client.get(
        f"/api/v1/areas/{park.slug}/devices/health?stale_hours=1&format=csv",
        headers=factories.auth(token),
    ).get_data(as_text=True)
    assert stale.splitlines()[0].startswith("device_id,name,")
