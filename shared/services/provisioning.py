"""After a booking is stored: create its online meeting, then send its confirmation mail.

Each step is idempotent and recorded on the booking before the next one starts, so a retried or
duplicated queue message repeats nothing that is already done.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Callable, Protocol

from shared.domain.model import Booking, BookingStatus, Channel, Counter, Provisioning, Topic
from shared.ports import Clock, Mailer, MeetingProvider, OutgoingMail
from shared.services.ports import BookingLedger, CatalogSource

logger = logging.getLogger(__name__)


class MeetingWithoutJoinUrl(Exception):
    """The meeting provider returned a meeting without a join link; the step is retried."""


@dataclass(frozen=True)
class BookingLinks:
    """The links a mail about one booking carries."""

    join_url: str | None
    manage_url: str
    terms_url: str


class LinkBuilder(Protocol):
    def links_for(self, booking: Booking) -> BookingLinks: ...


Composer = Callable[[str, Booking, Counter, Topic, BookingLinks], OutgoingMail]


class ProvisioningService:
    def __init__(
        self,
        ledger: BookingLedger,
        catalog_source: CatalogSource,
        meetings: MeetingProvider,
        mailer: Mailer,
        links: LinkBuilder,
        compose: Composer,
        clock: Clock,
    ) -> None:
        self._ledger = ledger
        self._catalog_source = catalog_source
        self._meetings = meetings
        self._mailer = mailer
        self._links = links
        self._compose = compose
        self._clock = clock

    async def provision(self, reference: str) -> Booking | None:
        """Bring a booking's meeting and confirmation mail up to date. Returns the booking, or
        None when it no longer exists."""
        found = self._ledger.get(reference)
        if found is None:
            logger.warning("provisioning skipped: booking %s not found", reference, extra={"reference": reference})
            return None
        booking, etag = found
        if booking.status is not BookingStatus.BOOKED or booking.provisioning is Provisioning.MAIL_SENT:
            return booking

        if booking.channel is Channel.VIDEO and not booking.join_url:
            meeting = await self._meetings.create_or_get(booking)
            if not meeting.join_url:
                raise MeetingWithoutJoinUrl(reference)
            booking = booking.replace(
                meeting_id=meeting.id, join_url=meeting.join_url, provisioning=Provisioning.MEETING_CREATED
            )
            etag = self._ledger.update(booking, etag)
            logger.info("meeting created for %s", reference, extra={"reference": reference})

        catalog = self._catalog_source.catalog()
        counter = catalog.counters[booking.counter_id]
        topic = catalog.topics[booking.topic_id]
        mail = self._compose("confirmation", booking, counter, topic, self._links.links_for(booking))
        await self._mailer.send(mail)
        booking = booking.replace(provisioning=Provisioning.MAIL_SENT)
        self._ledger.update(booking, etag)
        logger.info("confirmation sent for %s", reference, extra={"reference": reference})
        return booking
