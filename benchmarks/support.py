"""Shared set-up: a fresh in-memory Azurite, app settings pointing at it, and timing helpers."""

from __future__ import annotations

import os
import statistics
import time
import uuid
from contextlib import contextmanager
from typing import Callable, Iterator


@contextmanager
def isolated_app(connection_string: str | None = None) -> Iterator[None]:
    """Point the app at Azurite (a fresh in-memory one unless given) with tables of its own."""
    from functions import dependencies
    from shared.settings import get_settings
    from tools import azurite

    emulator = None if connection_string else azurite.start_in_memory()
    os.environ["AzureWebJobsStorage"] = connection_string or emulator.connection_string
    os.environ["TABLE_PREFIX"] = "b" + uuid.uuid4().hex[:10]
    os.environ.setdefault("OUTBOX_DIR", f"/tmp/videoloket-bench-outbox-{uuid.uuid4().hex[:6]}")
    get_settings.cache_clear()
    dependencies.reset()
    try:
        yield
    finally:
        if emulator:
            emulator.stop()


def median_seconds(action: Callable[[], object], repeat: int, warmup: int = 2) -> float:
    for _ in range(warmup):
        action()
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        action()
        samples.append(time.perf_counter() - started)
    return statistics.median(samples)


def report(name: str, value: float | int, unit: str) -> None:
    if isinstance(value, float):
        print(f"{name}: {value:.3f} {unit}", flush=True)
    else:
        print(f"{name}: {value} {unit}", flush=True)


def counting_transport():
    """Return an HTTP transport that counts the requests sent through it (Table requests here)."""
    from azure.core.pipeline.transport import RequestsTransport

    class CountingTransport(RequestsTransport):
        requests = 0

        def send(self, request, **kwargs):
            CountingTransport.requests += 1
            return super().send(request, **kwargs)

    return CountingTransport()
