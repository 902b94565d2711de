"""Fixtures for tests that run the app against Azurite: a clock, seeded configuration, the ledger table."""

from __future__ import annotations

from datetime import datetime

import pytest

from functions import dependencies
from shared.domain.calendar import BRUSSELS
from tests import catalogs
from tests.api import SettableClock

# A Monday; with the default 4-hour lead time the first bookable video slot is Tuesday 09:00.
MONDAY_MORNING = datetime(2027, 3, 22, 9, 0, tzinfo=BRUSSELS)


@pytest.fixture
def clock(app_settings):
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
