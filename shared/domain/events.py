"""Outgoing webhook events: the JSON body of an appointment event and its HMAC-SHA256 signature.

Pure functions without I/O. The delivery adapter signs every attempt with the time of that attempt,
and receivers check it with verify_signature() or the same steps in their own language.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import datetime, timedelta, timezone

from shared.domain.calendar import BRUSSELS
from shared.domain.lifecycle import Event
from shared.domain.model import Booking

EVENT_HEADER = "X-Videoloket-Event"
EVENT_ID_HEADER = "X-Videoloket-Event-Id"
TIMESTAMP_HEADER = "X-Videoloket-Timestamp"
SIGNATURE_HEADER = "X-Videoloket-Signature"

SIGNATURE_PREFIX = "sha256="
DEFAULT_TOLERANCE = timedelta(minutes=5)

# A queue message is at most 64 KiB and carries the body base64-encoded twice (once in the message
# JSON, once by the queue encoding), which makes it about 1.8 times larger.
MAX_BODY_BYTES = 16_384
_DETAIL_TYPES = (str, int, float, bool, type(None))


def build_payload(
    event_id: str, event: str, booking: Booking, occurred_at: datetime, details: dict | None = None
) -> dict:
    """Build the JSON object of one appointment event.

    It carries the booking's reference, ids, codes and times, never the citizen's personal data.
    Raises ValueError for an unknown event type, a naive `occurred_at` or details that are not a
    flat mapping of string keys to JSON scalars.
    """
    return {
        "id": event_id,
        "type": _event_type(event),
        "occurred_at": _utc_text(occurred_at),
        "appointment": {
            "reference": booking.reference,
            "counter": booking.counter_id,
            "channel": booking.channel.value,
            "status": booking.status.value,
            "status_reason": booking.status_reason,
            "outcome": booking.outcome,
            "language": booking.language.value,
            "topic": booking.topic_id,
            "start": _brussels_text(booking.start),
            "end": _brussels_text(booking.end),
            "agent": booking.agent_id,
        },
        "details": _checked_details(details),
    }


def encode_body(payload: dict) -> bytes:
    """Serialize a payload to the UTF-8 JSON bytes that are signed and sent unchanged on every attempt."""
    body = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    if len(body) > MAX_BODY_BYTES:
        raise ValueError(
            f"webhook body is {len(body)} bytes, more than the maximum of {MAX_BODY_BYTES}: shorten the details"
        )
    return body


def sign(secret: str | bytes, timestamp: int, body: bytes) -> str:
    """Return the signature header value: "sha256=" and the hex HMAC-SHA256 of "<timestamp>.<body>"."""
    signed_text = str(timestamp).encode("ascii") + b"." + body
    digest = hmac.new(_key(secret), signed_text, hashlib.sha256).hexdigest()
    return SIGNATURE_PREFIX + digest


def signed_headers(secret: str | bytes, event: str, event_id: str, body: bytes, timestamp: int) -> dict[str, str]:
    """Return the HTTP headers of one delivery attempt made at `timestamp` (Unix seconds)."""
    return {
        "Content-Type": "application/json",
        EVENT_HEADER: event,
        EVENT_ID_HEADER: event_id,
        TIMESTAMP_HEADER: str(timestamp),
        SIGNATURE_HEADER: sign(secret, timestamp, body),
    }


def verify_signature(
    secret: str | bytes,
    timestamp: str | int,
    body: bytes,
    header: str | None,
    now: datetime,
    tolerance: timedelta = DEFAULT_TOLERANCE,
) -> bool:
    """Tell whether `header` signs `body` at `timestamp` with `secret`, within `tolerance` of `now`.

    `timestamp` and `header` are the raw X-Videoloket-Timestamp and X-Videoloket-Signature values and
    `body` the raw request bytes. A missing or malformed value gives False; nothing here raises.
    The tolerance applies both ways, so a timestamp far in the future fails too.
    """
    if header is None:
        return False
    seconds = _parse_timestamp(timestamp)
    if seconds is None:
        return False
    if abs(now.timestamp() - seconds) > tolerance.total_seconds():
        return False
    expected = sign(secret, seconds, body)
    return hmac.compare_digest(expected.encode("ascii"), header.strip().encode("utf-8"))


def _event_type(event: str) -> str:
    try:
        return Event(event).value
    except ValueError:
        known = ", ".join(member.value for member in Event)
        raise ValueError(f"unknown webhook event type {event!r}: expected one of {known}") from None


def _checked_details(details: dict | None) -> dict:
    if details is None:
        return {}
    if not isinstance(details, dict):
        raise ValueError(f"webhook details must be a dict, not {type(details).__name__}")
    for key, value in details.items():
        if not isinstance(key, str):
            raise ValueError(f"webhook detail key {key!r} is not a string")
        if not isinstance(value, _DETAIL_TYPES):
            raise ValueError(
                f"webhook detail {key!r} is a {type(value).__name__}: use a string, number, boolean or None"
            )
    return dict(details)


def _utc_text(moment: datetime) -> str:
    if moment.tzinfo is None:
        raise ValueError("occurred_at must be an aware datetime")
    return moment.astimezone(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _brussels_text(moment: datetime) -> str:
    return moment.astimezone(BRUSSELS).isoformat(timespec="seconds")


def _key(secret: str | bytes) -> bytes:
    return secret.encode("utf-8") if isinstance(secret, str) else secret


def _parse_timestamp(timestamp: str | int) -> int | None:
    if isinstance(timestamp, bool):
        return None
    if isinstance(timestamp, int):
        return timestamp
    text = str(timestamp).strip()
    if not text.isascii() or not text.isdigit():
        return None
    return int(text)
