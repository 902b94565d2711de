"""Cold import of function_app in a fresh process, against the import of the libraries it must load.

Target: at most 1.3 times `import azure.functions, azure.data.tables, pydantic`, and msgraph never
imported on that path.
"""

from __future__ import annotations

import statistics
import subprocess
import sys

from benchmarks.support import report

APP = (
    "import time, sys; t = time.perf_counter(); import function_app; "
    "print(time.perf_counter() - t, int(any(m.startswith('msgraph') for m in sys.modules)))"
)
BASELINE = (
    "import time; t = time.perf_counter(); import azure.functions, azure.data.tables, pydantic; "
    "print(time.perf_counter() - t, 0)"
)


def _time_in_fresh_process(code: str) -> tuple[float, bool]:
    output = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    return float(output[0]), output[1] == "1"


def main(rounds: int = 9) -> None:
    app_times, baseline_times, msgraph_seen = [], [], False
    for _ in range(rounds):  # interleaved, so drift on a busy machine hits both alike
        seconds, imported_msgraph = _time_in_fresh_process(APP)
        app_times.append(seconds)
        msgraph_seen |= imported_msgraph
        baseline_times.append(_time_in_fresh_process(BASELINE)[0])
    app, baseline = statistics.median(app_times), statistics.median(baseline_times)
    report("cold_import_function_app_median", app * 1000, "ms")
    report("cold_import_baseline_median", baseline * 1000, "ms")
    report("cold_import_ratio", app / baseline, "x (target <= 1.3)")
    report("cold_import_msgraph_imported", int(msgraph_seen), "(target 0)")


if __name__ == "__main__":
    main()
