"""Fixtures shared by all tests: Azurite for the session and app settings isolated per test."""

from __future__ import annotations

import uuid

import pytest

from shared.settings import get_settings
from tests.support.storage import running_azurite


@pytest.fixture(scope="session")
def azurite():
    """Return a storage connection string: AZURITE_CONNECTION_STRING if set, else an in-memory Azurite's."""
    with running_azurite() as connection_string:
        yield connection_string


@pytest.fixture
def app_settings(monkeypatch, azurite, tmp_path):
    """Point the app at Azurite with tables of its own and an outbox under tmp_path; return its Settings."""
    monkeypatch.setenv("AzureWebJobsStorage", azurite)
    # Table names allow letters and digits only, so the prefix uses no hyphen.
    monkeypatch.setenv("TABLE_PREFIX", "t" + uuid.uuid4().hex[:12])
    monkeypatch.setenv("OUTBOX_DIR", str(tmp_path / "outbox"))
    get_settings.cache_clear()
    yield get_settings()
    get_settings.cache_clear()
