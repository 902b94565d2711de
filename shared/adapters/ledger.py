"""The appointment ledger in Table Storage.

Every row that a booking claims lives in ONE partition, so each change of an appointment is a
single entity-group transaction. It writes the booking row (guarded by its ETag) together with its
seat, national-number claim, sweep entry, agenda entry, idempotency record and audit record. No
lock in process memory is needed, and no crash between two writes can leave an orphan row.

Row keys (all in partition "ledger"):
  booking|{reference}                        the appointment
  seat|{counter}|{start UTC}|{agent}         one agent's seat in one slot; exists while booked
  person|{HMAC of national number}           the person's one future appointment
  idem|{HMAC of Idempotency-Key}             the booking a client request created
  due|{check time UTC}|{reference}           when the sweep must look at the appointment next
  agenda|{counter}|{start UTC}|{reference}   the day's appointments of a counter, any status
  audit|{reference}|{time UTC}|{id}          one state change: who, from, to, why
  signal|{reference}|{time UTC}|{kind}       one presence signal

NOTE: one partition serves about 2,000 entities per second (Table Storage scalability targets),
about 300 bookings per second. That covers this agency by far; a larger one would shard the
partition by counter and keep the national-number claims in a partition of their own.
"""

from __future__ import annotations

import logging
import uuid
from datetime import datetime, timezone

