"""The webhook payload and its signature, without I/O."""

from __future__ import annotations

import dataclasses
import json
from datetime import datetime, timedelta, timezone

import pytest

from shared.domain import events
from shared.domain.lifecycle import Event, Outcome
from shared.domain.model import BookingStatus
from tests.webhooks.support import OCCURRED_AT, PERSONAL, SECRET, make_booking

NOW = datetime(2027, 3, 22, 8, 16, tzinfo=timezone.utc)
NOW_SECONDS = int(NOW.timestamp())


def body_of(event: str = "booked", details: dict | None = None, **booking_changes) -> bytes:
    booking = make_booking(**booking_changes)
    return events.encode_body(events.build_payload("event-1", event, booking, OCCURRED_AT, details))


def test_payload_fields_and_formats() -> None:
    booking = make_booking(status=BookingStatus.ENDED, status_reason="ended", outcome=Outcome.COMPLETED.value)

    payload = events.build_payload("event-1", Event.ENDED, booking, OCCURRED_AT, {"outcome": Outcome.COMPLETED})

    assert payload == {
        "id": "event-1",
        "type": "ended",
        "occurred_at": "2027-03-22T08:15:30.250Z",
        "appointment": {
            "reference": "VL-4R8T-K2",
            "counter": "video",
            "channel": "video",
            "status": "ended",
            "status_reason": "ended",
            "outcome": "completed",
            "language": "fr",
            "topic": "payments",
            "start": "2027-03-30T09:00:00+02:00",
            "end": "2027-03-30T09:30:00+02:00",
            "agent": "agent-7",
        },
        "details": {"outcome": "completed"},
    }


def test_payload_start_uses_winter_offset() -> None:
    winter_start = datetime(2027, 1, 12, 8, 0, tzinfo=timezone.utc)
    booking = make_booking(start=winter_start, end=winter_start + timedelta(minutes=30))

    appointment = events.build_payload("event-1", "booked", booking, OCCURRED_AT)["appointment"]

    assert appointment["start"] == "2027-01-12T09:00:00+01:00"
    assert appointment["end"] == "2027-01-12T09:30:00+01:00"


def test_body_contains_no_personal_data() -> None:
    body = body_of("cancelled", {"reason": "cancelled_by_client"}).decode("utf-8")

    for name, value in dataclasses.asdict(PERSONAL).items():
        assert value not in body, f"personal field {name} appears in the webhook body"
    assert "teams.example.test" not in body, "the join URL lets anyone join the meeting"
    assert "f" * 64 not in body, "the manage token hash appears in the webhook body"
    assert "meeting-123" not in body


def test_body_is_compact_utf8_json() -> None:
    body = body_of("cancelled", {"reason": "annulé par l'agence"})

    assert json.loads(body)["details"] == {"reason": "annulé par l'agence"}
    assert "annulé".encode("utf-8") in body
    assert b": " not in body


@pytest.mark.parametrize("event", [member.value for member in Event])
def test_every_lifecycle_event_is_accepted(event: str) -> None:
    assert json.loads(body_of(event))["type"] == event


def test_unknown_event_type_is_rejected() -> None:
    with pytest.raises(ValueError, match="unknown webhook event type 'moved'"):
        body_of("moved")


def test_naive_occurred_at_is_rejected() -> None:
    with pytest.raises(ValueError, match="aware"):
        events.build_payload("event-1", "booked", make_booking(), datetime(2027, 3, 22, 8, 15))


@pytest.mark.parametrize(
    ("details", "message"),
    [
        ({"nested": {"a": 1}}, "'nested' is a dict"),
        ({"items": [1, 2]}, "'items' is a list"),
        ({1: "one"}, "key 1 is not a string"),
    ],
)
def test_non_scalar_details_are_rejected(details: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        body_of(details=details)


def test_oversized_body_is_rejected() -> None:
    with pytest.raises(ValueError, match="more than the maximum"):
        body_of(details={"reason": "x" * events.MAX_BODY_BYTES})


def test_signature_is_hmac_of_timestamp_and_body() -> None:
    import hashlib
    import hmac

    body = body_of()

    expected = hmac.new(SECRET.encode(), f"{NOW_SECONDS}.".encode() + body, hashlib.sha256).hexdigest()
    assert events.sign(SECRET, NOW_SECONDS, body) == f"sha256={expected}"


def test_signed_headers_carry_event_and_signature() -> None:
    body = body_of()

    headers = events.signed_headers(SECRET, "booked", "event-1", body, NOW_SECONDS)

    assert headers["Content-Type"] == "application/json"
    assert headers["X-Videoloket-Event"] == "booked"
    assert headers["X-Videoloket-Event-Id"] == "event-1"
    assert headers["X-Videoloket-Timestamp"] == str(NOW_SECONDS)
    assert headers["X-Videoloket-Signature"] == events.sign(SECRET, NOW_SECONDS, body)


def test_valid_signature_verifies() -> None:
    body = body_of()
    header = events.sign(SECRET, NOW_SECONDS, body)

    assert events.verify_signature(SECRET, str(NOW_SECONDS), body, header, NOW)
    assert events.verify_signature(SECRET.encode(), NOW_SECONDS, body, header, NOW)


def test_tampered_body_fails_verification() -> None:
    body = body_of()
    header = events.sign(SECRET, NOW_SECONDS, body)
    tampered = body.replace(b'"agent-7"', b'"agent-8"')

    assert tampered != body
    assert not events.verify_signature(SECRET, str(NOW_SECONDS), tampered, header, NOW)


def test_changed_timestamp_fails_verification() -> None:
    body = body_of()
    header = events.sign(SECRET, NOW_SECONDS, body)

    assert not events.verify_signature(SECRET, str(NOW_SECONDS + 1), body, header, NOW)


def test_wrong_secret_fails_verification() -> None:
    body = body_of()
    header = events.sign("another-secret-of-at-least-32-characters", NOW_SECONDS, body)

    assert not events.verify_signature(SECRET, str(NOW_SECONDS), body, header, NOW)


@pytest.mark.parametrize(
    ("age_seconds", "accepted"),
    [(0, True), (300, True), (301, False), (-300, True), (-301, False), (86_400, False)],
)
def test_timestamp_tolerance_is_five_minutes(age_seconds: int, accepted: bool) -> None:
    body = body_of()
    signed_at = NOW_SECONDS - age_seconds
    header = events.sign(SECRET, signed_at, body)

    assert events.verify_signature(SECRET, str(signed_at), body, header, NOW) is accepted


def test_custom_tolerance_applies() -> None:
    body = body_of()
    signed_at = NOW_SECONDS - 60
    header = events.sign(SECRET, signed_at, body)

    assert not events.verify_signature(SECRET, str(signed_at), body, header, NOW, tolerance=timedelta(seconds=30))


@pytest.mark.parametrize(
    ("timestamp", "header"),
    [
        ("", "sha256=00"),
        ("12x", "sha256=00"),
        ("-5", "sha256=00"),
        ("١٢٣", "sha256=00"),  # Arabic-Indic digits pass str.isdigit()
        (str(NOW_SECONDS), None),
        (str(NOW_SECONDS), ""),
        (str(NOW_SECONDS), "md5=abc"),
        (str(NOW_SECONDS), "sha256=é"),
    ],
)
def test_malformed_values_fail_verification(timestamp: str, header: str | None) -> None:
    assert not events.verify_signature(SECRET, timestamp, body_of(), header, NOW)
