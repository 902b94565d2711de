"""The appointment lifecycle against Azurite: the 10-minute rules, the sweep, the manage link, agent actions."""

import threading
from datetime import datetime, timedelta, timezone

from functions import dependencies
from shared.domain.calendar import BRUSSELS
from shared.domain.lifecycle import Signal
from tests import catalogs
from tests.api import call
from tests.people import booking_body

TUESDAY_NINE = "2027-03-23T09:00:00+01:00"
START = datetime.fromisoformat(TUESDAY_NINE)


def book(start=TUESDAY_NINE, serial=123, **overrides):
    response = call("create_booking", "POST", body=booking_body(start, serial=serial, **overrides))
    assert response.status == 201, response.json()
    return response.json()


def status_of(reference):
    booking, _ = dependencies.ledger().get(reference)
    return booking


def signal_at(clock, reference, signal, moment):
    clock.moment = moment
    dependencies.lifecycle_service().record(reference, signal)


def sweep_at(clock, moment):
    clock.moment = moment
    return dependencies.lifecycle_service().sweep()


def test_client_seen_at_9_59_stays(configure, clock):
    reference = book()["reference"]
    signal_at(clock, reference, Signal.AGENT_JOINED, START + timedelta(minutes=1))
    signal_at(clock, reference, Signal.CLIENT_OPENED_LINK, START + timedelta(minutes=9, seconds=59))

    sweep_at(clock, START + timedelta(minutes=10))

    assert status_of(reference).status.value == "booked"


def test_client_first_seen_at_10_00_no_show(configure, clock, queued_mails):
    reference = book()["reference"]
    queued_mails()
    signal_at(clock, reference, Signal.AGENT_JOINED, START + timedelta(minutes=1))
    signal_at(clock, reference, Signal.CLIENT_OPENED_LINK, START + timedelta(minutes=10))

    sweep_at(clock, START + timedelta(minutes=10))

    booking = status_of(reference)
    assert booking.status.value == "cancelled"
    assert booking.status_reason == "no_show_client"
    assert queued_mails() == [(reference, "no_show")]


def test_rules_wait_until_ten_minutes_after_the_start(configure, clock):
    reference = book()["reference"]

    report = sweep_at(clock, START + timedelta(minutes=9, seconds=59))

    assert status_of(reference).status.value == "booked"
    assert report.changed == []


def test_agent_late_to_reschedule(configure, clock, queued_mails):
    reference = book()["reference"]
    queued_mails()
    signal_at(clock, reference, Signal.CLIENT_OPENED_LINK, START)

    sweep_at(clock, START + timedelta(minutes=10))

    booking = status_of(reference)
    assert booking.status.value == "to_reschedule"
    assert booking.status_reason == "agent_late"
    assert queued_mails() == [(reference, "agent_late")]


def test_late_timer_run_decides_from_signal_times(configure, clock):
    reference = book()["reference"]
    signal_at(clock, reference, Signal.AGENT_JOINED, START + timedelta(minutes=2))
    signal_at(clock, reference, Signal.CLIENT_OPENED_LINK, START + timedelta(minutes=5))

    sweep_at(clock, START + timedelta(hours=3))

    assert status_of(reference).status.value == "booked"


def test_sweep_twice_changes_nothing_the_second_time(configure, clock, queued_mails):
    reference = book()["reference"]
    queued_mails()

    first = sweep_at(clock, START + timedelta(minutes=11))
    second = sweep_at(clock, START + timedelta(minutes=12))

    assert first.changed == [(reference, "agent_late")]
    assert second.changed == []
    assert second.looked_at == 0
    assert queued_mails() == [(reference, "agent_late")]


