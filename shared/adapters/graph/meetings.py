"""Teams meetings of video bookings through Microsoft Graph (onlineMeetings, application permissions).

A meeting is created with POST /users/{organizer}/onlineMeetings/createOrGet and the booking
reference as externalId, so a retried step gets the same meeting back instead of a second one.
createOrGet takes only times, subject and participants, so a PATCH then sets the options that
the terms of use require. Guests wait in the lobby until an agent admits them. Nothing is
recorded or transcribed, and only the agency's people present.

Meeting.id is "<organizer user id>|<online meeting id>": PATCH and DELETE address a meeting under
its organizer, who can differ from the booking's agent after a reschedule or a settings change.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timezone

from shared.adapters.graph.client import GraphApi, GraphResponse
from shared.adapters.graph.errors import GraphConfigurationError, GraphError
from shared.domain.model import Booking
from shared.ports import Meeting
from shared.services.ports import CatalogSource
from shared.services.provisioning import MeetingWithoutJoinUrl

logger = logging.getLogger(__name__)

ID_SEPARATOR = "|"
# lobbyBypassScope values such as organizationExcludingGuests are "evolvable": Graph accepts and
# returns them only with this header.
PREFER_UNKNOWN_ENUMS = {"Prefer": "include-unknown-enum-members"}


@dataclass(frozen=True)
class MeetingOptions:
    """The options every meeting gets. The fields are the ones operators may choose in the settings."""

    lobby_bypass_scope: str = "organization"
    allowed_presenters: str = "organizer"
    meeting_chat: str = "limited"
    announce_entry_exit: bool = True
    attendee_camera: bool = True
    attendee_microphone: bool = True

    def as_json(self) -> dict:
        return {
            # Anonymous guests (the citizens) always wait in the lobby; dial-in callers too.
            "lobbyBypassSettings": {"scope": self.lobby_bypass_scope, "isDialInBypassEnabled": False},
            "allowedPresenters": self.allowed_presenters,
            "allowRecording": False,
            "allowTranscription": False,
            "recordAutomatically": False,
            # NOTE: the v1.0 update page does not list allowParticipantsToChangeName among the
            # properties a PATCH changes; onlineMeeting defines it as writable.
            "allowParticipantsToChangeName": False,
            "isEntryExitAnnounced": self.announce_entry_exit,
            "allowMeetingChat": self.meeting_chat,
            "allowAttendeeToEnableCamera": self.attendee_camera,
            "allowAttendeeToEnableMic": self.attendee_microphone,
        }


class GraphMeetingProvider:
    """The MeetingProvider of production: Teams online meetings organized by the agent or a service account.

    The organizer is the assigned agent's Agent.graph_user_id, else `default_organizer`
    (GRAPH_ORGANIZER_USER_ID). With `virtual_appointment_links`, Meeting.join_url is the link from
    getVirtualAppointmentJoinWebUrl, which joins from a mobile browser without the Teams app.
    """

    def __init__(
        self,
        api: GraphApi,
        catalog_source: CatalogSource,
        *,
        default_organizer: str | None,
        options: MeetingOptions = MeetingOptions(),
        subject_prefix: str = "Videoloket",
        virtual_appointment_links: bool = False,
    ) -> None:
        self._api = api
        self._catalog_source = catalog_source
        self._default_organizer = default_organizer
        self._options = options
        self._subject_prefix = subject_prefix
        self._virtual_appointment_links = virtual_appointment_links

    async def create_or_get(self, booking: Booking) -> Meeting:
        """Create the booking's meeting, or get it when it exists, and apply the options."""
        organizer = self._organizer_of(booking)
        created = await self._api.request(
            "createOrGet", "POST",
            lambda graph: graph.users.by_user_id(organizer).online_meetings.create_or_get,
            {
                "externalId": booking.reference,
                "startDateTime": _utc(booking.start),
                "endDateTime": _utc(booking.end),
                # The subject shows in Teams: the reference only, never the citizen's name.
                "subject": f"{self._subject_prefix} {booking.reference}",
            },
            headers=PREFER_UNKNOWN_ENUMS,
        )
        document = _document(created)
        meeting_id = _json_field(document, "id")
        if not meeting_id:
            raise GraphError("createOrGet", f"Graph returned the meeting of {booking.reference} without an id")
        teams_url = _teams_url(document, booking.reference)
        # The times go along, because an update that changes them must carry start and end together.
        await self._patch(organizer, meeting_id, booking, self._options.as_json())
        if created.status == 201:
            logger.info("Teams meeting created for %s", booking.reference, extra={"reference": booking.reference})
        return Meeting(id=f"{organizer}{ID_SEPARATOR}{meeting_id}",
                       join_url=await self._join_url(organizer, meeting_id, teams_url, booking.reference))

    async def update(self, booking: Booking) -> Meeting:
        """Move the meeting to the booking's start and end; create it when the booking has none."""
        if not booking.meeting_id:
            return await self.create_or_get(booking)
        organizer, meeting_id = _split_id(booking.meeting_id)
        try:
            updated = await self._patch(organizer, meeting_id, booking, {})
        except GraphError as error:
            if error.status != 404:
                raise
            logger.warning("meeting of %s no longer exists; creating it again", booking.reference,
                           extra={"reference": booking.reference})
            return await self.create_or_get(booking.replace(meeting_id=None, join_url=None))
        teams_url = _teams_url(updated, booking.reference)
        return Meeting(id=booking.meeting_id,
                       join_url=await self._join_url(organizer, meeting_id, teams_url, booking.reference))

    async def delete(self, booking: Booking) -> None:
        """Delete the booking's meeting. A meeting that is already gone (404) counts as deleted."""
        if not booking.meeting_id:
            return
        organizer, meeting_id = _split_id(booking.meeting_id)
        try:
            await self._api.request(
                "deleteMeeting", "DELETE",
                lambda graph: graph.users.by_user_id(organizer).online_meetings.by_online_meeting_id(meeting_id),
            )
        except GraphError as error:
            if error.status != 404:
                raise
        logger.info("Teams meeting of %s deleted", booking.reference, extra={"reference": booking.reference})

    # --- internals -----------------------------------------------------------------------------

    def _organizer_of(self, booking: Booking) -> str:
        agent = next((a for a in self._catalog_source.catalog().agents if a.id == booking.agent_id), None)
        organizer = (agent.graph_user_id if agent else None) or self._default_organizer
        if not organizer:
            raise GraphConfigurationError(
                "createOrGet",
                f"agent {booking.agent_id} has no graph_user_id and GRAPH_ORGANIZER_USER_ID is not set",
            )
        return organizer

    async def _patch(self, organizer: str, meeting_id: str, booking: Booking, fields: dict) -> dict:
        body = {"startDateTime": _utc(booking.start), "endDateTime": _utc(booking.end), **fields}
        response = await self._api.request(
            "updateMeeting", "PATCH",
            lambda graph: graph.users.by_user_id(organizer).online_meetings.by_online_meeting_id(meeting_id),
            body,
            headers=PREFER_UNKNOWN_ENUMS,
        )
        return _document(response)

    async def _join_url(self, organizer: str, meeting_id: str, teams_url: str, reference: str) -> str:
        if not self._virtual_appointment_links:
            return teams_url
        response = await self._api.request(
            "getVirtualAppointmentJoinWebUrl", "GET",
            lambda graph: graph.users.by_user_id(organizer).online_meetings.by_online_meeting_id(
                meeting_id).get_virtual_appointment_join_web_url,
        )
        url = _json_field(_document(response), "value")
        if not url:
            raise MeetingWithoutJoinUrl(f"Graph returned no virtual appointment link for {reference}")
        return url


def _utc(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _document(response: GraphResponse) -> dict:
    """Return the JSON object of a response, or {} when the body is empty or not an object."""
    try:
        document = response.json()
    except ValueError:
        return {}
    return document if isinstance(document, dict) else {}


def _teams_url(meeting: dict, reference: str) -> str:
    url = _json_field(meeting, "joinWebUrl")
    if not url:
        raise MeetingWithoutJoinUrl(f"Graph returned the meeting of {reference} without joinWebUrl")
    return url


def _json_field(document: object, name: str) -> str | None:
    value = document.get(name) if isinstance(document, dict) else None
    return value if isinstance(value, str) and value else None


def _split_id(stored_id: str) -> tuple[str, str]:
    organizer, separator, meeting_id = stored_id.partition(ID_SEPARATOR)
    if not separator or not organizer or not meeting_id:
        raise GraphConfigurationError("updateMeeting", f"meeting id {stored_id!r} is not '<organizer>|<meeting id>'")
    return organizer, meeting_id
