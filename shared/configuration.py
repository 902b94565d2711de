"""The operators' configuration: counters, agents, topics and the booking policy.

The same pydantic models read the seed JSON file and the rows of the config table, so a value that
an operator edits in the Azure portal's storage browser is checked exactly like a seeded one.
"""

from __future__ import annotations

import re
from datetime import date, time, timedelta
from typing import Annotated

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, field_validator

from shared.domain.model import (
    WEEKDAYS,
    Agent,
    BookingPolicy,
    Catalog,
    Channel,
    Counter,
    Language,
    TimeRange,
    Topic,
)

_RANGE = re.compile(r"^(\d{2}):(\d{2})-(\d{2}):(\d{2})$")
_ID = r"^[a-z0-9][a-z0-9-]{0,39}$"


def _split_list(value: object) -> object:
    """Accept "a,b" (a table cell) as well as ["a", "b"] (JSON)."""
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    return value


def parse_time_range(text: str) -> TimeRange:
    match = _RANGE.match(text.strip())
    if not match:
        raise ValueError(f"expected HH:MM-HH:MM, got {text!r}")
    start = time(int(match[1]), int(match[2]))
    end = time(int(match[3]), int(match[4]))
    if end <= start:
        raise ValueError(f"the range {text!r} ends before it starts")
    return TimeRange(start, end)


def format_time_range(time_range: TimeRange) -> str:
    return f"{time_range.start:%H:%M}-{time_range.end:%H:%M}"


ListOfStr = Annotated[list[str], BeforeValidator(_split_list)]
ListOfDates = Annotated[list[date], BeforeValidator(_split_list)]
Names = dict[Language, Annotated[str, Field(min_length=1, max_length=200)]]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class WeeklyHoursConfig(_Model):
    """Opening hours or an agent's schedule: per weekday, ranges like "08:30-12:00"."""

    mon: ListOfStr = []
    tue: ListOfStr = []
    wed: ListOfStr = []
    thu: ListOfStr = []
    fri: ListOfStr = []
    sat: ListOfStr = []
    sun: ListOfStr = []

    @field_validator(*WEEKDAYS)
    @classmethod
    def _check_ranges(cls, ranges: list[str]) -> list[str]:
        for text in ranges:
            parse_time_range(text)
        return ranges

    def to_domain(self) -> dict[str, tuple[TimeRange, ...]]:
        return {day: tuple(parse_time_range(r) for r in getattr(self, day)) for day in WEEKDAYS}


class TopicConfig(_Model):
    id: str = Field(pattern=_ID)
    names: Names

    def to_domain(self) -> Topic:
        return Topic(self.id, {str(k): v for k, v in self.names.items()})


class CounterConfig(_Model):
    id: str = Field(pattern=_ID)
    channel: Channel
    names: Names
    address: dict[Language, Annotated[str, Field(max_length=300)]] = {}
    slot_minutes: int = Field(ge=5, le=240)
    hours: WeeklyHoursConfig
    closed_on: ListOfDates = []

    def to_domain(self) -> Counter:
        return Counter(
            id=self.id,
            channel=self.channel,
            names={str(k): v for k, v in self.names.items()},
            address={str(k): v for k, v in self.address.items()},
            slot_minutes=self.slot_minutes,
            hours=self.hours.to_domain(),
            closed_on=frozenset(self.closed_on),
        )


class AgentConfig(_Model):
    id: str = Field(pattern=_ID)
    counter: str = Field(pattern=_ID)
    languages: Annotated[list[Language], BeforeValidator(_split_list)] = Field(min_length=1)
    schedule: WeeklyHoursConfig
    absent_on: ListOfDates = []
    graph_user_id: str | None = None

    def to_domain(self) -> Agent:
        return Agent(
            id=self.id,
            counter_id=self.counter,
            languages=frozenset(self.languages),
            schedule=self.schedule.to_domain(),
            absent_on=frozenset(self.absent_on),
            graph_user_id=self.graph_user_id,
        )


class PolicyConfig(_Model):
    min_lead_minutes: int = Field(default=240, ge=0, le=60 * 24 * 30)
    horizon_days: int = Field(default=30, ge=1, le=365)
    closed_on: ListOfDates = []
    reminder_hours: int = Field(default=24, ge=0, le=24 * 14, description="0 sends no reminder")

    def to_domain(self) -> BookingPolicy:
        return BookingPolicy(
            min_lead=timedelta(minutes=self.min_lead_minutes),
            horizon=timedelta(days=self.horizon_days),
            closed_on=frozenset(self.closed_on),
            reminder_lead=timedelta(hours=self.reminder_hours) if self.reminder_hours else None,
        )


class ConfigFile(_Model):
    """The seed file: everything operators configure, in one JSON document."""

    policy: PolicyConfig = PolicyConfig()
    topics: list[TopicConfig]
    counters: list[CounterConfig]
    agents: list[AgentConfig]

    def to_catalog(self) -> Catalog:
        return build_catalog(self.policy, self.topics, self.counters, self.agents)


def build_catalog(
    policy: PolicyConfig,
    topics: list[TopicConfig],
    counters: list[CounterConfig],
    agents: list[AgentConfig],
) -> Catalog:
    counter_ids = {c.id for c in counters}
    return Catalog(
        counters={c.id: c.to_domain() for c in counters},
        agents=tuple(a.to_domain() for a in agents if a.counter in counter_ids),
        topics={t.id: t.to_domain() for t in topics},
        policy=policy.to_domain(),
    )
