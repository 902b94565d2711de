"""The Graph meeting provider and mailer against the fake Graph, through the real msgraph SDK."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta, timezone

import pytest

from shared.adapters.graph.client import GraphApi, GraphConnection
from shared.adapters.graph.errors import (
    GraphAuthenticationFailed,
    GraphConfigurationError,
    GraphError,
    GraphThrottled,
)
from shared.adapters.graph.mail import GraphMailer
from shared.adapters.graph.meetings import GraphMeetingProvider, MeetingOptions
from shared.mail.compose import compose
from shared.ports import Attachment, OutgoingMail
from shared.services.provisioning import MailOutcomeUnknown, MeetingWithoutJoinUrl
from tests import catalogs
from tests.factories import make_booking, make_counter_for, make_links, make_topic
from tests.graph.certificates import write_client_certificate
from tests.graph.fake_graph import AGENT_USER_ID, CLIENT_ID, CLIENT_SECRET, MAILBOX, ORGANIZER_ID, TENANT_ID

UTC = timezone.utc


class StaticCatalog:
    def __init__(self, catalog) -> None:
        self._catalog = catalog

    def catalog(self):
        return self._catalog


def connect(fake, **changes) -> GraphApi:
    values = dict(
        base_url=fake.graph_url, authority_host=fake.authority, credential="client_secret", tenant_id=TENANT_ID,
        client_id=CLIENT_ID, client_secret=CLIENT_SECRET, authority_ca_file=str(fake.ca_file), timeout_seconds=5,
    )
    values.update(changes)
    return GraphApi(GraphConnection(**values))


def run(api: GraphApi, work):
    """Run `work()` on a new event loop and close that loop's Graph client afterwards."""

    async def main():
        try:
            return await work()
        finally:
            await api.aclose()

    return asyncio.run(main())


def provider(api: GraphApi, agents=None, **options) -> GraphMeetingProvider:
    catalog = catalogs.catalog(agents=agents or [catalogs.agent("agent-1", ("nl",))])
    return GraphMeetingProvider(api, StaticCatalog(catalog), default_organizer=ORGANIZER_ID, **options)


def new_booking(**changes):
    return make_booking().replace(**{"join_url": None, "meeting_id": None, **changes})


# --- meetings ---------------------------------------------------------------------------------


def test_meeting_options_follow_the_terms_of_use(fake_graph):
    api = connect(fake_graph)
    booking = new_booking()

    meeting = run(api, lambda: provider(api).create_or_get(booking))

    stored = fake_graph.meeting_for(booking.reference)
    assert meeting.join_url == stored.join_web_url
    assert stored.options["lobbyBypassSettings"] == {"scope": "organization", "isDialInBypassEnabled": False}
    assert stored.options["allowedPresenters"] == "organizer"
    assert stored.options["allowRecording"] is False
    assert stored.options["allowTranscription"] is False
    assert stored.options["recordAutomatically"] is False
    assert stored.options["allowParticipantsToChangeName"] is False
    assert stored.options["allowMeetingChat"] == "limited"
    assert stored.options["isEntryExitAnnounced"] is True
    assert stored.options["allowAttendeeToEnableCamera"] is True
    assert stored.options["allowAttendeeToEnableMic"] is True


def test_meeting_options_come_from_the_settings(fake_graph):
    api = connect(fake_graph)
    options = MeetingOptions(lobby_bypass_scope="organizationExcludingGuests", allowed_presenters="organization",
                             meeting_chat="disabled", announce_entry_exit=False, attendee_microphone=False)
    booking = new_booking()

    run(api, lambda: provider(api, options=options).create_or_get(booking))

    stored = fake_graph.meeting_for(booking.reference).options
    assert stored["lobbyBypassSettings"]["scope"] == "organizationExcludingGuests"
    assert stored["allowedPresenters"] == "organization"
    assert stored["allowMeetingChat"] == "disabled"
    assert stored["isEntryExitAnnounced"] is False
    assert stored["allowAttendeeToEnableMic"] is False
    assert fake_graph.calls("updateMeeting")[0].headers["prefer"] == "include-unknown-enum-members"


def test_create_or_get_body_shape(fake_graph):
    api = connect(fake_graph)
    booking = new_booking()

    run(api, lambda: provider(api).create_or_get(booking))

    body = fake_graph.calls("createOrGet")[0].body
    assert body["externalId"] == booking.reference
    assert body["startDateTime"] == "2027-03-30T07:00:00Z"
    assert body["endDateTime"] == "2027-03-30T07:30:00Z"
    assert booking.personal.last_name not in str(body)
    assert booking.personal.first_name not in str(body)


