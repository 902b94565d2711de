"""What happens to an appointment after booking: presence signals, the sweep that applies the
reminder and the 10-minute rules, changes by the client or the agency, and the agenda.

The HTTP endpoints and the timer call the same functions here. Every change is an ETag-guarded
transaction. A lost race reloads the booking and decides again, so a repeated or overlapping
call changes nothing twice and queues no second mail.
"""

from __future__ import annotations

import dataclasses
import logging
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Callable

from shared.domain import errors
from shared.domain.calendar import local_to_utc
from shared.domain.lifecycle import (
    Actor,
    Outcome,
    Signal,
    Transition,
    apply_ten_minute_rules,
    cancel,
    end,
    next_check,
    record_signal,
    reschedule,
)
from shared.domain.model import Booking, BookingStatus, Catalog
from shared.domain.slots import agents_for, is_offered
from shared.ports import Clock
from shared.protection import manage_token_matches
from shared.services.booking import REFERENCE_PATTERN
from shared.services.ports import AuditRecord, EventPublisher, Notifier, SeatTaken, StaleBooking

logger = logging.getLogger(__name__)

MAX_RACES = 4

Decision = Callable[[Booking, datetime], "Transition | Booking | None"]


@dataclass
class SweepReport:
    looked_at: int = 0
    changed: list[tuple[str, str]] = field(default_factory=list)  # (reference, what)


