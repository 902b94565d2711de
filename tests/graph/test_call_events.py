"""Graph call events: the webhook, the queued processing into presence signals, and the 10-minute rules.

Runs the functions in-process against Azurite and the fake Graph, which encrypts notifications as
Graph does. `call_events` is the harness the subscription and attendance tests share.
"""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import secrets
import subprocess
import sys
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

import azure.functions as func
import pytest
from azure.functions.queue import QueueMessage
from azure.functions.timer import TimerRequest

from functions import dependencies, graph_events
from shared.adapters.storage import queue_client
from shared.domain.lifecycle import Signal
from shared.services.call_events import Participant, ParticipantKind, parse_call_event, presence_signals
from tests import catalogs
from tests.api import Response, functions
from tests.graph.fake_graph import (
    AGENT_USER_ID,
    TENANT_ID,
    FakeGraph,
    StoredSubscription,
    guest_participant,
    roster_update,
    user_participant,
    write_notification_certificate,
)
from tests.graph.test_provisioning_faults import TUESDAY_NINE, book

START = datetime.fromisoformat(TUESDAY_NINE).astimezone(timezone.utc)
NOTIFICATION_URL = "https://videoloket.example/api/graph/notifications?code=test-function-key"
REPO_ROOT = Path(__file__).resolve().parents[2]

_OWN_FUNCTIONS: dict | None = None


def graph_event_functions() -> dict:
    """The functions of functions/graph_events.py: from function_app once it registers them, else from an app of their own."""
    global _OWN_FUNCTIONS
    registered = functions()
    if "receive_graph_notification" in registered:
        return registered
    if _OWN_FUNCTIONS is None:
        app = func.FunctionApp(http_auth_level=func.AuthLevel.FUNCTION)
        app.register_functions(graph_events.bp)
        _OWN_FUNCTIONS = {f.get_function_name(): f for f in app.get_functions()}
    return _OWN_FUNCTIONS


def post_notification(body: bytes = b"", params: dict | None = None) -> Response:
    request = func.HttpRequest("POST", "http://127.0.0.1:7071/api/graph/notifications",
                               params={"code": "test-function-key", **(params or {})}, body=body)
    response = graph_event_functions()["receive_graph_notification"].get_user_function()(request)
    return Response(response.status_code, {**dict(response.headers), "Content-Type": response.mimetype},
                    response.get_body())


async def _close_graph_client() -> None:
    if dependencies.graph_api.cache_info().currsize:
        await dependencies.graph_api().aclose()


@dataclass
class CallEvents:
    """Drives the call-event functions the way the Functions host and Graph would."""

    fake: FakeGraph
    client_state: str

    @property
    def clock(self):
        return dependencies.clock()

    def run_timer(self) -> None:
        async def run() -> None:
            try:
                await graph_event_functions()["manage_call_event_subscriptions"].get_user_function()(TimerRequest())
            finally:
                await _close_graph_client()

        asyncio.run(run())

    def subscription(self, reference: str) -> StoredSubscription:
        meeting = self.fake.meeting_for(reference)
        subscription = self.fake.subscription_on(meeting.join_web_url) if meeting else None
        assert subscription is not None, f"no live subscription on the meeting of {reference}"
        return subscription

    def deliver(self, body: bytes) -> Response:
        response = post_notification(body)
        assert response.status == 202, response.body
        return response

    def queued(self) -> list[dict]:
        """Return the queued messages without taking them off the queue."""
        settings = dependencies.get_settings()
        messages = queue_client(settings, settings.graph_events_queue).peek_messages(max_messages=32)
        return [json.loads(base64.b64decode(message.content)) for message in messages]

    def process(self) -> int:
        """Run process_graph_event on every queued message; return how many there were."""
        settings = dependencies.get_settings()
        queue = queue_client(settings, settings.graph_events_queue)

        async def run() -> int:
            handled = 0
            try:
                while True:
                    messages = list(queue.receive_messages(messages_per_page=32, max_messages=32, visibility_timeout=30))
                    if not messages:
                        return handled
                    for message in messages:
                        body = base64.b64decode(message.content)
                        trigger = QueueMessage(id=message.id, body=body, dequeue_count=message.dequeue_count,
                                               pop_receipt=message.pop_receipt)
                        await graph_event_functions()["process_graph_event"].get_user_function()(trigger)
                        queue.delete_message(message)
                        handled += 1
            finally:
                await _close_graph_client()

        return asyncio.run(run())

    def joins(self, reference: str, at: datetime, *participants: dict, processed_at: datetime | None = None) -> None:
        """Deliver and process a roster update of the booking's meeting, with the clock at `processed_at` (default `at`)."""
        self.clock.moment = processed_at or at
        self.deliver(self.fake.notification(self.subscription(reference), roster_update(at, *participants)))
        assert self.process() == 1


