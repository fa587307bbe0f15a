"""Where a push's time goes: bench/storm.py's push (a patrol, 2 chunks of 480 fixes, 5 reports,
2 photo declarations, the patrol's end) from DEVICES devices, one after another, through the app
in this process (Flask's test client: no HTTP, no gate), under pyinstrument. Prints the mean
server time per push and pyinstrument's call tree of the push endpoint.

    .venv/bin/python bench/push_profile.py [--devices 30] [--html profile.html]
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

from pyinstrument import Profiler

from server.app import create_app
from server.config import Config
from sync.protocol import PROTOCOL_HEADER, PROTOCOL_VERSION

try:
    from bench._common import database
    from bench.storm import Device, _enrol
except ModuleNotFoundError:  # run as `python bench/push_profile.py`
    from _common import database
    from storm import Device, _enrol

PUSH = "/api/v1/sync/push"


def _bodies(tokens: list[str], workdir: Path) -> list[tuple[str, bytes]]:
    """What each device's first push sends, built by the reference client from its outbox."""
    bodies = []
    for number, token in enumerate(tokens):
        device = Device(number, "http://unused", token, workdir, None)
        device._record()
        client = device.client
        client._chunk_fixes()
        bodies.append((token, client._push_body(client._next_batch(token))))
    return bodies


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--devices", type=int, default=30)
    parser.add_argument("--html", type=Path, default=None)
    args = parser.parse_args(argv)
    with database("profile", prefix="rangersync-profile-") as (root, url):
        tokens = _enrol(url, args.devices + 1)
        bodies = _bodies(tokens, Path(tempfile.mkdtemp(dir=root)))
        config = Config.from_env({"DATABASE_URL": url, "RANGERSYNC_VAR_DIR": str(root / "var")})
        app = create_app(config)
        client = app.test_client()
        headers = {PROTOCOL_HEADER: str(PROTOCOL_VERSION), "Content-Type": "application/json"}

        def push(token: str, body: bytes) -> None:
            answer = client.post(
                PUSH, data=body, headers=headers | {"Authorization": f"Bearer {token}"}
            )
            assert answer.status_code == 200, answer.get_data(as_text=True)
            assert {r["verdict"] for r in answer.get_json()["results"]} == {"stored"}

        push(*bodies[0])  # warm up: connections, caches
        profiler = Profiler(interval=0.0005)
        began = time.perf_counter()
        with profiler:
            for token, body in bodies[1:]:
                push(token, body)
        seconds = time.perf_counter() - began
        app.extensions["rangersync"].engine.dispose()
    pushes = len(bodies) - 1
    print(f"{pushes} pushes one after another: {seconds / pushes * 1000:.1f} ms each (mean)")
    print(profiler.output_text(unicode=True, color=False, show_all=False))
    if args.html:
        args.html.write_text(profiler.output_html())
    print(json.dumps({"metric": "push_ms_in_process", "value": round(seconds / pushes * 1000, 1)}))


if __name__ == "__main__":
    main()
