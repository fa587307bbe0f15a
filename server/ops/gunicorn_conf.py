"""gunicorn settings loaded by `rangersync serve` (--config python:server.ops.gunicorn_conf):
multiprocess metrics bookkeeping when a worker process exits; and the errors gunicorn answers
itself, before the app sees a request (a request line or a header too long, a malformed
request), written as the problem documents every other error is, not as an HTML page."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from gunicorn import util
from prometheus_client import multiprocess

from server.core.problems import HTTP_CODES, PROBLEM_TYPE_BASE


def fresh_metrics_dir(var_dir: Path, port: int) -> Path:
    """Per server (one per port on a host), emptied at start: counters restart with the server,
    as Prometheus expects of a restarted target."""
    path = var_dir / "metrics" / str(port)
    shutil.rmtree(path, ignore_errors=True)
    path.mkdir(parents=True)
    return path


def child_exit(server, worker) -> None:
    """A dead worker's live gauges (the push gate) stop counting; its counters are kept."""
    multiprocess.mark_process_dead(worker.pid)


def write_problem(sock, status_int: int, reason: str, mesg: str) -> None:
    """gunicorn's util.write_error, answering application/problem+json (RFC 9457)."""
    code = HTTP_CODES.get(status_int, f"http-{status_int}")
    body = json.dumps(
        {"type": PROBLEM_TYPE_BASE + code, "title": reason, "status": status_int, "detail": mesg}
    )
    head = (
        f"HTTP/1.1 {status_int} {reason}\r\nConnection: close\r\n"
        f"Content-Type: application/problem+json\r\nContent-Length: {len(body)}\r\n\r\n"
    )
    util.write_nonblock(sock, (head + body).encode("latin1"))


# gunicorn's workers call util.write_error through the module: this config, read by the master
# before it forks (--preload), replaces it for every worker.
util.write_error = write_problem
