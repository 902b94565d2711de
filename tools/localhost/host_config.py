"""Read the parts of host.json that the local host honours: the HTTP route prefix, queue options, function timeout."""

from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass, field
from pathlib import Path

logger = logging.getLogger(__name__)

# "[d.]hh:mm:ss[.fraction]", the .NET TimeSpan form used throughout host.json.
_TIMESPAN = re.compile(r"^(?:(?P<days>\d+)\.)?(?P<hours>\d+):(?P<minutes>\d{2}):(?P<seconds>\d{2}(?:\.\d+)?)$")

# Defaults of the Functions runtime (queues extension 5.x), except the polling interval: the runtime
# waits up to one minute between polls of an empty queue, which is too slow for local work.
DEFAULT_MAX_DEQUEUE_COUNT = 5
DEFAULT_BATCH_SIZE = 16
MAX_BATCH_SIZE = 32
LOCAL_MAX_POLLING_INTERVAL_SECONDS = 1.0


def parse_timespan(value: str, setting: str) -> float:
    """Return the seconds in a TimeSpan string such as "00:00:30"; raise ValueError naming `setting`."""
    match = _TIMESPAN.match(value.strip()) if isinstance(value, str) else None
    if match is None:
        raise ValueError(f"host.json {setting}: invalid TimeSpan {value!r}, expected hh:mm:ss")
    days = int(match["days"] or 0)
    return ((days * 24 + int(match["hours"])) * 60 + int(match["minutes"])) * 60 + float(match["seconds"])


@dataclass(frozen=True)
class QueueOptions:
    max_dequeue_count: int = DEFAULT_MAX_DEQUEUE_COUNT
    visibility_timeout_seconds: float = 0.0
    message_encoding: str = "base64"
    batch_size: int = DEFAULT_BATCH_SIZE
    new_batch_threshold: int = DEFAULT_BATCH_SIZE // 2
    max_polling_interval_seconds: float = LOCAL_MAX_POLLING_INTERVAL_SECONDS


@dataclass(frozen=True)
class HostConfig:
    route_prefix: str = "api"
    queues: QueueOptions = field(default_factory=QueueOptions)
    function_timeout_seconds: float | None = None


def _read_queue_options(section: dict) -> QueueOptions:
    max_dequeue_count = section.get("maxDequeueCount", DEFAULT_MAX_DEQUEUE_COUNT)
    if not isinstance(max_dequeue_count, int) or max_dequeue_count < 1:
        raise ValueError(f"host.json extensions.queues.maxDequeueCount: expected an integer >= 1, got {max_dequeue_count!r}")

    visibility_timeout = section.get("visibilityTimeout")
    visibility_seconds = 0.0 if visibility_timeout is None else parse_timespan(
        visibility_timeout, "extensions.queues.visibilityTimeout")

    encoding = str(section.get("messageEncoding", "base64")).lower()
    if encoding not in ("base64", "none"):
        raise ValueError(f"host.json extensions.queues.messageEncoding: expected base64 or none, got {encoding!r}")

    batch_size = section.get("batchSize", DEFAULT_BATCH_SIZE)
    if not isinstance(batch_size, int) or not 1 <= batch_size <= MAX_BATCH_SIZE:
        raise ValueError(f"host.json extensions.queues.batchSize: expected 1 to {MAX_BATCH_SIZE}, got {batch_size!r}")
    threshold = section.get("newBatchThreshold", batch_size // 2)
    if not isinstance(threshold, int) or threshold < 0:
        raise ValueError(f"host.json extensions.queues.newBatchThreshold: expected an integer >= 0, got {threshold!r}")

    # The runtime accepts a TimeSpan or a number of milliseconds here.
    polling = section.get("maxPollingInterval")
    if polling is None:
        polling_seconds = LOCAL_MAX_POLLING_INTERVAL_SECONDS
    elif isinstance(polling, (int, float)):
        polling_seconds = polling / 1000
    else:
        polling_seconds = parse_timespan(polling, "extensions.queues.maxPollingInterval")

    return QueueOptions(max_dequeue_count, visibility_seconds, encoding, batch_size, threshold, polling_seconds)


def read_host_config(path: Path) -> HostConfig:
    """Parse host.json; a missing file gives the runtime defaults, an invalid one raises ValueError."""
    if not path.exists():
        logger.warning("%s not found; using the runtime defaults", path)
        return HostConfig()
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as error:
        raise ValueError(f"{path} is not valid JSON: {error}") from error

    extensions = document.get("extensions") or {}
    route_prefix = str((extensions.get("http") or {}).get("routePrefix", "api")).strip("/")
    queues = _read_queue_options(extensions.get("queues") or {})

    timeout = document.get("functionTimeout")
    timeout_seconds = None if timeout in (None, "-1") else parse_timespan(timeout, "functionTimeout")
    return HostConfig(route_prefix, queues, timeout_seconds)
