"""Small factories for test data: an area, a user with a role, a signed-in client, a device."""

from __future__ import annotations

import itertools
import uuid

from shapely.geometry import MultiPolygon, box
from sqlalchemy.orm import Session

from server.accounts.service import create_user
from server.areas.service import create_area
from server.core.policy import SYSTEM
from server.devices.service import create_enrolment_code, enrol

PASSWORD = "correct-horse-battery"
_serial = itertools.count(1)


def area(session: Session, slug: str | None = None, west: float = 37.0, south: float = -3.5):
    n = next(_serial)
    boundary = MultiPolygon([box(west, south, west + 0.3, south + 0.2)])
    return create_area(
        session, SYSTEM, slug=slug or f"park-{n}", name=f"Test Park {n}", boundary=boundary
    )


def user(session: Session, area_id: uuid.UUID, role: str = "ranger", username: str | None = None):
    return create_user(
        session,
        SYSTEM,
        area_id=area_id,
        username=username or f"{role}{next(_serial)}",
        password=PASSWORD,
        role=role,
    )


def token(client, username: str, password: str = PASSWORD) -> str:
    response = client.post("/api/v1/auth/token", json={"username": username, "password": password})
    assert response.status_code == 201, response.get_json()
    return response.get_json()["access_token"]


def auth(access_token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {access_token}"}


def device(session: Session, area_id: uuid.UUID, username: str):
    """An enrolled device: (enrolment, token)."""
    issued = create_enrolment_code(session, SYSTEM, area_id, username, ttl_hours=1)
    enrolment = enrol(session, issued.code, name="test handheld")
    session.flush()
    return enrolment
