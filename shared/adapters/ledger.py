"""The appointment ledger in Table Storage.

Every row that a booking claims lives in ONE partition, so a booking is a single entity-group
transaction: the booking, its seat, the national-number claim, the due-list entry and the
idempotency record are written together or not at all. No lock in process memory is needed,
and no orphan row can be left behind by a crash between two writes.

Row keys (all in partition "ledger"):
  booking|{reference}                      the appointment
  seat|{counter}|{start UTC}|{agent}       one agent's seat in one slot; exists while booked
  person|{HMAC of national number}         the one future appointment of a person
  idem|{HMAC of Idempotency-Key}           the booking that a client request created
  due|{start UTC}|{reference}              appointments the 10-minute rules must still look at

NOTE: one partition serves about 2,000 entities per second (Table Storage scalability targets),
about 400 bookings per second. That covers this agency by far; a larger one would shard the
partition by counter and keep the national-number claims in a partition of their own.
"""

from __future__ import annotations

import logging
from datetime import datetime, timezone

from shared.domain.model import Booking, BookingStatus, Channel, Language, Provisioning
from shared.protection import PersonalDataProtector
from shared.services.ports import (
    Claims,
    IdempotentReplay,
    PersonClaimed,
    SeatTaken,
    StaleBooking,
    UnexplainedConflict,
)

logger = logging.getLogger(__name__)

PARTITION = "ledger"
_KEY_TIME = "%Y%m%dT%H%M%SZ"