@pytest.fixture
def call_events(set_app_settings, fake_graph, tmp_path) -> CallEvents:
    """The app with GRAPH_CALL_EVENTS=true, an agent with a Graph user id, and the fake Graph's handshake wired to the webhook."""
    client_state = secrets.token_urlsafe(24)
    set_app_settings(
        GRAPH_CALL_EVENTS="true",
        GRAPH_NOTIFICATION_URL=NOTIFICATION_URL,
        GRAPH_NOTIFICATION_CLIENT_STATE=client_state,
        GRAPH_NOTIFICATION_CERTIFICATE_PATH=str(write_notification_certificate(tmp_path / "notifications")),
        GRAPH_EVENTS_QUEUE="graph-events-" + uuid.uuid4().hex[:12],
    )
    dependencies.config_store().replace(catalogs.config(agents=[catalogs.agent("a1", ("nl", "fr"),
                                                                               graph_user_id=AGENT_USER_ID)]))
    dependencies.notification_queue().send({"probe": True}, datetime.now(timezone.utc))  # creates the queue
    settings = dependencies.get_settings()
    queue_client(settings, settings.graph_events_queue).clear_messages()
    fake_graph.now = lambda: dependencies.clock().now()

    def validate(url: str, token: str) -> tuple[int, str, str]:
        assert url == NOTIFICATION_URL
        response = post_notification(params={"validationToken": token})
        return response.status, response.headers["Content-Type"], response.body.decode()

    fake_graph.validate_notification_url = validate
    return CallEvents(fake_graph, client_state)


def booked_and_subscribed(call_events: CallEvents, queue, **overrides) -> str:
    """Book Tuesday 09:00, provision its meeting, and subscribe to its call events on Monday at 10:00."""
    reference = book(**overrides)["reference"]
    queue.drain()
    call_events.clock.moment = START - timedelta(hours=23)
    call_events.run_timer()
    return reference


def booking_of(reference: str):
    return dependencies.ledger().get(reference)


def sweep_at(call_events: CallEvents, moment: datetime):
    call_events.clock.moment = moment
    return dependencies.lifecycle_service().sweep()


# --- the webhook -------------------------------------------------------------------------------------


def test_handshake_echoes_decoded_token(call_events):
    token = "Validation: a token with spaces, + and /="

    response = post_notification(params={"validationToken": token})

    assert response.status == 200
    assert response.headers["Content-Type"] == "text/plain"
    assert response.body.decode() == token
    assert call_events.queued() == []


def test_webhook_is_off_by_default(graph_app):
    response = post_notification(params={"validationToken": "token"})

    assert response.status == 404


@pytest.mark.parametrize("body", [b"", b"not json", b"[]", b'{"value": 3}', b'{"items": []}', b"\xff\xfe"])
def test_malformed_body_is_rejected_with_400(call_events, body):
    response = post_notification(body)

    assert response.status == 400
    assert call_events.queued() == []


def test_client_state_mismatch_is_dropped(call_events, queue, caplog):
    reference = booked_and_subscribed(call_events, queue)
    subscription = call_events.subscription(reference)
    forged = call_events.fake.notification(subscription, roster_update(START, guest_participant()),
                                           client_state="not-our-secret")
    caplog.set_level(logging.WARNING, logger="functions.graph_events")

    response = post_notification(forged)

    assert response.status == 202
    assert call_events.queued() == []
    assert any("clientState differs" in record.getMessage() for record in caplog.records)
    assert booking_of(reference)[0].client_seen_at is None


def test_accepted_items_are_queued_with_arrival_time(call_events, queue):
    reference = booked_and_subscribed(call_events, queue)
    subscription = call_events.subscription(reference)
    call_events.clock.moment = START

    call_events.deliver(call_events.fake.notification(subscription, roster_update(START, guest_participant())))

    queued = call_events.queued()
    assert len(queued) == 1
    assert queued[0]["notification"]["subscriptionId"] == subscription.id
    assert "encryptedContent" in queued[0]["notification"]
    assert datetime.fromisoformat(queued[0]["receivedAt"]) == START


# --- notifications into signals and the 10-minute rules ---------------------------------------------


def test_guest_at_nine_fifty_nine_prevents_no_show(call_events, queue):
    reference = booked_and_subscribed(call_events, queue)
    call_events.joins(reference, START + timedelta(minutes=1), user_participant(AGENT_USER_ID))
    call_events.joins(reference, START + timedelta(minutes=9, seconds=59), guest_participant(in_lobby=True))

    sweep_at(call_events, START + timedelta(minutes=10))

    booking = booking_of(reference)[0]
    assert booking.status.value == "booked"
    assert booking.client_seen_at == START + timedelta(minutes=9, seconds=59)