class LifecycleService:
    def __init__(
        self,
        ledger,
        catalog_source,
        notifier: Notifier,
        events: EventPublisher,
        clock: Clock,
        settle: timedelta = timedelta(0),
    ) -> None:
        self._ledger = ledger
        self._catalog_source = catalog_source
        self._notifier = notifier
        self._events = events
        self._clock = clock
        self._settle = settle

    # --- the core loop: read, decide, write with the ETag, then tell -------------------------

    def _load(self, reference: str) -> tuple[Booking, str]:
        found = self._ledger.get(reference) if REFERENCE_PATTERN.match(reference or "") else None
        if found is None:
            raise errors.BookingNotFound(field="reference")
        return found

    def _decide_and_store(self, reference: str, decide: Decision, signal: tuple[datetime, str] | None = None) -> Booking:
        """Run `decide` on the current booking and store its result; on a lost race, reload and decide again."""
        return self._decide_and_store_from(reference, decide, signal)[1]

    def _decide_and_store_from(
        self, reference: str, decide: Decision, signal: tuple[datetime, str] | None = None
    ) -> tuple[Booking, Booking]:
        """Like _decide_and_store, but return the booking as read and as stored."""
        for _ in range(MAX_RACES):
            booking, etag = self._load(reference)
            now = self._clock.now()
            decided = decide(booking, now)
            if decided is None:
                if signal:
                    self._ledger.add_signal(reference, *signal)
                return booking, booking
            transition = decided if isinstance(decided, Transition) else None
            after = transition.booking if transition else decided
            after = after.replace(next_check_at=self._next_check(after))
            audit = None
            if transition:
                audit = AuditRecord(
                    now, transition.actor.value, transition.actor_id,
                    booking.status.value, after.status.value, str(transition.reason),
                )
            try:
                self._ledger.change(booking, after, etag, audit=audit, signal=signal)
            except StaleBooking:
                continue
            if transition:
                self._announce(dataclasses.replace(transition, booking=after), now)
            if after.reminder_sent and not booking.reminder_sent:
                self._notify(reference, "reminder", after.sequence)
            return booking, after
        # NOTE: reached only when every attempt lost a race, i.e. under sustained writes to one booking.
        raise errors.ConcurrentChange(field="reference")

    def _next_check(self, booking: Booking) -> datetime | None:
        return next_check(booking, self._catalog_source.catalog().policy.reminder_lead, self._settle)

    def _announce(self, transition: Transition, now: datetime) -> None:
        booking = transition.booking
        logger.info(
            "appointment %s %s", booking.reference, transition.event.value,
            extra={"reference": booking.reference, "counter": booking.counter_id, "status": booking.status.value,
                   "reason": str(transition.reason), "actor": transition.actor.value},
        )
        if booking.status in (BookingStatus.CANCELLED, BookingStatus.ENDED):
            # A booking to reschedule keeps its claim: the agency still owes that person a time.
            self._ledger.release_person(booking)
        if transition.mail:
            self._notify(booking.reference, transition.mail, booking.sequence)
        details = {"reason": str(transition.reason)}
        if booking.outcome:
            details["outcome"] = booking.outcome
        self._events.publish(transition.event.value, booking, now, details)

    def _notify(self, reference: str, kind: str, sequence: int) -> None:
        try:
            self._notifier.notify(reference, kind, sequence)
        except Exception:  # the state change is stored; the operator sees the gap in the log
            logger.exception("could not queue the %s mail of %s", kind, reference, extra={"reference": reference})

    # --- presence signals ------------------------------------------------------------------

    def record(self, reference: str, signal: Signal, actor_id: str | None = None, at: datetime | None = None) -> Booking:
        """Store a presence signal at `at` (when it happened; now if not given). Repeating a signal
        changes nothing, and an earlier time replaces a later one, so the order of arrival does not matter."""
        seen_at = min(at, self._clock.now()) if at else self._clock.now()

        def decide(booking: Booking, now: datetime):
            return record_signal(booking, signal, seen_at)

        logger.info("signal %s on %s", signal.value, reference, extra={"reference": reference, "signal": signal.value})
        return self._decide_and_store(reference, decide, signal=(seen_at, signal.value))

    # --- the sweep (timer) -----------------------------------------------------------------

    def sweep(self) -> SweepReport:
        """Look at every appointment whose check time has come: reminder, then the 10-minute rules."""
        now = self._clock.now()
        report = SweepReport()
        for check_at, reference in self._ledger.due_until(now):
            report.looked_at += 1
            try:
                before, after = self._decide_and_store_from(reference, self._due_work)
            except errors.BookingNotFound:
                self._ledger.remove_due(check_at, reference)
                continue
            except Exception:  # one broken appointment must not stop the others; its row stays due
                logger.exception("sweep failed on %s", reference, extra={"reference": reference})
                continue
            if (before.status, before.reminder_sent) != (after.status, after.reminder_sent):
                report.changed.append((reference, after.status_reason or "reminder"))
            if after.next_check_at != check_at:
                self._ledger.remove_due(check_at, reference)  # a leftover row from an older schedule
        return report

    def _due_work(self, booking: Booking, now: datetime):
        policy = self._catalog_source.catalog().policy
        ruled = apply_ten_minute_rules(booking, now, self._settle)
        if ruled:
            return ruled
        reminder_due = (
            policy.reminder_lead is not None
            and booking.status is BookingStatus.BOOKED
            and not booking.reminder_sent
            and booking.start - policy.reminder_lead <= now < booking.start
        )
        if reminder_due:
            return booking.replace(reminder_sent=True)
        if booking.next_check_at != self._next_check(booking):
            return booking  # only the next check time moves
        return None

    # --- changes by the client (manage link) or the agency ---------------------------------

    def owner_booking(self, reference: str, token: str | None) -> Booking:
        found = self._ledger.get(reference) if REFERENCE_PATTERN.match(reference or "") else None
        if found is None or not manage_token_matches(token, found[0].manage_token_hash):
            raise errors.BookingNotFound(field="reference")
        return found[0]

    def cancel(self, reference: str, actor: Actor, actor_id: str | None = None, reason: str | None = None) -> Booking:
        def decide(booking: Booking, now: datetime):
            if booking.status is BookingStatus.CANCELLED:
                return None  # cancelling twice changes nothing
            return cancel(booking, now, actor, actor_id, reason)

        return self._decide_and_store(reference, decide)

    def reschedule(
        self, reference: str, start: datetime, actor: Actor, actor_id: str | None = None, reason: str | None = None
    ) -> Booking:
        """Move the appointment to `start`: claim the new seat and free the old one in one transaction."""
        catalog = self._catalog_source.catalog()
        booking, _ = self._load(reference)
        counter = catalog.counters.get(booking.counter_id)
        if counter is None or not is_offered(catalog, counter, start, self._clock.now()):
            raise errors.SlotNotOffered(field="start")
        candidates = agents_for(catalog, counter, booking.language, start)
        for agent in candidates:
            def decide(current: Booking, now: datetime, agent_id=agent.id):
                if current.start == start and current.status is BookingStatus.BOOKED:
                    return None  # already there: a repeated request
                return reschedule(current, start, start + counter.slot_length, agent_id, now, actor, actor_id, reason)

            try:
                return self._decide_and_store(reference, decide)
            except SeatTaken:
                continue
        raise errors.SlotTaken(field="start")

    def end(self, reference: str, outcome: Outcome, agent_id: str | None = None) -> Booking:
        def decide(booking: Booking, now: datetime):
            if booking.status is BookingStatus.ENDED and booking.outcome == outcome.value:
                return None  # the same end reported twice
            return end(booking, outcome, now, agent_id)

        return self._decide_and_store(reference, decide)

    # --- the agenda ------------------------------------------------------------------------

    def agenda(self, counter_id: str, day: date) -> tuple[Catalog, list[Booking]]:
        catalog = self._catalog_source.catalog()
        if counter_id not in catalog.counters:
            raise errors.UnknownOffice(field="counter")
        first = local_to_utc(day, datetime.min.time())
        last = local_to_utc(day + timedelta(days=1), datetime.min.time())
        return catalog, self._ledger.agenda(counter_id, first, last)

