"""Slot query and booking against Azurite with 20 agents and 2,000 existing bookings.

Targets: a 30-day video slot query costs at most 10 point reads, and its number of Table requests
does not grow with the number of agents; one booking costs at most 4 point reads.
"""

from __future__ import annotations

import itertools
import statistics
import time
from datetime import datetime

from benchmarks.support import counting_transport, isolated_app, report

NOW = datetime.fromisoformat("2027-03-01T08:00:00+01:00")
WEEKDAYS = {day: ["08:00-12:00", "13:00-17:00"] for day in ("mon", "tue", "wed", "thu", "fri")}


def _config(agent_count: int):
    from tests import catalogs

    return catalogs.config(
        counters=[catalogs.video_counter(hours=WEEKDAYS, slot_minutes=30)],
        agents=[catalogs.agent(f"agent-{i:02d}", ("nl", "fr"), schedule=WEEKDAYS) for i in range(agent_count)],
        min_lead_minutes=60,
        horizon_days=30,
    )


def _people() -> itertools.count:
    return itertools.count(1)


def _national_number(index: int) -> str:
    from tests.people import national_number

    birth = f"{60 + index // 997:02d}0101"
    return national_number(index % 997 + 1, birth=birth)


def _request(start, index: int):
    from shared.domain.model import Channel, PersonalData
    from shared.services.booking import BookingRequest

    personal = PersonalData("Bench", "Mark", f"bench{index}@example.be", "+32470000000", _national_number(index), "9000")
    return BookingRequest(Channel.VIDEO, "payments", None, start, "9000", None, personal, "2026-01")


def _service_with_counter():
    """Build the booking service on a table client whose requests are counted."""
    from azure.data.tables import TableServiceClient

    from functions import dependencies
    from shared.adapters.storage import connection_string, ensure_table
    from shared.settings import get_settings

    settings = get_settings()
    counter = counting_transport()
    service_client = TableServiceClient.from_connection_string(connection_string(settings), transport=counter)
    dependencies.table_service.cache_clear()
    dependencies.reset()
    original = dependencies.table_service
    dependencies.table_service = lambda: service_client  # type: ignore[assignment]
    try:
        service = dependencies.booking_service()
        ledger_table = ensure_table(service_client, f"{settings.table_prefix}ledger")
    finally:
        dependencies.table_service = original  # type: ignore[assignment]
    return service, counter, ledger_table


def _slot_requests(agent_count: int) -> int:
    """Return the Table requests of one 30-day slot query with `agent_count` agents (catalog cached)."""
    from functions import dependencies
    from shared.domain.model import Channel
    from shared.services.booking import SlotQuery

    dependencies.config_store().replace(_config(agent_count))
    service, counter, _ = _service_with_counter()
    query = SlotQuery(Channel.VIDEO, "payments", "9000")
    service.find_slots(query)  # loads and caches the catalog
    before = counter.requests
    service.find_slots(query)
    return counter.requests - before


def main() -> None:
    from functions import dependencies
    from shared.domain.model import Channel
    from shared.ports import FixedClock
    from shared.services.booking import SlotQuery

    with isolated_app():
        dependencies.use_clock(FixedClock(NOW))
        requests_with_5 = _slot_requests(5)
        requests_with_20 = _slot_requests(20)

        service, counter, ledger_table = _service_with_counter()
        query = SlotQuery(Channel.VIDEO, "payments", "9000")
        starts = [slot.start for slot in service.find_slots(query).slots]
        people = _people()
        seats = [(start, seat) for start in starts for seat in range(20)]
        for start, _ in seats[:2000]:
            service.book(_request(start, next(people)))
        report("existing_bookings", 2000, "bookings")

        sample_key = next(iter(ledger_table.list_entities(results_per_page=1, select=["RowKey"])))["RowKey"]
        free_starts = iter([slot.start for slot in service.find_slots(query).slots] * 20)
        before = counter.requests
        service.find_slots(query)
        requests_per_query = counter.requests - before

        # Interleaved: each round times one point read, one slot query and one booking, so a change in
        # the machine's speed during the run affects all three alike.
        samples: dict[str, list[float]] = {"read": [], "slots": [], "book": []}
        actions = {
            "read": lambda: ledger_table.get_entity("ledger", sample_key),
            "slots": lambda: service.find_slots(query),
            "book": lambda: service.book(_request(next(free_starts), next(people))),
        }
        for round_number in range(45):
            for name, action in actions.items():
                started = time.perf_counter()
                action()
                if round_number >= 5:  # warm-up rounds are not counted
                    samples[name].append(time.perf_counter() - started)
        point_read, slot_query, booking = (statistics.median(samples[name]) for name in ("read", "slots", "book"))

        report("azurite_point_read_median", point_read * 1000, "ms")
        report("slot_query_30_days_median", slot_query * 1000, "ms")
        report("slot_query_ratio_to_point_read", slot_query / point_read, "x (target <= 10)")
        report("slot_query_table_requests_5_agents", requests_with_5, "requests")
        report("slot_query_table_requests_20_agents", requests_with_20, "requests")
        report("slot_query_table_requests_2000_bookings", requests_per_query, "requests")
        report("booking_median", booking * 1000, "ms")
        report("booking_ratio_to_point_read", booking / point_read, "x (target <= 4)")
        dependencies.use_clock(None)


if __name__ == "__main__":
    main()