from shared.domain.model import Booking, BookingStatus, Channel, Language, Provisioning
from shared.protection import PersonalDataProtector
from shared.services.ports import (
    AuditRecord,
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
    """Parse "20270323T080000Z". Sliced by hand: strptime costs milliseconds over a 30-day slot query."""
    return datetime(
        int(text[0:4]), int(text[4:6]), int(text[6:8]), int(text[9:11]), int(text[11:13]), int(text[13:15]),
        tzinfo=timezone.utc,
    )


def booking_key(reference: str) -> str:
    return f"booking|{reference}"


def seat_key(counter_id: str, start: datetime, agent_id: str) -> str:
    return f"seat|{counter_id}|{key_time(start)}|{agent_id}"


def person_key(person: str) -> str:
    return f"person|{person}"


def idempotency_key(key_hash: str) -> str:
    return f"idem|{key_hash}"


def due_key(check_at: datetime, reference: str) -> str:
    return f"due|{key_time(check_at)}|{reference}"


def agenda_key(counter_id: str, start: datetime, reference: str) -> str:
    return f"agenda|{counter_id}|{key_time(start)}|{reference}"


class Ledger:
    def __init__(self, table, protector: PersonalDataProtector) -> None:
        self._table = table
        self._protector = protector

    # --- reads -----------------------------------------------------------------------------

    def _range(self, low: str, high: str, select: list[str] | None = None):
        return self._table.query_entities(
            "PartitionKey eq @pk and RowKey ge @low and RowKey lt @high",
            parameters={"pk": PARTITION, "low": low, "high": high},
            select=select,
        )

    def taken_seats(self, counter_id: str, first: datetime, last: datetime) -> set[tuple[datetime, str]]:
        """Return (start, agent id) of every claimed seat with first <= start <= last, in one range query."""
        rows = self._range(f"seat|{counter_id}|{key_time(first)}", f"seat|{counter_id}|{key_time(last)}|~", ["RowKey"])
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

    def due_until(self, moment: datetime) -> list[tuple[datetime, str]]:
        """Return (check time, reference) of the appointments to look at no later than `moment`."""
        rows = self._range("due|", f"due|{key_time(moment)}|~", ["RowKey"])
        due = []
        for row in rows:
            _, at, reference = row["RowKey"].split("|", 2)
            due.append((parse_key_time(at), reference))
        return due

    def agenda(self, counter_id: str, first: datetime, last: datetime) -> list[Booking]:
        """Return the counter's appointments that start in [first, last), any status."""
        rows = self._range(f"agenda|{counter_id}|{key_time(first)}", f"agenda|{counter_id}|{key_time(last)}", ["RowKey"])
        references = [row["RowKey"].rsplit("|", 1)[1] for row in rows]
        bookings = []
        for chunk_start in range(0, len(references), 40):
            keys = [booking_key(ref) for ref in references[chunk_start:chunk_start + 40]]
            bookings.extend(self._to_booking(row) for row in self._rows(keys))
        return sorted(bookings, key=lambda b: (b.start, b.reference))

    def audit_trail(self, reference: str) -> list[dict]:
        return [dict(row) for row in self._range(f"audit|{reference}|", f"audit|{reference}|~")]

    def signals(self, reference: str) -> list[tuple[datetime, str]]:
        rows = self._range(f"signal|{reference}|", f"signal|{reference}|~", ["RowKey"])
        return [(parse_key_time(row["RowKey"].split("|")[2]), row["RowKey"].split("|")[3]) for row in rows]

    def _rows(self, row_keys: list[str]) -> list[dict]:
        params = {"pk": PARTITION, **{f"k{i}": key for i, key in enumerate(row_keys)}}
        either = " or ".join(f"RowKey eq @k{i}" for i in range(len(row_keys)))
        # The SDK reads a parameter name up to the next space, so keep one before the closing bracket.
        return list(self._table.query_entities(f"PartitionKey eq @pk and ( {either} )", parameters=params))

    # --- writes ----------------------------------------------------------------------------

    def create(self, booking: Booking, claims: Claims, audit: AuditRecord | None = None) -> None:
        """Store a new booking with all its claims in one transaction.

        Raises SeatTaken, PersonClaimed or IdempotentReplay when a claim already exists.
        """
        from azure.core import MatchConditions
        from azure.data.tables import TableTransactionError

        operations = [
            ("create", self._to_entity(booking)),
            ("create", self._seat_entity(booking)),
            ("create", self._agenda_entity(booking)),
        ]
        if booking.next_check_at:
            operations.append(("create", self._due_entity(booking)))
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
        if audit:
            operations.append(("create", self._audit_entity(booking.reference, audit)))
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

    def update(self, booking: Booking, etag: str) -> str:
        """Replace the booking row unless it changed since `etag`, and return the new ETag.
        Use `change` instead when the seat, the schedule or the status changes."""
        return self.change(booking, booking, etag)

    def change(
        self,
        before: Booking,
        after: Booking,
        etag: str,
        audit: AuditRecord | None = None,
        signal: tuple[datetime, str] | None = None,
    ) -> str:
        """Apply a change of one appointment in one transaction, guarded by the booking's ETag.

        Moves the seat, agenda and sweep rows along with the booking. Raises StaleBooking when
        the booking changed since `etag`, and SeatTaken when the new seat is claimed.
        """
        from azure.core import MatchConditions
        from azure.data.tables import TableTransactionError

        operations: list = [
            ("update", self._to_entity(after), {"mode": "replace", "etag": etag, "match_condition": MatchConditions.IfNotModified})
        ]
        held, holds = before.status is BookingStatus.BOOKED, after.status is BookingStatus.BOOKED
        old_seat, new_seat = self._seat_entity(before), self._seat_entity(after)
        if held and (not holds or old_seat["RowKey"] != new_seat["RowKey"]):
            operations.append(("delete", old_seat))
        if holds and (not held or old_seat["RowKey"] != new_seat["RowKey"]):
            operations.append(("create", new_seat))
        if holds and after.personal is not None and (not held or after.end != before.end):
            # The person's claim must end with the appointment it guards, or the person could book a
            # second one once the old end has passed.
            # NOTE: an agency reschedule of a booking to reschedule takes the claim back even if the
            # person booked another appointment meanwhile.
            operations.append(("upsert", self._person_entity(after), {"mode": "replace"}))
        old_agenda, new_agenda = self._agenda_entity(before), self._agenda_entity(after)
        if old_agenda["RowKey"] != new_agenda["RowKey"]:
            operations += [("delete", old_agenda), ("create", new_agenda)]
        if before.next_check_at != after.next_check_at:
            if before.next_check_at:
                operations.append(("delete", self._due_entity(before)))
            if after.next_check_at:
                operations.append(("create", self._due_entity(after)))
        if audit:
            operations.append(("create", self._audit_entity(after.reference, audit)))
        if signal:
            operations.append(("upsert", self._signal_entity(after.reference, *signal)))
        try:
            result = self._table.submit_transaction(operations)
        except TableTransactionError as error:
            found = self.get(after.reference)
            if found is None or found[1] != etag:
                raise StaleBooking(after.reference) from error
            raise SeatTaken() from error
        return result[0]["etag"]

    def add_signal(self, reference: str, at: datetime, kind: str) -> None:
        """Store a presence signal that changes nothing on the booking, for the audit trail."""
        self._table.upsert_entity(self._signal_entity(reference, at, kind))

    def release_person(self, booking: Booking) -> None:
        """Drop the person's claim if it still points at this booking (after a cancellation or end)."""
        from azure.core import MatchConditions
        from azure.core.exceptions import ResourceModifiedError, ResourceNotFoundError

        if booking.personal is None:
            return
        key = person_key(self._protector.lookup_key(booking.personal.national_number))
        try:
            row = self._table.get_entity(PARTITION, key)
            if row["Reference"] == booking.reference:
                self._table.delete_entity(
                    PARTITION, key, etag=row.metadata["etag"], match_condition=MatchConditions.IfNotModified
                )
        except (ResourceNotFoundError, ResourceModifiedError):
            pass

    def ended_with_personal_data(self, cutoff: datetime) -> list[tuple[Booking, str]]:
        """Return the bookings that ended before `cutoff` and still hold personal data.

        NOTE: the service filters the partition's booking rows server-side, which reads every
        booking once a day. An index row per booking would make this proportional to the purged
        ones, at the cost of one more row in every booking transaction.
        """
        rows = self._table.query_entities(
            "PartitionKey eq @pk and RowKey ge 'booking|' and RowKey lt 'booking|~' and End lt @cutoff and Purged eq false",
            parameters={"pk": PARTITION, "cutoff": cutoff},
        )
        return [(self._to_booking(row), row.metadata["etag"]) for row in rows]

    def purge(self, booking: Booking, etag: str) -> None:
        """Remove the personal data of a booking and the national-number claim; keep the rest."""
        self.release_person(booking)
        self.change(booking, booking.replace(personal=None), etag)

    def remove_due(self, check_at: datetime, reference: str) -> None:
        """Delete a sweep row that no longer matches its booking."""
        from azure.core.exceptions import ResourceNotFoundError

        try:
            self._table.delete_entity(PARTITION, due_key(check_at, reference))
        except ResourceNotFoundError:
            pass

    # --- mapping ---------------------------------------------------------------------------

    def _seat_entity(self, booking: Booking) -> dict:
        return {
            "PartitionKey": PARTITION,
            "RowKey": seat_key(booking.counter_id, booking.start, booking.agent_id),
            "Reference": booking.reference,
        }

    def _due_entity(self, booking: Booking) -> dict:
        return {"PartitionKey": PARTITION, "RowKey": due_key(booking.next_check_at, booking.reference)}

    def _agenda_entity(self, booking: Booking) -> dict:
        return {"PartitionKey": PARTITION, "RowKey": agenda_key(booking.counter_id, booking.start, booking.reference)}

    def _person_entity(self, booking: Booking) -> dict:
        key = person_key(self._protector.lookup_key(booking.personal.national_number))
        return {"PartitionKey": PARTITION, "RowKey": key, "Reference": booking.reference, "End": booking.end}

    def _signal_entity(self, reference: str, at: datetime, kind: str) -> dict:
        return {"PartitionKey": PARTITION, "RowKey": f"signal|{reference}|{key_time(at)}|{kind}", "At": at, "Kind": kind}

    def _audit_entity(self, reference: str, audit: AuditRecord) -> dict:
        return {
            "PartitionKey": PARTITION,
            "RowKey": f"audit|{reference}|{key_time(audit.at)}|{uuid.uuid4().hex[:8]}",
            "Reference": reference,
            "At": audit.at,
            "Actor": audit.actor,
            "ActorId": audit.actor_id or "",
            "FromStatus": audit.from_status or "",
            "ToStatus": audit.to_status,
            "Reason": audit.reason,
        }

    def _to_entity(self, booking: Booking) -> dict:
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
            "Outcome": booking.outcome or "",
            "Provisioning": booking.provisioning.value,
            "TermsVersion": booking.terms_version,
            "CreatedAt": booking.created_at,
            "ManageTokenHash": booking.manage_token_hash,
            "JoinUrl": booking.join_url or "",
            "MeetingId": booking.meeting_id or "",
            "Sequence": booking.sequence,
            "ReminderSent": booking.reminder_sent,
        }
        for name, moment in (
            ("ClientSeenAt", booking.client_seen_at),
            ("AgentSeenAt", booking.agent_seen_at),
            ("IdentityVerifiedAt", booking.identity_verified_at),
            ("NextCheckAt", booking.next_check_at),
        ):
            if moment is not None:
                entity[name] = moment
        # Purged is always written, because a filter on a missing property matches nothing.
        entity["Purged"] = booking.personal is None
        if booking.personal is not None:
            entity["PersonalData"] = self._protector.seal(booking.personal, booking.reference)
        return entity

    def _to_booking(self, entity: dict) -> Booking:
        sealed = entity.get("PersonalData")

        def moment(name: str) -> datetime | None:
            value = entity.get(name)
            return value.astimezone(timezone.utc) if value else None

        return Booking(
            reference=entity["Reference"],
            counter_id=entity["Counter"],
            channel=Channel(entity["Channel"]),
            topic_id=entity["Topic"],
            language=Language(entity["Language"]),
            start=moment("Start"),
            end=moment("End"),
            agent_id=entity["Agent"],
            personal=self._protector.open(sealed, entity["Reference"]) if sealed else None,
            terms_version=entity.get("TermsVersion", ""),
            created_at=moment("CreatedAt"),
            manage_token_hash=entity["ManageTokenHash"],
            status=BookingStatus(entity["Status"]),
            provisioning=Provisioning(entity.get("Provisioning", Provisioning.PENDING.value)),
            status_reason=entity.get("StatusReason") or None,
            outcome=entity.get("Outcome") or None,
            join_url=entity.get("JoinUrl") or None,
            meeting_id=entity.get("MeetingId") or None,
            sequence=entity.get("Sequence", 0),
            reminder_sent=bool(entity.get("ReminderSent", False)),
            client_seen_at=moment("ClientSeenAt"),
            agent_seen_at=moment("AgentSeenAt"),
            identity_verified_at=moment("IdentityVerifiedAt"),
            next_check_at=moment("NextCheckAt"),
        )

    # --- Graph call events (shared/services/call_events.py) ------------------------------------
    # Row keys, in the same partition:
    #   sub|{reference}                  the Graph subscription on the call events of the appointment's meeting
    #   attendance|{reference}|{role}    the attendance of one side ("agent" or "guest"), for the audit trail only

    def subscriptions(self) -> list:
        """Return a SubscriptionRecord per stored subscription, which means one per upcoming video appointment."""
        return [self._to_subscription(row) for row in self._range("sub|", "sub|~")]

    def subscription_by_id(self, subscription_id: str):
        """Return the SubscriptionRecord with this Graph subscription id, or None."""
        rows = self._table.query_entities(
            "PartitionKey eq @pk and RowKey ge 'sub|' and RowKey lt 'sub|~' and SubscriptionId eq @id",
            parameters={"pk": PARTITION, "id": subscription_id},
        )
        return next((self._to_subscription(row) for row in rows), None)

    def subscription_by_join_url(self, join_web_url: str):
        """Return the SubscriptionRecord on the meeting with this Teams join URL, or None."""
        rows = self._table.query_entities(
            "PartitionKey eq @pk and RowKey ge 'sub|' and RowKey lt 'sub|~' and JoinWebUrl eq @url",
            parameters={"pk": PARTITION, "url": join_web_url},
        )
        return next((self._to_subscription(row) for row in rows), None)

    def save_subscription(self, record) -> None:
        self._table.upsert_entity({
            "PartitionKey": PARTITION,
            "RowKey": f"sub|{record.reference}",
            "Reference": record.reference,
            "SubscriptionId": record.subscription_id,
            "Expires": record.expires,
            "JoinWebUrl": record.join_web_url,
            "MeetingId": record.meeting_id,
        })

    def remove_subscription(self, reference: str) -> None:
        from azure.core.exceptions import ResourceNotFoundError

        try:
            self._table.delete_entity(PARTITION, f"sub|{reference}")
        except ResourceNotFoundError:
            pass

    def references_with_attendance(self, references) -> set[str]:
        """Return those of `references` that have an attendance row, reading 20 appointments per query."""
        wanted = list(references)
        found: set[str] = set()
        for chunk_start in range(0, len(wanted), 20):
            keys = [f"attendance|{reference}|{role}" for reference in wanted[chunk_start:chunk_start + 20]
                    for role in ("agent", "guest")]
            found.update(row["Reference"] for row in self._rows(keys))
        return found

    def save_attendance(self, reference: str, summaries, reports: int, stored_at: datetime) -> None:
        """Store one row per side in one transaction. The rows change no booking and no other row."""
        operations = []
        for summary in summaries:
            row = {
                "PartitionKey": PARTITION,
                "RowKey": f"attendance|{reference}|{summary.role}",
                "Reference": reference,
                "Role": summary.role,
                "Participants": summary.participants,
                "TotalSeconds": summary.total_seconds,
                "Reports": reports,
                "StoredAt": stored_at,
            }
            if summary.first_join:
                row["FirstJoin"] = summary.first_join
            if summary.last_leave:
                row["LastLeave"] = summary.last_leave
            operations.append(("upsert", row))
        if operations:
            self._table.submit_transaction(operations)

    def attendance(self, reference: str) -> list[dict]:
        return [dict(row) for row in self._range(f"attendance|{reference}|", f"attendance|{reference}|~")]

    def _to_subscription(self, entity: dict):
        from shared.services.call_events import SubscriptionRecord

        return SubscriptionRecord(
            reference=entity["Reference"],
            subscription_id=entity["SubscriptionId"],
            expires=entity["Expires"].astimezone(timezone.utc),
            join_web_url=entity.get("JoinWebUrl", ""),
            meeting_id=entity.get("MeetingId", ""),
        )
