"""The live channel over a real server (gunicorn, several worker processes): an alert raised in
another process reaches a dashboard's Server-Sent Events stream; resuming by Last-Event-ID."""

from __future__ import annotations

import http.client
import json
import subprocess
import time
from urllib.parse import urlsplit

from tests.live import BIN


def _token(live_server) -> str:
    status, body = live_server.http.json(
        "POST", "/api/v1/auth/token", {"username": "manager", "password": "mweusi-demo-2026"}
    )
    assert status == 201, body
    return body["access_token"]


def _open_stream(live_server, token: str, last_event_id: str | None = None):
    where = urlsplit(live_server.url)
    connection = http.client.HTTPConnection(where.hostname, where.port, timeout=30)
    headers = {"Authorization": f"Bearer {token}", "Accept": "text/event-stream"}
    if last_event_id:
        headers["Last-Event-ID"] = last_event_id
    connection.request("GET", "/api/v1/areas/demo/live", headers=headers)
    response = connection.getresponse()
    assert response.status == 200, response.read()
    assert response.headers["Content-Type"].startswith("text/event-stream")
    return connection, response


def _events(response, wanted: int, timeout: float = 30.0) -> list[dict]:
    """Read SSE events (id, event, data) until `wanted` real ones arrived."""
    found, current = [], {}
    deadline = time.monotonic() + timeout
    while len(found) < wanted and time.monotonic() < deadline:
        line = response.readline().decode().rstrip("\n")
        if not line:
            if "data" in current and current.get("event") != "reconnect":
                found.append(current)
            current = {}
            continue
        if line.startswith(":"):
            continue
        name, _, value = line.partition(": ")
        current[name] = value
    return found


def _issue_in_another_process(live_server, message: str) -> str:
    done = subprocess.run(
        [
            BIN / "rangersync",
            "alert",
            "issue",
            "--area",
            "demo",
            "--severity",
            "critical",
            "--message",
            message,
        ],
        env=live_server.env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def test_an_alert_raised_in_another_process_reaches_the_live_stream(live_server):
    token = _token(live_server)
    connection, response = _open_stream(live_server, token)
    try:
        time.sleep(1.0)  # the stream has started from the latest event
        alert_id = _issue_in_another_process(live_server, "Armed group crossing at the river")
        (event,) = _events(response, 1)
    finally:
        connection.close()
    assert event["event"] == "alert"
    data = json.loads(event["data"])
    assert data["id"] == alert_id and data["message"] == "Armed group crossing at the river"
    assert data["severity"] == "critical"
    # A client that lost the stream resumes after the last id it saw and misses nothing.
    missed = _issue_in_another_process(live_server, "Second alert while disconnected")
    connection, response = _open_stream(live_server, token, last_event_id=event["id"])
    try:
        (resumed,) = _events(response, 1)
    finally:
        connection.close()
    assert json.loads(resumed["data"])["id"] == missed and int(resumed["id"]) > int(event["id"])


def test_the_live_stream_needs_a_manager(live_server):
    status, _, body = live_server.http("GET", "/api/v1/areas/demo/live")
    assert status == 401 and json.loads(body)["type"].endswith("/unauthenticated")
