"""Provisioning through the queue against a fake Graph that fails in the ways the real one does."""

from __future__ import annotations

import logging

from functions import dependencies
from shared.adapters.mail_log import MailState
from tests.api import call
from tests.graph.fake_graph import MAILBOX, ORGANIZER_ID
from tests.people import booking_body
from tests.support.waiting import wait_for

TUESDAY_NINE = "2027-03-23T09:00:00+01:00"


def book(start: str = TUESDAY_NINE, serial: int = 123, **overrides) -> dict:
    response = call("create_booking", "POST", body=booking_body(start, serial=serial, **overrides))
    assert response.status == 201, response.body
    return response.json()


def summary(created: dict) -> dict:
    response = call("get_booking", route={"reference": created["reference"]},
                    params={"token": created["manage_token"]})
    assert response.status == 200, response.body
    return response.json()


def mail_log_state(reference: str, kind: str = "confirmation", sequence: int = 0) -> MailState | None:
    record = dependencies.mail_log().get(f"{reference}:{kind}:{sequence}")
    return record.state if record else None


def error_events(caplog, event: str) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.levelno >= logging.ERROR and getattr(r, "event", None) == event]


def test_graph_outage_provisions_later(fake_graph, queue):
    fake_graph.fail_next("*", "unavailable", count=3)

    created = book()

    assert summary(created)["provisioning"] == "pending"
    report = queue.drain()
    assert report.attempts(created["reference"]) == [1, 2, 3, 4]
    assert summary(created)["provisioning"] == "mail_sent"
    assert len(fake_graph.live_meetings()) == 1
    assert len(fake_graph.mails) == 1
    assert fake_graph.mails[0].mailbox == MAILBOX
    assert fake_graph.mails[0].to == ["jan.peeters@example.be"]


def test_duplicate_delivery_makes_one_meeting_and_one_mail(fake_graph, queue):
    created = book()
    queue.put({"reference": created["reference"]})
    queue.put({"reference": created["reference"], "event": "booked", "attempt": 1})

    queue.drain()

    assert len(fake_graph.live_meetings()) == 1
    assert len(fake_graph.mails) == 1
    assert summary(created)["provisioning"] == "mail_sent"
    assert mail_log_state(created["reference"]) is MailState.SENT


def test_fifty_bookings_at_once(fake_graph, queue):
    slots = call("list_slots", params={"channel": "video", "topic": "payments", "postcode": "9000",
                                       "from": "2027-03-23", "to": "2027-04-20"}).json()["slots"]
    assert len(slots) >= 50
    created = [book(slot["start"], serial=serial, email=f"citizen{serial}@example.be")
               for serial, slot in zip(range(1, 51), slots)]
    # Each booking's message once more, as a duplicate delivery under load.
    for booking in created[:10]:
        queue.put({"reference": booking["reference"]})

    report = queue.drain(batch=32, timeout=120)

    assert report.failures == []
    assert len(fake_graph.live_meetings()) == 50
    recipients = sorted(address for mail in fake_graph.mails for address in mail.to)
    assert recipients == sorted(f"citizen{serial}@example.be" for serial in range(1, 51))
    assert fake_graph.max_mail_concurrency_seen <= 4
    assert all(summary(booking)["provisioning"] == "mail_sent" for booking in created)
    assert all(mail_log_state(booking["reference"]) is MailState.SENT for booking in created)


def test_missing_join_url_is_retried(fake_graph, queue):
    fake_graph.fail_next("createOrGet", "no_join_url", count=2)
    created = book()

    report = queue.drain()

    assert report.attempts(created["reference"]) == [1, 2, 3]
    create_calls = fake_graph.calls("createOrGet")
    mail_calls = fake_graph.calls("sendMail")
    assert len(create_calls) == 3
    assert len(mail_calls) == 1
    assert mail_calls[0].at > create_calls[-1].at
    assert summary(created)["provisioning"] == "mail_sent"


def test_never_a_join_url_no_mail(fake_graph, set_app_settings, queue):
    set_app_settings(PROVISIONING_MAX_ATTEMPTS="3")
    fake_graph.fail_next("createOrGet", "no_join_url", count=100)
    created = book()

    queue.drain()

    assert fake_graph.calls("sendMail") == []
    assert summary(created)["provisioning"] == "provisioning_failed"


def test_short_retry_after_is_waited_in_process(fake_graph, queue):
    fake_graph.fail_next("createOrGet", "throttle", retry_after=1)
    created = book()

    report = queue.drain()

    first, second = fake_graph.calls("createOrGet")[:2]
    assert first.status == 429
    assert second.at - first.at >= 1.0
    assert report.attempts(created["reference"]) == [1]
    assert summary(created)["provisioning"] == "mail_sent"


