"""WebhookPublisher against Azurite: one queue message per receiver URL, never an exception for a queue failure."""

from __future__ import annotations

import json
import logging
import socket
import uuid

import pytest
from azure.core.exceptions import ResourceExistsError

from functions import dependencies
from shared.adapters.storage import QUEUE_API_VERSION
from shared.adapters.webhooks import WebhookPublisher, WebhookQueue
from tests.webhooks.support import OCCURRED_AT, make_booking, message_count, take_deliveries, webhook_queue_client


def test_publish_queues_one_message_per_url(configure_webhooks) -> None:
    settings = configure_webhooks("https://one.example.test/hook", "https://two.example.test/hook?sig=abc")

    dependencies.webhook_publisher().publish("booked", make_booking(), OCCURRED_AT)

    deliveries = take_deliveries(settings)
    assert sorted(d.url for d in deliveries) == ["https://one.example.test/hook", "https://two.example.test/hook?sig=abc"]
    assert {d.attempt for d in deliveries} == {1}
    assert {d.event for d in deliveries} == {"booked"}
    assert len({d.event_id for d in deliveries}) == 1
    assert deliveries[0].body == deliveries[1].body


def test_published_body_carries_new_uuid4_event_id(configure_webhooks) -> None:
    settings = configure_webhooks("https://one.example.test/hook")
    publisher = dependencies.webhook_publisher()

    publisher.publish("booked", make_booking(), OCCURRED_AT)
    publisher.publish("cancelled", make_booking(), OCCURRED_AT, {"reason": "cancelled_by_client"})

    deliveries = take_deliveries(settings)
    ids = [json.loads(d.body)["id"] for d in deliveries]
    assert [d.event_id for d in deliveries] == ids
    assert len(set(ids)) == 2
    assert all(uuid.UUID(event_id).version == 4 for event_id in ids)
    assert sorted(json.loads(d.body)["type"] for d in deliveries) == ["booked", "cancelled"]


def test_publish_without_urls_queues_nothing(configure_webhooks) -> None:
    settings = configure_webhooks()
    try:
        webhook_queue_client(settings).create_queue()
    except ResourceExistsError:
        pass

    dependencies.webhook_publisher().publish("booked", make_booking(), OCCURRED_AT)

    assert message_count(settings) == 0


def test_publish_without_urls_checks_arguments(configure_webhooks) -> None:
    configure_webhooks()

    with pytest.raises(ValueError, match="unknown webhook event type"):
        dependencies.webhook_publisher().publish("moved", make_booking(), OCCURRED_AT)


def test_publish_survives_unreachable_queue(configure_webhooks, caplog) -> None:
    from azure.storage.queue import QueueClient, TextBase64EncodePolicy

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    connection = (
        "DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=a2V5;"
        f"QueueEndpoint=http://127.0.0.1:{closed_port}/devstoreaccount1;"
    )
    client = QueueClient.from_connection_string(
        connection, "webhooks", api_version=QUEUE_API_VERSION,
        message_encode_policy=TextBase64EncodePolicy(), retry_total=0,
    )
    publisher = WebhookPublisher(WebhookQueue(client), ["https://one.example.test/hook", "https://two.example.test/hook"])

    with caplog.at_level(logging.ERROR, logger="shared.adapters.webhooks"):
        publisher.publish("booked", make_booking(), OCCURRED_AT)

    failures = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert len(failures) == 2
    assert "VL-4R8T-K2" in failures[0].getMessage()
    assert "one.example.test" in failures[0].getMessage()
