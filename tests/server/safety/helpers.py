"""Builders for safety tests: a park with a manager and several handhelds that can be placed."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sqlalchemy.orm import Session

from server.reports.categories import load_standard_categories
from sync.protocol import PROTOCOL_HEADER, PROTOCOL_VERSION
from sync.protocol.tracks import Fix
from tests import factories
from tests.server.sync import helpers as h


@dataclass
class Handheld:
    device_id: uuid.UUID
    token: str
    username: str
    patrol_id: str = field(default_factory=h.rid)
    seq: int = 0

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}", PROTOCOL_HEADER: str(PROTOCOL_VERSION)}


@dataclass
class SafetyPark:
    area_id: uuid.UUID
    slug: str
    manager_token: str
    devices: list[Handheld]

    @property
    def manager(self) -> dict[str, str]:
        return factories.auth(self.manager_token)


def park(session: Session, client, devices: int = 2, west: float = 37.0) -> SafetyPark:
    load_standard_categories(session)
    area = factories.area(session, west=west)
    manager = factories.user(session, area.id, "manager")
    handhelds = []
    for _ in range(devices):
        ranger = factories.user(session, area.id, "ranger")
        enrolment = factories.device(session, area.id, ranger.username)
        handhelds.append(Handheld(enrolment.device_id, enrolment.token, ranger.username))
    session.commit()
    return SafetyPark(area.id, area.slug, factories.token(client, manager.username), handhelds)


def walk(
    client,
    device: Handheld,
    lon: float,
    lat: float,
    *,
    minutes: float = 1.0,
    step: float = 0.0,
    jitter: float = 0.0,
    start: datetime | None = None,
    patrol: dict | None = None,
    derive: bool = True,
) -> dict:
    """Push fixes every 30 s for `minutes`, from (lon, lat) moving `step` degrees east each time
    (or back and forth by `jitter`); the first call also starts the device's patrol (`patrol`
    overrides its fields). Then, unless `derive` is False, the worker's step that follows a push
    (lines, figures, movement rules)."""
    start = start or datetime.now(UTC) - timedelta(minutes=minutes)
    n = max(2, int(minutes * 2))
    fixes = [
        Fix(lon + i * step + (i % 2) * jitter, lat, start + timedelta(seconds=30 * i), 5.0)
        for i in range(n)
    ]
    records = []
    if device.seq == 0:
        records.append(h.patrol(device.patrol_id, started_at=start, **(patrol or {})))
    records.append(h.chunk(device.patrol_id, device.seq, fixes))
    device.seq += n
    body = {"device_time": datetime.now(UTC).isoformat(), "records": records}
    response = client.post("/api/v1/sync/push", json=body, headers=device.headers)
    assert response.status_code == 200, response.get_json()
    assert {r["verdict"] for r in response.get_json()["results"]} == {"stored"}, response.get_json()
    if derive:
        h.settle(client)
    return response.get_json()


def pull_alerts(client, device: Handheld, cursor: str | None = None) -> tuple[dict, str]:
    """The alert changes of a full pull round: {alert id: change}, and the cursor after it."""
    changes = {}
    while True:
        query = {"cursor": cursor} if cursor else {}
        response = client.get("/api/v1/sync/pull", query_string=query, headers=device.headers)
        assert response.status_code == 200, response.get_json()
        page = response.get_json()
        changes |= {c["id"]: c for c in page["changes"] if c["kind"] == "alert"}
        cursor = page["cursor"]
        if not page["more"]:
            return changes, cursor


def issue(client, p: SafetyPark, **body):
    body = {"severity": "warning", "message": "Elephants on the Mto road"} | body
    return client.post(f"/api/v1/areas/{p.slug}/alerts", json=body, headers=p.manager)


def square(lon: float, lat: float, half: float = 0.01) -> dict:
    ring = [
        [lon - half, lat - half],
        [lon + half, lat - half],
        [lon + half, lat + half],
        [lon - half, lat + half],
        [lon - half, lat - half],
    ]
    return {"type": "Polygon", "coordinates": [ring]}
