"""Helpers for the webhook tests: a booking with personal data, and reading the webhook queue in Azurite."""

from __future__ import annotations

import base64
import time
from datetime import datetime, timedelta, timezone

from azure.functions.queue import QueueMessage

from shared.adapters.storage import queue_client
from shared.adapters.webhooks import Delivery
from shared.domain.model import Booking, Channel, Language, PersonalData
from shared.settings import Settings

SECRET = "test-webhook-secret-0123456789abcdefghij"
PERSONAL = PersonalData(
    first_name="Griet",
    last_name="Vandenbroucke",
    email="griet.vandenbroucke@example.be",
    phone="+32478554433",
    national_number="85071412330",
    postcode="9000",
)
# Tuesday 30 March 2027, 09:00 in Brussels (summer time, UTC+2).
START = datetime(2027, 3, 30, 7, 0, tzinfo=timezone.utc)
OCCURRED_AT = datetime(2027, 3, 22, 8, 15, 30, 250_000, tzinfo=timezone.utc)


def make_booking(**changes) -> Booking:
    booking = Booking(
        reference="VL-4R8T-K2",
        counter_id="video",
        channel=Channel.VIDEO,
        topic_id="payments",
        language=Language.FRENCH,
        start=START,
        end=START + timedelta(minutes=30),
        agent_id="agent-7",
        personal=PERSONAL,
        terms_version="2026-01",
        created_at=datetime(2027, 3, 20, 10, 0, tzinfo=timezone.utc),
        manage_token_hash="f" * 64,
        join_url="https://teams.example.test/l/meetup-join/secret-meeting",
        meeting_id="meeting-123",
    )
    return booking.replace(**changes)


def webhook_queue_client(settings: Settings):
    """Return a client of the test's webhook queue, built the way the app builds its own."""
    return queue_client(settings, settings.webhook_queue)


def message_count(settings: Settings) -> int:
    """Return the number of messages on the webhook queue, visible or not (Azurite counts both), or 0 without a queue."""
    from azure.core.exceptions import ResourceNotFoundError

    try:
        return webhook_queue_client(settings).get_queue_properties().approximate_message_count
    except ResourceNotFoundError:
        return 0


def take_messages(settings: Settings, wait_seconds: float = 0.0) -> list[QueueMessage]:
    """Receive and delete the visible messages, as the Functions host hands them to the trigger.

    Waits up to `wait_seconds` for at least one to become visible.
    """
    client = webhook_queue_client(settings)
    deadline = time.monotonic() + wait_seconds
    while True:
        received = list(client.receive_messages(messages_per_page=32, visibility_timeout=60))
        if received or time.monotonic() >= deadline:
            break
        time.sleep(0.2)
    messages = []
    for item in received:
        # The app sends base64 text (TextBase64EncodePolicy), and the host decodes it before the trigger runs.
        body = base64.b64decode(item.content)
        messages.append(QueueMessage(id=item.id, body=body, dequeue_count=item.dequeue_count))
        client.delete_message(item)
    return messages


def take_deliveries(settings: Settings, wait_seconds: float = 0.0) -> list[Delivery]:
    return [Delivery.from_message(message.get_body()) for message in take_messages(settings, wait_seconds)]