def test_create_or_get_twice_gives_one_meeting(fake_graph):
    api = connect(fake_graph)
    booking = new_booking()

    async def twice():
        meetings = provider(api)
        return await meetings.create_or_get(booking), await meetings.create_or_get(booking)

    first, second = run(api, twice)

    assert first == second
    assert len(fake_graph.live_meetings()) == 1
    assert [call.status for call in fake_graph.calls("createOrGet")] == [201, 200]


def test_agent_with_graph_user_organizes_the_meeting(fake_graph):
    api = connect(fake_graph)
    agents = [catalogs.agent("agent-1", ("nl",), graph_user_id=AGENT_USER_ID)]
    booking = new_booking()

    meeting = run(api, lambda: provider(api, agents=agents).create_or_get(booking))

    assert fake_graph.meeting_for(booking.reference).organizer == AGENT_USER_ID
    assert meeting.id.startswith(AGENT_USER_ID + "|")


def test_missing_organizer_is_a_configuration_error(fake_graph):
    api = connect(fake_graph)
    meetings = GraphMeetingProvider(api, StaticCatalog(catalogs.catalog()), default_organizer=None)

    with pytest.raises(GraphConfigurationError, match="GRAPH_ORGANIZER_USER_ID"):
        run(api, lambda: meetings.create_or_get(new_booking(agent_id="a1")))


def test_meeting_without_join_url_raises(fake_graph):
    api = connect(fake_graph)
    fake_graph.fail_next("createOrGet", "no_join_url")

    with pytest.raises(MeetingWithoutJoinUrl):
        run(api, lambda: provider(api).create_or_get(new_booking()))


def test_virtual_appointment_link_when_enabled(fake_graph):
    api = connect(fake_graph)

    meeting = run(api, lambda: provider(api, virtual_appointment_links=True).create_or_get(new_booking()))

    assert meeting.join_url.startswith("https://visit.teams.microsoft.com/")
    assert len(fake_graph.calls("virtualAppointment")) == 1


def test_reschedule_patch_carries_start_and_end(fake_graph):
    api = connect(fake_graph)
    booking = new_booking()
    later = datetime(2027, 4, 6, 12, 30, tzinfo=UTC)

    async def create_then_move():
        meetings = provider(api)
        created = await meetings.create_or_get(booking)
        moved = booking.replace(meeting_id=created.id, join_url=created.join_url, start=later,
                                end=later + timedelta(minutes=30))
        return created, await meetings.update(moved)

    created, moved = run(api, create_then_move)

    patch = fake_graph.calls("updateMeeting")[-1].body
    assert patch == {"startDateTime": "2027-04-06T12:30:00Z", "endDateTime": "2027-04-06T13:00:00Z"}
    assert moved == created
    assert fake_graph.meeting_for(booking.reference).start == "2027-04-06T12:30:00Z"


def test_update_without_meeting_creates_one(fake_graph):
    api = connect(fake_graph)

    run(api, lambda: provider(api).update(new_booking()))

    assert len(fake_graph.live_meetings()) == 1


def test_cancel_deletes_the_meeting(fake_graph):
    api = connect(fake_graph)
    booking = new_booking()

    async def create_then_delete():
        meetings = provider(api)
        created = await meetings.create_or_get(booking)
        await meetings.delete(booking.replace(meeting_id=created.id))

    run(api, create_then_delete)

    assert [call.status for call in fake_graph.calls("deleteMeeting")] == [204]
    assert fake_graph.live_meetings() == []


def test_deleting_a_missing_meeting_counts_as_done(fake_graph):
    api = connect(fake_graph)

    run(api, lambda: provider(api).delete(new_booking(meeting_id=f"{ORGANIZER_ID}|gone")))

    assert [call.status for call in fake_graph.calls("deleteMeeting")] == [404]


def test_certificate_credential_signs_in(fake_graph, tmp_path):
    certificate = write_client_certificate(tmp_path)
    api = connect(fake_graph, credential="certificate", client_secret=None, certificate_path=str(certificate))

    run(api, lambda: provider(api).create_or_get(new_booking()))

    assert fake_graph.tokens_issued == 1


