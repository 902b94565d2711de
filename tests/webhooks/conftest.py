"""Fixtures for the webhook tests: a signature-checking receiver, per-test webhook settings and the trigger."""

from __future__ import annotations

import uuid

import azure.functions as func
import pytest

from functions import dependencies
from shared.settings import get_settings
from tests.webhooks.receiver import Receiver
from tests.webhooks.support import SECRET


@pytest.fixture
def receiver():
    with Receiver(SECRET) as running:
        yield running


@pytest.fixture
def configure_webhooks(app_settings, monkeypatch):
    """Return a function that sets WEBHOOK_URLS (and other WEBHOOK_* values) and rebuilds the settings.

    Every test gets its own webhook queue in Azurite and the test secret.
    """
    monkeypatch.setenv("WEBHOOK_QUEUE", f"webhooks-{uuid.uuid4().hex[:12]}")
    monkeypatch.setenv("WEBHOOK_SECRET", SECRET)

    def apply(*urls: str, **values):
        monkeypatch.setenv("WEBHOOK_URLS", ",".join(urls))
        for name, value in values.items():
            monkeypatch.setenv(name.upper(), str(value))
        get_settings.cache_clear()
        dependencies.reset()
        return get_settings()

    apply()
    yield apply
    get_settings.cache_clear()
    dependencies.reset()


@pytest.fixture(scope="session")
def deliver_webhook_function():
    """Return the registered deliver_webhook function, as the Functions host indexes it."""
    from functions import webhooks

    app = func.FunctionApp()
    app.register_functions(webhooks.bp)
    by_name = {function.get_function_name(): function for function in app.get_functions()}
    return by_name["deliver_webhook"]
