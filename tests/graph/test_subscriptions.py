"""The subscriptions timer: one Graph subscription per upcoming video appointment, renewed, then deleted."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from urllib.parse import quote

from functions import dependencies
from tests.api import call
from tests.graph.test_call_events import (
    NOTIFICATION_URL,
    START,
    booked_and_subscribed,
    booking_of,
    call_events,  # noqa: F401  (fixture)
)
from tests.graph.test_provisioning_faults import book

THURSDAY_TEN = "2027-03-25T10:00:00+01:00"


def subscription_row(reference: str):
    return next((r for r in dependencies.ledger().subscriptions() if r.reference == reference), None)


def test_subscription_created_once_for_upcoming_booking(call_events, queue):
    reference = booked_and_subscribed(call_events, queue)

    call_events.run_timer()

    creates = call_events.fake.calls("createSubscription")
    assert [c.status for c in creates] == [201]
    meeting = call_events.fake.meeting_for(reference)
    body = creates[0].body
    assert body["resource"] == f"/communications/onlineMeetings(joinWebUrl='{quote(meeting.join_web_url, safe='')}')/meetingCallEvents"
    assert body["changeType"] == "updated"
    assert body["notificationUrl"] == NOTIFICATION_URL
    assert body["clientState"] == call_events.client_state
    assert body["includeResourceData"] is True
    assert body["expirationDateTime"] == "2027-03-23T08:45:00Z"  # the end, 08:30 UTC, plus 15 minutes
    row = subscription_row(reference)
    assert row.subscription_id == call_events.subscription(reference).id
    assert row.join_web_url == meeting.join_web_url
    assert row.expires == START + timedelta(minutes=45)


def test_booking_outside_window_gets_no_subscription(call_events, queue):
    book(THURSDAY_TEN)
    queue.drain()
    call_events.clock.moment = START - timedelta(hours=23)

    call_events.run_timer()

    assert call_events.fake.calls("createSubscription") == []
    assert dependencies.ledger().subscriptions() == []


def test_virtual_appointment_link_subscribes_to_teams_url(call_events, queue, set_app_settings):
    set_app_settings(GRAPH_VIRTUAL_APPOINTMENT_LINKS="true")

    reference = booked_and_subscribed(call_events, queue)

    booking = booking_of(reference)[0]
    meeting = call_events.fake.meeting_for(reference)
    assert booking.join_url.startswith("https://visit.teams.microsoft.com/")
    assert subscription_row(reference).join_web_url == meeting.join_web_url
    assert call_events.subscription(reference) is not None


def test_subscription_renewed_after_reschedule(call_events, queue):
    created = book()
    queue.drain()
    call_events.clock.moment = START - timedelta(hours=23)
    call_events.run_timer()
    response = call("reschedule_booking", "POST", route={"reference": created["reference"]},
                    headers={"X-Manage-Token": created["manage_token"]}, body={"start": THURSDAY_TEN})
    assert response.status == 200, response.body
    queue.drain()
    call_events.run_timer()
    assert call_events.fake.calls("renewSubscription") == []  # valid for more than 12 hours yet

    call_events.clock.moment = START - timedelta(hours=2)
    call_events.run_timer()

    renewals = call_events.fake.calls("renewSubscription")
    assert [r.body for r in renewals] == [{"expirationDateTime": "2027-03-25T09:45:00Z"}]
    assert subscription_row(created["reference"]).expires == datetime.fromisoformat("2027-03-25T09:45:00+00:00")
    assert len(call_events.fake.live_subscriptions()) == 1


def test_long_window_caps_lifetime_then_renews(call_events, queue, set_app_settings):
    set_app_settings(GRAPH_SUBSCRIPTION_WINDOW_HOURS="120")
    reference = book(THURSDAY_TEN)["reference"]
    queue.drain()
    monday = call_events.clock.moment
    call_events.run_timer()
    first = subscription_row(reference).expires
    assert first == monday + timedelta(days=3) - timedelta(minutes=10)

    call_events.clock.moment = monday + timedelta(hours=1)
    call_events.run_timer()
    assert call_events.fake.calls("renewSubscription") == []

    # From here on, a renewal reaches the appointment's end.
    call_events.clock.moment = monday + timedelta(hours=2)
    call_events.run_timer()

    assert [r.status for r in call_events.fake.calls("renewSubscription")] == [200]
    assert subscription_row(reference).expires == datetime.fromisoformat("2027-03-25T09:45:00+00:00")


def test_subscription_deleted_after_cancel(call_events, queue):
    created = book()
    queue.drain()
    call_events.clock.moment = START - timedelta(hours=23)
    call_events.run_timer()
    response = call("cancel_booking", "POST", route={"reference": created["reference"]},
                    headers={"X-Manage-Token": created["manage_token"]})
    assert response.status == 200, response.body

    call_events.run_timer()

    assert [c.status for c in call_events.fake.calls("deleteSubscription")] == [204]
    assert call_events.fake.live_subscriptions() == []
    assert subscription_row(created["reference"]) is None
    queue.drain()
    call_events.run_timer()
    assert len(call_events.fake.calls("createSubscription")) == 1


def test_subscription_deleted_after_end(call_events, queue):
    reference = booked_and_subscribed(call_events, queue)
    call_events.clock.moment = START + timedelta(minutes=44)
    call_events.run_timer()
    assert call_events.fake.calls("deleteSubscription") == []

    call_events.clock.moment = START + timedelta(minutes=45)
    call_events.run_timer()

    assert len(call_events.fake.calls("deleteSubscription")) == 1
    assert subscription_row(reference) is None


def test_existing_subscription_is_adopted(call_events, queue):
    reference = book()["reference"]
    queue.drain()
    call_events.clock.moment = START - timedelta(hours=23)
    meeting = call_events.fake.meeting_for(reference)
    # A subscription that an earlier, timed-out request created.
    resource = f"/communications/onlineMeetings(joinWebUrl='{quote(meeting.join_web_url, safe='')}')/meetingCallEvents"
    existing, _ = call_events.fake.create_subscription(
        {"resource": resource, "notificationUrl": NOTIFICATION_URL, "clientState": call_events.client_state},
        meeting.join_web_url, START, None,
    )

    call_events.run_timer()

    assert [c.status for c in call_events.fake.calls("createSubscription")] == [409]
    assert subscription_row(reference).subscription_id == existing.id


def test_failed_create_is_retried_next_run(call_events, queue, caplog):
    reference = book()["reference"]
    queue.drain()
    call_events.clock.moment = START - timedelta(hours=23)
    call_events.fake.fail_next("createSubscription", "unavailable")
    caplog.set_level(logging.ERROR, logger="shared.services.call_events")

    call_events.run_timer()
    assert subscription_row(reference) is None
    assert any("could not subscribe" in record.getMessage() for record in caplog.records)

    call_events.run_timer()

    assert subscription_row(reference) is not None


def test_removed_subscription_is_created_again(call_events, queue):
    reference = booked_and_subscribed(call_events, queue)
    subscription = call_events.subscription(reference)
    subscription.deleted = True  # Graph removed it, and tells us

    call_events.deliver(call_events.fake.lifecycle_notification(subscription, "subscriptionRemoved"))
    call_events.process()
    assert subscription_row(reference) is None
    call_events.run_timer()

    assert subscription_row(reference).subscription_id != subscription.id
    assert len(call_events.fake.live_subscriptions()) == 1


def test_failed_handshake_creates_nothing(call_events, queue):
    call_events.fake.validate_notification_url = lambda url, token: (200, "text/plain", "another token")

    reference = booked_and_subscribed(call_events, queue)

    assert [c.status for c in call_events.fake.calls("createSubscription")] == [400]
    assert subscription_row(reference) is None


def test_missing_certificate_setting_is_named(call_events, queue, set_app_settings, caplog):
    set_app_settings(GRAPH_NOTIFICATION_CERTIFICATE_PATH="")
    caplog.set_level(logging.ERROR, logger="functions.graph_events")

    booked_and_subscribed(call_events, queue)

    assert call_events.fake.calls("createSubscription") == []
    assert any("GRAPH_NOTIFICATION_CERTIFICATE_PATH is missing" in str(record.exc_info[1])
               for record in caplog.records if record.exc_info)
