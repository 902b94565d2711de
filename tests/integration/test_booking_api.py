"""Booking through the function app's own routes, against Azurite."""

import pytest

from tests import catalogs
from tests.api import call
from tests.people import booking_body, national_number

TUESDAY_NINE = "2027-03-23T09:00:00+01:00"
TUESDAY_HALF_PAST_NINE = "2027-03-23T09:30:00+01:00"


def book(body: dict, headers: dict | None = None):
    return call("create_booking", "POST", body=body, headers=headers)


def free_seats(start: str, **params) -> int:
    query = {"channel": "video", "topic": "payments", "postcode": "9000", "from": start[:10], "to": start[:10], **params}
    slots = call("list_slots", params=query).json()["slots"]
    return next((slot["available"] for slot in slots if slot["start"] == start), 0)


def test_booking_returns_reference_and_manage_token(configure):
    response = book(booking_body(TUESDAY_NINE))

    assert response.status == 201
    created = response.json()
    assert created["status"] == "booked"
    assert created["start"] == TUESDAY_NINE
    assert created["end"] == "2027-03-23T09:30:00+01:00"
    assert created["language"] == "nl"
    assert created["channel"] == "video"
    assert len(created["manage_token"]) >= 40
    assert response.headers["Location"] == f"/api/bookings/{created['reference']}"


def test_booking_response_never_echoes_the_national_number(configure):
    response = book(booking_body(TUESDAY_NINE))

    assert national_number(123).encode() not in response.body
    assert b"national_number" not in response.body


def test_secrets_not_stored_in_clear(configure, ledger_rows):
    created = book(booking_body(TUESDAY_NINE)).json()

    stored = " ".join(str(value) for row in ledger_rows() for value in row.values())

    assert national_number(123) not in stored
    assert "Peeters" not in stored
    assert "jan.peeters@example.be" not in stored
    assert created["manage_token"] not in stored


def test_owner_sees_a_masked_summary(configure):
    created = book(booking_body(TUESDAY_NINE)).json()

    response = call("get_booking", route={"reference": created["reference"]}, headers={"X-Manage-Token": created["manage_token"]})

    summary = response.json()
    assert response.status == 200
    assert summary["first_name"] == "J***"
    assert summary["last_name"] == "P***"
    assert summary["email"] == "j***@example.be"
    assert summary["phone"] == "+32*******56"
    assert summary["status"] == "booked"
    assert summary["provisioning"] == "pending"
    assert "national_number" not in summary


@pytest.mark.parametrize("token", [None, "", "wrong-token"])
def test_summary_without_the_right_token_is_not_found(configure, token):
    created = book(booking_body(TUESDAY_NINE)).json()
    headers = {"X-Manage-Token": token} if token is not None else {}

    response = call("get_booking", route={"reference": created["reference"]}, headers=headers)

    assert response.status == 404
    assert response.json()["error"] == "booking_not_found"


def test_foreign_token_not_found(configure):
    configure(catalogs.config(agents=[catalogs.agent("a1"), catalogs.agent("a2")]))
    first = book(booking_body(TUESDAY_NINE, serial=1)).json()
    second = book(booking_body(TUESDAY_NINE, serial=2)).json()

    response = call("get_booking", route={"reference": first["reference"]}, headers={"X-Manage-Token": second["manage_token"]})

    assert response.status == 404


def test_second_booking_already_booked(configure):
    first = book(booking_body(TUESDAY_NINE)).json()

    response = book(booking_body(TUESDAY_HALF_PAST_NINE, email="other@example.be"))

    assert response.status == 409
    assert response.json()["error"] == "already_booked"
    assert first["reference"].encode() not in response.body
    assert b"09:00" not in response.body


def test_rebooking_after_appointment_ends(configure, clock):
    book(booking_body(TUESDAY_NINE))
    clock.advance(days=1, hours=2)

    response = book(booking_body("2027-03-24T09:00:00+01:00"))

    assert response.status == 201


def test_refused_second_booking_leaves_the_slot_free(configure):
    book(booking_body(TUESDAY_NINE))

    book(booking_body(TUESDAY_HALF_PAST_NINE))

    assert free_seats(TUESDAY_HALF_PAST_NINE) == 1


def test_idempotency_key_replay_returns_the_first_booking(configure):
    configure(catalogs.config(agents=[catalogs.agent("a1"), catalogs.agent("a2")]))
    headers = {"Idempotency-Key": "b3c1e0c2-0001"}
    first = book(booking_body(TUESDAY_NINE), headers)

    replay = book(booking_body(TUESDAY_NINE), headers)

    assert replay.status == 201
    assert replay.json() == first.json()
    assert replay.headers.get("Idempotent-Replayed") == "true"
    assert free_seats(TUESDAY_NINE) == 1


def test_idempotency_key_reused_for_another_request_is_rejected(configure):
    headers = {"Idempotency-Key": "b3c1e0c2-0002"}
    book(booking_body(TUESDAY_NINE), headers)

    response = book(booking_body(TUESDAY_HALF_PAST_NINE, serial=7), headers)

    assert response.status == 422
    assert response.json()["error"] == "idempotency_key_reused"


def test_full_slot_answers_slot_taken(configure):
    book(booking_body(TUESDAY_NINE, serial=1))

    response = book(booking_body(TUESDAY_NINE, serial=2))

    assert response.status == 409
    body = response.json()
    assert body["error"] == "slot_taken"
    assert body["field"] == "start"
    assert set(body["messages"]) == {"nl", "fr", "de"}


def test_office_booking_uses_the_office_counter(configure):
    configure(catalogs.config(counters=[catalogs.video_counter(), catalogs.office()], agents=[catalogs.agent("d1", counter="gent")]))

    response = book(booking_body("2027-04-05T09:20:00+02:00", channel="office", office="gent"))

    assert response.status == 201
    assert response.json()["channel"] == "office"
    assert response.json()["end"] == "2027-04-05T09:40:00+02:00"


def test_brussels_resident_books_in_the_chosen_language(configure):
    response = book(booking_body(TUESDAY_NINE, postcode="1000", language="fr"))

    assert response.status == 201
    assert response.json()["language"] == "fr"


def test_german_without_german_agent(configure):
    response = book(booking_body(TUESDAY_NINE, postcode="4700"))

    assert response.status == 400
    assert response.json()["error"] == "slot_not_offered"
    assert "Sprache Ihres Wohnorts" in response.json()["messages"]["de"]


def test_start_without_offset_is_read_as_brussels_time(configure):
    response = book(booking_body("2027-03-23T09:00:00"))

    assert response.status == 201
    assert response.json()["start"] == TUESDAY_NINE
