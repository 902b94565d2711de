"""Run every benchmark: `python -m benchmarks` (what `make bench` runs). Each prints `name: value unit`."""

from __future__ import annotations

import importlib.util
import subprocess
import sys

# Each runs in a fresh process, so one benchmark's imports and caches do not flatter the next.
BENCHMARKS = (
    "benchmarks.cold_import",
    "benchmarks.booking",
    "benchmarks.sweep",
    "benchmarks.graph_cold_start",
    "benchmarks.provisioning_memory",
)


def main() -> int:
    failed = []
    for name in BENCHMARKS:
        try:
            importlib.util.find_spec(name)
        except ModuleNotFoundError:
            continue
        print(f"# {name}", flush=True)
        if subprocess.run([sys.executable, "-m", name]).returncode != 0:
            failed.append(name)
    if failed:
        print(f"failed: {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
