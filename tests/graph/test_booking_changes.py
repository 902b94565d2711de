"""Reschedule and cancel through the public API; the queued events move or delete the Teams meeting."""

from __future__ import annotations

from tests.api import call
from tests.graph.test_provisioning_faults import book, summary

THURSDAY_TEN = "2027-03-25T10:00:00+01:00"


def test_reschedule_moves_the_meeting_with_start_and_end(fake_graph, queue):
    created = book()
    queue.drain()
    meeting = fake_graph.meeting_for(created["reference"])

    response = call("reschedule_booking", "POST", route={"reference": created["reference"]},
                    headers={"X-Manage-Token": created["manage_token"]}, body={"start": THURSDAY_TEN})
    assert response.status == 200, response.body
    queue.drain()

    patch = fake_graph.calls("updateMeeting")[-1].body
    assert patch == {"startDateTime": "2027-03-25T09:00:00Z", "endDateTime": "2027-03-25T09:30:00Z"}
    assert fake_graph.meeting_for(created["reference"]).id == meeting.id
    assert len(fake_graph.live_meetings()) == 1
    assert len(fake_graph.mails) == 2  # the confirmation, then the "rescheduled" mail


def test_cancel_deletes_the_meeting(fake_graph, queue):
    created = book()
    queue.drain()

    response = call("cancel_booking", "POST", route={"reference": created["reference"]},
                    headers={"X-Manage-Token": created["manage_token"]})
    assert response.status == 200, response.body
    queue.drain()

    assert [c.status for c in fake_graph.calls("deleteMeeting")] == [204]
    assert fake_graph.live_meetings() == []
    assert summary(created)["status"] == "cancelled"
    assert any("cancel" in mail.subject.lower() or "annul" in mail.subject.lower() for mail in fake_graph.mails)


def test_cancel_before_provisioning_leaves_no_meeting(fake_graph, queue):
    created = book()
    call("cancel_booking", "POST", route={"reference": created["reference"]},
         headers={"X-Manage-Token": created["manage_token"]})

    queue.drain()

    assert fake_graph.live_meetings() == []