def test_overlapping_sweeps_send_one_mail(configure, clock, queued_mails):
    references = [book()["reference"]]
    queued_mails()
    clock.moment = START + timedelta(minutes=15)
    barrier = threading.Barrier(3)

    def run():
        barrier.wait()
        dependencies.lifecycle_service().sweep()

    threads = [threading.Thread(target=run) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert queued_mails() == [(references[0], "agent_late")]
    assert len(dependencies.ledger().audit_trail(references[0])) == 2


def test_fall_back_night_appointment(configure, clock):
    night = {"sun": ["01:00-04:00"]}
    configure(catalogs.config(counters=[catalogs.video_counter(hours=night)]))
    clock.moment = datetime(2027, 10, 28, 9, 0, tzinfo=BRUSSELS)
    # 02:30 occurs twice on 31 October 2027; +01:00 is the second time, 01:30 UTC.
    reference = book("2027-10-31T02:30:00+01:00")["reference"]

    sweep_at(clock, datetime(2027, 10, 31, 0, 45, tzinfo=timezone.utc))
    status_after_first_pass = status_of(reference).status.value
    second_pass = sweep_at(clock, datetime(2027, 10, 31, 1, 40, tzinfo=timezone.utc))

    assert status_after_first_pass == "booked"
    assert second_pass.changed == [(reference, "agent_late")]


def test_easter_sunday_2027_closed(configure, clock):
    configure(catalogs.config(counters=[catalogs.video_counter(hours={"sun": ["01:00-04:00"]})]))
    clock.moment = datetime(2027, 3, 24, 9, 0, tzinfo=BRUSSELS)

    response = call("create_booking", "POST", body=booking_body("2027-03-28T03:00:00+02:00"))

    assert response.json()["error"] == "slot_not_offered"


def test_spring_forward_night_appointment(configure, clock):
    configure(catalogs.config(counters=[catalogs.video_counter(hours={"sun": ["01:00-04:00"]})]))
    clock.moment = datetime(2028, 3, 22, 9, 0, tzinfo=BRUSSELS)
    # 26 March 2028: 02:00-03:00 does not exist; 03:00+02:00 is 01:00 UTC, 30 minutes after 01:30+01:00.
    reference = book("2028-03-26T03:00:00+02:00")["reference"]
    signal_at(clock, reference, Signal.AGENT_JOINED, datetime(2028, 3, 26, 1, 5, tzinfo=timezone.utc))

    sweep_at(clock, datetime(2028, 3, 26, 1, 9, 59, tzinfo=timezone.utc))
    status_before = status_of(reference).status.value
    sweep_at(clock, datetime(2028, 3, 26, 1, 10, tzinfo=timezone.utc))

    assert status_before == "booked"
    assert status_of(reference).status_reason == "no_show_client"


def test_reminder_goes_out_once(configure, clock, queued_mails):
    reference = book("2027-03-25T09:00:00+01:00")["reference"]
    queued_mails()

    sweep_at(clock, datetime(2027, 3, 24, 8, 59, tzinfo=BRUSSELS))
    assert queued_mails() == []
    sweep_at(clock, datetime(2027, 3, 24, 9, 0, tzinfo=BRUSSELS))
    sweep_at(clock, datetime(2027, 3, 24, 9, 1, tzinfo=BRUSSELS))

    assert queued_mails() == [(reference, "reminder")]
    assert status_of(reference).reminder_sent is True


def test_sweep_reads_only_due_appointments(configure, clock):
    configure(catalogs.config(agents=[catalogs.agent(f"a{i}") for i in range(3)]))
    due = [book(serial=n)["reference"] for n in (1, 2)]
    for n, day in enumerate(("2027-03-24", "2027-03-25", "2027-03-26", "2027-04-01"), start=10):
        book(f"{day}T10:00:00+01:00" if day < "2027-03-28" else f"{day}T10:00:00+02:00", serial=n)

    report = sweep_at(clock, START + timedelta(minutes=10))

    assert report.looked_at == 2
    assert sorted(ref for ref, _ in report.changed) == sorted(due)


def test_repeated_signal_keeps_the_first_time(configure, clock):
    reference = book()["reference"]
    signal_at(clock, reference, Signal.CLIENT_PRESENT, START + timedelta(minutes=1))
    signal_at(clock, reference, Signal.CLIENT_PRESENT, START + timedelta(minutes=5))

    booking = status_of(reference)

    assert booking.client_seen_at == START + timedelta(minutes=1)
    assert len(dependencies.ledger().signals(reference)) == 2


# --- the manage link ---------------------------------------------------------------------------


def manage(reference, token, action, body=None):
    return call(f"{action}_booking", "POST", route={"reference": reference}, headers={"X-Manage-Token": token}, body=body or {})


def test_client_cancel_frees_the_seat(configure, clock, queued_mails):
    created = book()
    queued_mails()

    response = manage(created["reference"], created["manage_token"], "cancel")

    assert response.status == 200
    assert response.json()["status"] == "cancelled"
    assert queued_mails() == [(created["reference"], "cancelled")]
    assert book(serial=9)["start"] == TUESDAY_NINE


def test_cancel_after_start_rejected(configure, clock):
    created = book()
    clock.moment = START + timedelta(minutes=1)

    response = call("cancel_booking", "POST", route={"reference": created["reference"]},
                    headers={"X-Manage-Token": created["manage_token"], "Accept-Language": "fr"}, body={})

    assert response.status == 409
    assert response.json()["error"] == "appointment_started"
    assert "commencé" in response.json()["message"]
    assert status_of(created["reference"]).status.value == "booked"


def test_token_of_another_booking_cannot_cancel(configure, clock):
    configure(catalogs.config(agents=[catalogs.agent("a1"), catalogs.agent("a2")]))
    first, second = book(serial=1), book(serial=2)

    response = manage(first["reference"], second["manage_token"], "cancel")

    assert response.status == 404
    assert status_of(first["reference"]).status.value == "booked"


def test_three_reschedules_leave_one_live_join_link(configure, clock, queued_mails):
    created = book()
    reference, token = created["reference"], created["manage_token"]
    queued_mails()
    for start in ("2027-03-23T10:00:00+01:00", "2027-03-24T09:00:00+01:00", "2027-03-25T11:00:00+01:00"):
        response = manage(reference, token, "reschedule", {"start": start})
        assert response.status == 200, response.json()
    booking = status_of(reference)
    dependencies.ledger().update(booking.replace(join_url="http://127.0.0.1:7071/local/join/x"), dependencies.ledger().get(reference)[1])

    answers = [call("join_meeting", route={"reference": reference}, params={"token": token, "v": str(v)}) for v in range(4)]

    assert booking.sequence == 3
    assert booking.start == datetime.fromisoformat("2027-03-25T11:00:00+01:00")
    assert [a.status for a in answers] == [410, 410, 410, 302]
    assert "verplaatst" in answers[0].body.decode()
    assert queued_mails() == [(reference, "rescheduled")] * 3
    assert book("2027-03-23T09:00:00+01:00", serial=8)["status"] == "booked"


def test_reschedule_to_full_slot(configure, clock):
    first = book(serial=1)
    other = book("2027-03-23T10:00:00+01:00", serial=2)

    response = manage(first["reference"], first["manage_token"], "reschedule", {"start": other["start"]})

    assert response.status == 409
    assert response.json()["error"] == "slot_taken"
    assert status_of(first["reference"]).start == START
    assert call("create_booking", "POST", body=booking_body(TUESDAY_NINE, serial=3)).status == 409


# --- agent actions and the agenda --------------------------------------------------------------


def test_agent_signals_and_end_with_outcome(configure, clock):
    reference = book()["reference"]
    clock.moment = START + timedelta(minutes=1)

    joined = call("record_signal", "POST", route={"reference": reference}, body={"signal": "agent_joined", "agent_id": "a1"})
    verified = call("record_signal", "POST", route={"reference": reference}, body={"signal": "identity_verified"})
    ended = call("end_appointment", "POST", route={"reference": reference}, body={"outcome": "no_camera", "agent_id": "a1"})

    assert joined.status == 200
    assert verified.json()["signals"]["identity_verified_at"] == "2027-03-23T09:01:00+01:00"
    assert ended.json()["status"] == "ended"
    assert ended.json()["outcome"] == "no_camera"
    trail = dependencies.ledger().audit_trail(reference)
    assert [(row["FromStatus"], row["ToStatus"], row["Actor"]) for row in trail] == [
        ("", "booked", "client"), ("booked", "ended", "agent"),
    ]


def test_technical_problem_leaves_the_appointment_to_reschedule(configure, clock, queued_mails):
    reference = book()["reference"]
    queued_mails()
    clock.moment = START + timedelta(minutes=3)

    response = call("end_appointment", "POST", route={"reference": reference}, body={"outcome": "technical_problem"})

    assert response.json()["status"] == "to_reschedule"
    assert queued_mails() == [(reference, "agent_late")]


def test_agency_reschedules_after_agent_late(configure, clock):
    reference = book()["reference"]
    sweep_at(clock, START + timedelta(minutes=10))

    response = call("reschedule_appointment", "POST", route={"reference": reference},
                    body={"start": "2027-03-24T09:00:00+01:00", "reason": "agent_late", "agent_id": "a1"})

    assert response.status == 200, response.json()
    assert response.json()["status"] == "booked"
    assert response.json()["sequence"] == 1


def test_agent_action_with_invalid_body_names_the_field(configure, clock):
    reference = book()["reference"]

    response = call("end_appointment", "POST", route={"reference": reference}, body={"outcome": "bored"})

    assert response.status == 400
    assert response.json()["field"] == "outcome"


def test_agenda_shows_the_day_with_minimal_personal_data(configure, clock):
    configure(catalogs.config(agents=[catalogs.agent("a1"), catalogs.agent("a2")]))
    kept = book(serial=1)["reference"]
    late = book(serial=2)["reference"]
    book("2027-03-24T09:00:00+01:00", serial=3)
    signal_at(clock, kept, Signal.AGENT_JOINED, START)
    signal_at(clock, kept, Signal.CLIENT_PRESENT, START)
    call("end_appointment", "POST", route={"reference": late}, body={"outcome": "technical_problem"})

    agenda = call("get_agenda", params={"date": "2027-03-23", "counter": "video"}).json()

    items = {item["reference"]: item for item in agenda["appointments"]}
    assert set(items) == {kept, late}
    assert items[kept]["client"] == {"first_name": "Jan", "last_name": "Peeters", "email": None, "phone": None}
    assert items[late]["client"]["phone"] == "+32470123456"
    assert items[kept]["signals"]["agent_seen_at"] == "2027-03-23T09:00:00+01:00"


def test_agenda_of_an_unknown_counter_is_rejected(configure, clock):
    response = call("get_agenda", params={"date": "2027-03-23", "counter": "mars"})

    assert response.status == 400
    assert response.json()["field"] == "counter"


def test_audit_trail_holds_no_personal_data(configure, clock):
    created = book()
    clock.advance(minutes=1)
    manage(created["reference"], created["manage_token"], "cancel")

    trail = dependencies.ledger().audit_trail(created["reference"])

    text = " ".join(str(value) for row in trail for value in row.values())
    assert [row["ToStatus"] for row in trail] == ["booked", "cancelled"]
    assert "Peeters" not in text
    assert "example.be" not in text


def test_end_before_start_rejected(configure, clock):
    reference = book()["reference"]

    response = call("end_appointment", "POST", route={"reference": reference}, body={"outcome": "completed"})

    assert response.status == 409
    assert response.json()["error"] == "appointment_not_started"
    assert status_of(reference).status.value == "booked"


def test_rescheduled_claim_blocks_second_booking(configure, clock):
    created = book()
    manage(created["reference"], created["manage_token"], "reschedule", {"start": "2027-03-26T09:00:00+01:00"})
    clock.moment = START + timedelta(hours=2)

    response = call("create_booking", "POST", body=booking_body("2027-03-25T09:00:00+01:00"))

    assert response.status == 409
    assert response.json()["error"] == "already_booked"
