"""Attendance reconciliation: reports of ended meetings go to the audit trail and never change an appointment."""

from __future__ import annotations

from datetime import timedelta

import pytest

from functions import dependencies
from tests.graph.fake_graph import AGENT_USER_ID, attendance_record
from tests.graph.test_call_events import (
    START,
    booking_of,
    call_events,  # noqa: F401  (fixture)
    sweep_at,
)
from tests.graph.test_provisioning_faults import book

END = START + timedelta(minutes=30)
GUEST_ID = "7f3a1c9e-guest"


@pytest.fixture
def reconciliation(call_events, set_app_settings):
    set_app_settings(GRAPH_ATTENDANCE_RECONCILIATION="true")
    return call_events


def provisioned(queue) -> str:
    reference = book()["reference"]
    queue.drain()
    return reference


def attendance_rows(reference: str) -> dict[str, dict]:
    return {row["Role"]: row for row in dependencies.ledger().attendance(reference)}


def test_attendance_report_stored_per_role(reconciliation, queue):
    reference = provisioned(queue)
    reconciliation.fake.add_attendance_report(reference, [
        attendance_record(AGENT_USER_ID, "Organizer", (START + timedelta(minutes=1), START + timedelta(minutes=25))),
        attendance_record(GUEST_ID, "Attendee", (START + timedelta(minutes=4), START + timedelta(minutes=10)),
                          (START + timedelta(minutes=12), START + timedelta(minutes=24))),
    ])
    reconciliation.clock.moment = END + timedelta(minutes=31)

    reconciliation.run_timer()

    rows = attendance_rows(reference)
    assert sorted(rows) == ["agent", "guest"]
    assert rows["agent"]["FirstJoin"] == START + timedelta(minutes=1)
    assert rows["agent"]["TotalSeconds"] == 24 * 60
    assert rows["guest"]["FirstJoin"] == START + timedelta(minutes=4)
    assert rows["guest"]["LastLeave"] == START + timedelta(minutes=24)
    assert rows["guest"]["TotalSeconds"] == 18 * 60
    assert rows["guest"]["Participants"] == 1
    assert rows["guest"]["Reports"] == 1
    assert "Jan" not in repr(rows)  # names stay in Graph


def test_attendance_never_changes_status(reconciliation, queue):
    reference = provisioned(queue)
    sweep_at(reconciliation, START + timedelta(minutes=10))  # nobody was seen: the agent was late
    decided, etag = booking_of(reference)
    trail = dependencies.ledger().audit_trail(reference)
    reconciliation.fake.add_attendance_report(reference, [
        attendance_record(AGENT_USER_ID, "Organizer", (START + timedelta(minutes=2), END)),
        attendance_record(GUEST_ID, "Attendee", (START + timedelta(minutes=3), END)),
    ])
    reconciliation.clock.moment = END + timedelta(minutes=31)

    reconciliation.run_timer()

    assert sorted(attendance_rows(reference)) == ["agent", "guest"]
    assert booking_of(reference) == (decided, etag)
    assert decided.status.value == "to_reschedule"
    assert dependencies.ledger().audit_trail(reference) == trail
    assert dependencies.ledger().signals(reference) == []


def test_empty_report_stores_nothing(reconciliation, queue):
    reference = provisioned(queue)
    reconciliation.fake.add_attendance_report(reference, [])
    reconciliation.clock.moment = END + timedelta(minutes=31)
    before = booking_of(reference)

    reconciliation.run_timer()

    assert attendance_rows(reference) == {}
    assert booking_of(reference) == before
    reconciliation.clock.moment += timedelta(minutes=15)
    reconciliation.run_timer()
    assert len(reconciliation.fake.calls("listAttendanceReports")) == 2  # asked again: a report may come later


def test_report_read_only_after_delay(reconciliation, queue):
    reference = provisioned(queue)
    reconciliation.fake.add_attendance_report(reference, [
        attendance_record(GUEST_ID, "Attendee", (START, END)),
    ])
    reconciliation.clock.moment = END + timedelta(minutes=29)

    reconciliation.run_timer()

    assert reconciliation.fake.calls("listAttendanceReports") == []
    assert attendance_rows(reference) == {}


def test_stored_attendance_is_not_read_again(reconciliation, queue):
    reference = provisioned(queue)
    reconciliation.fake.add_attendance_report(reference, [
        attendance_record(GUEST_ID, "Attendee", (START, END)),
    ])
    reconciliation.clock.moment = END + timedelta(minutes=31)
    reconciliation.run_timer()

    reconciliation.clock.moment += timedelta(minutes=15)
    reconciliation.run_timer()

    assert len(reconciliation.fake.calls("listAttendanceReports")) == 1
    assert sorted(attendance_rows(reference)) == ["guest"]


def test_records_on_several_pages_are_summed(reconciliation, queue):
    reference = provisioned(queue)
    reconciliation.fake.attendance_page_size = 1
    reconciliation.fake.add_attendance_report(reference, [
        attendance_record(GUEST_ID, "Attendee", (START, START + timedelta(minutes=5))),
        attendance_record(GUEST_ID + "-2", "Attendee", (START + timedelta(minutes=6), START + timedelta(minutes=9))),
        attendance_record(AGENT_USER_ID, "Organizer", (START, END)),
    ])
    reconciliation.clock.moment = END + timedelta(minutes=31)

    reconciliation.run_timer()

    rows = attendance_rows(reference)
    assert rows["guest"]["Participants"] == 2
    assert rows["guest"]["TotalSeconds"] == 8 * 60
    assert rows["agent"]["TotalSeconds"] == 30 * 60
    assert len(reconciliation.fake.calls("listAttendanceRecords")) == 3


def test_reconciliation_off_reads_nothing(call_events, queue):
    reference = provisioned(queue)
    call_events.fake.add_attendance_report(reference, [attendance_record(GUEST_ID, "Attendee", (START, END))])
    call_events.clock.moment = END + timedelta(minutes=31)

    call_events.run_timer()

    assert call_events.fake.calls("listAttendanceReports") == []


def test_cancelled_meeting_is_not_asked(reconciliation, queue):
    from tests.api import call

    created = book()
    queue.drain()
    response = call("cancel_booking", "POST", route={"reference": created["reference"]},
                    headers={"X-Manage-Token": created["manage_token"]})
    assert response.status == 200, response.body
    queue.drain()
    reconciliation.clock.moment = END + timedelta(minutes=31)

    reconciliation.run_timer()

    assert reconciliation.fake.calls("listAttendanceReports") == []
