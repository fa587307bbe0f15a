"""What one coverage request may cost: a grid too fine for the area (or the tile) is refused with
the limit named before a cell is made, and a read that runs past READ_TIMEOUT_S is stopped by
PostgreSQL and answered as a 503 problem, never a 500 nor a worker held for minutes."""

from __future__ import annotations

import dataclasses

import pytest
from shapely.geometry import MultiPolygon, box

from server.areas.service import create_area
from server.core.policy import SYSTEM
from tests import factories
from tests.server.analytics.helpers import T0

DAY = T0.date().isoformat()


@pytest.fixture
def park(db, client):
    area = factories.area(db)  # 0.3° × 0.2°: about 33 × 22 km
    manager = factories.user(db, area.id, "manager")
    db.flush()
    return area, factories.auth(factories.token(client, manager.username))


def test_a_grid_finer_than_the_limit_is_refused_naming_the_limit(client, park):
    area, manager = park
    base = f"/api/v1/areas/{area.slug}/coverage"
    assert client.get(f"{base}/gaps?days=7&as_of={DAY}", headers=manager).status_code == 200
    put = client.put(f"{base}/settings", json={"cell_m": 50}, headers=manager)
    assert put.status_code == 200, put.get_json()

    for path in (
        f"/gaps?days=7&as_of={DAY}",
        f"/cells?start={DAY}&end={DAY}",
        "/tiles/7/77/65.mvt",
    ):
        answer = client.get(base + path, headers=manager)
        assert answer.status_code == 422, (path, answer.status_code)
        assert answer.mimetype == "application/problem+json"
        problem = answer.get_json()
        assert problem["type"] == "/problems/too-large"
        assert problem["max_cells"] == 100_000 and problem["cells"] > 100_000
        assert "100,000" in problem["detail"]

    # a tile further in spans few cells, and is answered
    assert client.get(f"{base}/tiles/14/9882/8346.mvt", headers=manager).status_code == 200


def test_a_read_past_the_time_limit_is_a_503_problem_and_the_next_request_is_fine(
    client, app, db, monkeypatch
):
    country = create_area(  # 10° × 5° at 500 m: millions of cells to count
        db, SYSTEM, slug="country", name="Country", boundary=MultiPolygon([box(30, -8, 40, -3)])
    )
    manager = factories.user(db, country.id, "manager")
    db.flush()
    headers = factories.auth(factories.token(client, manager.username))
    state = app.extensions["rangersync"]
    monkeypatch.setattr(state, "config", dataclasses.replace(state.config, read_timeout_s=1))

    answer = client.get(f"/api/v1/areas/country/coverage?start={DAY}&end={DAY}", headers=headers)

    assert answer.status_code == 503
    assert answer.mimetype == "application/problem+json"
    assert answer.get_json()["type"] == "/problems/statement-timeout"
    assert int(answer.headers["Retry-After"]) > 0
    assert client.get("/api/v1/areas/country/effort", headers=headers).status_code == 200
