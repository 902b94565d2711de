"""The development stand-in for Teams meetings: join links point at the local host's /local/join page."""

from __future__ import annotations

from shared.domain.model import Booking
from shared.ports import Meeting


class LocalMeetingProvider:
    def __init__(self, base_url: str) -> None:
        self._base_url = base_url.rstrip("/")

    def _meeting(self, booking: Booking) -> Meeting:
        meeting_id = f"local-{booking.reference.lower()}"
        return Meeting(id=meeting_id, join_url=f"{self._base_url}/local/join/{meeting_id}")

    async def create_or_get(self, booking: Booking) -> Meeting:
        return self._meeting(booking)

    async def update(self, booking: Booking) -> Meeting:
        return self._meeting(booking)

    async def delete(self, booking: Booking) -> None:
        return None
