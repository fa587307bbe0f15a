"""What gunicorn answers by itself, before the app sees a request (a request line too long, a
malformed request), is a problem document like every other error, not an HTML page; and the
longest pull the schema allows still reaches the app."""

from __future__ import annotations

import json
import socket
from urllib.parse import urlsplit


def _raw(live_server, request: bytes) -> tuple[int, dict[str, str], bytes]:
    where = urlsplit(live_server.url)
    with socket.create_connection((where.hostname, where.port), timeout=30) as client:
        client.sendall(request)
        answer = b""
        while chunk := client.recv(65536):
            answer += chunk
    head, _, body = answer.partition(b"\r\n\r\n")
    status_line, *lines = head.decode("latin1").split("\r\n")
    headers = {k.lower(): v.strip() for k, _, v in (line.partition(":") for line in lines)}
    return int(status_line.split()[1]), headers, body


def test_a_request_line_too_long_is_a_414_problem(live_server):
    status, headers, body = _raw(
        live_server,
        b"GET /api/v1/sync/pull?cursor=" + b"a" * 9000 + b" HTTP/1.1\r\nHost: x\r\n\r\n",
    )
    assert status == 414
    assert headers["content-type"] == "application/problem+json"
    problem = json.loads(body)
    assert problem["status"] == 414 and problem["type"] == "/problems/uri-too-long"


def test_a_malformed_request_is_a_400_problem(live_server):
    status, headers, body = _raw(live_server, b"GET\x00 / HTTP/1.1\r\nHost: x\r\n\r\n")
    assert status == 400
    assert headers["content-type"] == "application/problem+json"
    assert json.loads(body)["status"] == 400


def test_the_longest_cursor_the_schema_allows_reaches_the_app(live_server):
    status, headers, body = _raw(
        live_server,
        b"GET /api/v1/sync/pull?cursor=" + b"a" * 4096 + b" HTTP/1.1\r\nHost: x\r\n"
        b"Connection: close\r\n\r\n",
    )
    assert status == 400 and headers["content-type"] == "application/problem+json"
    assert json.loads(body)["type"] == "/problems/protocol-missing"  # the app's own answer
