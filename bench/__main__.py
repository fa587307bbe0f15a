"""`make bench`: run every benchmark in bench/ (each a module with main()), or those named."""

from __future__ import annotations

import importlib
import sys
from pathlib import Path


def main(names: list[str]) -> int:
    available = sorted(
        p.stem for p in Path(__file__).parent.glob("*.py") if not p.stem.startswith("_")
    )
    chosen = names or available
    if not chosen:
        print("bench: no benchmarks yet")
        return 0
    for name in chosen:
        if name not in available:
            print(f"bench: unknown benchmark {name!r}; available: {', '.join(available)}")
            return 2
        sys.argv = [f"bench/{name}.py"]  # each runs with its defaults (some parse options)
        importlib.import_module(f"bench.{name}").main()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
