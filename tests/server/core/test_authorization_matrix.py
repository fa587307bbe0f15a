"""The authorization matrix, generated from the API: every operation of /api/openapi.json with an
object of the demo park in its path, called by a manager of another park, the park's partner, a
revoked device and a disabled manager. None may act: another park's objects do not exist for them
(404) or their role does not allow it (403), and a revoked or disabled credential is refused (401);
the objects are unchanged afterwards. A body is sent as schemathesis makes a valid one; where the
schema check refuses it first (422), nothing of the object was reached either.

The partner's role reads the park's map (area, layers, features, the map package) and exports
what partners see of it (geoprivacy applied): those are the only answers of 200, and they are
listed here, as the policy says."""

from __future__ import annotations

import json
import re
import urllib.request
import uuid
from collections import Counter

import psycopg
import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, find, settings
from schemathesis.core import NOT_SET
from shapely.geometry import box
from sqlalchemy import text

from server.accounts.service import create_user
from server.areas.service import create_area
from server.core.db import make_engine, make_session_factory
from server.core.policy import SYSTEM
from sync.protocol import PROTOCOL_HEADER, PROTOCOL_VERSION

PASSWORD = "mweusi-demo-2026"
pytestmark = pytest.mark.slow
# Where a partner's role (map.view, area.view, partner.features) lets it read.
PARTNER_READS = re.compile(
    r"^GET /api/v1/areas/\{area\}(/layers(/\{layer\})?|/features/\{feature_id\}|/zones|/mappack"
    r"|/map-overview)?$"
    # an export of what partners see (the partner collections, geoprivacy applied: issue 17)
    r"|^POST /api/v1/areas/\{area\}/exports$"
)
# Objects of the demo park, by path parameter: the query that finds one, and the table it is in.
OBJECTS = {
    "username": ("SELECT username FROM users WHERE username = 'amani'", "users", "username"),
    "device_id": (
        "SELECT d.id FROM devices d JOIN areas a ON a.id = d.area_id WHERE a.slug = "
        "'demo' AND d.revoked_at IS NULL ORDER BY d.enrolled_at LIMIT 1",
        "devices",
        "id",
    ),
    "report_id": ("SELECT id FROM reports ORDER BY id LIMIT 1", "reports", "id"),
    "attachment_id": ("SELECT id FROM attachments ORDER BY id LIMIT 1", "attachments", "id"),
    "entry_id": ("SELECT id FROM sync_quarantine ORDER BY id LIMIT 1", "sync_quarantine", "id"),
    "conflict_id": ("SELECT id FROM sync_conflicts ORDER BY id LIMIT 1", "sync_conflicts", "id"),
    "layer": (
        "SELECT layer FROM map_features WHERE deleted_at IS NULL ORDER BY layer LIMIT 1",
        None,
        None,
    ),
    "feature_id": (
        "SELECT id FROM map_features WHERE deleted_at IS NULL ORDER BY id LIMIT 1",
        "map_features",
        "id",
    ),
    "zone_id": ("SELECT id FROM zones WHERE deleted_at IS NULL ORDER BY id LIMIT 1", "zones", "id"),
    "alert_id": ("SELECT id FROM safety_alerts ORDER BY id LIMIT 1", "safety_alerts", "id"),
    "plan_id": ("SELECT id FROM patrol_plans ORDER BY id LIMIT 1", "patrol_plans", "id"),
    "patrol_id": ("SELECT id FROM patrols ORDER BY id LIMIT 1", "patrols", "id"),
    "seizure_id": ("SELECT id FROM seizures ORDER BY id LIMIT 1", "seizures", "id"),
    "key_id": ("SELECT id FROM partner_keys ORDER BY id LIMIT 1", "partner_keys", "id"),
}
# Not objects of a park: shared reference data and tile coordinates.
FIXED = {
    "area": "demo",
    "z": "12",
    "x": "2474",
    "y": "2085",
    "figure": "taxon",
    "country": "TZ",
    "taxon_id": None,
}


@pytest.fixture(scope="module")
def server(live_servers):
    server = live_servers.start("matrix")
    yield server
    live_servers.stop(server)


def _sql(server):
    return psycopg.connect(server.env["DATABASE_URL"].replace("+psycopg", ""), autocommit=True)


def _token(server, username: str) -> str:
    status, body = server.http.json(
        "POST", "/api/v1/auth/token", {"username": username, "password": PASSWORD}
    )
    assert status == 201, (username, body)
    return body["access_token"]


def _actors(server) -> dict[str, dict[str, str]]:
    warden, manager = _token(server, "warden"), _token(server, "manager")
    # another park, with a manager of its own; and a manager of this park, soon disabled
    engine = make_engine(server.env["DATABASE_URL"])
    with make_session_factory(engine)() as session:
        other = create_area(
            session, SYSTEM, slug="other", name="Other Park", boundary=box(30, -2, 30.2, -1.8)
        )
        demo = session.execute(text("SELECT id FROM areas WHERE slug = 'demo'")).scalar_one()
        for area_id, username in ((other.id, "other-manager"), (demo, "former-manager")):
            create_user(
                session,
                SYSTEM,
                area_id=area_id,
                username=username,
                password=PASSWORD,
                role="manager",
            )
        session.commit()
    engine.dispose()
    disabled = _token(server, "former-manager")
    assert server.http("POST", "/api/v1/users/former-manager/disable", {}, warden)[0] == 200
    status, code = server.http.json(
        "POST", "/api/v1/areas/demo/enrolment-codes", {"username": "amani"}, manager
    )
    status, device = server.http.json("POST", "/api/v1/devices/enrol", {"code": code["code"]})
    assert status == 201, device
    _make_objects(server, warden, manager, device["token"])
    revoke = f"/api/v1/devices/{device['device_id']}/revoke"
    assert server.http("POST", revoke, None, manager)[0] == 200
    bearer = {
        "other park's manager": _token(server, "other-manager"),
        "partner": _token(server, "partner"),
        "revoked device": device["token"],
        "disabled manager": disabled,
    }
    return {
        who: {"Authorization": f"Bearer {token}", PROTOCOL_HEADER: str(PROTOCOL_VERSION)}
        for who, token in bearer.items()
    }