def key_time(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime(_KEY_TIME)


def parse_key_time(text: str) -> datetime:
    return datetime.strptime(text, _KEY_TIME).replace(tzinfo=timezone.utc)


def booking_key(reference: str) -> str:
    return f"booking|{reference}"


def seat_key(counter_id: str, start: datetime, agent_id: str) -> str:
    return f"seat|{counter_id}|{key_time(start)}|{agent_id}"


def person_key(person: str) -> str:
    return f"person|{person}"


def idempotency_key(key_hash: str) -> str:
    return f"idem|{key_hash}"


def due_key(start: datetime, reference: str) -> str:
    return f"due|{key_time(start)}|{reference}"


class Ledger:
    def __init__(self, table, protector: PersonalDataProtector) -> None:
        self._table = table
        self._protector = protector

    # --- reads -----------------------------------------------------------------------------

    def taken_seats(self, counter_id: str, first: datetime, last: datetime) -> set[tuple[datetime, str]]:
        """Return (start, agent id) of every claimed seat with first <= start <= last, in one range query."""
        low = f"seat|{counter_id}|{key_time(first)}"
        high = f"seat|{counter_id}|{key_time(last)}|~"
        rows = self._table.query_entities(
            "PartitionKey eq @pk and RowKey ge @low and RowKey lt @high",
            parameters={"pk": PARTITION, "low": low, "high": high},
            select=["RowKey"],
        )
        taken = set()
        for row in rows:
            _, _, start, agent_id = row["RowKey"].split("|", 3)
            taken.add((parse_key_time(start), agent_id))
        return taken

    def get(self, reference: str) -> tuple[Booking, str] | None:
        from azure.core.exceptions import ResourceNotFoundError

        try:
            entity = self._table.get_entity(PARTITION, booking_key(reference))
        except ResourceNotFoundError:
            return None
        return self._to_booking(entity), entity.metadata["etag"]

    # --- writes ----------------------------------------------------------------------------

    def create(self, booking: Booking, claims: Claims) -> None:
        """Store a new booking with all its claims in one transaction.

        Raises SeatTaken, PersonClaimed or IdempotentReplay when a claim already exists.
        """
        from azure.core import MatchConditions
        from azure.data.tables import TableTransactionError

        operations = [
            ("create", self._to_entity(booking, claims.person)),
            ("create", self._seat_entity(booking)),
            ("create", self._due_entity(booking)),
        ]
        person_row = {
            "PartitionKey": PARTITION,
            "RowKey": person_key(claims.person),
            "Reference": booking.reference,
            "End": booking.end,
        }
        if claims.replace_person_etag:
            operations.append(
                ("update", person_row, {"mode": "replace", "etag": claims.replace_person_etag,
                                        "match_condition": MatchConditions.IfNotModified})
            )
        else:
            operations.append(("create", person_row))
        if claims.idempotency:
            operations.append(
                ("create", {
                    "PartitionKey": PARTITION,
                    "RowKey": idempotency_key(claims.idempotency),
                    "Reference": booking.reference,
                    "Fingerprint": claims.fingerprint or "",
                })
            )
        try:
            self._table.submit_transaction(operations)
        except TableTransactionError as error:
            self._explain_conflict(booking, claims)
            raise UnexplainedConflict(booking.reference) from error

    def _explain_conflict(self, booking: Booking, claims: Claims) -> None:
        """Read the claim rows once to raise the exception that names the conflict."""
        keys = [seat_key(booking.counter_id, booking.start, booking.agent_id), person_key(claims.person)]
        if claims.idempotency:
            keys.append(idempotency_key(claims.idempotency))
        found = {row["RowKey"]: row for row in self._rows(keys)}
        if claims.idempotency and idempotency_key(claims.idempotency) in found:
            row = found[idempotency_key(claims.idempotency)]
            raise IdempotentReplay(row["Reference"], row.get("Fingerprint", ""))
        person = found.get(person_key(claims.person))
        if person is not None and person.metadata["etag"] != claims.replace_person_etag:
            raise PersonClaimed(person["Reference"], person["End"], person.metadata["etag"])
        if keys[0] in found:
            raise SeatTaken()

    def _rows(self, row_keys: list[str]) -> list[dict]:
        params = {"pk": PARTITION, **{f"k{i}": key for i, key in enumerate(row_keys)}}
        either = " or ".join(f"RowKey eq @k{i}" for i in range(len(row_keys)))
        # The SDK reads a parameter name up to the next space, so keep one before the closing bracket.
        return list(self._table.query_entities(f"PartitionKey eq @pk and ( {either} )", parameters=params))

    def update(self, booking: Booking, etag: str) -> str:
        """Replace the booking row if nobody changed it since `etag`; return the new ETag."""
        from azure.core import MatchConditions
        from azure.core.exceptions import ResourceModifiedError
        from azure.data.tables import UpdateMode

        entity = self._to_entity(booking, None)
        try:
            metadata = self._table.update_entity(
                entity, mode=UpdateMode.MERGE, etag=etag, match_condition=MatchConditions.IfNotModified
            )
        except ResourceModifiedError as error:
            raise StaleBooking(booking.reference) from error
        return metadata["etag"]

    # --- mapping ---------------------------------------------------------------------------

    def _seat_entity(self, booking: Booking) -> dict:
        return {
            "PartitionKey": PARTITION,
            "RowKey": seat_key(booking.counter_id, booking.start, booking.agent_id),
            "Reference": booking.reference,
        }

    def _due_entity(self, booking: Booking) -> dict:
        return {
            "PartitionKey": PARTITION,
            "RowKey": due_key(booking.start, booking.reference),
            "Reference": booking.reference,
            "Counter": booking.counter_id,
        }

    def _to_entity(self, booking: Booking, person: str | None) -> dict:
        entity = {
            "PartitionKey": PARTITION,
            "RowKey": booking_key(booking.reference),
            "Reference": booking.reference,
            "Counter": booking.counter_id,
            "Channel": booking.channel.value,
            "Topic": booking.topic_id,
            "Language": booking.language.value,
            "Start": booking.start,
            "End": booking.end,
            "Agent": booking.agent_id,
            "Status": booking.status.value,
            "StatusReason": booking.status_reason or "",
            "Provisioning": booking.provisioning.value,
            "TermsVersion": booking.terms_version,
            "CreatedAt": booking.created_at,
            "ManageTokenHash": booking.manage_token_hash,
            "JoinUrl": booking.join_url or "",
            "MeetingId": booking.meeting_id or "",
            "Sequence": booking.sequence,
        }
        if booking.personal is not None:
            entity["PersonalData"] = self._protector.seal(booking.personal, booking.reference)
        if person is not None:
            entity["PersonKey"] = person
        return entity

    def _to_booking(self, entity: dict) -> Booking:
        sealed = entity.get("PersonalData")
        return Booking(
            reference=entity["Reference"],
            counter_id=entity["Counter"],
            channel=Channel(entity["Channel"]),
            topic_id=entity["Topic"],
            language=Language(entity["Language"]),
            start=entity["Start"].astimezone(timezone.utc),
            end=entity["End"].astimezone(timezone.utc),
            agent_id=entity["Agent"],
            personal=self._protector.open(sealed, entity["Reference"]) if sealed else None,
            terms_version=entity.get("TermsVersion", ""),
            created_at=entity["CreatedAt"].astimezone(timezone.utc),
            manage_token_hash=entity["ManageTokenHash"],
            status=BookingStatus(entity["Status"]),
            provisioning=Provisioning(entity.get("Provisioning", Provisioning.PENDING.value)),
            status_reason=entity.get("StatusReason") or None,
            join_url=entity.get("JoinUrl") or None,
            meeting_id=entity.get("MeetingId") or None,
            sequence=entity.get("Sequence", 0),
        )
