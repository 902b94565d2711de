"""No overbooking: parallel bookings on one slot, from threads and from separate processes."""

import multiprocessing
import os
from collections import Counter
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor

from tests import catalogs
from tests.api import call
from tests.people import booking_body

TUESDAY_NINE = "2027-03-23T09:00:00+01:00"


def _book(serial: int) -> tuple[int, str]:
    response = call("create_booking", "POST", body=booking_body(TUESDAY_NINE, serial=serial))
    return response.status, response.json().get("error", "")


def _rows_by_kind(rows):
    return Counter(row["RowKey"].split("|", 1)[0] for row in rows)


def test_last_seats_go_to_exactly_three_of_twenty_parallel_bookings(configure, ledger_rows):
    configure(catalogs.config(agents=[catalogs.agent(f"a{i}") for i in range(3)]))

    with ThreadPoolExecutor(max_workers=20) as pool:
        results = list(pool.map(_book, range(1, 21)))

    assert Counter(results) == {(201, ""): 3, (409, "slot_taken"): 17}
    assert _rows_by_kind(ledger_rows()) == {"booking": 3, "seat": 3, "person": 3, "due": 3, "agenda": 3, "audit": 3}


def _book_in_process(environment: dict, clock_iso: str, serials: list[int]) -> list[tuple[int, str]]:
    from datetime import datetime

    os.environ.update(environment)
    from functions import dependencies
    from tests.api import SettableClock

    dependencies.use_clock(SettableClock(datetime.fromisoformat(clock_iso)))
    with ThreadPoolExecutor(max_workers=len(serials)) as pool:
        return list(pool.map(_book, serials))


def test_parallel_instances_never_overbook(configure, ledger_rows, clock):
    configure(catalogs.config(agents=[catalogs.agent(f"a{i}") for i in range(5)]))
    environment = {k: v for k, v in os.environ.items() if k in ("AzureWebJobsStorage", "TABLE_PREFIX", "OUTBOX_DIR")}
    batches = [list(range(start, start + 6)) for start in (1, 7, 13, 19)]

    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=4, mp_context=context) as pool:
        futures = [pool.submit(_book_in_process, environment, clock.now().isoformat(), batch) for batch in batches]
        results = [result for future in futures for result in future.result(timeout=120)]

    assert Counter(results) == {(201, ""): 5, (409, "slot_taken"): 19}
    assert _rows_by_kind(ledger_rows()) == {"booking": 5, "seat": 5, "person": 5, "due": 5, "agenda": 5, "audit": 5}
