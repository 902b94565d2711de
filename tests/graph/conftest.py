"""Fixtures for the Graph tests: a fake Graph on 127.0.0.1, and the app pointed at it and at Azurite."""

from __future__ import annotations

import uuid
from datetime import datetime

import pytest

from functions import dependencies
from shared.domain.calendar import BRUSSELS
from shared.settings import get_settings
from tests import catalogs
from tests.api import SettableClock
from tests.graph.fake_graph import FakeGraph
from tests.graph.queue_driver import QueueDriver

# A Monday; with the default 4-hour lead time the first bookable video slot is Tuesday 09:00.
MONDAY_MORNING = datetime(2027, 3, 22, 9, 0, tzinfo=BRUSSELS)


@pytest.fixture
def fake_graph(tmp_path):
    """A running fake Graph; the test fails if any request broke a documented rule."""
    with FakeGraph(tmp_path / "fake-graph") as fake:
        yield fake
        assert fake.violations == []


@pytest.fixture
def graph_env(monkeypatch, app_settings, fake_graph):
    """Set the app settings that select the Graph adapters; tests may set more before `graph_app`."""
    for name, value in fake_graph.app_settings().items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("GRAPH_TIMEOUT_SECONDS", "5")
    # A queue of its own, so no other test's messages reach this test's drains.
    monkeypatch.setenv("PROVISIONING_QUEUE", "provisioning-" + uuid.uuid4().hex[:12])
    monkeypatch.setenv("PROVISIONING_RETRY_BASE_SECONDS", "0")
    monkeypatch.setenv("PROVISIONING_MAX_INLINE_WAIT_SECONDS", "5")
    return monkeypatch


@pytest.fixture
def graph_app(graph_env, fake_graph):
    """Build the app from the settings with a fixed clock and the default catalog; return the settings."""
    get_settings.cache_clear()
    clock = SettableClock(MONDAY_MORNING)
    dependencies.use_clock(clock)
    dependencies.config_store().replace(catalogs.config())
    yield get_settings()
    dependencies.use_clock(None)
    get_settings.cache_clear()


@pytest.fixture
def queue(graph_app):
    return QueueDriver()


@pytest.fixture
def set_app_settings(graph_app, graph_env):
    """Return a function that changes app settings and rebuilds the app from them."""

    def apply(**values: str) -> None:
        for name, value in values.items():
            graph_env.setenv(name, value)
        get_settings.cache_clear()
        dependencies.reset()

    return apply


def pytest_collection_modifyitems(items):
    # msgraph-sdk 1.65.0 warns about its own deprecated configuration classes when its request builders load.
    # kiota-abstractions 1.16.0 does the same for GetQueryParameters.
    markers = (
        pytest.mark.filterwarnings("ignore:This class is deprecated:DeprecationWarning:msgraph"),
        pytest.mark.filterwarnings("ignore:GetQueryParameters is deprecated:DeprecationWarning:kiota_abstractions"),
    )
    for item in items:
        if "tests/graph/" in str(item.fspath).replace("\\", "/"):
            for marker in markers:
                item.add_marker(marker)
