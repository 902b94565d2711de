"""Protocols for the storage and queues the services use, and the exceptions they raise. Adapters implement them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from shared.domain.model import Booking, Catalog


class SeatTaken(Exception):
    """The agent's seat in that slot was claimed first by another booking."""


@dataclass
class PersonClaimed(Exception):
    """The person already has an appointment. Carries the claim row, so the service can judge it."""

    reference: str
    end: datetime
    etag: str


@dataclass
class IdempotentReplay(Exception):
    """The Idempotency-Key was used before: the booking it created and the request fingerprint."""

    reference: str
    fingerprint: str


class UnexplainedConflict(Exception):
    """The transaction failed on a row other than the claims, such as a duplicate reference."""


class StaleBooking(Exception):
    """The booking changed since it was read (ETag mismatch)."""


@dataclass(frozen=True)
class Claims:
    """Claims of a new booking besides its seat: the person, and the idempotency key if sent."""

    person: str
    idempotency: str | None = None
    fingerprint: str | None = None
    replace_person_etag: str | None = None


@dataclass(frozen=True)
class AuditRecord:
    """One state change. Holds ids only, never personal data."""

    at: datetime
    actor: str
    actor_id: str | None
    from_status: str | None
    to_status: str
    reason: str


class CatalogSource(Protocol):
    def catalog(self) -> Catalog: ...


class PendingRequest(Protocol):
    def confirm(self) -> None: ...

    def withdraw(self) -> None: ...


class ProvisioningQueue(Protocol):
    def request_provisioning(self, reference: str) -> None: ...

    def announce_booking(self, reference: str) -> PendingRequest: ...


class EventPublisher(Protocol):
    """Announces appointment events to outside receivers (outgoing webhooks)."""

    def publish(self, event: str, booking: Booking, occurred_at: datetime, details: dict | None = None) -> None: ...


class Notifier(Protocol):
    """Asks for a mail about a booking event, sent later from a queue."""

    def notify(self, reference: str, event: str, sequence: int) -> None: ...


class BookingLedger(Protocol):
    def taken_seats(self, counter_id: str, first: datetime, last: datetime) -> set[tuple[datetime, str]]: ...

    def get(self, reference: str) -> tuple[Booking, str] | None: ...

    def create(self, booking: Booking, claims: Claims) -> None: ...

    def update(self, booking: Booking, etag: str) -> str: ...
