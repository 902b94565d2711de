"""Azurite for a test session: the one named by AZURITE_CONNECTION_STRING, or a fresh in-memory one."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

from tools import azurite

CONNECTION_STRING_VARIABLE = "AZURITE_CONNECTION_STRING"


@contextmanager
def running_azurite() -> Iterator[str]:
    """Yield a storage connection string; stop the Azurite afterwards if this function started it."""
    existing = os.environ.get(CONNECTION_STRING_VARIABLE)
    if existing:
        yield existing
        return
    emulator = azurite.start_in_memory()
    try:
        yield emulator.connection_string
    finally:
        emulator.stop()
