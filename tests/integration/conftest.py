"""Fixtures for tests that run the app against Azurite: a clock, seeded configuration, the ledger table."""

from __future__ import annotations

from datetime import datetime

import uuid

import pytest

from functions import dependencies
from shared.settings import get_settings
from shared.domain.calendar import BRUSSELS
from tests import catalogs
from tests.api import SettableClock

# A Monday; with the default 4-hour lead time the first bookable video slot is Tuesday 09:00.
MONDAY_MORNING = datetime(2027, 3, 22, 9, 0, tzinfo=BRUSSELS)


@pytest.fixture
def clock(app_settings, monkeypatch):
    monkeypatch.setenv("PROVISIONING_QUEUE", "p" + uuid.uuid4().hex[:12])
    monkeypatch.setenv("RULES_SCHEDULE", "0 */1 * * * *")
    get_settings.cache_clear()
    clock = SettableClock(MONDAY_MORNING)
    dependencies.use_clock(clock)
    yield clock
    dependencies.use_clock(None)


@pytest.fixture
def configure(clock):
    """Seed a configuration into this test's config table; the default one without arguments."""

    def apply(config=None):
        dependencies.config_store().replace(config or catalogs.config())

    apply()
    return apply


@pytest.fixture
def ledger_rows(configure):
    """Return every row of the ledger table, as stored."""

    dependencies.ledger()  # creates the table on first use

    def read() -> list[dict]:
        table = dependencies.table_service().get_table_client(f"{dependencies.get_settings().table_prefix}ledger")
        return list(table.list_entities())

    return read


@pytest.fixture
def queued_mails(configure):
    """Return the (reference, event) pairs waiting on the provisioning queue, and take them off it."""
    import base64
    import json

    requests = dependencies.provisioning_requests()
    requests.send({"reference": "probe", "event": "probe"})  # creates the queue

    def take() -> list[tuple[str, str]]:
        messages = list(requests._queue.receive_messages(messages_per_page=32, visibility_timeout=1))
        taken = []
        for message in messages:
            body = json.loads(base64.b64decode(message.content))
            requests._queue.delete_message(message)
            if body["event"] != "probe":
                taken.append((body["reference"], body["event"]))
        return taken

    take()
    return take