def test_long_retry_after_requeues(fake_graph, set_app_settings, queue):
    set_app_settings(PROVISIONING_MAX_INLINE_WAIT_SECONDS="1")
    fake_graph.fail_next("sendMail", "throttle", retry_after=2)
    created = book()

    report = queue.drain()

    first, second = fake_graph.calls("sendMail")
    assert first.status == 429
    assert second.at - first.at >= 2.0
    assert report.attempts(created["reference"]) == [1, 2]
    assert len(fake_graph.mails) == 1
    assert dependencies.mail_log().get(f"{created['reference']}:confirmation:0").attempts == 2


def test_last_attempt_marks_provisioning_failed_and_logs_alert(fake_graph, set_app_settings, queue, caplog):
    set_app_settings(PROVISIONING_MAX_ATTEMPTS="3")
    fake_graph.fail_next("*", "unavailable", count=100)
    created = book()

    with caplog.at_level(logging.WARNING):
        report = queue.drain()

    assert report.attempts(created["reference"]) == [1, 2, 3]
    shown = summary(created)
    assert shown["provisioning"] == "provisioning_failed"
    assert shown["status"] == "booked"
    alerts = error_events(caplog, "provisioning_failed")
    assert len(alerts) == 1
    assert alerts[0].reference == created["reference"]
    assert fake_graph.mails == []


def test_failed_booking_still_holds_its_seat(fake_graph, set_app_settings, queue):
    set_app_settings(PROVISIONING_MAX_ATTEMPTS="1")
    fake_graph.fail_next("*", "unavailable", count=100)
    book(serial=1)
    queue.drain()

    response = call("create_booking", "POST", body=booking_body(TUESDAY_NINE, serial=2))

    assert response.status == 409
    assert response.json()["error"] == "slot_taken"


def test_expired_token_signs_in_again(fake_graph, queue):
    fake_graph.fail_next("createOrGet", "expired_token")
    created = book()

    report = queue.drain()

    assert fake_graph.tokens_issued == 2
    assert report.attempts(created["reference"]) == [1]  # retried in process with the new token
    assert summary(created)["provisioning"] == "mail_sent"


def test_token_endpoint_outage_is_retried(fake_graph, queue):
    fake_graph.fail_next("token", "unavailable", count=2)
    created = book()

    queue.drain()

    # azure-identity retries token requests itself (azure-core's retry policy).
    assert [call.status for call in fake_graph.calls("token")] == [503, 503, 200]
    assert summary(created)["provisioning"] == "mail_sent"


def test_mail_timeout_is_not_resent(fake_graph, set_app_settings, queue, caplog):
    set_app_settings(GRAPH_TIMEOUT_SECONDS="1")
    fake_graph.fail_next("sendMail", "slow", delay=2)
    created = book()

    with caplog.at_level(logging.WARNING):
        queue.drain()
        queue.put({"reference": created["reference"]})
        queue.drain()

    assert len(fake_graph.calls("sendMail")) == 1
    # Graph did send it, after the client had given up waiting.
    wait_for(lambda: fake_graph.mails, timeout=5, description="the slow sendMail to finish")
    assert mail_log_state(created["reference"]) is MailState.UNKNOWN
    assert summary(created)["provisioning"] == "meeting_created"
    assert len(error_events(caplog, "mail_outcome_unknown")) == 1


def test_mail_503_sent_once_on_retry(fake_graph, queue):
    fake_graph.fail_next("sendMail", "unavailable")
    created = book()

    report = queue.drain()

    assert report.attempts(created["reference"]) == [1, 2]
    assert len(fake_graph.calls("sendMail")) == 2
    assert len(fake_graph.mails) == 1
    record = dependencies.mail_log().get(f"{created['reference']}:confirmation:0")
    assert record.state is MailState.SENT
    assert record.attempts == 2


def test_meeting_uses_the_configured_organizer(fake_graph, queue):
    created = book()

    queue.drain()

    meeting = fake_graph.meeting_for(created["reference"])
    assert meeting.organizer == ORGANIZER_ID


def test_office_booking_gets_a_mail_and_no_meeting(fake_graph, queue):
    from tests import catalogs

    dependencies.config_store().replace(catalogs.config(
        counters=[catalogs.video_counter(), catalogs.office("gent", {"tue": ["09:00-12:00"]})],
        agents=[catalogs.agent("a1", ("nl", "fr")), catalogs.agent("o1", ("nl",), counter="gent")],
    ))
    dependencies.reset()
    created = book(channel="office", office="gent")

    queue.drain()

    assert fake_graph.calls("createOrGet") == []
    assert len(fake_graph.mails) == 1
    assert summary(created)["provisioning"] == "mail_sent"
