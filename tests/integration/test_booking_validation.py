"""Every invalid booking request gets a 400 or 413 that names the field, in nl, fr and de, and stores nothing."""

import json

import pytest

from tests import catalogs
from tests.api import call
from tests.people import booking_body

TUESDAY_NINE = "2027-03-23T09:00:00+01:00"


def book(body=None, raw=None, headers=None):
    return call("create_booking", "POST", body=body, raw=raw, headers=headers)


def assert_rejected(response, status, error, field):
    body = response.json()
    assert response.status == status, body
    assert body["error"] == error
    assert body["field"] == field
    assert set(body["messages"]) == {"nl", "fr", "de"}
    assert all(body["messages"].values())


@pytest.mark.parametrize(
    ("override", "field"),
    [
        ({"national_number": "85071412331"}, "national_number"),
        ({"national_number": "8507141233"}, "national_number"),
        ({"email": "jan.peeters@"}, "email"),
        ({"email": "jan peeters@example.be"}, "email"),
        ({"phone": "12345"}, "phone"),
        ({"phone": "+32 2 000"}, "phone"),
        ({"first_name": ""}, "first_name"),
        ({"first_name": "Jan\r\nBcc: x@example.be"}, "first_name"),
        ({"last_name": "<script>"}, "last_name"),
        ({"last_name": "x" * 101}, "last_name"),
        ({"postcode": "90000"}, "postcode"),
        ({"channel": "phone"}, "channel"),
        ({"language": "en"}, "language"),
        ({"start": "next tuesday"}, "start"),
        ({"start": "2027-03-23T09:00:00+05:00"}, "start"),
        ({"start": "2027-03-28T02:30:00"}, "start"),
        ({"topic": 12}, "topic"),
        ({"first_name": ["Jan"]}, "first_name"),
        ({"accepted_terms_version": None}, "accepted_terms_version"),
    ],
)
def test_invalid_field_is_named(configure, ledger_rows, override, field):
    before = len(ledger_rows())

    response = book(booking_body(TUESDAY_NINE, **override))

    assert_rejected(response, 400, "invalid_field", field)
    assert len(ledger_rows()) == before


def test_choice_message_lists_values_without_english_words(configure):
    response = book(booking_body(TUESDAY_NINE, channel="phone"))

    messages = response.json()["messages"]
    assert "'video', 'office'" in messages["nl"]
    assert " or " not in messages["fr"]


def test_every_invalid_field_is_listed(configure):
    response = book(booking_body(TUESDAY_NINE, email="x", phone="1", national_number="1"))

    fields = {problem["field"] for problem in response.json()["errors"]}

    assert fields == {"email", "phone", "national_number"}


def test_error_never_echoes_the_input(configure):
    response = book(booking_body(TUESDAY_NINE, national_number="85071412331", email="secret@"))

    assert b"85071412331" not in response.body
    assert b"secret@" not in response.body


def test_unknown_field_is_rejected(configure):
    response = book({**booking_body(TUESDAY_NINE), "is_admin": True})

    assert_rejected(response, 400, "invalid_field", "is_admin")


def test_body_that_is_not_json_is_rejected(configure):
    assert_rejected(book(raw=b"{not json"), 400, "invalid_body", None)
    assert_rejected(book(raw=b"[1, 2]"), 400, "invalid_body", None)
    assert_rejected(book(raw=b"\xff\xfe"), 400, "invalid_body", None)
    assert_rejected(book(raw=b""), 400, "invalid_body", None)


def test_oversized_body_is_rejected_with_413(configure):
    body = json.dumps({**booking_body(TUESDAY_NINE), "padding": "x" * 20_000}).encode()

    assert_rejected(book(raw=body), 413, "body_too_large", None)


def test_terms_must_be_the_current_version(configure):
    response = book(booking_body(TUESDAY_NINE, accepted_terms_version="2019-01"))

    assert_rejected(response, 400, "terms_not_accepted", "accepted_terms_version")
    assert "2026-01" in response.json()["messages"]["fr"]


@pytest.mark.parametrize(
    ("override", "error", "field"),
    [
        ({"postcode": "9999"}, "unknown_postcode", "postcode"),
        ({"topic": "tax-return"}, "unknown_topic", "topic"),
        ({"postcode": "1000"}, "language_required", "language"),
        ({"postcode": "9000", "language": "fr"}, "language_not_allowed", "language"),
        ({"postcode": "1000", "language": "de"}, "language_not_allowed", "language"),
        ({"channel": "office", "office": "nowhere"}, "unknown_office", "office"),
        ({"channel": "office"}, "invalid_field", "office"),
        ({"office": "gent"}, "invalid_field", "office"),
        ({"start": "2027-03-23T09:10:00+01:00"}, "slot_not_offered", "start"),
        ({"start": "2027-03-22T10:00:00+01:00"}, "slot_not_offered", "start"),
        ({"start": "2027-05-06T09:00:00+02:00"}, "slot_not_offered", "start"),
        ({"start": "2027-04-27T09:00:00+02:00"}, "slot_not_offered", "start"),
        ({"start": "2027-03-27T09:00:00+01:00"}, "slot_not_offered", "start"),
    ],
)
def test_request_the_rules_refuse(configure, override, error, field):
    response = book(booking_body(TUESDAY_NINE, **override))

    assert_rejected(response, 400, error, field)


def test_idempotency_key_longer_than_200_characters_is_rejected(configure):
    response = book(booking_body(TUESDAY_NINE), headers={"Idempotency-Key": "k" * 201})

    assert_rejected(response, 400, "invalid_field", "Idempotency-Key")


def test_message_follows_accept_language(configure):
    response = book(booking_body(TUESDAY_NINE, postcode="9999"), headers={"Accept-Language": "de-BE,de;q=0.9"})

    body = response.json()
    assert body["message"] == body["messages"]["de"]
    assert body["messages"]["de"] != body["messages"]["nl"]
