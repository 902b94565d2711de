"""Presence signals from Microsoft Graph: who joined a Teams appointment, and when.

Three parts, all off unless GRAPH_CALL_EVENTS=true:
- notifications of a meeting's call events become presence signals (AGENT_JOINED, GUEST_JOINED)
  at the time of the event, through LifecycleService.record. The 10-minute rules read only those
  times, so a notification that arrives late, out of order or twice decides nothing differently;
- a timer keeps one subscription per upcoming video appointment, renews it and deletes it after
  the appointment;
- attendance reports, which Graph creates only after a meeting session ends, go to the audit
  trail. They never change an appointment, and an empty report decides nothing.

This module imports no Graph or Azure package: adapters decrypt notifications and call Graph, and
report a failed request as a StepFailed with the HTTP `status` where one came back.
"""

from __future__ import annotations

import hmac
import json
import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from enum import StrEnum
from typing import Any, Iterable, Protocol

from shared.domain.lifecycle import Signal
from shared.domain.model import Booking, BookingStatus, Catalog, Channel
from shared.ports import Clock
from shared.services.provisioning import StepFailed

logger = logging.getLogger(__name__)

# The subscription outlives the appointment's end by this much, for meetings that run over.
SUBSCRIPTION_TAIL = timedelta(minutes=15)
# Renew a subscription that cannot yet reach the appointment's end when it expires within this time.
RENEW_AHEAD = timedelta(hours=12)
# Ask for a lifetime this much below Graph's maximum, so clock skew cannot push it over.
LIFETIME_MARGIN = timedelta(minutes=10)
# A meeting's id is "<organizer user id>|<online meeting id>" (shared/adapters/graph/meetings.py).
MEETING_ID_SEPARATOR = "|"


# --- values shared with the adapters -------------------------------------------------------------


@dataclass(frozen=True)
class SubscriptionRecord:
    """Our row of one Graph subscription: which appointment and meeting it watches, and until when."""

    reference: str
    subscription_id: str
    expires: datetime
    join_web_url: str
    meeting_id: str


@dataclass(frozen=True)
class ReceivedNotification:
    """One notification item as taken off the queue. `content` is the decrypted resource data, if any."""

    subscription_id: str | None
    tenant_id: str | None
    join_web_url: str | None
    lifecycle_event: str | None
    content: dict | None
    received_at: datetime


@dataclass(frozen=True)
class AttendanceRecord:
    """One participant of a meeting's sessions: the Graph identity id, times in UTC, seconds attended."""

    identity_id: str | None
    first_join: datetime | None
    last_leave: datetime | None
    total_seconds: int


@dataclass(frozen=True)
class AttendanceSummary:
    """The attendance of one side of an appointment ("agent" or "guest"), for the audit trail."""

    role: str
    participants: int
    first_join: datetime | None
    last_leave: datetime | None
    total_seconds: int


def parse_time(value: object) -> datetime | None:
    """Parse an ISO 8601 time such as Graph's "2022-02-28T00:00:00.0000000Z", or return None when it is absent or invalid."""
    if not isinstance(value, str) or not value:
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)  # Graph writes its times in UTC
    return moment.astimezone(timezone.utc)


def _status(error: StepFailed) -> int | None:
    """Return the HTTP status of a failed request, when the adapter set one (GraphError.status)."""
    return getattr(error, "status", None)


def split_meeting_id(stored_id: str) -> tuple[str, str] | None:
    organizer, separator, meeting_id = stored_id.partition(MEETING_ID_SEPARATOR)
    return (organizer, meeting_id) if separator and organizer and meeting_id else None


# --- the webhook's intake --------------------------------------------------------------------------


class InvalidNotificationBody(ValueError):
    """The webhook's body is not a JSON object with a `value` list."""


def accept_notifications(body: bytes, client_state: str) -> tuple[list[dict], int]:
    """Return the notification items whose clientState equals ours, and the number of the others.

    Raises InvalidNotificationBody when the body is not {"value": [...]}.
    """
    try:
        document = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise InvalidNotificationBody("the body is not JSON") from None
    items = document.get("value") if isinstance(document, dict) else None
    if not isinstance(items, list):
        raise InvalidNotificationBody("the body has no `value` list")

    expected = client_state.encode("utf-8")
    accepted: list[dict] = []
    for item in items:
        state = item.get("clientState") if isinstance(item, dict) else None
        # compare_digest takes as long wherever the values differ, so timing cannot reveal the secret.
        if isinstance(state, str) and hmac.compare_digest(state.encode("utf-8"), expected):
            accepted.append(item)
    return accepted, len(items) - len(accepted)


