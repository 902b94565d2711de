"""Retention: personal data goes 30 days after the appointment; the appointment and its audit stay."""

from datetime import timedelta

from functions import dependencies
from tests.api import call
from tests.people import booking_body

TUESDAY_NINE = "2027-03-23T09:00:00+01:00"


def test_purge_removes_personal_data_after_the_retention_period(configure, clock, ledger_rows):
    created = call("create_booking", "POST", body=booking_body(TUESDAY_NINE)).json()
    clock.moment = clock.moment + timedelta(days=1, minutes=30)
    dependencies.lifecycle_service().sweep()

    clock.advance(days=29)
    early = dependencies.retention_service().purge()
    clock.advance(days=1, minutes=1)
    report = dependencies.retention_service().purge()
    again = dependencies.retention_service().purge()

    booking, _ = dependencies.ledger().get(created["reference"])
    kinds = {row["RowKey"].split("|", 1)[0] for row in ledger_rows()}
    assert (early.purged, report.purged, again.purged) == (0, 1, 0)
    assert booking.personal is None
    assert booking.status.value == "to_reschedule"
    assert "person" not in kinds
    assert [row["ToStatus"] for row in dependencies.ledger().audit_trail(created["reference"])] == ["booked", "to_reschedule"]
    assert all("PersonalData" not in row for row in ledger_rows())


def test_owner_view_after_purge_shows_no_personal_data(configure, clock):
    created = call("create_booking", "POST", body=booking_body(TUESDAY_NINE)).json()
    clock.advance(days=32)
    dependencies.retention_service().purge()

    summary = call("get_booking", route={"reference": created["reference"]}, params={"token": created["manage_token"]}).json()

    assert summary["first_name"] == ""
    assert summary["email"] == ""
    assert summary["status"] == "booked"


def test_person_can_book_again_after_purge(configure, clock):
    call("create_booking", "POST", body=booking_body(TUESDAY_NINE))
    clock.advance(days=32)
    dependencies.retention_service().purge()

    response = call("create_booking", "POST", body=booking_body("2027-04-27T09:00:00+02:00"))

    assert response.status == 201
