"""Delivering queued webhook events to a receiver on 127.0.0.1, with Azurite as the webhook queue."""

from __future__ import annotations

import json
import logging
import socket
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime

import pytest
from azure.functions.queue import QueueMessage

from functions import dependencies
from shared.adapters.webhooks import FAILED_EVENT_NAME, Delivery, Outcome, WebhookDelivery
from shared.domain import events
from shared.ports import FixedClock, SystemClock
from tests.webhooks.support import SECRET, OCCURRED_AT, make_booking, message_count, take_deliveries, take_messages


def publish_one(settings, event: str = "booked") -> Delivery:
    """Publish one event to the single configured URL and take its queue message."""
    dependencies.webhook_publisher().publish(event, make_booking(), OCCURRED_AT, {"reason": "test"})
    [delivery] = take_deliveries(settings)
    return delivery


def build_delivery(settings, **overrides) -> WebhookDelivery:
    """Build a WebhookDelivery like the composition root does, with some options changed."""
    options = {
        "queue": dependencies.webhook_queue(),
        "secret": SECRET.encode(),
        "urls": settings.webhook_url_list(),
        "max_attempts": settings.webhook_max_attempts,
        "timeout_seconds": settings.webhook_timeout_seconds,
        "clock": SystemClock(),
    }
    options.update(overrides)
    return WebhookDelivery(**options)


def closed_port_url() -> str:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}/hook"


# --- through the queue trigger ---


def test_trigger_binds_webhook_queue(deliver_webhook_function) -> None:
    trigger = deliver_webhook_function.get_trigger().get_dict_repr()

    assert trigger["type"] == "queueTrigger"
    assert trigger["queueName"] == "%WEBHOOK_QUEUE%"
    assert trigger["connection"] == "AzureWebJobsStorage"


def test_published_event_arrives_signed(configure_webhooks, receiver, deliver_webhook_function) -> None:
    settings = configure_webhooks(receiver.url())
    dependencies.webhook_publisher().publish("cancelled", make_booking(), OCCURRED_AT, {"reason": "cancelled_by_client"})
    [message] = take_messages(settings)

    deliver_webhook_function.get_user_function()(message)

    [request] = receiver.requests
    queued = Delivery.from_message(message.get_body())
    assert request.signature_valid
    assert request.path == "/hook"
    assert request.body == queued.body
    assert request.headers["Content-Type"] == "application/json"
    assert request.headers[events.EVENT_HEADER] == "cancelled"
    assert request.headers[events.EVENT_ID_HEADER] == json.loads(request.body)["id"]
    assert request.headers["User-Agent"].startswith("videoloket-webhooks/")
    assert json.loads(request.body)["details"] == {"reason": "cancelled_by_client"}
    assert message_count(settings) == 0


def test_duplicate_queue_delivery_repeats_event_id(configure_webhooks, receiver, deliver_webhook_function) -> None:
    settings = configure_webhooks(receiver.url())
    dependencies.webhook_publisher().publish("booked", make_booking(), OCCURRED_AT)
    [message] = take_messages(settings)
    trigger = deliver_webhook_function.get_user_function()

    trigger(message)
    trigger(QueueMessage(id=message.id, body=message.get_body(), dequeue_count=2))

    assert len(receiver.requests) == 2
    assert all(request.signature_valid for request in receiver.requests)
    assert receiver.requests[0].body == receiver.requests[1].body
    per_event = receiver.deliveries_per_event()
    assert len(per_event) == 1, "a receiver deduplicating by event id keeps one delivery"
    assert list(per_event.values()) == [2]


def test_trigger_queues_retry_invisible(configure_webhooks, receiver, deliver_webhook_function) -> None:
    settings = configure_webhooks(receiver.url())
    receiver.reply(503)
    dependencies.webhook_publisher().publish("booked", make_booking(), OCCURRED_AT)
    [message] = take_messages(settings)

    deliver_webhook_function.get_user_function()(message)

    assert len(receiver.requests) == 1
    assert message_count(settings) == 1
    assert take_messages(settings) == [], "the retry must wait out its visibility delay"


def test_trigger_drops_malformed_message(configure_webhooks, deliver_webhook_function, caplog) -> None:
    configure_webhooks("https://one.example.test/hook")

    with caplog.at_level(logging.ERROR, logger="functions.webhooks"):
        deliver_webhook_function.get_user_function()(QueueMessage(id="m-1", body=b"not json", dequeue_count=1))

    assert "dropped webhook message m-1" in caplog.text