# --- reading a call event ----------------------------------------------------------------------------


class ParticipantKind(StrEnum):
    TENANT_USER = "tenant_user"  # a signed-in user of our organization: an agent or a colleague
    GUEST = "guest"  # anonymous, from another organization, or through Azure Communication Services
    OTHER = "other"  # phone, bots and applications, or an identity this module cannot place


@dataclass(frozen=True)
class Participant:
    kind: ParticipantKind
    user_id: str | None
    in_lobby: bool


@dataclass(frozen=True)
class CallEvent:
    event_type: str
    at: datetime
    joined: tuple[Participant, ...]


def parse_call_event(content: dict, tenant_id: str | None, received_at: datetime) -> CallEvent:
    """Read who joined from a decrypted meetingCallEvents notification.

    The Graph beta documentation shows "participants@delta" entries of {id, isInLobby, info:
    {identity}}, where an entry with removedState left the call. Older pages show
    "activeParticipants@joined" entries of {Id, Identity}, with capitalized names, so names are
    matched without regard to case. The event's eventDateTime is when it happened, and
    `received_at` is used when it is missing.
    """
    data = _casefolded(content)
    at = parse_time(data.get("eventdatetime")) or received_at
    event_type = str(data.get("eventtype") or data.get("calleventtype") or "")

    joined: list[Participant] = []
    for key in ("participants@delta", "participants", "activeparticipants@joined"):
        for entry in data.get(key) or []:
            if not isinstance(entry, dict):
                continue
            entry = _casefolded(entry)
            if entry.get("removedstate"):
                continue  # left the call or the lobby
            info = _casefolded(entry.get("info")) if isinstance(entry.get("info"), dict) else entry
            identity = _casefolded(info.get("identity")) if isinstance(info.get("identity"), dict) else {}
            kind, user_id = _classify(identity, tenant_id)
            joined.append(Participant(kind, user_id, in_lobby=entry.get("isinlobby") is True))
    return CallEvent(event_type, at, tuple(joined))


def _classify(identity: dict, tenant_id: str | None) -> tuple[ParticipantKind, str | None]:
    user = identity.get("user")
    if isinstance(user, dict):
        user = _casefolded(user)
        user_id = user.get("id") if isinstance(user.get("id"), str) else None
        user_tenant = user.get("tenantid")
        if tenant_id and isinstance(user_tenant, str) and user_tenant.lower() != tenant_id.lower():
            return ParticipantKind.GUEST, user_id  # signed in with another organization's account
        if tenant_id and isinstance(user_tenant, str):
            return ParticipantKind.TENANT_USER, user_id
        # Without both tenant ids the user is an agent only if the id matches, and never a guest.
        return ParticipantKind.OTHER, user_id
    if isinstance(identity.get("guest"), dict) or isinstance(identity.get("azurecommunicationservicesuser"), dict):
        return ParticipantKind.GUEST, None
    # NOTE: phone participants count as no one, because the invitation offers only the join link.
    return ParticipantKind.OTHER, None


def _casefolded(mapping: Any) -> dict:
    return {str(key).lower(): value for key, value in mapping.items()} if isinstance(mapping, dict) else {}


@dataclass(frozen=True)
class PresenceSignal:
    signal: Signal
    at: datetime
    actor_id: str | None


def presence_signals(event: CallEvent, agents: dict[str, str]) -> list[PresenceSignal]:
    """Return the presence signals of an event, at most one per signal and actor.

    `agents` maps the lower-case Graph user id of each agent of the counter to the agent's id. A guest counts while waiting in the lobby: the client was there on time and waits
    for the agent to admit them. An agent counts only once in the meeting itself.
    """
    found: dict[tuple[Signal, str | None], PresenceSignal] = {}
    for participant in event.joined:
        agent_id = agents.get((participant.user_id or "").lower())
        if agent_id and not participant.in_lobby:
            found.setdefault((Signal.AGENT_JOINED, agent_id), PresenceSignal(Signal.AGENT_JOINED, event.at, agent_id))
        elif participant.kind is ParticipantKind.GUEST and not agent_id:
            found.setdefault((Signal.GUEST_JOINED, None), PresenceSignal(Signal.GUEST_JOINED, event.at, None))
    return list(found.values())


