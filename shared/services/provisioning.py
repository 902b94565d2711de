"""Side effects of booking events, run from the provisioning queue: the online meeting and the mails.

A booking is stored before any of this runs. Each step is idempotent: the booking records its
meeting and its provisioning progress (ETag-guarded writes), and the mailer records every mail by
its dedup key, so a retried or duplicated queue message repeats nothing that is already done.

What each event (`ProvisioningRequest.event`) does:
  booked       create the meeting of a video booking, then send the confirmation; the progress is
               Booking.provisioning (pending, meeting_created, mail_sent, provisioning_failed)
  rescheduled  move the meeting to the new start and end, then send the "rescheduled" mail
  cancelled    delete the meeting, then send the "cancelled" mail
  any other    send the mail of that kind, such as "reminder"
A mail kind without a template is logged as an error and not sent.

A step that fails with StepFailed is tried again: in process when the remote service asked for a
short wait (Retry-After), otherwise through the queue after an exponential delay. After
RetryPolicy.max_attempts the booking is marked provisioning_failed and an error with the event
name "provisioning_failed" is logged. The booking itself, and its seat, stay as they are.
"""

from __future__ import annotations

import asyncio
import logging
import math
import random
from dataclasses import dataclass
from typing import Awaitable, Callable, Protocol

from pydantic import BaseModel, ConfigDict, Field

from shared.domain.model import Booking, BookingStatus, Channel, Counter, Provisioning, Topic
from shared.ports import Clock, Mailer, Meeting, MeetingProvider, OutgoingMail
from shared.services.ports import BookingLedger, CatalogSource, StaleBooking

logger = logging.getLogger(__name__)

# Stable log event names (the `event` field of the log record's extra), for alert rules.
PROVISIONING_FAILED = "provisioning_failed"
MAIL_OUTCOME_UNKNOWN = "mail_outcome_unknown"

BOOKED = "booked"
RESCHEDULED = "rescheduled"
CANCELLED = "cancelled"
# The mail that an event sends, where its name differs from the event's.
EVENT_MAILS = {BOOKED: "confirmation"}

MAX_RACES = 4
MAX_INLINE_RETRIES = 3
MAX_QUEUE_DELAY_SECONDS = 7 * 24 * 3600  # the maximum visibility timeout of Azure Queue Storage


class StepFailed(Exception):
    """A side effect failed, and a later attempt may succeed.

    `retry_after` is the wait in seconds before the next try: what the remote service asked for
    (HTTP Retry-After), 0 when the next try may follow at once, or None to back off through the queue.
    """

    def __init__(self, message: str, *, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class MeetingWithoutJoinUrl(StepFailed):
    """The meeting provider returned a meeting without a join link, so no mail may go out yet."""


class MailInProgress(StepFailed):
    """Another worker is sending the same mail right now; a later attempt finds out how that ended."""


class MailOutcomeUnknown(Exception):
    """A mail request ended without a definite response, so the mail may have been sent.

    Such a mail is never resent automatically: an operator checks the mailbox's Sent Items.
    """


class ProvisioningRequest(BaseModel):
    """One message of the provisioning queue, as JSON.

    {"reference": "VL...", "event": "booked", "attempt": 1}
    `event` defaults to "booked" and `attempt` to 1. `sequence`, when set, is the booking's
    sequence when the event happened; a message about an older sequence is skipped. Other fields
    are kept unchanged when the message is put back for a retry.
    """

    model_config = ConfigDict(frozen=True, extra="allow")

    reference: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9-]+$")
    event: str = Field(default=BOOKED, pattern=r"^[a-z][a-z_]{0,39}$")
    attempt: int = Field(default=1, ge=1, le=1000)
    sequence: int | None = Field(default=None, ge=0)

    @classmethod
    def parse(cls, body: bytes | str) -> "ProvisioningRequest":
        """Parse a queue message body; raise pydantic.ValidationError for an invalid one."""
        return cls.model_validate_json(body)

    def to_message(self) -> dict:
        return self.model_dump(exclude_none=True)

    def next_attempt(self) -> "ProvisioningRequest":
        return self.model_copy(update={"attempt": self.attempt + 1})


@dataclass(frozen=True)
class RetryPolicy:
    """How often and after how long a failed step is tried again. Durations are in seconds."""

    max_attempts: int = 6
    base_delay: float = 60.0
    max_delay: float = 3600.0
    max_inline_wait: float = 60.0

    def queue_delay(self, attempt: int, retry_after: float | None, fraction: float) -> int:
        """Return the delay before attempt `attempt + 1`, given a random `fraction` in [0, 1).

        With a Retry-After it is that wait plus up to 10 %, so throttled messages do not all come
        back at once. Otherwise it is base_delay * 2^(attempt - 1), capped at max_delay, of which
        a random half is dropped ("equal jitter").
        """
        if retry_after is not None:
            delay = retry_after * (1 + fraction / 10)
        else:
            backoff = min(self.max_delay, self.base_delay * 2 ** (attempt - 1))
            delay = backoff * (0.5 + fraction / 2)
        return min(MAX_QUEUE_DELAY_SECONDS, math.ceil(delay))


@dataclass(frozen=True)
class BookingLinks:
    """The links a mail about one booking contains."""

    join_url: str | None
    manage_url: str
    terms_url: str


class LinkBuilder(Protocol):
    def links_for(self, booking: Booking) -> BookingLinks: ...


class RetryQueue(Protocol):
    """Puts a message back on the provisioning queue, visible after `delay_seconds`."""

    def send(self, message: dict, delay_seconds: int | None = None) -> None: ...


Composer = Callable[[str, Booking, Counter, Topic, BookingLinks], OutgoingMail]
# Composes the alert that asks the agency's team to call a citizen back (an agent-late case).
TeamAlert = Callable[[Booking, Counter, Topic], OutgoingMail]
AGENT_LATE = "agent_late"


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
        *,
        retry_queue: RetryQueue | None = None,
        policy: RetryPolicy = RetryPolicy(),
        mail_kinds: frozenset[str] | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        random_fraction: Callable[[], float] = random.random,
        team_alert: TeamAlert | None = None,
    ) -> None:
        self._ledger = ledger
        self._catalog_source = catalog_source
        self._meetings = meetings
        self._mailer = mailer
        self._links = links
        self._compose = compose
        self._clock = clock
        self._retry_queue = retry_queue
        self._policy = policy
        self._mail_kinds = mail_kinds
        self._sleep = sleep
        self._random_fraction = random_fraction
        self._team_alert = team_alert

    # --- the queue entry point -------------------------------------------------------------

    async def handle(self, request: ProvisioningRequest) -> None:
        """Run the work of one queue message; on a StepFailed, wait in process or put the message back.

        Other exceptions propagate, so the Functions runtime retries the message and finally moves
        it to the poison queue.
        """
        waited = 0.0
        for inline_retry in range(MAX_INLINE_RETRIES + 1):
            try:
                await self.run(request)
                return
            except MailOutcomeUnknown:
                # Logged as an error where the outcome became unknown; nothing is retried.
                return
            except StepFailed as failure:
                wait = failure.retry_after
                if (
                    wait is None
                    or inline_retry == MAX_INLINE_RETRIES
                    or waited + wait > self._policy.max_inline_wait
                ):
                    self._retry_later(request, failure)
                    return
                logger.warning(
                    "%s of %s failed (%s); retrying in process in %.1f s",
                    request.event, request.reference, failure, wait,
                    extra={"reference": request.reference, "provisioning_event": request.event},
                )
                await self._sleep(max(wait, 0.1))
                waited += wait

    async def run(self, request: ProvisioningRequest) -> None:
        """Do the work of one event once. Raises StepFailed or MailOutcomeUnknown when a step fails."""
        if request.event == BOOKED:
            await self.provision(request.reference)
        elif request.event == RESCHEDULED:
            await self._reschedule(request)
        elif request.event == CANCELLED:
            await self._cancel(request)
        else:
            await self._notify(request)

    def _retry_later(self, request: ProvisioningRequest, failure: StepFailed) -> None:
        if self._retry_queue is None:
            raise failure
        if request.attempt >= self._policy.max_attempts:
            self._give_up(request, failure)
            return
        # A zero Retry-After asked for an immediate retry, which already happened in process: back off now.
        retry_after = failure.retry_after or None
        delay = self._policy.queue_delay(request.attempt, retry_after, self._random_fraction())
        self._retry_queue.send(request.next_attempt().to_message(), delay_seconds=delay)
        logger.warning(
            "%s of %s failed on attempt %d of %d (%s); retried in %d s",
            request.event, request.reference, request.attempt, self._policy.max_attempts, failure, delay,
            extra={"reference": request.reference, "provisioning_event": request.event, "attempt": request.attempt},
        )

    def _give_up(self, request: ProvisioningRequest, failure: BaseException | str) -> None:
        """Mark a booking whose booked provisioning failed for good, and log the alert event."""
        if request.event == BOOKED:
            self.mark_failed(request.reference)
        logger.error(
            "provisioning_failed: %s of %s failed after %d attempts: %s",
            request.event, request.reference, request.attempt, failure,
            extra={"event": PROVISIONING_FAILED, "reference": request.reference,
                   "provisioning_event": request.event, "attempt": request.attempt},
        )

    def give_up(self, request: ProvisioningRequest, reason: str) -> None:
        """Record that a message will not be processed any more (the poison queue's handler calls this)."""
        self._give_up(request, reason)

    def mark_failed(self, reference: str) -> None:
        """Set provisioning_failed on a booked booking whose confirmation is not sent yet."""
        found = self._ledger.get(reference)
        if found is None:
            return

        def failed(booking: Booking) -> Booking | None:
            if booking.status is not BookingStatus.BOOKED or booking.provisioning is Provisioning.MAIL_SENT:
                return None
            if booking.provisioning is Provisioning.FAILED:
                return None
            return booking.replace(provisioning=Provisioning.FAILED)

        self._change(*found, failed)

    # --- events ----------------------------------------------------------------------------

    async def provision(self, reference: str) -> Booking | None:
        """Bring a booking's meeting and confirmation mail up to date.

        Returns the booking, or None when it does not exist. Raises StepFailed when a step fails
        and MailOutcomeUnknown when the confirmation may or may not have been sent.
        """
        found = self._ledger.get(reference)
        if found is None:
            logger.warning("provisioning skipped: booking %s not found", reference, extra={"reference": reference})
            return None
        booking, etag = found
        if booking.status is not BookingStatus.BOOKED or booking.provisioning is Provisioning.MAIL_SENT:
            return booking

        if booking.channel is Channel.VIDEO and not booking.join_url:
            meeting = _checked(await self._meetings.create_or_get(booking), reference)
            booking, etag = self._change(booking, etag, lambda current: _with_first_meeting(current, meeting))
            if booking.status is not BookingStatus.BOOKED and booking.meeting_id is None:
                # Cancelled while the meeting was being created: the cancellation found no meeting to delete.
                await self._meetings.delete(booking.replace(meeting_id=meeting.id, join_url=meeting.join_url))
                return booking
            logger.info("meeting created for %s", reference, extra={"reference": reference})
        if booking.status is not BookingStatus.BOOKED:
            return booking
        if booking.channel is Channel.VIDEO and not booking.join_url:
            raise MeetingWithoutJoinUrl(f"booking {reference} has no join link yet")

        await self._send_mail(EVENT_MAILS[BOOKED], booking)
        booking, etag = self._change(booking, etag, _with_mail_sent)
        logger.info("confirmation sent for %s", reference, extra={"reference": reference})
        return booking

    async def _reschedule(self, request: ProvisioningRequest) -> None:
        loaded = self._load_current(request)
        if loaded is None:
            return
        booking, etag = loaded
        if booking.status is not BookingStatus.BOOKED:
            return
        if booking.channel is Channel.VIDEO:
            if booking.meeting_id:
                meeting = await self._meetings.update(booking)
            else:
                meeting = await self._meetings.create_or_get(booking)
            meeting = _checked(meeting, booking.reference)
            booking, etag = self._change(booking, etag, lambda current: _with_meeting(current, meeting))
            logger.info("meeting of %s moved", booking.reference, extra={"reference": booking.reference})
        await self._send_mail(RESCHEDULED, booking)

    async def _cancel(self, request: ProvisioningRequest) -> None:
        loaded = self._load_current(request)
        if loaded is None:
            return
        booking, etag = loaded
        if booking.channel is Channel.VIDEO and booking.meeting_id:
            await self._meetings.delete(booking)
            booking, etag = self._change(booking, etag, _without_meeting)
            logger.info("meeting of %s deleted", booking.reference, extra={"reference": booking.reference})
        await self._send_mail(CANCELLED, booking)

    async def _notify(self, request: ProvisioningRequest) -> None:
        loaded = self._load_current(request)
        if loaded is None:
            return
        await self._send_mail(request.event, loaded[0])
        if request.event == AGENT_LATE and self._team_alert is not None:
            booking = loaded[0]
            catalog = self._catalog_source.catalog()
            alert = self._team_alert(booking, catalog.counters[booking.counter_id], catalog.topics[booking.topic_id])
            await self._mailer.send(alert)

    # --- steps -----------------------------------------------------------------------------

    def _load_current(self, request: ProvisioningRequest) -> tuple[Booking, str] | None:
        """Read the booking; None when it is missing or has moved past the event's sequence."""
        found = self._ledger.get(request.reference)
        if found is None:
            logger.warning("%s skipped: booking %s not found", request.event, request.reference,
                           extra={"reference": request.reference})
            return None
        if request.sequence is not None and found[0].sequence != request.sequence:
            logger.info(
                "%s of %s skipped: the booking is at sequence %d, the message at %d",
                request.event, request.reference, found[0].sequence, request.sequence,
                extra={"reference": request.reference},
            )
            return None
        return found

    async def _send_mail(self, kind: str, booking: Booking) -> None:
        if self._mail_kinds is not None and kind not in self._mail_kinds:
            logger.error(
                "no mail template for %s, so the %s mail of %s is not sent",
                kind, kind, booking.reference, extra={"reference": booking.reference, "mail_kind": kind},
            )
            return
        catalog = self._catalog_source.catalog()
        counter = catalog.counters[booking.counter_id]
        topic = catalog.topics[booking.topic_id]
        mail = self._compose(kind, booking, counter, topic, self._links.links_for(booking))
        await self._mailer.send(mail)

    def _change(
        self, booking: Booking, etag: str, change: Callable[[Booking], Booking | None]
    ) -> tuple[Booking, str]:
        """Store `change(booking)` under the ETag; after a lost race, re-read and apply it again.

        `change` returns None when the booking needs no change.
        """
        for _ in range(MAX_RACES):
            changed = change(booking)
            if changed is None:
                return booking, etag
            try:
                return changed, self._ledger.update(changed, etag)
            except StaleBooking:
                found = self._ledger.get(booking.reference)
                if found is None:
                    return booking, etag
                booking, etag = found
        raise StepFailed(f"booking {booking.reference} kept changing while it was updated")


def _checked(meeting: Meeting, reference: str) -> Meeting:
    if not meeting.join_url:
        raise MeetingWithoutJoinUrl(f"the meeting of {reference} has no join link")
    return meeting


def _with_first_meeting(booking: Booking, meeting: Meeting) -> Booking | None:
    if booking.join_url or booking.status is not BookingStatus.BOOKED:
        return None  # stored first by another worker (createOrGet gave both the same meeting), or cancelled
    return booking.replace(meeting_id=meeting.id, join_url=meeting.join_url, provisioning=Provisioning.MEETING_CREATED)


def _with_meeting(booking: Booking, meeting: Meeting) -> Booking | None:
    if (booking.meeting_id, booking.join_url) == (meeting.id, meeting.join_url):
        return None
    return booking.replace(meeting_id=meeting.id, join_url=meeting.join_url)


def _without_meeting(booking: Booking) -> Booking | None:
    if booking.meeting_id is None and booking.join_url is None:
        return None
    return booking.replace(meeting_id=None, join_url=None)


def _with_mail_sent(booking: Booking) -> Booking | None:
    if booking.provisioning is Provisioning.MAIL_SENT:
        return None
    return booking.replace(provisioning=Provisioning.MAIL_SENT)
