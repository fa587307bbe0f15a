"""gunicorn settings loaded by `rangersync serve` (--config python:server.ops.gunicorn_conf):
multiprocess metrics bookkeeping when a worker process exits."""

from __future__ import annotations

import shutil
from pathlib import Path

from prometheus_client import multiprocess


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