def agents_by_user_id(catalog: Catalog, counter_id: str) -> dict[str, str]:
    return {agent.graph_user_id.lower(): agent.id for agent in catalog.agents_of(counter_id) if agent.graph_user_id}


# --- processing a notification --------------------------------------------------------------------


class SubscriptionLedger(Protocol):
    def get(self, reference: str) -> tuple[Booking, str] | None: ...
    def agenda(self, counter_id: str, first: datetime, last: datetime) -> list[Booking]: ...
    def subscriptions(self) -> list[SubscriptionRecord]: ...
    def subscription_by_id(self, subscription_id: str) -> SubscriptionRecord | None: ...
    def subscription_by_join_url(self, join_web_url: str) -> SubscriptionRecord | None: ...
    def save_subscription(self, record: SubscriptionRecord) -> None: ...
    def remove_subscription(self, reference: str) -> None: ...


class Subscriptions(Protocol):
    """The Graph side of subscriptions (shared/adapters/graph/subscriptions.py)."""

    max_lifetime: timedelta

    async def subscribe_to_meeting(self, organizer: str, meeting_id: str, expires: datetime) -> tuple[str, datetime, str]: ...
    async def renew(self, subscription_id: str, expires: datetime) -> datetime: ...
    async def delete(self, subscription_id: str) -> None: ...
    async def reauthorize(self, subscription_id: str) -> None: ...


class CallEventService:
    """Records the presence signals of call-event notifications, and handles lifecycle notifications."""

    def __init__(self, ledger: SubscriptionLedger, lifecycle, catalog_source, subscriptions: Subscriptions) -> None:
        self._ledger = ledger
        self._lifecycle = lifecycle
        self._catalog_source = catalog_source
        self._subscriptions = subscriptions

    async def handle(self, notification: ReceivedNotification) -> list[PresenceSignal]:
        """Record the signals of one notification and return them. Handling it twice changes nothing."""
        if notification.lifecycle_event:
            await self._handle_lifecycle(notification)
            return []
        record = self._subscription_of(notification)
        if record is None:
            logger.info("dropped a call event of the unknown subscription %s", notification.subscription_id)
            return []
        if notification.content is None:
            logger.warning("the call event of %s carries no resource data, so it shows no participants",
                           record.reference, extra={"reference": record.reference})
            return []

        found = self._ledger.get(record.reference)
        if found is None:
            logger.info("dropped a call event of %s: the booking was not found", record.reference,
                        extra={"reference": record.reference})
            return []
        booking = found[0]
        event = parse_call_event(notification.content, notification.tenant_id, notification.received_at)
        agents = agents_by_user_id(self._catalog_source.catalog(), booking.counter_id)
        seen = presence_signals(event, agents)
        for signal in seen:
            self._lifecycle.record(record.reference, signal.signal, actor_id=signal.actor_id, at=signal.at)
        logger.info(
            "call event %s of %s: %d participants, %d signals", event.event_type or "without type", record.reference,
            len(event.joined), len(seen),
            extra={"reference": record.reference},
        )
        return seen

    def _subscription_of(self, notification: ReceivedNotification) -> SubscriptionRecord | None:
        if notification.subscription_id:
            record = self._ledger.subscription_by_id(notification.subscription_id)
            if record is not None:
                return record
        if notification.join_web_url:
            return self._ledger.subscription_by_join_url(notification.join_web_url)
        return None

    async def _handle_lifecycle(self, notification: ReceivedNotification) -> None:
        """Handle a lifecycle notification: reauthorizationRequired, subscriptionRemoved or missed."""
        event = notification.lifecycle_event
        record = self._ledger.subscription_by_id(notification.subscription_id) if notification.subscription_id else None
        reference = record.reference if record else None
        extra = {"reference": reference, "event": event}
        if record is None:
            logger.info("lifecycle notification %s of the unknown subscription %s", event, notification.subscription_id,
                        extra=extra)
        elif event == "subscriptionRemoved":
            # The timer subscribes again on its next run.
            self._ledger.remove_subscription(record.reference)
            logger.warning("Graph removed the subscription of %s", reference, extra=extra)
        elif event == "reauthorizationRequired":
            await self._subscriptions.reauthorize(record.subscription_id)
            logger.info("subscription of %s reauthorized", reference, extra=extra)
        else:
            # "missed": Graph dropped notifications, and none of them can be fetched again.
            logger.warning("Graph reports %s for the subscription of %s", event, reference, extra=extra)


