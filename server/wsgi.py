"""The WSGI entry point gunicorn serves: `gunicorn server.wsgi:app`."""

import os
import sys

from server.app import create_app
from server.worker import Deriver

# A thread that waits for the GIL (an SOS arriving while bulk pushes compute) gets it after 1 ms
# rather than 5: small requests keep their latency beside CPU-heavy ones in the same process.
sys.setswitchinterval(0.001)

app = create_app()


def _start_deriver() -> None:
    """Each served process derives what its pushes left waiting (server.sync.derived), so that
    `rangersync serve` alone keeps lines and coverage current, yielding to the pushes of its
    process (for DERIVE_YIELD_MAX_S at most); gunicorn forks the workers from this loaded
    module, and a thread does not survive a fork, so it starts in each child."""
    engine = app.extensions["rangersync"].engine
    gate = app.extensions.get("rangersync.push_gate")
    busy = gate.busy if gate is not None else lambda: False
    Deriver(engine, engine.url.render_as_string(hide_password=False), busy).start()


os.register_at_fork(after_in_child=_start_deriver)
