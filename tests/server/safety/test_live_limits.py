"""Live streams cannot starve a server (one gunicorn worker of eight threads here): they are capped
per token (429) and per process (503), both with Retry-After; an SOS sent while the most streams
are open is stored and answered; a stream ends once its credential is revoked."""

from __future__ import annotations

import http.client
import json
from datetime import UTC, datetime
from urllib.parse import urlsplit

import pytest

PASSWORD = "mweusi-demo-2026"


@pytest.fixture(scope="module")
def server(live_servers):
    server = live_servers.start(
        "live-limits",
        {"WEB_CONCURRENCY": "1", "WEB_THREADS": "8", "LIVE_STREAMS_PER_TOKEN": "1"},
    )
    yield server
    live_servers.stop(server)


def _token(server, username: str = "manager") -> str:
    status, body = server.http.json(
        "POST", "/api/v1/auth/token", {"username": username, "password": PASSWORD}
    )
    assert status == 201, body
    return body["access_token"]


def _device(server) -> tuple[str, str]:
    """A handheld enrolled for the ranger amani: (token, device id)."""
    manager = _token(server)
    status, code = server.http.json(
        "POST", "/api/v1/areas/demo/enrolment-codes", {"username": "amani"}, manager
    )
    assert status == 201, code
    status, enrolled = server.http.json("POST", "/api/v1/devices/enrol", {"code": code["code"]})
    assert status == 201, enrolled
    return enrolled["token"], enrolled["device_id"]


def _open(server, token: str, query: str = ""):
    where = urlsplit(server.url)
    connection = http.client.HTTPConnection(where.hostname, where.port, timeout=30)
    headers = {"Authorization": f"Bearer {token}", "Accept": "text/event-stream"}
    connection.request("GET", f"/api/v1/areas/demo/live{query}", headers=headers)
    return connection, connection.getresponse()


def _sos(server, device_token: str, counter: int):
    body = {
        "counter": counter,
        "text": "ranger hurt near the river",
        "position": {"type": "Point", "coordinates": [37.6, -3.4]},
        "sent_at": datetime.now(UTC).replace(microsecond=0).isoformat(),
    }
    return server.http.json("POST", "/api/v1/sos", body, device_token)


def test_streams_are_capped_and_an_sos_is_answered_while_the_most_are_open(server):
    device, _ = _device(server)
    tokens = [_token(server) for _ in range(8)]  # as many as the worker has threads
    opened, refused = [], []
    try:
        again = _open(server, tokens[0])
        opened.append(again)
        for token in tokens:
            connection, response = _open(server, token)
            if response.status == 200:
                opened.append((connection, response))
            else:
                refused.append((response.status, response.headers, json.loads(response.read())))
                connection.close()
        # a second stream of the first token: 429; past the process's cap (8 threads / 4): 503
        assert [r[0] for r in refused] == [429] + [503] * 6
        for status, headers, problem in refused:
            assert int(headers["Retry-After"]) > 0
            assert problem["status"] == status
        assert refused[0][2]["type"] == "/problems/too-many-live-streams"
        assert refused[1][2]["type"] == "/problems/live-streams-busy"

        status, answer = _sos(server, device, 1)

        assert status == 201, answer
        assert answer["alert_id"] and answer["duplicate"] is False
        status, alert = server.http.json(
            "GET", f"/api/v1/alerts/{answer['alert_id']}", token=tokens[-1]
        )
        assert status == 200, alert
        assert alert["id"] == answer["alert_id"]
    finally:
        for connection, _ in opened:
            connection.close()


def test_a_closed_stream_frees_its_slot(server):
    token = _token(server)
    connection, response = _open(server, token, "?seconds=1")
    assert response.status == 200
    response.read()  # the stream ends by itself after a second
    connection.close()
    connection, response = _open(server, token, "?seconds=1")
    assert response.status == 200
    connection.close()


@pytest.mark.parametrize("seconds", ["nan", "inf", "-1", "0", "1e999", "ten"])
def test_stream_lengths_that_are_no_positive_number_are_a_422(server, seconds):
    connection, response = _open(server, _token(server), f"?seconds={seconds}")
    assert response.status == 422
    assert response.headers["Content-Type"] == "application/problem+json"
    connection.close()


def _lines_until_end(response) -> list[str]:
    return [line.decode().rstrip("\n") for line in iter(response.readline, b"")]


def test_a_stream_ends_when_its_token_is_revoked(server):
    token = _token(server)
    connection, response = _open(server, token)
    assert response.status == 200
    assert server.http("DELETE", "/api/v1/auth/token", token=token)[0] == 204

    lines = _lines_until_end(response)  # ends within a heartbeat, not after a minute

    assert "event: revoked" in lines
    assert "event: reconnect" not in lines
    connection.close()


def test_a_device_stream_ends_when_the_device_is_revoked(server):
    device, device_id = _device(server)
    connection, response = _open(server, device)
    assert response.status == 200
    status, _ = server.http.json(
        "POST", f"/api/v1/devices/{device_id}/revoke", token=_token(server)
    )
    assert status == 200

    lines = _lines_until_end(response)

    assert "event: revoked" in lines
    connection.close()
