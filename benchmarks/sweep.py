"""One sweep of the 10-minute rules over a day with 10,000 appointments, 200 of them due.

Prints the sweep's time as a ratio to one Azurite point read, and the number of entities it read,
which must stay near the number of due appointments (one due row and one booking row each) and
must not grow with the appointments that are not due.
"""

from __future__ import annotations

import time
from datetime import datetime, timedelta, timezone

from benchmarks.support import isolated_app, median_seconds, report

DAY_START = datetime(2027, 3, 23, 6, 0, tzinfo=timezone.utc)
NOW = DAY_START + timedelta(hours=2)
TOTAL, DUE = 10_000, 200


class CountingTable:
    """Wraps a TableClient and counts the entities it returns."""

    def __init__(self, table) -> None:
        self._table = table
        self.entities_read = 0

    def get_entity(self, *args, **kwargs):
        self.entities_read += 1
        return self._table.get_entity(*args, **kwargs)

    def query_entities(self, *args, **kwargs):
        for entity in self._table.query_entities(*args, **kwargs):
            self.entities_read += 1
            yield entity

    def __getattr__(self, name):
        return getattr(self._table, name)


def _appointments(ledger):
    """Build the day's bookings: the first DUE start 15 minutes before NOW, the rest later that day."""
    from shared.domain.model import Booking, Channel, Language, PersonalData

    personal = PersonalData("Bench", "Mark", "bench@example.be", "+32470000000", "85071412330", "9000")
    for index in range(TOTAL):
        if index < DUE:
            start = NOW - timedelta(minutes=15)
        else:
            start = NOW + timedelta(minutes=5 + (index % 600))
        booking = Booking(
            reference=f"VL{index:010d}", counter_id="video", channel=Channel.VIDEO, topic_id="payments",
            language=Language.DUTCH, start=start, end=start + timedelta(minutes=30), agent_id=f"agent-{index}",
            personal=personal, terms_version="2026-01", created_at=DAY_START - timedelta(days=1),
            manage_token_hash="0" * 64, reminder_sent=True, next_check_at=start + timedelta(minutes=10),
        )
        yield [
            ("create", ledger._to_entity(booking)),
            ("create", ledger._due_entity(booking)),
            ("create", ledger._seat_entity(booking)),
            ("create", ledger._agenda_entity(booking)),
        ]


def _store(ledger, table) -> None:
    batch: list = []
    for operations in _appointments(ledger):
        batch.extend(operations)
        if len(batch) >= 100:
            table.submit_transaction(batch)
            batch = []
    if batch:
        table.submit_transaction(batch)


def main() -> None:
    from functions import dependencies
    from shared.ports import FixedClock
    from tests import catalogs

    with isolated_app():
        dependencies.use_clock(FixedClock(NOW))
        dependencies.config_store().replace(catalogs.config())
        ledger = dependencies.ledger()
        _store(ledger, ledger._table)
        point_read = median_seconds(lambda: ledger._table.get_entity("ledger", "booking|VL0000000000"), 51)

        counting = CountingTable(ledger._table)
        ledger._table = counting
        service = dependencies.lifecycle_service()
        started = time.perf_counter()
        result = service.sweep()
        sweep_seconds = time.perf_counter() - started
        reads_first = counting.entities_read

        counting.entities_read = 0
        started = time.perf_counter()
        again = service.sweep()
        second_seconds = time.perf_counter() - started

        report("sweep_appointments_on_the_day", TOTAL, "appointments")
        report("sweep_due", result.looked_at, "appointments")
        report("sweep_changed", len(result.changed), "appointments")
        report("sweep_entities_read", reads_first, f"entities (due rows + booking rows = {2 * DUE})")
        report("sweep_seconds", sweep_seconds, "s")
        report("azurite_point_read_median", point_read * 1000, "ms")
        report("sweep_ratio_to_point_read", sweep_seconds / point_read, "x")
        report("sweep_ratio_per_due_appointment", sweep_seconds / point_read / max(result.looked_at, 1), "x point reads")
        report("second_sweep_entities_read", counting.entities_read, "entities")
        report("second_sweep_changed", len(again.changed), "appointments")
        report("second_sweep_seconds", second_seconds, "s")
        dependencies.use_clock(None)


if __name__ == "__main__":
    main()
