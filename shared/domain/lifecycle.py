"""The life of an appointment after booking: presence signals, the 10-minute rules, cancel,
reschedule and end. Pure functions: they take the booking and the time, and return what changes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from shared.domain import errors
from shared.domain.model import Booking, BookingStatus, Channel

# Both sides have 10 minutes after the start: the client to be online, the agency to join.
GRACE = timedelta(minutes=10)
# A presence signal counts from this long before the start; opening the link the day before does not.
EARLY_SIGNAL = timedelta(minutes=60)


class Actor(StrEnum):
    CLIENT = "client"
    AGENT = "agent"
    SYSTEM = "system"


class Reason(StrEnum):
    NO_SHOW_CLIENT = "no_show_client"
    AGENT_LATE = "agent_late"
    CANCELLED_BY_CLIENT = "cancelled_by_client"
    CANCELLED_BY_AGENCY = "cancelled_by_agency"
    RESCHEDULED_BY_CLIENT = "rescheduled_by_client"
    RESCHEDULED_BY_AGENCY = "rescheduled_by_agency"
    ENDED = "ended"


class Outcome(StrEnum):
    COMPLETED = "completed"
    NO_CAMERA = "no_camera"
    IDENTITY_NOT_VERIFIED = "identity_not_verified"
    AGGRESSION = "aggression"
    INAPPROPRIATE_BEHAVIOUR = "inappropriate_behaviour"
    TECHNICAL_PROBLEM = "technical_problem"
    OTHER = "other"


class Signal(StrEnum):
    """Timestamped evidence of who was there."""

    CLIENT_OPENED_LINK = "client_opened_link"
    CLIENT_PRESENT = "client_present"
    IDENTITY_VERIFIED = "identity_verified"
    AGENT_JOINED = "agent_joined"
    GUEST_JOINED = "guest_joined"  # Graph call events: a participant who is not the agent


CLIENT_SIGNALS = frozenset({Signal.CLIENT_OPENED_LINK, Signal.CLIENT_PRESENT, Signal.IDENTITY_VERIFIED, Signal.GUEST_JOINED})
AGENT_SIGNALS = frozenset({Signal.AGENT_JOINED, Signal.CLIENT_PRESENT, Signal.IDENTITY_VERIFIED})


class Event(StrEnum):
    """Event types that outgoing webhooks announce."""

    BOOKED = "booked"
    CANCELLED = "cancelled"
    RESCHEDULED = "rescheduled"
    NO_SHOW_CLIENT = "no_show_client"
    AGENT_LATE = "agent_late"
    ENDED = "ended"


@dataclass(frozen=True)
class Transition:
    """A change of an appointment: the new booking, what to tell whom, and the audit facts."""

    booking: Booking
    previous: Booking
    actor: Actor
    actor_id: str | None
    reason: str
    event: Event
    mail: str | None  # the mail kind for the client, if any

    @property
    def releases_seat(self) -> bool:
        return self.previous.status is BookingStatus.BOOKED and self.booking.status is not BookingStatus.BOOKED

    @property
    def moves_seat(self) -> bool:
        return self.booking.status is BookingStatus.BOOKED and (
            self.booking.start != self.previous.start or self.booking.agent_id != self.previous.agent_id
        )


def record_signal(booking: Booking, signal: Signal, at: datetime) -> Booking | None:
    """Return the booking with the signal's first sighting recorded, or None when nothing changes."""
    if at < booking.start - EARLY_SIGNAL:
        return None
    changes: dict = {}
    if signal in CLIENT_SIGNALS and (booking.client_seen_at is None or at < booking.client_seen_at):
        changes["client_seen_at"] = at
    if signal in AGENT_SIGNALS and (booking.agent_seen_at is None or at < booking.agent_seen_at):
        changes["agent_seen_at"] = at
    if signal is Signal.IDENTITY_VERIFIED and booking.identity_verified_at is None:
        changes["identity_verified_at"] = at
    return booking.replace(**changes) if changes else None


def _seen_in_time(seen_at: datetime | None, booking: Booking) -> bool:
    return seen_at is not None and seen_at < booking.start + GRACE


