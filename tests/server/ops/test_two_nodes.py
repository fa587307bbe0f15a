"""Two app nodes (two `rangersync serve`, each with its own gunicorn workers) sharing one database
and one evidence folder, used the way nginx would spread a park's requests over them: nothing a
node holds in its own memory is needed by the other."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import threading
import urllib.request
from datetime import UTC, datetime

import pytest

from server.demo.seed import DEMO_PASSWORD
from sync.protocol import PROTOCOL_HEADER, PROTOCOL_VERSION
from tests.server.ops.helpers import Installation, open_dir
from tests.server.sync import helpers as h

pytestmark = pytest.mark.slow
TUS = {"Tus-Resumable": "1.0.0"}


def _call(base: str, method: str, path: str, body: bytes | None = None, headers=None):
    request = urllib.request.Request(  # noqa: S310 (loopback)
        base + path, data=body, method=method, headers=headers or {}
    )
    try:
        with urllib.request.urlopen(request, timeout=20) as response:  # noqa: S310
            return response.status, response.headers, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.headers, error.read()


def test_two_nodes_share_uploads_tiles_and_the_live_feed():
    park = Installation(open_dir("rangersync-nodes-"))
    a = b = None
    try:
        # One gunicorn worker each, so that a node's tile cache is one cache (the test asks it).
        a = park.serve(workers=1)
        b = park.serve(workers=1)
        status, token = a.http.json(
            "POST", "/api/v1/auth/token", {"username": "manager", "password": DEMO_PASSWORD}
        )
        manager = {"Authorization": f"Bearer {token['access_token']}"}
        _, code = a.http.json(
            "POST",
            "/api/v1/areas/demo/enrolment-codes",
            {"username": "amani"},
            token["access_token"],
        )
        _, device = b.http.json(
            "POST", "/api/v1/devices/enrol", {"code": code["code"], "app_version": "t-1"}
        )
        handheld = {
            "Authorization": f"Bearer {device['token']}",
            PROTOCOL_HEADER: str(PROTOCOL_VERSION),
        }

        # A photo declared through node A, its upload begun on A and finished on B.
        photo = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + os.urandom(200_000)
        report, attachment_id = h.report(), h.rid()
        records = [
            report,
            {
                "kind": "attachment",
                "id": attachment_id,
                "data": {
                    "report_id": report["id"],
                    "sha256": hashlib.sha256(photo).hexdigest(),
                    "size_bytes": len(photo),
                    "media_type": "image/jpeg",
                },
            },
        ]
        body = json.dumps({"device_time": datetime.now(UTC).isoformat(), "records": records})
        status, _, raw = _call(
            a.url,
            "POST",
            "/api/v1/sync/push",
            body.encode(),
            handheld | {"Content-Type": "application/json"},
        )
        assert status == 200, raw
        metadata = "attachment_id " + base64.b64encode(attachment_id.encode()).decode()
        status, headers, _ = _call(
            a.url,
            "POST",
            "/api/v1/uploads",
            None,
            handheld | TUS | {"Upload-Length": str(len(photo)), "Upload-Metadata": metadata},
        )
        assert status == 201
        location = headers["Location"].removeprefix(a.url)
        patch = handheld | TUS | {"Content-Type": "application/offset+octet-stream"}
        status, headers, _ = _call(
            a.url, "PATCH", location, photo[:80_000], patch | {"Upload-Offset": "0"}
        )
        assert status == 204 and headers["Upload-Offset"] == "80000"
        status, headers, _ = _call(b.url, "HEAD", location, None, handheld | TUS)
        assert status == 200 and headers["Upload-Offset"] == "80000"  # B sees A's bytes
        status, headers, _ = _call(
            b.url, "PATCH", location, photo[80_000:], patch | {"Upload-Offset": "80000"}
        )
        assert status == 204
        status, _, stored = _call(
            a.url, "GET", f"/api/v1/attachments/{attachment_id}/file", None, manager
        )
        assert status == 200 and stored == photo

        # A tile cached by both nodes, then a map edit through A: B's cached tile is not served.
        tile = "/tiles/reports/12/2472/2087.mvt?area=demo"
        first_a = _call(a.url, "GET", tile, None, manager)
        first_b = _call(b.url, "GET", tile, None, manager)
        again_b = _call(b.url, "GET", tile, None, manager)
        assert first_a[0] == first_b[0] == again_b[0] == 200
        assert again_b[1]["X-Tile-Cache"] == "hit"
        more = json.dumps(
            {
                "device_time": datetime.now(UTC).isoformat(),
                "records": [h.report(geometry={"type": "Point", "coordinates": [37.3, -3.5]})],
            }
        )
        _call(
            a.url,
            "POST",
            "/api/v1/sync/push",
            more.encode(),
            handheld | {"Content-Type": "application/json"},
        )
        after_b = _call(b.url, "GET", tile, None, manager)
        assert after_b[1]["X-Tile-Cache"] == "miss"  # checked against the database, re-rendered

        # The live feed on B hears an SOS that arrived at A.
        heard: list[bytes] = []

        def listen() -> None:
            request = urllib.request.Request(  # noqa: S310 (loopback)
                f"{b.url}/api/v1/areas/demo/live", headers=manager
            )
            with urllib.request.urlopen(request, timeout=30) as stream:  # noqa: S310
                for line in stream:
                    heard.append(line)
                    if line.startswith(b"event: alert"):
                        return

        listener = threading.Thread(target=listen, daemon=True)
        listener.start()
        sos = {
            "counter": 1,
            "position": {"type": "Point", "coordinates": [37.2, -3.4]},
            "sent_at": datetime.now(UTC).isoformat(),
        }
        status, _, raw = _call(
            a.url,
            "POST",
            "/api/v1/sos",
            json.dumps(sos).encode(),
            handheld | {"Content-Type": "application/json"},
        )
        assert status in (200, 201), raw
        listener.join(timeout=30)
        assert any(line.startswith(b"event: alert") for line in heard), heard
    finally:
        for server in (a, b):
            if server is not None:
                server.stop()
        park.destroy()
