"""Builders for sync tests: a park with a device, records as a device would send them."""

from __future__ import annotations

import gzip
import json
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy.orm import Session

from server.reports.categories import load_standard_categories
from server.sync.derived import derive_all_waiting
from sync.protocol import PROTOCOL_HEADER, PROTOCOL_VERSION
from sync.protocol.tracks import Fix, encode
from tests import factories

T0 = datetime(2026, 11, 20, 6, 0, tzinfo=UTC)


@dataclass
class Park:
    area_id: uuid.UUID
    slug: str
    ranger: str
    device_id: uuid.UUID
    token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}", PROTOCOL_HEADER: str(PROTOCOL_VERSION)}


def park(session: Session, west: float = 37.0) -> Park:
    load_standard_categories(session)
    area = factories.area(session, west=west)
    ranger = factories.user(session, area.id, "ranger")
    enrolment = factories.device(session, area.id, ranger.username)
    session.commit()
    return Park(area.id, area.slug, ranger.username, enrolment.device_id, enrolment.token)


def push(client, p: Park, records: list[dict], device_time: datetime | None = None, **kwargs):
    body = {"device_time": (device_time or datetime.now(UTC)).isoformat(), "records": records}
    return client.post(
        "/api/v1/sync/push", json=body, headers=p.headers | kwargs.pop("headers", {}), **kwargs
    )


def gzipped(body: dict) -> bytes:
    return gzip.compress(json.dumps(body).encode())


def rid() -> str:
    return str(uuid.uuid4())


def patrol(patrol_id: str | None = None, started_at: datetime = T0, **data) -> dict:
    return {
        "kind": "patrol",
        "id": patrol_id or rid(),
        "data": {"patrol_type": "foot", "started_at": started_at.isoformat(), "armed": True} | data,
    }


def fixes(n: int, start: datetime = T0, lon: float = 37.1, lat: float = -3.4, step: float = 0.0003):
    """A straight walk east, one fix every 30 s, about 33 m apart."""
    return [Fix(lon + i * step, lat, start + timedelta(seconds=30 * i), 5.0) for i in range(n)]


def chunk(patrol_id: str, first_seq: int, points: list[Fix], chunk_id: str | None = None) -> dict:
    return {
        "kind": "track_chunk",
        "id": chunk_id or rid(),
        "data": encode(patrol_id, first_seq, points),
    }


def report(report_id: str | None = None, category: str = "poaching.snare", **data) -> dict:
    base = {
        "category": category,
        "geometry": {"type": "Point", "coordinates": [37.1, -3.4]},
        "observed_at": T0.isoformat(),
        "attributes": {"snare_type": "wire", "count": 2},
    }
    return {"kind": "report", "id": report_id or rid(), "data": base | data}


def edit(target_id: str, base_version: int, changes: dict, target: str = "report") -> dict:
    return {
        "kind": "edit",
        "id": rid(),
        "data": {
            "target": target,
            "target_id": target_id,
            "base_version": base_version,
            "changes": changes,
        },
    }


def verdicts(response) -> list[str]:
    assert response.status_code == 200, response.get_json()
    return [r["verdict"] for r in response.get_json()["results"]]


def derive(session: Session) -> int:
    """What the worker does after pushes commit: derive the lines, figures, coverage and
    movement rules of the patrols they left waiting (server.sync.derived)."""
    return derive_all_waiting(session)


def settle(client) -> int:
    """`derive`, on the database of the app behind this test client (what its worker sees)."""
    with client.application.extensions["rangersync"].session_factory() as session:
        return derive_all_waiting(session)
