"""Entities and value objects of the booking domain."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from enum import StrEnum


class Language(StrEnum):
    DUTCH = "nl"
    FRENCH = "fr"
    GERMAN = "de"


class Channel(StrEnum):
    VIDEO = "video"
    OFFICE = "office"


class BookingStatus(StrEnum):
    """The state of an appointment. Only a `booked` appointment occupies a seat."""

    BOOKED = "booked"
    CANCELLED = "cancelled"
    TO_RESCHEDULE = "to_reschedule"
    ENDED = "ended"


class Provisioning(StrEnum):
    """Progress of the side effects after a booking is stored: the meeting, then the mail."""

    PENDING = "pending"
    MEETING_CREATED = "meeting_created"
    MAIL_SENT = "mail_sent"
    FAILED = "provisioning_failed"


WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


@dataclass(frozen=True)
class TimeRange:
    """A range of wall-clock time in Europe/Brussels, start included, end excluded."""

    start: time
    end: time

    def covers(self, start: time, end: time) -> bool:
        return self.start <= start and end <= self.end


WeeklyHours = dict[str, tuple[TimeRange, ...]]


@dataclass(frozen=True)
class Topic:
    id: str
    names: dict[str, str]


@dataclass(frozen=True)
class Counter:
    """An office, or the video counter, with its opening hours and slot length."""

    id: str
    channel: Channel
    names: dict[str, str]
    address: dict[str, str]
    slot_minutes: int
    hours: WeeklyHours
    closed_on: frozenset[date] = frozenset()

    @property
    def slot_length(self) -> timedelta:
        return timedelta(minutes=self.slot_minutes)


@dataclass(frozen=True)
class Agent:
    """A staff member who serves a counter in some languages on a weekly schedule."""

    id: str
    counter_id: str
    languages: frozenset[Language]
    schedule: WeeklyHours
    absent_on: frozenset[date] = frozenset()
    graph_user_id: str | None = None

    def works(self, day: date, start: time, end: time) -> bool:
        if day in self.absent_on:
            return False
        ranges = self.schedule.get(WEEKDAYS[day.weekday()], ())
        return any(r.covers(start, end) for r in ranges)


@dataclass(frozen=True)
class BookingPolicy:
    """The booking rules: minimum lead time, horizon, agency closure days and reminder lead."""

    min_lead: timedelta = timedelta(hours=4)
    horizon: timedelta = timedelta(days=30)
    closed_on: frozenset[date] = frozenset()
    reminder_lead: timedelta | None = timedelta(hours=24)


@dataclass(frozen=True)
class Catalog:
    """The configuration operators maintain: counters, agents, topics and the booking policy."""

    counters: dict[str, Counter]
    agents: tuple[Agent, ...]
    topics: dict[str, Topic]
    policy: BookingPolicy

    def video_counter(self) -> Counter | None:
        return next((c for c in self.counters.values() if c.channel is Channel.VIDEO), None)

    def offices(self) -> list[Counter]:
        return [c for c in self.counters.values() if c.channel is Channel.OFFICE]

    def agents_of(self, counter_id: str) -> list[Agent]:
        return [a for a in self.agents if a.counter_id == counter_id]


@dataclass(frozen=True)
class PersonalData:
    """The citizen's own details as entered. Stored encrypted, never logged."""

    first_name: str
    last_name: str
    email: str
    phone: str
    national_number: str
    postcode: str


@dataclass(frozen=True)
class Slot:
    counter_id: str
    start: datetime  # aware, UTC
    end: datetime
    available: int = 0


@dataclass
class Booking:
    """An appointment. `start` and `end` are aware UTC datetimes."""

    reference: str
    counter_id: str
    channel: Channel
    topic_id: str
    language: Language
    start: datetime
    end: datetime
    agent_id: str
    personal: PersonalData | None
    terms_version: str
    created_at: datetime
    manage_token_hash: str
    status: BookingStatus = BookingStatus.BOOKED
    provisioning: Provisioning = Provisioning.PENDING
    status_reason: str | None = None
    join_url: str | None = None
    meeting_id: str | None = None
    sequence: int = 0
    client_seen_at: datetime | None = None
    agent_seen_at: datetime | None = None
    identity_verified_at: datetime | None = None
    outcome: str | None = None
    reminder_sent: bool = False
    next_check_at: datetime | None = None  # when the sweep must look at it next (reminder, 10-minute rules)

    def replace(self, **changes) -> "Booking":
        return dataclasses.replace(self, **changes)

    def is_active_at(self, moment: datetime) -> bool:
        """Tell whether this appointment still occupies a seat and ends after `moment`."""
        return self.status is BookingStatus.BOOKED and self.end > moment