def test_guest_at_ten_minutes_is_no_show(call_events, queue):
    reference = booked_and_subscribed(call_events, queue)
    call_events.joins(reference, START + timedelta(minutes=1), user_participant(AGENT_USER_ID))
    call_events.joins(reference, START + timedelta(minutes=10), guest_participant(in_lobby=True))

    sweep_at(call_events, START + timedelta(minutes=10))

    booking = booking_of(reference)[0]
    assert booking.status.value == "cancelled"
    assert booking.status_reason == "no_show_client"


def test_late_notification_counts_at_event_time(call_events, queue):
    reference = booked_and_subscribed(call_events, queue)
    call_events.joins(reference, START + timedelta(minutes=1), user_participant(AGENT_USER_ID))
    call_events.joins(reference, START + timedelta(minutes=9, seconds=59), guest_participant(),
                      processed_at=START + timedelta(minutes=10, seconds=40))

    sweep_at(call_events, START + timedelta(minutes=10, seconds=40))

    assert booking_of(reference)[0].status.value == "booked"


def test_agent_joining_by_object_id_records_agent_signal(call_events, queue):
    reference = booked_and_subscribed(call_events, queue)

    call_events.joins(reference, START + timedelta(minutes=2), user_participant(AGENT_USER_ID.upper()))

    booking = booking_of(reference)[0]
    assert booking.agent_seen_at == START + timedelta(minutes=2)
    assert booking.client_seen_at is None
    assert dependencies.ledger().signals(reference) == [(START + timedelta(minutes=2), Signal.AGENT_JOINED.value)]


def test_agent_absent_means_agent_late_despite_guest(call_events, queue):
    reference = booked_and_subscribed(call_events, queue)
    call_events.joins(reference, START + timedelta(minutes=3), guest_participant(in_lobby=True),
                      user_participant(AGENT_USER_ID, in_lobby=True))

    sweep_at(call_events, START + timedelta(minutes=10))

    booking = booking_of(reference)[0]
    assert booking.status.value == "to_reschedule"
    assert booking.status_reason == "agent_late"


def test_same_notification_twice_changes_nothing(call_events, queue):
    reference = booked_and_subscribed(call_events, queue)
    call_events.clock.moment = START + timedelta(minutes=4)
    event = roster_update(START + timedelta(minutes=3), user_participant(AGENT_USER_ID), guest_participant())
    body = call_events.fake.notification(call_events.subscription(reference), event)
    call_events.deliver(body)
    call_events.process()
    first, first_etag = booking_of(reference)
    first_signals = dependencies.ledger().signals(reference)

    call_events.deliver(body)
    assert call_events.process() == 1

    second, second_etag = booking_of(reference)
    assert second_etag == first_etag
    assert second == first
    assert dependencies.ledger().signals(reference) == first_signals
    assert sorted(kind for _, kind in first_signals) == ["agent_joined", "guest_joined"]
    assert first.client_seen_at == START + timedelta(minutes=3)


def test_participants_who_left_count_as_no_one(call_events, queue):
    reference = booked_and_subscribed(call_events, queue)

    call_events.joins(reference, START + timedelta(minutes=1), guest_participant(left=True),
                      user_participant(AGENT_USER_ID, left=True))

    booking = booking_of(reference)[0]
    assert booking.client_seen_at is None
    assert booking.agent_seen_at is None


def test_tampered_notification_is_dropped(call_events, queue, caplog):
    reference = booked_and_subscribed(call_events, queue)
    body = json.loads(call_events.fake.notification(call_events.subscription(reference),
                                                    roster_update(START, guest_participant())))
    content = body["value"][0]["encryptedContent"]
    data = bytearray(base64.b64decode(content["data"]))
    data[0] ^= 1
    content["data"] = base64.b64encode(bytes(data)).decode()
    caplog.set_level(logging.ERROR, logger="functions.graph_events")
    call_events.clock.moment = START

    call_events.deliver(json.dumps(body).encode())
    call_events.process()

    assert booking_of(reference)[0].client_seen_at is None
    assert any("dataSignature does not match" in record.getMessage() for record in caplog.records)


