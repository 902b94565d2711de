"""Bounded waiting for things that happen in another process."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def wait_for(probe: Callable[[], T], timeout: float, description: str, interval: float = 0.1) -> T:
    """Call `probe` until it returns a truthy value and return that; raise AssertionError after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        result = probe()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {description}")
        time.sleep(interval)
