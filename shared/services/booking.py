"""Book an appointment, list free slots, show a booking to its owner."""

from __future__ import annotations

import logging
import random
import re
import secrets
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from shared.domain import errors
from shared.domain.calendar import to_local
from shared.domain.lifecycle import Actor, Event, next_check
from shared.domain.model import Booking, Catalog, Channel, Counter, Language, PersonalData, Slot
from shared.domain.residence import Residence
from shared.domain.slots import agents_for, bookable_window, is_offered, offered_slots
from shared.postcodes import PostcodeDirectory
from shared.ports import Clock
from shared.protection import PersonalDataProtector, hash_manage_token, manage_token_matches
from shared.services.ports import (
    AuditRecord,
    BookingLedger,
    CatalogSource,
    Claims,
    IdempotentReplay,
    PersonClaimed,
    EventPublisher,
    ProvisioningQueue,
    SeatTaken,
    UnexplainedConflict,
)

logger = logging.getLogger(__name__)

# Crockford's base32 alphabet without I, L, O and U, so a reference reads aloud without confusion.
_REFERENCE_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
REFERENCE_PATTERN = re.compile(r"^VL[0-9A-HJKMNP-TV-Z]{10}$")
MAX_QUERY_DAYS = 62


def new_reference() -> str:
    return "VL" + "".join(secrets.choice(_REFERENCE_ALPHABET) for _ in range(10))


@dataclass(frozen=True)
class BookingRequest:
    """A citizen's request to book, already checked for form by the entry point."""

    channel: Channel
    topic_id: str
    office_id: str | None
    start: datetime
    postcode: str
    language: Language | None
    personal: PersonalData
    accepted_terms_version: str


@dataclass(frozen=True)
class BookingResult:
    booking: Booking
    manage_token: str
    replayed: bool = False


@dataclass(frozen=True)
class SlotQuery:
    channel: Channel
    topic_id: str
    postcode: str
    language: Language | None = None
    office_id: str | None = None
    first_day: date | None = None
    last_day: date | None = None


@dataclass(frozen=True)
class SlotList:
    counter: Counter
    language: Language
    slots: list[Slot]


