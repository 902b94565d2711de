"""The booking's confirmation: the queued provisioning creates the meeting link and writes the mail to the outbox."""

import asyncio
import email
from email import policy

from functions import dependencies
from tests.api import call
from tests.people import booking_body

TUESDAY_NINE = "2027-03-23T09:00:00+01:00"


def provision(reference: str):
    return asyncio.run(dependencies.provisioning_service().provision(reference))


def outbox_mails(app_settings_dir) -> list:
    return sorted(app_settings_dir.glob("*.eml"))


def read_mail(path):
    return email.message_from_bytes(path.read_bytes(), policy=policy.default)


def test_confirmation_in_outbox(configure):
    created = call("create_booking", "POST", body=booking_body(TUESDAY_NINE, postcode="4960", language="de")).json()
    # No agent speaks German in the default configuration, so book a French one in Malmedy instead.
    assert created.get("error") == "slot_not_offered"
    created = call("create_booking", "POST", body=booking_body(TUESDAY_NINE, postcode="4960")).json()

    booking = provision(created["reference"])

    outbox = dependencies.get_settings().outbox_dir
    mails = outbox_mails(outbox)
    assert len(mails) == 1
    message = read_mail(mails[0])
    assert message["To"] == "jan.peeters@example.be"
    assert "Peeters" not in message["Subject"]
    text = message.get_body(preferencelist=("plain",)).get_content()
    assert "mardi 23 mars 2027" in text
    assert f"/api/join/{created['reference']}?token=" in text
    assert "@" not in mails[0].name
    assert "peeters" not in mails[0].name.lower()
    calendar_parts = [part for part in message.iter_attachments() if part.get_content_type() == "text/calendar"]
    assert len(calendar_parts) == 1
    assert booking.provisioning.value == "mail_sent"


def test_provisioning_twice_sends_one_mail(configure):
    created = call("create_booking", "POST", body=booking_body(TUESDAY_NINE)).json()

    provision(created["reference"])
    provision(created["reference"])

    assert len(outbox_mails(dependencies.get_settings().outbox_dir)) == 1


def test_join_link_redirects_to_the_meeting(configure):
    created = call("create_booking", "POST", body=booking_body(TUESDAY_NINE)).json()
    booking = provision(created["reference"])

    response = call("join_meeting", route={"reference": created["reference"]}, params={"token": created["manage_token"]})

    assert response.status == 302
    assert response.headers["Location"] == booking.join_url
    assert "/local/join/" in booking.join_url


def test_summary_shows_provisioning_progress(configure):
    created = call("create_booking", "POST", body=booking_body(TUESDAY_NINE)).json()
    provision(created["reference"])

    summary = call("get_booking", route={"reference": created["reference"]}, params={"token": created["manage_token"]}).json()

    assert summary["provisioning"] == "mail_sent"


def test_agent_late_mails_the_client_and_the_team(configure, clock, monkeypatch):
    from shared.services.provisioning import ProvisioningRequest
    from shared.settings import get_settings

    monkeypatch.setenv("TEAM_ALERT_ADDRESS", "team@hvw.example")
    get_settings.cache_clear()
    dependencies.reset()
    created = call("create_booking", "POST", body=booking_body(TUESDAY_NINE)).json()
    clock.advance(days=1, minutes=15)
    dependencies.lifecycle_service().sweep()

    request = ProvisioningRequest(reference=created["reference"], event="agent_late", sequence=0)
    asyncio.run(dependencies.provisioning_service().handle(request))
    asyncio.run(dependencies.provisioning_service().handle(request))

    messages = [read_mail(path) for path in outbox_mails(dependencies.get_settings().outbox_dir)]
    recipients = sorted(message["To"] for message in messages)
    team_mail = next(message for message in messages if message["To"] == "team@hvw.example")
    team_text = team_mail.get_body(preferencelist=("plain",)).get_content()
    assert recipients == ["jan.peeters@example.be", "team@hvw.example"]
    assert created["reference"] in team_text
    assert "Peeters" not in team_text
    assert "jan.peeters@example.be" not in team_text
