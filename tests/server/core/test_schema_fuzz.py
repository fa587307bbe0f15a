"""The schema fuzzer: schemathesis generates requests from /api/openapi.json, valid and invalid,
for every operation, and sends them to a real server (over a copy of the demo park) with a
manager's token and with a device's token. No answer may be a 5xx, and every answer must match
what the document says of it (schema and media type). Bounded to fit the suite: FUZZ_EXAMPLES
cases per operation, generation mode and actor (2 by default; raise it to dig deeper)."""

from __future__ import annotations

import os
from collections import Counter

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
)

from sync.protocol import PROTOCOL_HEADER, PROTOCOL_VERSION

PASSWORD = "mweusi-demo-2026"
EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "2"))
CHECKS = [not_a_server_error, response_schema_conformance, content_type_conformance]
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def server(live_servers):
    server = live_servers.start("fuzz")
    yield server
    live_servers.stop(server)


def _actors(server) -> dict[str, dict[str, str]]:
    status, signed_in = server.http.json(
        "POST", "/api/v1/auth/token", {"username": "manager", "password": PASSWORD}
    )
    assert status == 201, signed_in
    manager = signed_in["access_token"]
    status, code = server.http.json(
        "POST", "/api/v1/areas/demo/enrolment-codes", {"username": "amani"}, manager
    )
    assert status == 201, code
    status, enrolled = server.http.json("POST", "/api/v1/devices/enrol", {"code": code["code"]})
    assert status == 201, enrolled
    return {
        "manager": {"Authorization": f"Bearer {manager}"},
        "device": {
            "Authorization": f"Bearer {enrolled['token']}",
            PROTOCOL_HEADER: str(PROTOCOL_VERSION),
        },
    }


def test_no_generated_request_gets_a_5xx_or_an_answer_unlike_its_schema(server):
    actors = _actors(server)
    schema = schemathesis.openapi.from_url(f"{server.url}/api/openapi.json")
    # Signing out would end the fuzzing manager's own session: every later case a 401.
    schema = schema.exclude(path="/api/v1/auth/token", method="DELETE")
    failures: list[str] = []
    cases: Counter[str] = Counter()
    for result in schema.get_all_operations():
        operation = result.ok()
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            _fuzz(server.url, operation, mode, actors, cases, failures)
    total = sum(cases.values())
    print(f"schema fuzzer: {total} cases ({dict(cases)}), {len(failures)} failures")
    assert total > 0
    assert failures == [], "\n".join(failures[:40])


def _fuzz(base_url, operation, mode, actors, cases: Counter[str], failures: list[str]) -> None:
    in_park = {"area": "demo"} if "{area}" in operation.path else None
    strategy = operation.as_strategy(generation_mode=mode, path_parameters=in_park)

    @given(case=strategy)
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        derandomize=True,  # the same cases every run: a failure is a defect, never luck
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    def fuzz(case):
        for actor, headers in actors.items():
            response = case.call(base_url=base_url, headers=headers, timeout=30)
            cases[actor] += 1
            try:
                case.validate_response(response, checks=CHECKS)
            except (Exception, BaseExceptionGroup) as failure:  # reported at the end
                found = getattr(failure, "exceptions", [failure])
                what = " | ".join(" ".join(str(f).split())[:400] for f in found)
                failures.append(
                    f"{actor} {mode.value} {operation.label} -> {response.status_code}: {what}"
                )

    fuzz()
