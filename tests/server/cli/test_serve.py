"""`rangersync serve` as a newcomer meets it: a real gunicorn process on a real port, the CLI in
another process, the demo park, enrolment and revocation — everything over HTTP."""

from __future__ import annotations

import re
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import psycopg

from tests.live import BIN


def _cli(env, *args: str, stdin: str | None = None) -> str:
    result = subprocess.run(
        [BIN / "rangersync", *args],
        env=env,
        input=stdin,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_startup_banner_tells_where_to_sign_in(live_server):
    log = live_server.log
    banner = log.read_text()
    assert "/login" in banner and "mweusi-demo-2026" in banner and "manager" in banner


def test_health_and_readiness(live_server):
    http = live_server.http
    assert http.json("GET", "/healthz") == (200, {"status": "ok"})
    assert http.json("GET", "/readyz")[1]["migrations"] == "head"


def test_openapi_lists_account_and_device_endpoints(live_server):
    http = live_server.http
    status, spec = http.json("GET", "/api/openapi.json")
    assert status == 200 and spec["openapi"].startswith("3.")
    expected = [
        "/api/v1/auth/token",
        "/api/v1/devices/enrol",
        "/api/v1/areas",
        "/api/v1/areas/{area}/enrolment-codes",
        "/api/v1/devices/{device_id}/revoke",
    ]
    for path in expected:
        assert path in spec["paths"], path


class _Assets(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.urls += [value for name, value in attrs if name in ("src", "href") and value]


def test_docs_page_loads_nothing_from_the_internet(live_server):
    http = live_server.http
    status, _, page = http("GET", "/api/docs")
    assert status == 200
    parser = _Assets()
    parser.feed(page.decode())
    assert parser.urls, "the docs page should load its scripts and styles"
    for url in parser.urls:
        assert url.startswith("/"), f"{url} would leave the machine"
        assert http("GET", url)[0] == 200, url
    assert re.search(r'"validatorUrl":\s*null', page.decode()), (
        "the validator badge calls the internet"
    )


def test_demo_manager_sees_the_demo_park(live_server):
    http = live_server.http
    status, body = http.json(
        "POST", "/api/v1/auth/token", {"username": "manager", "password": "mweusi-demo-2026"}
    )
    assert status == 201
    status, areas = http.json("GET", "/api/v1/areas", token=body["access_token"])
    assert status == 200 and [a["slug"] for a in areas] == ["demo"]
    status, members = http.json("GET", "/api/v1/areas/demo/members", token=body["access_token"])
    assert sum(m["role"] == "ranger" for m in members) == 12


def test_cli_enrolment_then_revocation_over_http(live_server):
    http, env = live_server.http, live_server.env
    assert _cli(env, "db", "url").strip() == env["DATABASE_URL"]
    _cli(
        env,
        "user",
        "add",
        "tumaini",
        "--role",
        "ranger",
        "--area",
        "demo",
        "--password-stdin",
        stdin="long-and-unusual-1\n",
    )
    code = _cli(env, "device", "enrol", "--area", "demo", "--user", "tumaini").strip()
    assert re.fullmatch(r"[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}", code)
    status, device = http.json("POST", "/api/v1/devices/enrol", {"code": code})
    assert status == 201
    assert http.json("GET", "/api/v1/areas", token=device["token"])[0] == 200
    _cli(env, "device", "revoke", device["device_id"])
    status, problem = http.json("GET", "/api/v1/areas", token=device["token"])
    assert status == 401 and problem["type"] == "/problems/device-revoked"


def test_cli_refuses_bad_input_clearly(live_server):
    env = live_server.env
    result = subprocess.run(
        [
            BIN / "rangersync",
            "user",
            "add",
            "weakling",
            "--role",
            "ranger",
            "--area",
            "demo",
            "--password-stdin",
        ],
        env=env,
        input="short\n",
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode != 0 and "password is too weak" in result.stderr
    result = subprocess.run(
        [BIN / "rangersync", "device", "enrol", "--area", "atlantis", "--user", "amani"],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode != 0 and "no area 'atlantis'" in result.stderr


def test_a_device_syncs_over_real_http_with_gzip_and_retries(live_server):
    """Enrol through the CLI, push a gzip'd batch twice (the first answer "lost"), pull twice."""
    import gzip
    import json
    import urllib.request
    import uuid
    from datetime import UTC, datetime

    from sync.device.fieldsim import foot_patrol
    from sync.protocol.tracks import encode

    http, env = live_server.http, live_server.env
    code = _cli(env, "device", "enrol", "--area", "demo", "--user", "amani").strip()
    device = http.json("POST", "/api/v1/devices/enrol", {"code": code})[1]
    patrol_id = str(uuid.uuid4())
    fixes = foot_patrol(
        (37.53, -3.362), datetime(2026, 11, 23, 6, tzinfo=UTC), 240, __import__("random").Random(3)
    )
    records = [
        {
            "kind": "patrol",
            "id": patrol_id,
            "data": {
                "patrol_type": "foot",
                "started_at": fixes[0].time.isoformat(),
                "leader": "amani",
                "members": ["amani", "baraka"],
            },
        },
        {"kind": "track_chunk", "id": str(uuid.uuid4()), "data": encode(patrol_id, 0, fixes)},
        {
            "kind": "report",
            "id": str(uuid.uuid4()),
            "data": {
                "category": "wildlife_sighting",
                "observed_at": fixes[100].time.isoformat(),
                "geometry": {"type": "Point", "coordinates": [fixes[100].lon, fixes[100].lat]},
                "attributes": {"species": "elephant", "count": 12},
                "patrol_id": patrol_id,
            },
        },
    ]
    body = gzip.compress(
        json.dumps({"device_time": datetime.now(UTC).isoformat(), "records": records}).encode()
    )

    def push():
        request = urllib.request.Request(http.base + "/api/v1/sync/push", data=body, method="POST")  # noqa: S310
        for name, value in {
            "Authorization": f"Bearer {device['token']}",
            "RangerSync-Protocol": "1",
            "Content-Type": "application/json",
            "Content-Encoding": "gzip",
        }.items():
            request.add_header(name, value)
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
            return json.loads(response.read())

    first, again = push(), push()
    assert [r["verdict"] for r in first["results"]] == ["stored"] * 3
    assert [r["verdict"] for r in again["results"]] == ["duplicate"] * 3
    assert first["results"][1]["points"]["new"] == 240
    status, page = http.json("GET", "/api/v1/sync/pull?limit=1000", token=device["token"])
    assert status == 400  # no protocol header: refused, clearly
    pulled, cursor, more = [], None, True
    while more:
        url = "/api/v1/sync/pull" + (f"?cursor={cursor}" if cursor else "")
        request = urllib.request.Request(http.base + url)  # noqa: S310
        request.add_header("Authorization", f"Bearer {device['token']}")
        request.add_header("RangerSync-Protocol", "1")
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
            page = json.loads(response.read())
        pulled += page["changes"]
        cursor, more = page["cursor"], page["more"]
    kinds = {c["kind"] for c in pulled}
    assert {"area", "zone", "map_feature", "category", "report"} <= kinds
    assert sum(c["kind"] == "zone" for c in pulled) == 4


def test_the_fleet_simulator_brings_the_park_alive(live_server):
    result = subprocess.run(
        [
            BIN / "rangersync",
            "simulate",
            "--server",
            live_server.url,
            "--devices",
            "2",
            "--hours",
            "1",
            "--signal",
            "0.5",
            "--photos",
            "1",
        ],
        env=live_server.env,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    summary = next(line for line in result.stdout.splitlines() if "devices," in line)
    assert "2 devices, 240 fixes, 6 reports" in summary
    assert "rejected" not in summary and "conflict" not in summary
    assert "0 still pending" in result.stdout
    sent, acknowledged, taken, uploaded = re.search(
        r"(\d+) records sent, (\d+) acknowledged; (\d+) photos taken, (\d+) uploaded", result.stdout
    ).groups()
    assert sent == acknowledged and int(sent) > 0
    assert taken == uploaded == "6"  # a photo with every report, each on the server
    assert "6 signed receipts verified" in result.stdout  # and each vouched for by the server
    with psycopg.connect(live_server.env["DATABASE_URL"].replace("+psycopg", "")) as conn:
        thumbnails = conn.execute(
            "SELECT a.sha256 FROM attachments a JOIN devices d ON d.id = (SELECT device_id FROM reports r"
            " WHERE r.id = a.report_id) WHERE d.app_version = 'sim-1' AND a.state = 'stored'"
        ).fetchall()
    assert len(thumbnails) >= 6
    evidence = Path(live_server.env["RANGERSYNC_VAR_DIR"]) / "evidence" / "thumbnails"
    assert all((evidence / s[:2] / s[2:4] / f"{s}.jpg").exists() for (s,) in thumbnails)
