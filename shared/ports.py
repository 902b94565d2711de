"""Interfaces between the services and the outside world. Adapters implement them; tests use fakes."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Protocol

from shared.domain.model import Booking


class Clock(Protocol):
    def now(self) -> datetime: ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(timezone.utc)


@dataclass(frozen=True)
class FixedClock:
    """A clock for tests: always returns the moment it was built with."""

    moment: datetime

    def now(self) -> datetime:
        return self.moment


@dataclass(frozen=True)
class Attachment:
    filename: str
    content_type: str
    content: bytes


@dataclass(frozen=True)
class OutgoingMail:
    """A rendered mail. `dedup_key` is unique per booking event, so a mailer can refuse to send twice."""

    to: str
    subject: str
    text: str
    html: str
    dedup_key: str
    attachments: tuple[Attachment, ...] = field(default_factory=tuple)


class Mailer(Protocol):
    async def send(self, mail: OutgoingMail) -> None: ...


@dataclass(frozen=True)
class Meeting:
    id: str
    join_url: str


class MeetingProvider(Protocol):
    """Creates, moves and deletes the online meeting of a video booking."""

    async def create_or_get(self, booking: Booking) -> Meeting: ...

    async def update(self, booking: Booking) -> Meeting: ...

    async def delete(self, booking: Booking) -> None: ...
