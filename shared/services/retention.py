"""Retention: personal data is deleted a fixed time after the appointment; the appointment, its
statuses and its audit trail stay, anonymised, for statistics and accountability."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta

from shared.ports import Clock
from shared.services.ports import StaleBooking

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class PurgeReport:
    purged: int
    skipped: int


class RetentionService:
    def __init__(self, ledger, clock: Clock, retention: timedelta) -> None:
        self._ledger = ledger
        self._clock = clock
        self._retention = retention

    def purge(self) -> PurgeReport:
        """Delete the personal data of every appointment that ended more than the retention period ago.
        Running it twice purges nothing the second time."""
        cutoff = self._clock.now() - self._retention
        purged = skipped = 0
        for booking, etag in self._ledger.ended_with_personal_data(cutoff):
            try:
                self._ledger.purge(booking, etag)
                purged += 1
            except StaleBooking:
                skipped += 1  # changed meanwhile; the next run purges it
        logger.info("purged personal data of %d appointments, %d skipped", purged, skipped,
                    extra={"changed": purged, "due": purged + skipped})
        return PurgeReport(purged, skipped)