# --- the subscriptions timer ----------------------------------------------------------------------


@dataclass
class SubscriptionReport:
    created: list[str] = field(default_factory=list)
    renewed: list[str] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)


def wants_subscription(booking: Booking | None, now: datetime) -> bool:
    """Tell whether an appointment's meeting should be watched: a booked video appointment, not yet over."""
    return (
        booking is not None
        and booking.status is BookingStatus.BOOKED
        and booking.channel is Channel.VIDEO
        and bool(booking.join_url)
        and split_meeting_id(booking.meeting_id or "") is not None
        and now < booking.end + SUBSCRIPTION_TAIL
    )


class SubscriptionManager:
    """Keeps one Graph subscription per video appointment that starts within `window`."""

    def __init__(self, ledger: SubscriptionLedger, catalog_source, subscriptions: Subscriptions, clock: Clock,
                 window: timedelta) -> None:
        self._ledger = ledger
        self._catalog_source = catalog_source
        self._subscriptions = subscriptions
        self._clock = clock
        self._window = window

    async def run(self) -> SubscriptionReport:
        """Renew or delete the stored subscriptions, then subscribe to the upcoming appointments.

        A failed Graph request is logged and retried on the next run. Running twice changes nothing.
        """
        now = self._clock.now()
        report = SubscriptionReport()
        still_subscribed = await self._maintain(now, report)

        catalog = self._catalog_source.catalog()
        for counter in catalog.counters.values():
            if counter.channel is not Channel.VIDEO:
                continue
            # Appointments in progress too: their start lies up to one slot in the past.
            for booking in self._ledger.agenda(counter.id, now - counter.slot_length, now + self._window):
                if booking.reference not in still_subscribed and wants_subscription(booking, now):
                    await self._subscribe(booking, now, report)
        return report

    def _expiry_for(self, booking: Booking, now: datetime) -> datetime:
        return min(booking.end + SUBSCRIPTION_TAIL, now + self._subscriptions.max_lifetime - LIFETIME_MARGIN)

    async def _maintain(self, now: datetime, report: SubscriptionReport) -> set[str]:
        """Renew or delete each stored subscription, and return the references whose subscription stays."""
        still_subscribed: set[str] = set()
        for record in self._ledger.subscriptions():
            found = self._ledger.get(record.reference)
            booking = found[0] if found else None
            extra = {"reference": record.reference}
            if not wants_subscription(booking, now) or booking.meeting_id != record.meeting_id:
                try:
                    await self._subscriptions.delete(record.subscription_id)
                except StepFailed as error:
                    logger.error("could not delete the subscription of %s: %s", record.reference, error, extra=extra)
                    report.failed.append(record.reference)
                    continue
                self._ledger.remove_subscription(record.reference)
                report.deleted.append(record.reference)
                continue
            if record.expires <= now:
                self._ledger.remove_subscription(record.reference)  # Graph has removed it, so subscribe again
                continue

            needed = booking.end + SUBSCRIPTION_TAIL
            target = self._expiry_for(booking, now)
            if record.expires < needed and (target >= needed or record.expires - now <= RENEW_AHEAD):
                try:
                    expires = await self._subscriptions.renew(record.subscription_id, target)
                except StepFailed as error:
                    if _status(error) == 404:
                        self._ledger.remove_subscription(record.reference)
                        continue
                    logger.error("could not renew the subscription of %s: %s", record.reference, error, extra=extra)
                    report.failed.append(record.reference)
                    still_subscribed.add(record.reference)
                    continue
                self._ledger.save_subscription(
                    SubscriptionRecord(record.reference, record.subscription_id, expires, record.join_web_url,
                                       record.meeting_id)
                )
                report.renewed.append(record.reference)
            still_subscribed.add(record.reference)
        return still_subscribed

    async def _subscribe(self, booking: Booking, now: datetime, report: SubscriptionReport) -> None:
        organizer, meeting_id = split_meeting_id(booking.meeting_id)
        try:
            subscription_id, expires, join_web_url = await self._subscriptions.subscribe_to_meeting(
                organizer, meeting_id, self._expiry_for(booking, now)
            )
        except StepFailed as error:
            logger.error("could not subscribe to the call events of %s: %s", booking.reference, error,
                         extra={"reference": booking.reference})
            report.failed.append(booking.reference)
            return
        self._ledger.save_subscription(
            SubscriptionRecord(booking.reference, subscription_id, expires, join_web_url, booking.meeting_id)
        )
        report.created.append(booking.reference)
        logger.info("subscribed to the call events of %s", booking.reference,
                    extra={"reference": booking.reference})


