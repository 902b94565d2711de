"""Peak memory of a provisioning process: 100 bookings provisioned through the queue trigger.

The parent process starts the fake Graph of tests/graph/fake_graph.py and Azurite (or uses
AZURITE_CONNECTION_STRING), books 100 video appointments through the public API, which queues
100 provisioning messages. A fresh child process then imports the function app and runs
provision_booking on every message, as the Functions host does (Graph adapters selected, a
meeting and a mail each).

Peak RSS is the child's VmHWM from /proc/self/status. On Linux, resource.getrusage's ru_maxrss
would report the parent's peak instead, because the kernel keeps it across fork and exec. It is
the fallback where /proc is missing.

    python -m benchmarks.provisioning_memory
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import tempfile
import uuid
from datetime import datetime
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
BOOKINGS = 100


def main(argv: list[str] | None = None) -> None:
    """Print the figures. `argv` contains this module's options only; the benchmark runner passes none."""
    if (argv or [])[:1] == ["--child"]:
        print(json.dumps(_provision_all()))
        return

    from tests.graph.fake_graph import FakeGraph
    from tests.support.storage import running_azurite

    with tempfile.TemporaryDirectory() as directory, running_azurite() as storage, \
            FakeGraph(Path(directory) / "graph") as fake:
        environment = {
            **fake.app_settings(),
            "AzureWebJobsStorage": storage,
            "TABLE_PREFIX": "bench" + uuid.uuid4().hex[:10],
            "OUTBOX_DIR": str(Path(directory) / "outbox"),
            "PROVISIONING_QUEUE": "bench" + uuid.uuid4().hex[:10],
            "PROVISIONING_RETRY_BASE_SECONDS": "0",
        }
        _book(environment, BOOKINGS)
        result = subprocess.run(
            [sys.executable, "-W", "ignore::DeprecationWarning", "-m", "benchmarks.provisioning_memory", "--child"],
            cwd=REPO_ROOT, env={**os.environ, **environment}, capture_output=True, text=True, timeout=600,
            check=False,
        )
        if result.returncode != 0:
            raise RuntimeError(f"the provisioning process failed:\n{result.stderr}")
        figures = json.loads(result.stdout.strip().splitlines()[-1])
        if len(fake.mails) != BOOKINGS or len(fake.live_meetings()) != BOOKINGS or fake.violations:
            raise RuntimeError(f"expected {BOOKINGS} meetings and mails, got {len(fake.live_meetings())} and "
                               f"{len(fake.mails)}; violations: {fake.violations}")

    print(f"provisioning_bookings: {figures['provisioned']} bookings")
    print(f"provisioning_peak_rss_after_import: {figures['after_import_kib'] / 1024:.1f} MiB")
    print(f"provisioning_peak_rss_after_{BOOKINGS}: {figures['after_kib'] / 1024:.1f} MiB")


def _book(environment: dict[str, str], count: int) -> None:
    """Book `count` video appointments on distinct seats through the app's own routes, in this process.

    The environment and the app's cached objects are restored afterwards, because a caller may
    run other benchmarks in this process.
    """
    from functions import dependencies
    from shared.settings import get_settings

    saved = dict(os.environ)
    os.environ.update(environment)
    get_settings.cache_clear()
    try:
        _book_in_app(count)
    finally:
        os.environ.clear()
        os.environ.update(saved)
        get_settings.cache_clear()
        dependencies.use_clock(None)


def _book_in_app(count: int) -> None:
    from functions import dependencies
    from shared.domain.calendar import BRUSSELS
    from tests import catalogs
    from tests.api import SettableClock, call
    from tests.people import booking_body

    dependencies.use_clock(SettableClock(datetime(2027, 3, 22, 9, 0, tzinfo=BRUSSELS)))
    agents = [catalogs.agent(f"a{n}", ("nl", "fr")) for n in range(1, 5)]
    dependencies.config_store().replace(catalogs.config(agents=agents))
    slots = call("list_slots", params={"channel": "video", "topic": "payments", "postcode": "9000",
                                       "from": "2027-03-23", "to": "2027-04-20"}).json()["slots"]
    seats = [slot["start"] for slot in slots for _ in range(slot["available"])]
    if len(seats) < count:
        raise RuntimeError(f"only {len(seats)} free seats for {count} bookings")
    for serial, start in enumerate(seats[:count], start=1):
        response = call("create_booking", "POST",
                        body=booking_body(start, serial=serial, email=f"citizen{serial}@example.be"))
        if response.status != 201:
            raise RuntimeError(f"booking {serial} failed: {response.status} {response.body!r}")


def _provision_all() -> dict:
    import function_app  # noqa: F401  (the worker imports the app before the first message)
    from tests.graph.queue_driver import QueueDriver

    after_import = _peak_rss_kib()
    report = QueueDriver().drain(timeout=540, batch=16)
    return {"provisioned": len(report.handled), "after_import_kib": after_import, "after_kib": _peak_rss_kib()}


def _peak_rss_kib() -> int:
    status = Path("/proc/self/status")
    if status.exists():
        for line in status.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux


if __name__ == "__main__":
    main(sys.argv[1:])