def test_notification_of_unknown_subscription_is_dropped(call_events, queue):
    reference = booked_and_subscribed(call_events, queue)
    subscription = call_events.subscription(reference)
    stranger = StoredSubscription(
        id=str(uuid.uuid4()), resource=subscription.resource.replace("meeting_", "meeting_other"),
        join_web_url="https://teams.microsoft.com/l/meetup-join/other", notification_url=NOTIFICATION_URL,
        client_state=call_events.client_state, expires=subscription.expires,
        certificate_der=subscription.certificate_der, certificate_id=subscription.certificate_id,
    )
    call_events.clock.moment = START

    call_events.deliver(call_events.fake.notification(stranger, roster_update(START, guest_participant())))
    call_events.process()

    assert booking_of(reference)[0].client_seen_at is None


def test_reauthorization_request_is_answered(call_events, queue):
    reference = booked_and_subscribed(call_events, queue)
    subscription = call_events.subscription(reference)

    call_events.deliver(call_events.fake.lifecycle_notification(subscription, "reauthorizationRequired"))
    call_events.process()

    assert subscription.reauthorizations == 1


# --- reading call events (no storage, no Graph) --------------------------------------------------------


AGENTS = {AGENT_USER_ID.lower(): "a1"}
RECEIVED = datetime(2027, 3, 23, 8, 5, tzinfo=timezone.utc)


def test_documented_roster_update_is_parsed():
    content = roster_update(START, user_participant(AGENT_USER_ID), guest_participant(in_lobby=True))

    event = parse_call_event(content, TENANT_ID, RECEIVED)

    assert event.at == START
    assert event.event_type == "rosterUpdated"
    assert event.joined == (
        Participant(ParticipantKind.TENANT_USER, AGENT_USER_ID, in_lobby=False),
        Participant(ParticipantKind.GUEST, None, in_lobby=True),
    )


def test_older_capitalized_roster_shape_is_parsed():
    content = {
        "eventType": "Microsoft.Communication.CallRosterUpdate",
        "eventDateTime": "2027-03-23T08:02:00.0000000Z",
        "activeParticipants@joined": [
            {"Id": "p1", "Identity": {"User": {"Id": AGENT_USER_ID, "DisplayName": "x", "TenantId": TENANT_ID}}},
        ],
    }

    event = parse_call_event(content, TENANT_ID, RECEIVED)

    assert event.at == datetime(2027, 3, 23, 8, 2, tzinfo=timezone.utc)
    assert [s.signal for s in presence_signals(event, AGENTS)] == [Signal.AGENT_JOINED]


def test_missing_event_time_falls_back_to_arrival():
    event = parse_call_event({"participants@delta": [guest_participant()]}, TENANT_ID, RECEIVED)

    assert event.at == RECEIVED


@pytest.mark.parametrize(
    ("participant", "expected"),
    [
        (user_participant(AGENT_USER_ID), [(Signal.AGENT_JOINED, "a1")]),
        (user_participant(AGENT_USER_ID, in_lobby=True), []),
        (guest_participant(in_lobby=True), [(Signal.GUEST_JOINED, None)]),
        (guest_participant(in_lobby=False), [(Signal.GUEST_JOINED, None)]),
        (user_participant("colleague-of-the-agency"), []),
        (user_participant("citizen-work-account", tenant_id="another-tenant"), [(Signal.GUEST_JOINED, None)]),
        ({"info": {"identity": {"phone": {"id": "+3220000000"}}}, "isInLobby": True, "id": "p"}, []),
        ({"info": {"identity": {"application": {"id": "bot"}}}, "isInLobby": False, "id": "p"}, []),
        ({"info": {"identity": {"azureCommunicationServicesUser": {"id": "8:acs:x"}}}, "id": "p"},
         [(Signal.GUEST_JOINED, None)]),
    ],
)
def test_participant_classification(participant, expected):
    event = parse_call_event(roster_update(START, participant), TENANT_ID, RECEIVED)

    found = [(s.signal, s.actor_id) for s in presence_signals(event, AGENTS)]

    assert found == expected


def test_user_without_tenant_counts_only_as_agent():
    participant = {"info": {"identity": {"user": {"id": "someone"}}}, "id": "p"}
    agent = {"info": {"identity": {"user": {"id": AGENT_USER_ID}}}, "id": "q"}

    event = parse_call_event(roster_update(START, participant, agent), None, RECEIVED)

    assert [(s.signal, s.actor_id) for s in presence_signals(event, AGENTS)] == [(Signal.AGENT_JOINED, "a1")]


def test_graph_events_import_loads_no_sdk():
    probe = ("import json, sys; import functions.graph_events; "
             "print(json.dumps([n for n in sys.modules if n.split('.')[0] in "
             "('msgraph', 'kiota_http', 'cryptography', 'pydantic_settings') or n.startswith('azure.identity')]))")

    result = subprocess.run([sys.executable, "-c", probe], cwd=REPO_ROOT, capture_output=True, text=True,
                            timeout=120, check=False)

    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == []
