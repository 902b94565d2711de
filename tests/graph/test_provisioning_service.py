"""ProvisioningService with in-memory fakes: the message contract, retry delays and the decisions per event."""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timezone

import pytest
from pydantic import ValidationError

from shared.domain.model import BookingStatus, Channel, Provisioning
from shared.ports import FixedClock, Meeting, OutgoingMail
from shared.services.ports import StaleBooking
from shared.services.provisioning import (
    BookingLinks,
    MailOutcomeUnknown,
    ProvisioningRequest,
    ProvisioningService,
    RetryPolicy,
    StepFailed,
)
from tests import catalogs
from tests.factories import make_booking

REFERENCE = "VL0000000001"
NOW = datetime(2027, 3, 22, 8, 0, tzinfo=timezone.utc)


class MemoryLedger:
    """Bookings with ETags, like the Table Storage ledger. `before_update` runs once before the next update."""

    def __init__(self, booking) -> None:
        self.bookings = {booking.reference: booking}
        self.etags = {booking.reference: "1"}
        self.before_update = None

    def get(self, reference):
        if reference not in self.bookings:
            return None
        return self.bookings[reference], self.etags[reference]

    def update(self, booking, etag):
        if self.before_update is not None:
            hook, self.before_update = self.before_update, None
            hook()
        if self.etags[booking.reference] != etag:
            raise StaleBooking(booking.reference)
        self.bookings[booking.reference] = booking
        self.etags[booking.reference] = str(int(etag) + 1)
        return self.etags[booking.reference]


class FakeMeetings:
    def __init__(self, failures=None) -> None:
        self.failures = list(failures or [])
        self.created = 0
        self.updated = 0
        self.deleted: list[str] = []

    async def create_or_get(self, booking):
        if self.failures:
            raise self.failures.pop(0)
        self.created += 1
        return Meeting(id=f"organizer|{booking.reference}", join_url=f"https://teams.example/{booking.reference}")

    async def update(self, booking):
        self.updated += 1
        return Meeting(id=booking.meeting_id, join_url=booking.join_url)

    async def delete(self, booking):
        self.deleted.append(booking.meeting_id)


class FakeMailer:
    def __init__(self, failures=None) -> None:
        self.failures = list(failures or [])
        self.sent: list[str] = []

    async def send(self, mail: OutgoingMail) -> None:
        if self.failures:
            raise self.failures.pop(0)
        self.sent.append(mail.dedup_key)


class RecordingQueue:
    def __init__(self) -> None:
        self.messages: list[tuple[dict, int | None]] = []

    def send(self, message, delay_seconds=None):
        self.messages.append((message, delay_seconds))


class Links:
    def links_for(self, booking):
        return BookingLinks(join_url=f"https://api.example/join/{booking.reference}",
                            manage_url="https://site.example/manage", terms_url="https://site.example/terms")


class Catalog:
    def catalog(self):
        return catalogs.catalog()


def compose(kind, booking, counter, topic, links):
    return OutgoingMail(to="jan@example.be", subject=kind, text="t", html="<p>h</p>",
                        dedup_key=f"{booking.reference}:{kind}:{booking.sequence}")


def new_booking(**changes):
    values = {"reference": REFERENCE, "counter_id": "video", "topic_id": "payments", "agent_id": "a1",
              "join_url": None, "meeting_id": None}
    values.update(changes)
    return make_booking().replace(**values)


class Harness:
    def __init__(self, booking=None, meetings=None, mailer=None, policy=RetryPolicy(), mail_kinds=None):
        self.ledger = MemoryLedger(booking or new_booking())
        self.meetings = meetings or FakeMeetings()
        self.mailer = mailer or FakeMailer()
        self.queue = RecordingQueue()
        self.sleeps: list[float] = []
        self.service = ProvisioningService(
            self.ledger, Catalog(), self.meetings, self.mailer, Links(), compose, FixedClock(NOW),
            retry_queue=self.queue, policy=policy, mail_kinds=mail_kinds,
            sleep=self._sleep, random_fraction=lambda: 0.5,
        )

    async def _sleep(self, seconds):
        self.sleeps.append(seconds)

    def handle(self, **message):
        asyncio.run(self.service.handle(ProvisioningRequest(reference=REFERENCE, **message)))

    @property
    def booking(self):
        return self.ledger.bookings[REFERENCE]


# --- the message contract ---------------------------------------------------------------------


def test_message_defaults_to_booked_and_first_attempt():
    request = ProvisioningRequest.parse(b'{"reference": "VL0000000001"}')

    assert request.event == "booked"
    assert request.attempt == 1
    assert request.to_message() == {"reference": "VL0000000001", "event": "booked", "attempt": 1}


def test_retry_message_keeps_unknown_fields_and_counts_up():
    request = ProvisioningRequest.parse(b'{"reference": "VL0000000001", "event": "cancelled", "sequence": 2, '
                                        b'"origin": "agent"}')

    retried = request.next_attempt().to_message()

    assert retried == {"reference": "VL0000000001", "event": "cancelled", "attempt": 2, "sequence": 2,
                       "origin": "agent"}


@pytest.mark.parametrize("body", [
    b"{}",
    b'{"reference": ""}',
    b'{"reference": "VL1", "attempt": 0}',
    b'{"reference": "VL1", "event": "Booked!"}',
    b'{"reference": "VL 1"}',
    b"not json",
])
def test_invalid_messages_are_rejected(body):
    with pytest.raises(ValidationError):
        ProvisioningRequest.parse(body)


# --- retry delays -----------------------------------------------------------------------------


@pytest.mark.parametrize("attempt, fraction, expected", [
    (1, 0.0, 30), (1, 0.999, 60), (2, 0.0, 60), (3, 0.5, 180), (10, 0.0, 1800), (10, 0.999, 3599),
])
def test_queue_delay_doubles_with_jitter(attempt, fraction, expected):
    assert RetryPolicy(base_delay=60, max_delay=3600).queue_delay(attempt, None, fraction) == expected


def test_queue_delay_is_never_shorter_than_retry_after():
    policy = RetryPolicy(base_delay=60)

    assert policy.queue_delay(1, 120.0, 0.0) == 120
    assert policy.queue_delay(1, 120.0, 0.999) == 132
    assert policy.queue_delay(1, 30 * 24 * 3600.0, 0.0) == 7 * 24 * 3600


# --- retries ----------------------------------------------------------------------------------


def test_failed_step_requeues_next_attempt():
    harness = Harness(meetings=FakeMeetings(failures=[StepFailed("HTTP 503")]))

    harness.handle()

    assert harness.queue.messages == [({"reference": REFERENCE, "event": "booked", "attempt": 2}, 45)]
    assert harness.mailer.sent == []
    assert harness.booking.provisioning is Provisioning.PENDING


def test_short_retry_after_is_slept_in_process():
    harness = Harness(meetings=FakeMeetings(failures=[StepFailed("HTTP 429", retry_after=2.0)]))

    harness.handle()

    assert harness.sleeps == [2.0]
    assert harness.queue.messages == []
    assert harness.booking.provisioning is Provisioning.MAIL_SENT


def test_inline_waits_stop_at_the_budget():
    failures = [StepFailed("HTTP 429", retry_after=40.0), StepFailed("HTTP 429", retry_after=40.0)]
    harness = Harness(meetings=FakeMeetings(failures=failures), policy=RetryPolicy(max_inline_wait=60))

    harness.handle()

    assert harness.sleeps == [40.0]
    assert harness.queue.messages == [({"reference": REFERENCE, "event": "booked", "attempt": 2}, 42)]


def test_last_attempt_marks_failed(caplog):
    harness = Harness(meetings=FakeMeetings(failures=[StepFailed("HTTP 503")]), policy=RetryPolicy(max_attempts=3))

    with caplog.at_level(logging.ERROR):
        harness.handle(attempt=3)

    assert harness.queue.messages == []
    assert harness.booking.provisioning is Provisioning.FAILED
    assert harness.booking.status is BookingStatus.BOOKED
    (alert,) = [record for record in caplog.records if getattr(record, "event", None) == "provisioning_failed"]
    assert alert.reference == REFERENCE


def test_unknown_mail_outcome_ends_without_retry():
    harness = Harness(mailer=FakeMailer(failures=[MailOutcomeUnknown("timed out")]))

    harness.handle()

    assert harness.queue.messages == []
    assert harness.booking.provisioning is Provisioning.MEETING_CREATED


# --- events -----------------------------------------------------------------------------------


def test_booked_creates_meeting_then_sends_confirmation():
    harness = Harness()

    harness.handle()

    assert harness.meetings.created == 1
    assert harness.mailer.sent == [f"{REFERENCE}:confirmation:0"]
    assert harness.booking.join_url == f"https://teams.example/{REFERENCE}"
    assert harness.booking.provisioning is Provisioning.MAIL_SENT


def test_booked_twice_changes_nothing_the_second_time():
    harness = Harness()

    harness.handle()
    harness.handle()

    assert harness.meetings.created == 1
    assert harness.mailer.sent == [f"{REFERENCE}:confirmation:0"]


def test_office_booking_gets_no_meeting():
    harness = Harness(booking=new_booking(channel=Channel.OFFICE))

    harness.handle()

    assert harness.meetings.created == 0
    assert harness.mailer.sent == [f"{REFERENCE}:confirmation:0"]


def test_cancellation_during_meeting_creation_deletes_the_new_meeting():
    harness = Harness()

    def cancel_meanwhile():
        cancelled = harness.booking.replace(status=BookingStatus.CANCELLED, sequence=1)
        harness.ledger.bookings[REFERENCE] = cancelled
        harness.ledger.etags[REFERENCE] = "99"

    harness.ledger.before_update = cancel_meanwhile

    harness.handle()

    assert harness.meetings.deleted == [f"organizer|{REFERENCE}"]
    assert harness.mailer.sent == []
    assert harness.booking.join_url is None


def test_cancelled_deletes_the_meeting_and_sends_the_cancellation():
    booking = new_booking(status=BookingStatus.CANCELLED, sequence=1, meeting_id="organizer|m1",
                          join_url="https://teams.example/m1")
    harness = Harness(booking=booking)

    harness.handle(event="cancelled", sequence=1)

    assert harness.meetings.deleted == ["organizer|m1"]
    assert harness.booking.meeting_id is None
    assert harness.booking.join_url is None
    assert harness.mailer.sent == [f"{REFERENCE}:cancelled:1"]


def test_rescheduled_moves_the_meeting_and_sends_the_mail():
    booking = new_booking(sequence=1, meeting_id="organizer|m1", join_url="https://teams.example/m1")
    harness = Harness(booking=booking)

    harness.handle(event="rescheduled", sequence=1)

    assert harness.meetings.updated == 1
    assert harness.mailer.sent == [f"{REFERENCE}:rescheduled:1"]


def test_event_for_an_older_sequence_is_skipped():
    harness = Harness(booking=new_booking(sequence=2))

    harness.handle(event="reminder", sequence=1)

    assert harness.mailer.sent == []


def test_mail_kind_without_template_skipped(caplog):
    harness = Harness(mail_kinds=frozenset({"confirmation", "cancelled"}))

    with caplog.at_level(logging.ERROR):
        harness.handle(event="agent_late")

    assert harness.mailer.sent == []
    assert "no mail template for agent_late" in caplog.text
    assert harness.queue.messages == []