def apply_ten_minute_rules(booking: Booking, now: datetime, settle: timedelta = timedelta(0)) -> Transition | None:
    """Decide a video appointment 10 minutes after its start, from its signals' timestamps.

    The decision depends on when each signal happened, not on when the rule runs, so a late or
    repeated run decides the same. When the agent was not there, the client is never marked a
    no-show, because no agent could have seen them, and the agency owes them a new time.
    `settle` delays the decision (never the deadline), so signals that arrive late, such as Graph
    call events, still count with the time they happened.
    """
    if booking.status is not BookingStatus.BOOKED or booking.channel is not Channel.VIDEO:
        return None
    if now < booking.start + GRACE + settle:
        return None
    if not _seen_in_time(booking.agent_seen_at, booking):
        changed = booking.replace(status=BookingStatus.TO_RESCHEDULE, status_reason=Reason.AGENT_LATE.value)
        return Transition(changed, booking, Actor.SYSTEM, None, Reason.AGENT_LATE, Event.AGENT_LATE, "agent_late")
    if not _seen_in_time(booking.client_seen_at, booking):
        changed = booking.replace(status=BookingStatus.CANCELLED, status_reason=Reason.NO_SHOW_CLIENT.value)
        return Transition(changed, booking, Actor.SYSTEM, None, Reason.NO_SHOW_CLIENT, Event.NO_SHOW_CLIENT, "no_show")
    return None


def _check_changeable(booking: Booking, now: datetime, actor: Actor) -> None:
    if booking.status is not BookingStatus.BOOKED and not (
        actor is Actor.AGENT and booking.status is BookingStatus.TO_RESCHEDULE
    ):
        raise errors.AppointmentClosed(field="reference")
    if actor is Actor.CLIENT and now >= booking.start:
        raise errors.AppointmentStarted(field="reference")


def cancel(booking: Booking, now: datetime, actor: Actor, actor_id: str | None = None, reason: str | None = None) -> Transition:
    _check_changeable(booking, now, actor)
    default = Reason.CANCELLED_BY_CLIENT if actor is Actor.CLIENT else Reason.CANCELLED_BY_AGENCY
    changed = booking.replace(status=BookingStatus.CANCELLED, status_reason=default.value, sequence=booking.sequence + 1)
    return Transition(changed, booking, actor, actor_id, reason or default, Event.CANCELLED, "cancelled")


def reschedule(
    booking: Booking,
    start: datetime,
    end: datetime,
    agent_id: str,
    now: datetime,
    actor: Actor,
    actor_id: str | None = None,
    reason: str | None = None,
) -> Transition:
    """Move the appointment. The invitation's SEQUENCE goes up, and presence signals start afresh."""
    _check_changeable(booking, now, actor)
    default = Reason.RESCHEDULED_BY_CLIENT if actor is Actor.CLIENT else Reason.RESCHEDULED_BY_AGENCY
    changed = booking.replace(
        status=BookingStatus.BOOKED,
        status_reason=None,
        start=start,
        end=end,
        agent_id=agent_id,
        sequence=booking.sequence + 1,
        client_seen_at=None,
        agent_seen_at=None,
        identity_verified_at=None,
        reminder_sent=False,
    )
    return Transition(changed, booking, actor, actor_id, reason or default, Event.RESCHEDULED, "rescheduled")


def end(booking: Booking, outcome: Outcome, now: datetime, agent_id: str | None) -> Transition:
    """Close the appointment with the agent's outcome. A technical problem leaves it to be rescheduled."""
    if booking.status is not BookingStatus.BOOKED:
        raise errors.AppointmentClosed(field="reference")
    if now < booking.start - EARLY_SIGNAL:
        raise errors.AppointmentNotStarted(field="reference")
    if outcome is Outcome.TECHNICAL_PROBLEM:
        changed = booking.replace(status=BookingStatus.TO_RESCHEDULE, status_reason=outcome.value, outcome=outcome.value)
        mail = "agent_late"
    else:
        changed = booking.replace(status=BookingStatus.ENDED, status_reason=outcome.value, outcome=outcome.value)
        mail = None
    if changed.agent_seen_at is None:
        changed = changed.replace(agent_seen_at=now)
    return Transition(changed, booking, Actor.AGENT, agent_id, outcome.value, Event.ENDED, mail)


def next_check(booking: Booking, reminder_lead: timedelta | None, settle: timedelta = timedelta(0)) -> datetime | None:
    """When the sweep must look at this appointment next, or None when it never needs to."""
    if booking.status is not BookingStatus.BOOKED:
        return None
    if reminder_lead and not booking.reminder_sent and booking.start - reminder_lead > booking.created_at:
        return booking.start - reminder_lead
    if booking.channel is Channel.VIDEO:
        return booking.start + GRACE + settle
    return None
