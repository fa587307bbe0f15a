"""Failpoints for fault tests: named places where the process can be made to die on purpose.

Off unless RANGERSYNC_FAILPOINTS names them, e.g. `push.after_commit=0.5` (die there half the
time). Only the fault tests set it; a production server never does.
"""

from __future__ import annotations

import os
import random

_RATES = {
    name: float(rate)
    for name, _, rate in (
        item.partition("=")
        for item in os.environ.get("RANGERSYNC_FAILPOINTS", "").split(",")
        if item
    )
}
# The system's randomness, not a seeded generator: workers forked from one parent must not all
# draw the same numbers (with a preloaded app, every new worker would die at the same place).
_rng = random.SystemRandom()


def hit(name: str) -> None:
    """Die here, at once and without a word (as a power cut would), if this failpoint is armed."""
    rate = _RATES.get(name)
    if rate and _rng.random() < rate:
        os._exit(86)
