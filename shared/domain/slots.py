"""The slot grid of a counter and who can serve each slot."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from shared.domain.calendar import is_federal_holiday, local_to_utc, to_local
from shared.domain.model import WEEKDAYS, Agent, BookingPolicy, Catalog, Counter, Language, Slot


def is_open_on(counter: Counter, policy: BookingPolicy, day: date) -> bool:
    return not (is_federal_holiday(day) or day in policy.closed_on or day in counter.closed_on)


def slot_starts(counter: Counter, day: date) -> list[datetime]:
    """Return the UTC starts of a counter's slots on one local day.

    The grid steps in real time from each opening, so a day with a daylight-saving change gets no
    slot in the spring-forward gap and both occurrences of the repeated hour in autumn.
    """
    starts: list[datetime] = []
    for opening in counter.hours.get(WEEKDAYS[day.weekday()], ()):
        begin = local_to_utc(day, opening.start, fold=0)
        close = local_to_utc(day, opening.end, fold=1)
        moment = begin
        while moment + counter.slot_length <= close:
            starts.append(moment)
            moment += counter.slot_length
    return starts


def agents_for(catalog: Catalog, counter: Counter, language: Language, start: datetime) -> list[Agent]:
    """Return the agents of the counter who work the whole slot and speak the language."""
    local_start = to_local(start)
    local_end = to_local(start + counter.slot_length)
    return [
        agent
        for agent in catalog.agents_of(counter.id)
        if language in agent.languages and agent.works(local_start.date(), local_start.time(), local_end.time())
    ]


def bookable_window(policy: BookingPolicy, now: datetime) -> tuple[datetime, datetime]:
    return now + policy.min_lead, now + policy.horizon


def offered_slots(
    catalog: Catalog,
    counter: Counter,
    language: Language,
    first_day: date,
    last_day: date,
    now: datetime,
    taken: set[tuple[datetime, str]],
) -> list[Slot]:
    """List the slots with at least one free seat. `taken` contains (start, agent id) of claimed seats.

    This runs for every slot of a 30-day query, so who works a given weekday and wall-clock slot
    is worked out once and reused for every week.
    """
    earliest, latest = bookable_window(catalog.policy, now)
    speakers = [agent for agent in catalog.agents_of(counter.id) if language in agent.languages]
    length = counter.slot_length
    taken_at: dict[datetime, set[str]] = {}
    for start, agent_id in taken:
        taken_at.setdefault(start, set()).add(agent_id)
    working_at: dict[tuple, frozenset[str]] = {}
    slots = []
    for offset in range((last_day - first_day).days + 1):
        day = first_day + timedelta(days=offset)
        if not is_open_on(counter, catalog.policy, day):
            continue
        weekday = WEEKDAYS[day.weekday()]
        absent = {agent.id for agent in speakers if day in agent.absent_on}
        for start in slot_starts(counter, day):
            if not earliest <= start <= latest:
                continue
            key = (weekday, to_local(start).time(), to_local(start + length).time())
            if key not in working_at:
                working_at[key] = frozenset(
                    agent.id
                    for agent in speakers
                    if any(r.covers(key[1], key[2]) for r in agent.schedule.get(weekday, ()))
                )
            free = len(working_at[key] - absent - taken_at.get(start, set()))
            if free:
                slots.append(Slot(counter.id, start, start + length, available=free))
    return slots


def is_offered(catalog: Catalog, counter: Counter, start: datetime, now: datetime) -> bool:
    """Tell whether `start` lies on the counter's grid, on an open day, inside the lead time and horizon."""
    earliest, latest = bookable_window(catalog.policy, now)
    day = to_local(start).date()
    return (
        earliest <= start <= latest
        and is_open_on(counter, catalog.policy, day)
        and start in slot_starts(counter, day)
    )