# --- attendance reports for the audit trail ----------------------------------------------------------


class AttendanceLedger(Protocol):
    def agenda(self, counter_id: str, first: datetime, last: datetime) -> list[Booking]: ...
    def references_with_attendance(self, references: Iterable[str]) -> set[str]: ...
    def save_attendance(self, reference: str, summaries: list[AttendanceSummary], reports: int,
                        stored_at: datetime) -> None: ...


class AttendanceReports(Protocol):
    async def records(self, organizer: str, meeting_id: str) -> tuple[int, list[AttendanceRecord]]: ...


@dataclass
class AttendanceReport:
    stored: list[str] = field(default_factory=list)
    empty: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)


def summarize_attendance(records: list[AttendanceRecord], agency_user_ids: set[str]) -> list[AttendanceSummary]:
    """Sum the records per side: "agent" for the agency's user ids, "guest" for everyone else."""
    sides: dict[str, list[AttendanceRecord]] = {}
    for record in records:
        role = "agent" if (record.identity_id or "").lower() in agency_user_ids else "guest"
        sides.setdefault(role, []).append(record)

    summaries = []
    for role, side in sorted(sides.items()):
        joins = [r.first_join for r in side if r.first_join]
        leaves = [r.last_leave for r in side if r.last_leave]
        summaries.append(AttendanceSummary(
            role=role,
            participants=len(side),
            first_join=min(joins) if joins else None,
            last_leave=max(leaves) if leaves else None,
            total_seconds=sum(r.total_seconds for r in side),
        ))
    return summaries


class AttendanceReconciler:
    """Stores the attendance of ended video appointments as audit rows; never changes an appointment."""

    def __init__(self, ledger: AttendanceLedger, catalog_source, reports: AttendanceReports, clock: Clock,
                 delay: timedelta, lookback: timedelta) -> None:
        self._ledger = ledger
        self._catalog_source = catalog_source
        self._reports = reports
        self._clock = clock
        self._delay = delay
        self._lookback = lookback

    async def run(self) -> AttendanceReport:
        """Read the reports of appointments that ended between `lookback` and `delay` ago and have none stored.

        A meeting without a report is asked again on later runs until it leaves the lookback.
        """
        now = self._clock.now()
        report = AttendanceReport()
        catalog = self._catalog_source.catalog()
        for counter in catalog.counters.values():
            if counter.channel is not Channel.VIDEO:
                continue
            ended = [
                booking for booking in self._ledger.agenda(counter.id, now - self._lookback, now - self._delay)
                if booking.end <= now - self._delay and split_meeting_id(booking.meeting_id or "")
            ]
            done = self._ledger.references_with_attendance(b.reference for b in ended)
            agents = {agent.graph_user_id.lower() for agent in catalog.agents_of(counter.id) if agent.graph_user_id}
            for booking in ended:
                if booking.reference not in done:
                    await self._reconcile(booking, agents, now, report)
        return report

    async def _reconcile(self, booking: Booking, agents: set[str], now: datetime, report: AttendanceReport) -> None:
        organizer, meeting_id = split_meeting_id(booking.meeting_id)
        extra = {"reference": booking.reference}
        try:
            report_count, records = await self._reports.records(organizer, meeting_id)
        except StepFailed as error:
            if _status(error) == 404:
                logger.info("no attendance report for %s: its meeting no longer exists", booking.reference, extra=extra)
            else:
                logger.error("could not read the attendance of %s: %s", booking.reference, error, extra=extra)
            report.failed.append(booking.reference)
            return
        if not records:
            # No report yet, or nobody joined: neither is evidence of anything.
            report.empty.append(booking.reference)
            return
        # The organizer is the agency's too: the agent, or the service account of GRAPH_ORGANIZER_USER_ID.
        summaries = summarize_attendance(records, agents | {organizer.lower()})
        self._ledger.save_attendance(booking.reference, summaries, report_count, now)
        report.stored.append(booking.reference)
        logger.info("attendance of %s stored: %s", booking.reference,
                    ", ".join(f"{s.role} {s.total_seconds} s" for s in summaries), extra=extra)