def _make_objects(server, warden: str, manager: str, device: str) -> None:
    """What the demo park does not hold yet: an alert, a plan, a partner key, a quarantined
    record (a device's report that fails validation)."""
    demo = "/api/v1/areas/demo"
    made = [
        server.http.json(
            "POST", f"{demo}/alerts", {"severity": "warning", "message": "fire"}, manager
        ),
        server.http.json(
            "POST",
            f"{demo}/plans",
            {"name": "North", "starts_on": "2026-11-01", "ends_on": "2026-11-30", "target_km": 90},
            manager,
        ),
        server.http.json("POST", f"{demo}/partner-keys", {"organisation": "Grevy Trust"}, warden),
    ]
    assert [status for status, _ in made] == [201, 201, 201], made
    body = {
        "device_time": "2026-11-29T10:00:00+00:00",
        "records": [{"kind": "report", "id": str(uuid.uuid4()), "data": {"category": "none"}}],
    }
    request = urllib.request.Request(  # noqa: S310 (the test's own server)
        f"{server.url}/api/v1/sync/push", data=json.dumps(body).encode(), method="POST"
    )
    for name, value in (
        ("Authorization", f"Bearer {device}"),
        ("Content-Type", "application/json"),
        (PROTOCOL_HEADER, str(PROTOCOL_VERSION)),
    ):
        request.add_header(name, value)
    with urllib.request.urlopen(request, timeout=30) as answer:  # noqa: S310
        verdicts = json.loads(answer.read())["results"]
    assert [v["verdict"] for v in verdicts] == ["rejected"], verdicts


def _objects(server) -> dict[str, tuple[str, str | None, str | None]]:
    found = {}
    with _sql(server) as sql:
        for name, (query, table, column) in OBJECTS.items():
            row = sql.execute(query).fetchone()
            if row is not None:
                found[name] = (str(row[0]), table, column)
    return found


def _snapshot(server, objects) -> dict[str, str]:
    with _sql(server) as sql:
        shots = {
            name: sql.execute(
                f"SELECT md5(row_to_json(t)::text) FROM {table} t WHERE {column}::text = %s",
                (value,),
            ).fetchone()[0]
            for name, (value, table, column) in objects.items()
            if table and name != "username"
        }
        shots["area"] = sql.execute(
            "SELECT md5(row_to_json(a)::text) FROM areas a WHERE slug = 'demo'"
        ).fetchone()[0]
        shots["memberships"] = sql.execute(
            "SELECT md5(string_agg(row_to_json(m)::text, ',' ORDER BY m.user_id)) FROM memberships m"
            " JOIN areas a ON a.id = m.area_id WHERE a.slug = 'demo'"
        ).fetchone()[0]
    return shots


def _valid_case(operation, path_parameters):
    """The simplest request schemathesis finds valid for the operation (a body, a query)."""
    strategy = operation.as_strategy(path_parameters=path_parameters)
    return find(
        strategy,
        lambda case: True,
        settings=settings(
            database=None, phases=[Phase.generate], suppress_health_check=list(HealthCheck)
        ),
    )


def test_no_one_outside_the_park_acts_on_its_objects(server):
    actors = _actors(server)
    objects = _objects(server)
    before = _snapshot(server, objects)
    values = {name: value for name, (value, _t, _c) in objects.items()} | FIXED
    schema = schemathesis.openapi.from_url(f"{server.url}/api/openapi.json")
    outcomes, wrong, skipped = [], [], []
    for result in schema.get_all_operations():
        operation = result.ok()
        names = re.findall(r"\{(\w+)\}", operation.path)
        if not names or not any(n in OBJECTS or n == "area" for n in names):
            continue
        if any(values.get(n) is None for n in names):
            skipped.append(operation.label)
            continue
        case = _valid_case(operation, {n: values[n] for n in names})
        for who, headers in actors.items():
            response = case.call(base_url=server.url, headers=headers, timeout=30)
            status = response.status_code
            outcomes.append((who, operation.label, status))
            if who in ("revoked device", "disabled manager"):
                allowed = {401}
            elif who == "partner" and PARTNER_READS.match(operation.label):
                allowed = {200, 304, 404}  # 404: no map package built yet
            else:
                allowed = {403, 404}
            if case.body is not NOT_SET:
                allowed = allowed | {422}  # the schema check came first: the object unreached
            if status not in allowed:
                wrong.append(f"{who}: {operation.label} -> {status} {response.text[:200]}")

    after = _snapshot(server, objects)
    statuses = dict(sorted(Counter(s for *_, s in outcomes).items()))
    print(
        f"authorization matrix: {len(outcomes)} requests, {len(outcomes) // len(actors)} "
        f"operations × {len(actors)} actors, statuses {statuses}; no object for {skipped}"
    )
    assert wrong == [], "\n".join(wrong)
    assert after == before
    assert len(outcomes) >= 4 * 60
