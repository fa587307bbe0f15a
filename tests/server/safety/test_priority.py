"""The push gate: a process works on `slots` pushes, lets `queue` wait, answers the rest 503 with
Retry-After (nothing stored), and never holds up other requests."""

from __future__ import annotations

import json
import threading

from werkzeug.test import Client
from werkzeug.wrappers import Response

from server.safety.priority import PushGate


def test_pushes_beyond_the_gate_are_told_to_retry_and_other_requests_pass():
    entered, release = threading.Semaphore(0), threading.Event()
    calls = []

    def app(environ, start_response):
        calls.append(environ["PATH_INFO"])
        if environ["PATH_INFO"] == "/api/v1/sync/push":
            entered.release()
            release.wait(10)
        return Response("{}", content_type="application/json")(environ, start_response)

    gate = PushGate(app, slots=1, queue=1)
    answers = []

    def push():
        answers.append(Client(gate).post("/api/v1/sync/push", data="{}").status_code)

    first, second = threading.Thread(target=push), threading.Thread(target=push)
    first.start()
    assert entered.acquire(timeout=5)  # the first is being worked on
    second.start()  # the second waits for the slot
    while gate.inside < 2:
        pass
    third = Client(gate).post("/api/v1/sync/push", data="{}")
    assert third.status_code == 503 and third.headers["Retry-After"] == "2"
    assert third.content_type == "application/problem+json"
    assert json.loads(third.data)["type"] == "/problems/server-busy"
    sos = Client(gate).post("/api/v1/sos", data="{}")  # not a push: straight through
    assert sos.status_code == 200
    release.set()
    first.join(5)
    second.join(5)
    assert sorted(answers) == [200, 200]
    assert calls.count("/api/v1/sync/push") == 2 and gate.inside == 0