def test_concurrent_first_requests_sign_in_once(fake_graph):
    api = connect(fake_graph)
    meetings = provider(api)

    async def ten_at_once():
        await asyncio.gather(*(meetings.create_or_get(new_booking(reference=f"VL{n:010d}")) for n in range(10)))

    run(api, ten_at_once)

    assert fake_graph.tokens_issued == 1
    assert len(fake_graph.live_meetings()) == 10


def test_rejected_client_secret_is_an_authentication_failure(fake_graph):
    api = connect(fake_graph, client_secret="not-the-secret")

    with pytest.raises(GraphAuthenticationFailed, match="could not get an access token"):
        run(api, lambda: provider(api).create_or_get(new_booking()))

    assert fake_graph.calls("createOrGet") == []
    fake_graph.violations.clear()  # the fake counts the wrong secret as a violation


def test_missing_client_secret_is_a_configuration_error(fake_graph):
    api = connect(fake_graph, client_secret=None)

    with pytest.raises(GraphConfigurationError, match="GRAPH_CLIENT_SECRET"):
        run(api, lambda: provider(api).create_or_get(new_booking()))


# --- mail -------------------------------------------------------------------------------------


def confirmation() -> OutgoingMail:
    booking = make_booking()
    return compose("confirmation", booking, make_counter_for(booking), make_topic(), make_links(booking))


def test_mail_html_with_invitation_attached(fake_graph):
    api = connect(fake_graph)
    mail = confirmation()

    run(api, lambda: GraphMailer(api, MAILBOX).send(mail))

    (sent,) = fake_graph.mails
    assert sent.mailbox == MAILBOX
    assert sent.to == [mail.to]
    assert sent.subject == mail.subject
    assert sent.html == mail.html
    assert sent.save_to_sent_items is True
    (name, content_type, content), = sent.attachments
    assert name == "invite.ics"
    assert content_type.startswith("text/calendar")
    assert content == mail.attachments[0].content


def test_send_mail_is_not_resent_by_the_sdk(fake_graph):
    api = connect(fake_graph)
    fake_graph.fail_next("sendMail", "throttle", retry_after=1)

    with pytest.raises(GraphThrottled) as raised:
        run(api, lambda: GraphMailer(api, MAILBOX).send(confirmation()))

    assert raised.value.retry_after == 1.0
    assert len(fake_graph.calls("sendMail")) == 1


def test_send_mail_503_is_a_definite_failure(fake_graph):
    api = connect(fake_graph)
    fake_graph.fail_next("sendMail", "unavailable")

    with pytest.raises(GraphError) as raised:
        run(api, lambda: GraphMailer(api, MAILBOX).send(confirmation()))

    assert raised.value.status == 503
    assert raised.value.ambiguous is False


def test_send_mail_timeout_makes_the_outcome_unknown(fake_graph):
    api = connect(fake_graph, timeout_seconds=0.5)
    fake_graph.fail_next("sendMail", "slow", delay=1.5)

    with pytest.raises(MailOutcomeUnknown):
        run(api, lambda: GraphMailer(api, MAILBOX).send(confirmation()))


def test_missing_mailbox_is_a_configuration_error(fake_graph):
    api = connect(fake_graph)

    with pytest.raises(GraphConfigurationError, match="GRAPH_MAILBOX"):
        run(api, lambda: GraphMailer(api, None).send(confirmation()))

    assert fake_graph.requests == []


def test_attachments_over_the_inline_limit_are_rejected(fake_graph):
    api = connect(fake_graph)
    big = OutgoingMail(to="a@example.be", subject="s", text="t", html="<p>h</p>", dedup_key="k",
                       attachments=(Attachment("big.bin", "application/octet-stream", b"0" * (3 * 1024 * 1024 + 1)),))

    with pytest.raises(ValueError, match="inline"):
        run(api, lambda: GraphMailer(api, MAILBOX).send(big))


def test_mailbox_concurrency_stays_at_four(fake_graph):
    api = connect(fake_graph)
    mailer = GraphMailer(api, MAILBOX)
    fake_graph.mail_latency = 0.1
    base = confirmation()

    async def twenty():
        await asyncio.gather(*(mailer.send(OutgoingMail(base.to, base.subject, base.text, base.html, f"k{n}",
                                                        base.attachments)) for n in range(20)))

    run(api, twenty)

    assert len(fake_graph.mails) == 20
    assert fake_graph.max_mail_concurrency_seen == 4