# --- retries ---


def test_503_then_200_delivers_on_attempt_2(configure_webhooks, receiver) -> None:
    settings = configure_webhooks(receiver.url())
    receiver.reply(503)
    first = publish_one(settings)
    delivery = build_delivery(settings, first_retry_delay=1)

    result = delivery.deliver(first)
    [second] = take_deliveries(settings, wait_seconds=10)
    final = delivery.deliver(second)

    assert (result.outcome, result.status, result.delay_seconds) == (Outcome.RETRY_QUEUED, 503, 1)
    assert second.attempt == 2
    assert second.event_id == first.event_id
    assert second.body == first.body
    assert (final.outcome, final.status) == (Outcome.DELIVERED, 200)
    assert [r.signature_valid for r in receiver.requests] == [True, True]
    assert len(receiver.deliveries_per_event()) == 1


def test_first_retry_waits_30_seconds(configure_webhooks, receiver) -> None:
    settings = configure_webhooks(receiver.url())
    receiver.reply(500)

    result = dependencies.webhook_delivery().deliver(publish_one(settings))

    assert (result.outcome, result.status, result.delay_seconds) == (Outcome.RETRY_QUEUED, 500, 30)


@pytest.mark.parametrize(
    ("attempt", "delay"),
    [(1, 30), (2, 60), (3, 120), (4, 240), (5, 480), (6, 960), (7, 1920), (8, 3600), (12, 3600)],
)
def test_retry_delay_doubles_up_to_one_hour(configure_webhooks, receiver, attempt: int, delay: int) -> None:
    settings = configure_webhooks(receiver.url(), webhook_max_attempts=20)
    receiver.reply(502)
    delivery = Delivery(receiver.url(), "booked", "event-1", b"{}", attempt)

    result = dependencies.webhook_delivery().deliver(delivery)

    assert result.delay_seconds == delay
    assert message_count(settings) == 1


def test_429_retry_after_seconds_is_honoured(configure_webhooks, receiver) -> None:
    settings = configure_webhooks(receiver.url())
    receiver.reply(429, {"Retry-After": "120"})

    result = dependencies.webhook_delivery().deliver(publish_one(settings))

    assert (result.outcome, result.status, result.delay_seconds) == (Outcome.RETRY_QUEUED, 429, 120)
    assert message_count(settings) == 1
    assert take_messages(settings) == []


def test_retry_after_http_date_is_honoured(configure_webhooks, receiver) -> None:
    settings = configure_webhooks(receiver.url())
    now = datetime.now(timezone.utc).replace(microsecond=0)
    receiver.reply(503, {"Retry-After": format_datetime(now + timedelta(seconds=90), usegmt=True)})

    result = build_delivery(settings, clock=FixedClock(now)).deliver(publish_one(settings))

    assert result.delay_seconds == 90


def test_retry_after_is_capped_at_one_hour(configure_webhooks, receiver) -> None:
    settings = configure_webhooks(receiver.url())
    receiver.reply(503, {"Retry-After": "86400"})

    result = dependencies.webhook_delivery().deliver(publish_one(settings))

    assert result.delay_seconds == 3600


def test_408_is_retried(configure_webhooks, receiver) -> None:
    settings = configure_webhooks(receiver.url())
    receiver.reply(408)

    result = dependencies.webhook_delivery().deliver(publish_one(settings))

    assert result.outcome is Outcome.RETRY_QUEUED


def test_timeout_is_retried(configure_webhooks, receiver) -> None:
    settings = configure_webhooks(receiver.url(), webhook_timeout_seconds=0.5)
    receiver.reply(200, delay_seconds=2)

    result = dependencies.webhook_delivery().deliver(publish_one(settings))

    assert (result.outcome, result.status, result.delay_seconds) == (Outcome.RETRY_QUEUED, None, 30)
    assert message_count(settings) == 1


def test_connection_refused_is_retried(configure_webhooks) -> None:
    url = closed_port_url()
    settings = configure_webhooks(url)

    result = dependencies.webhook_delivery().deliver(publish_one(settings))

    assert (result.outcome, result.status) == (Outcome.RETRY_QUEUED, None)
    assert message_count(settings) == 1
    assert take_messages(settings) == []


def test_last_attempt_logs_delivery_failed(configure_webhooks, receiver, caplog) -> None:
    settings = configure_webhooks(receiver.url(), webhook_max_attempts=3)
    receiver.reply(503)
    delivery = Delivery(receiver.url(), "booked", "event-9", b"{}", attempt=3)

    with caplog.at_level(logging.ERROR, logger="shared.adapters.webhooks"):
        result = dependencies.webhook_delivery().deliver(delivery)

    assert (result.outcome, result.status) == (Outcome.FAILED, 503)
    assert message_count(settings) == 0
    [record] = caplog.records
    assert record.event_name == FAILED_EVENT_NAME
    assert record.event_id == "event-9"
    assert record.getMessage().startswith(f"{FAILED_EVENT_NAME}: webhook event event-9")
    assert "after 3 attempts" in record.getMessage()


# --- permanent outcomes ---


def test_400_is_not_retried(configure_webhooks, receiver, caplog) -> None:
    settings = configure_webhooks(receiver.url())
    receiver.reply(400)
    delivery = publish_one(settings)

    with caplog.at_level(logging.ERROR, logger="shared.adapters.webhooks"):
        result = dependencies.webhook_delivery().deliver(delivery)

    assert (result.outcome, result.status) == (Outcome.REJECTED, 400)
    assert message_count(settings) == 0
    assert delivery.event_id in caplog.text
    assert "127.0.0.1" in caplog.text


def test_410_stops_with_warning(configure_webhooks, receiver, caplog) -> None:
    settings = configure_webhooks(receiver.url())
    receiver.reply(410)

    with caplog.at_level(logging.WARNING, logger="shared.adapters.webhooks"):
        result = dependencies.webhook_delivery().deliver(publish_one(settings))

    assert (result.outcome, result.status) == (Outcome.GONE, 410)
    assert message_count(settings) == 0
    assert [r.levelno for r in caplog.records] == [logging.WARNING]
    assert "410 Gone" in caplog.text


def test_redirect_to_other_host_is_not_followed(configure_webhooks, receiver) -> None:
    settings = configure_webhooks(receiver.url())
    receiver.reply(307, {"Location": "https://elsewhere.example.test/hook"})

    result = dependencies.webhook_delivery().deliver(publish_one(settings))

    assert (result.outcome, result.status) == (Outcome.REJECTED, 307)
    assert len(receiver.requests) == 1
    assert message_count(settings) == 0


def test_same_origin_307_is_followed(configure_webhooks, receiver) -> None:
    settings = configure_webhooks(receiver.url())
    receiver.reply(307, {"Location": "/moved"})

    result = dependencies.webhook_delivery().deliver(publish_one(settings))

    assert (result.outcome, result.status) == (Outcome.DELIVERED, 200)
    assert [r.path for r in receiver.requests] == ["/hook", "/moved"]
    assert receiver.requests[0].body == receiver.requests[1].body
    assert all(r.signature_valid for r in receiver.requests)


def test_302_is_not_followed(configure_webhooks, receiver) -> None:
    settings = configure_webhooks(receiver.url())
    receiver.reply(302, {"Location": "/moved"})

    result = dependencies.webhook_delivery().deliver(publish_one(settings))

    assert (result.outcome, result.status) == (Outcome.REJECTED, 302)
    assert len(receiver.requests) == 1


def test_redirect_loop_stops(configure_webhooks, receiver) -> None:
    settings = configure_webhooks(receiver.url())
    for _ in range(10):
        receiver.reply(308, {"Location": "/hook"})

    result = dependencies.webhook_delivery().deliver(publish_one(settings))

    assert (result.outcome, result.status) == (Outcome.REJECTED, 308)
    assert len(receiver.requests) == 4


def test_url_removed_from_settings_is_dropped(configure_webhooks, receiver) -> None:
    settings = configure_webhooks(receiver.url())
    delivery = publish_one(settings)
    configure_webhooks("https://new.example.test/hook")

    result = dependencies.webhook_delivery().deliver(delivery)

    assert result.outcome is Outcome.DROPPED
    assert receiver.requests == []


def test_logs_contain_host_but_no_secret_or_query(configure_webhooks, receiver, caplog) -> None:
    url = receiver.url("/hook?sig=do-not-log-this")
    settings = configure_webhooks(url)
    receiver.reply(503)
    caplog.set_level(logging.DEBUG)

    delivery = publish_one(settings)
    dependencies.webhook_delivery().deliver(delivery)
    dependencies.webhook_delivery().deliver(delivery.next_attempt())

    assert receiver.requests[-1].path == "/hook?sig=do-not-log-this"
    assert "127.0.0.1" in caplog.text
    assert "do-not-log-this" not in caplog.text
    assert SECRET not in caplog.text