class BookingService:
    def __init__(
        self,
        catalog_source: CatalogSource,
        ledger: BookingLedger,
        postcodes: PostcodeDirectory,
        protector: PersonalDataProtector,
        provisioning: ProvisioningQueue,
        clock: Clock,
        terms_version: str,
        events: EventPublisher,
    ) -> None:
        self._catalog_source = catalog_source
        self._ledger = ledger
        self._postcodes = postcodes
        self._protector = protector
        self._provisioning = provisioning
        self._clock = clock
        self._terms_version = terms_version
        self._events = events

    # --- lookups ---------------------------------------------------------------------------

    def residence(self, postcode: str) -> Residence:
        residence = self._postcodes.find(postcode)
        if residence is None:
            raise errors.UnknownPostcode(field="postcode")
        return residence

    def _counter(self, catalog: Catalog, channel: Channel, office_id: str | None) -> Counter:
        if channel is Channel.VIDEO:
            counter = catalog.video_counter()
            if counter is None:
                raise errors.UnknownOffice(field="channel")
            return counter
        counter = catalog.counters.get(office_id or "")
        if counter is None or counter.channel is not Channel.OFFICE:
            raise errors.UnknownOffice(field="office")
        return counter

    def _check_topic(self, catalog: Catalog, topic_id: str) -> None:
        if topic_id not in catalog.topics:
            raise errors.UnknownTopic(field="topic")

    # --- slots -----------------------------------------------------------------------------

    def find_slots(self, query: SlotQuery) -> SlotList:
        """List the free slots of the counter, in the conversation language of the residence."""
        catalog = self._catalog_source.catalog()
        self._check_topic(catalog, query.topic_id)
        language = self.residence(query.postcode).conversation_language(query.language)
        counter = self._counter(catalog, query.channel, query.office_id)

        now = self._clock.now()
        earliest, latest = bookable_window(catalog.policy, now)
        first_day = max(query.first_day or to_local(earliest).date(), to_local(earliest).date())
        last_day = min(query.last_day or to_local(latest).date(), to_local(latest).date())
        if query.first_day and query.last_day and query.last_day < query.first_day:
            raise errors.InvalidField(field="to", message="The end date is before the start date.")
        if query.first_day and query.last_day and (query.last_day - query.first_day).days >= MAX_QUERY_DAYS:
            raise errors.InvalidField(
                field="to", message="The period is too long. The maximum is {limit} days.", limit=MAX_QUERY_DAYS
            )
        if last_day < first_day:
            return SlotList(counter, language, [])

        taken = self._ledger.taken_seats(counter.id, earliest, latest)
        slots = offered_slots(catalog, counter, language, first_day, last_day, now, taken)
        return SlotList(counter, language, slots)

    # --- booking ---------------------------------------------------------------------------

    def book(self, request: BookingRequest, idempotency_key: str | None = None) -> BookingResult:
        """Claim a seat for the request and store the booking, then ask for its meeting and mail."""
        catalog = self._catalog_source.catalog()
        self._check_topic(catalog, request.topic_id)
        counter = self._counter(catalog, request.channel, request.office_id)
        language = self.residence(request.postcode).conversation_language(request.language)
        if request.accepted_terms_version != self._terms_version:
            raise errors.TermsNotAccepted(field="accepted_terms_version", version=self._terms_version)

        now = self._clock.now()
        if not is_offered(catalog, counter, request.start, now):
            raise errors.SlotNotOffered(field="start")
        eligible = agents_for(catalog, counter, language, request.start)
        if not eligible:
            raise errors.NoAgentForLanguage(field="start")

        claims = Claims(
            person=self._protector.lookup_key(request.personal.national_number),
            idempotency=self._protector.lookup_key(idempotency_key) if idempotency_key else None,
            fingerprint=self._fingerprint(request),
        )
        reference = new_reference()
        pending = self._provisioning.announce_booking(reference)
        try:
            result = self._claim_seat(request, counter, language, eligible, claims, now, catalog.policy, reference)
        except BaseException:
            pending.withdraw()
            raise
        if result.replayed or result.booking.reference != reference:
            pending.withdraw()
            if not result.replayed:
                self._request_provisioning(result.booking.reference)
            return result
        try:
            pending.confirm()
        except Exception:
            self._request_provisioning(reference)
        return result

    def _claim_seat(self, request, counter, language, eligible, claims: Claims, now, policy, reference) -> BookingResult:
        # The first round tries a random eligible agent without reading the slot, which is right for
        # most bookings. After a lost race each round reads the slot's seats once and tries a free
        # agent, so the number of rounds is bounded by the number of agents.
        free = list(eligible)
        for attempt in range(len(eligible) + 3):
            if attempt:
                taken = {agent for _, agent in self._ledger.taken_seats(counter.id, request.start, request.start)}
                free = [agent for agent in eligible if agent.id not in taken]
            if not free:
                raise errors.SlotTaken(field="start")
            booking = self._new_booking(reference, request, counter, language, random.choice(free).id, now, policy)
            audit = AuditRecord(now, Actor.CLIENT.value, None, None, booking.status.value, "booked")
            try:
                self._ledger.create(booking, claims, audit)
            except SeatTaken:
                continue
            except UnexplainedConflict:
                reference = new_reference()  # most likely a reference that exists already
                continue
            except IdempotentReplay as replay:
                return self._replay(replay, claims)
            except PersonClaimed as claim:
                if self._still_holds(claim, now):
                    raise errors.AlreadyBooked(field="national_number") from None
                claims = Claims(claims.person, claims.idempotency, claims.fingerprint, claim.etag)
                continue
            logger.info("booked %s", booking.reference, extra={"reference": booking.reference, "counter": counter.id})
            self._events.publish(Event.BOOKED, booking, now)
            return BookingResult(booking, self._protector.manage_token(booking.reference))
        raise errors.SlotTaken(field="start")

    def _new_booking(self, reference, request, counter, language, agent_id: str, now, policy) -> Booking:
        booking = Booking(
            reference=reference,
            counter_id=counter.id,
            channel=request.channel,
            topic_id=request.topic_id,
            language=language,
            start=request.start,
            end=request.start + counter.slot_length,
            agent_id=agent_id,
            personal=request.personal,
            terms_version=request.accepted_terms_version,
            created_at=now,
            manage_token_hash=hash_manage_token(self._protector.manage_token(reference)),
        )
        return booking.replace(next_check_at=next_check(booking, policy.reminder_lead))

    def _still_holds(self, claim: PersonClaimed, now: datetime) -> bool:
        """Tell whether the person's earlier appointment still counts: booked and not yet over."""
        if claim.end <= now:
            return False
        found = self._ledger.get(claim.reference)
        return found is not None and found[0].is_active_at(now)

    def _replay(self, replay: IdempotentReplay, claims: Claims) -> BookingResult:
        found = self._ledger.get(replay.reference)
        if replay.fingerprint != claims.fingerprint or found is None:
            raise errors.IdempotencyKeyReused(field="Idempotency-Key")
        booking = found[0]
        return BookingResult(booking, self._protector.manage_token(booking.reference), replayed=True)

    def _fingerprint(self, request: BookingRequest) -> str:
        return self._protector.lookup_key(repr(request))

    def _request_provisioning(self, reference: str) -> None:
        try:
            self._provisioning.request_provisioning(reference)
        except Exception:
            # NOTE: the booking then stays at provisioning "pending" with no message, and this log
            # line is the operator's only trace, until a sweep re-queues pending bookings.
            logger.exception("could not queue provisioning of %s", reference, extra={"reference": reference})

    # --- the owner's view ------------------------------------------------------------------

    def booking_for_owner(self, reference: str, token: str | None) -> Booking:
        """Return the booking when the manage token matches; the same error for any mismatch."""
        found = self._ledger.get(reference) if REFERENCE_PATTERN.match(reference or "") else None
        if found is None or not manage_token_matches(token, found[0].manage_token_hash):
            raise errors.BookingNotFound(field="reference")
        return found[0]

