"""Outgoing webhooks: one queue message per receiver URL, then one signed POST per message, retried
through the queue with a growing delay.

Logs name receivers by host only, because a Power Automate trigger URL carries its access signature
in the query string. The shared secret never appears in a log or a queue message.
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
import math
import os
import secrets
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from enum import StrEnum
from pathlib import Path
from urllib.parse import urljoin, urlsplit

from shared.domain import events
from shared.domain.model import Booking
from shared.ports import Clock
from shared.settings import Environment, Settings

logger = logging.getLogger(__name__)

LOCAL_SECRET_FILE = Path(".local/webhook-secret")

FIRST_RETRY_DELAY_SECONDS = 30
MAX_RETRY_DELAY_SECONDS = 3600
# 307 and 308 keep the method and body; other redirects would turn the POST into a GET.
FOLLOWED_REDIRECTS = frozenset({307, 308})
MAX_REDIRECTS = 3
RETRYABLE_CLIENT_ERRORS = frozenset({408, 429})
USER_AGENT = "videoloket-webhooks/1"
# Stable name for alerts on deliveries that ran out of attempts.
FAILED_EVENT_NAME = "webhook_delivery_failed"


@dataclass(frozen=True)
class Delivery:
    """One queued POST of an event body to one receiver. `attempt` counts from 1."""

    url: str
    event: str
    event_id: str
    body: bytes
    attempt: int = 1

    @property
    def host(self) -> str:
        return urlsplit(self.url).hostname or "unknown-host"

    def next_attempt(self) -> "Delivery":
        return replace(self, attempt=self.attempt + 1)

    def to_message(self) -> str:
        """Serialize to queue message text. The body travels base64-encoded, so its bytes stay exact."""
        return json.dumps(
            {
                "url": self.url,
                "event": self.event,
                "event_id": self.event_id,
                "attempt": self.attempt,
                "body": base64.b64encode(self.body).decode("ascii"),
            }
        )

    @classmethod
    def from_message(cls, text: str | bytes) -> "Delivery":
        """Parse queue message text. Raises ValueError when a field is missing or invalid."""
        try:
            data = json.loads(text)
            fields = (data["url"], data["event"], data["event_id"], data["attempt"], data["body"])
        except (ValueError, KeyError, TypeError) as error:
            raise ValueError(f"malformed webhook message: {type(error).__name__} {error}") from None
        url, event, event_id, attempt, body = fields
        if not all(isinstance(value, str) for value in (url, event, event_id, body)):
            raise ValueError("malformed webhook message: url, event, event_id and body must be strings")
        if not isinstance(attempt, int) or isinstance(attempt, bool) or attempt < 1:
            raise ValueError("malformed webhook message: attempt must be an integer of at least 1")
        try:
            body_bytes = base64.b64decode(body, validate=True)
        except binascii.Error:
            raise ValueError("malformed webhook message: body is not valid base64") from None
        return cls(url, event, event_id, body_bytes, attempt)


class WebhookQueue:
    """Sends delivery messages to the webhook queue, creating the queue on first use."""

    def __init__(self, queue_client) -> None:
        self._queue = queue_client
        self._checked = False

    def send(self, delivery: Delivery, delay_seconds: int | None = None) -> None:
        """Put one message on the queue, invisible for `delay_seconds`. Raises azure.core AzureError on failure."""
        from azure.core.exceptions import ResourceExistsError

        if not self._checked:
            try:
                self._queue.create_queue()
            except ResourceExistsError:
                pass
            self._checked = True
        self._queue.send_message(delivery.to_message(), visibility_timeout=delay_seconds)


class WebhookPublisher:
    """Announces appointment events to the configured receivers through the webhook queue."""

    def __init__(self, queue: WebhookQueue, urls: Iterable[str]) -> None:
        self._queue = queue
        self._urls = tuple(urls)

    def publish(self, event: str, booking: Booking, occurred_at: datetime, details: dict | None = None) -> None:
        """Queue one delivery of a new event (a new uuid4 id) per configured receiver URL.

        Sends no HTTP request. A failed queue send is logged and skipped, because the caller has
        already stored its state change. Raises ValueError only for invalid arguments: an unknown
        event type, a naive `occurred_at`, or details that are not flat JSON scalars. The arguments
        are checked also when no URL is configured, so that tests without receivers catch them.
        """
        event_id = str(uuid.uuid4())
        payload = events.build_payload(event_id, event, booking, occurred_at, details)
        body = events.encode_body(payload)
        if not self._urls:
            return

        queued = 0
        for url in self._urls:
            if self._queue_one(Delivery(url, payload["type"], event_id, body), booking.reference):
                queued += 1
        logger.info(
            "queued webhook event %s (%s) of booking %s for %d of %d receivers",
            event_id, payload["type"], booking.reference, queued, len(self._urls),
        )

    def _queue_one(self, delivery: Delivery, reference: str) -> bool:
        from azure.core.exceptions import AzureError

        try:
            self._queue.send(delivery)
        except AzureError:
            logger.exception(
                "failed to queue webhook event %s (%s) of booking %s for %s, so this receiver will not get it",
                delivery.event_id, delivery.event, reference, delivery.host,
            )
            return False
        return True


class Outcome(StrEnum):
    DELIVERED = "delivered"
    GONE = "gone"  # 410: the receiver unsubscribed
    REJECTED = "rejected"  # another 4xx, or a redirect that is not followed
    RETRY_QUEUED = "retry_queued"
    FAILED = "failed"  # a retryable failure on the last allowed attempt
    DROPPED = "dropped"  # the URL is no longer configured


@dataclass(frozen=True)
class DeliveryResult:
    outcome: Outcome
    status: int | None = None  # HTTP status of the last response, or None after a timeout or connection error
    delay_seconds: int | None = None  # visibility delay of the queued retry


class WebhookDelivery:
    """POSTs one queued delivery, signed at the time of the attempt.

    Queues the next attempt when a later one may succeed.
    """

    def __init__(
        self,
        *,
        queue: WebhookQueue,
        secret: bytes,
        urls: Iterable[str],
        max_attempts: int,
        timeout_seconds: float,
        clock: Clock,
        first_retry_delay: int = FIRST_RETRY_DELAY_SECONDS,
        max_retry_delay: int = MAX_RETRY_DELAY_SECONDS,
    ) -> None:
        self._queue = queue
        self._secret = secret
        self._urls = frozenset(urls)
        self._max_attempts = max_attempts
        self._timeout_seconds = timeout_seconds
        self._clock = clock
        self._first_retry_delay = first_retry_delay
        self._max_retry_delay = max_retry_delay
        _quiet_httpx_request_log()

    def deliver(self, delivery: Delivery) -> DeliveryResult:
        """Send one attempt and decide what follows from the response.

        Raises azure.core AzureError when the retry message cannot be queued, so that the Functions
        host redelivers the current message instead of losing the event.
        """
        import httpx

        if delivery.url not in self._urls:
            logger.warning(
                "dropped webhook event %s for %s: the URL is no longer in WEBHOOK_URLS",
                delivery.event_id, delivery.host,
            )
            return DeliveryResult(Outcome.DROPPED)

        try:
            response = self._post(delivery)
        except httpx.TransportError as error:
            # Timeouts, refused connections, TLS and protocol errors: the receiver may recover.
            return self._retry_or_fail(delivery, None, type(error).__name__, None)
        return self._handle_response(delivery, response.status_code, response.headers.get("Retry-After"))

    def _handle_response(self, delivery: Delivery, status: int, retry_after: str | None) -> DeliveryResult:
        if 200 <= status < 300:
            logger.info(
                "delivered webhook event %s (%s) to %s on attempt %d with HTTP %d",
                delivery.event_id, delivery.event, delivery.host, delivery.attempt, status,
            )
            return DeliveryResult(Outcome.DELIVERED, status)
        if status == 410:
            logger.warning(
                "webhook receiver %s responded with 410 Gone to event %s: it unsubscribed, so the event is not "
                "retried. Remove its URL from WEBHOOK_URLS",
                delivery.host, delivery.event_id,
            )
            return DeliveryResult(Outcome.GONE, status)
        if status in RETRYABLE_CLIENT_ERRORS or status >= 500:
            delay = parse_retry_after(retry_after, self._clock.now())
            return self._retry_or_fail(delivery, status, f"HTTP {status}", delay)
        if 300 <= status < 400:
            logger.error(
                "webhook event %s to %s got a redirect (HTTP %d) that is not followed: it leads to another host, "
                "would turn the POST into a GET, or is more than %d in a row. Configure the final URL in WEBHOOK_URLS",
                delivery.event_id, delivery.host, status, MAX_REDIRECTS,
            )
        else:
            logger.error(
                "webhook event %s (%s) to %s was rejected with HTTP %d on attempt %d and is not retried",
                delivery.event_id, delivery.event, delivery.host, status, delivery.attempt,
            )
        return DeliveryResult(Outcome.REJECTED, status)

    def _post(self, delivery: Delivery):
        import httpx

        timestamp = int(self._clock.now().timestamp())
        headers = events.signed_headers(self._secret, delivery.event, delivery.event_id, delivery.body, timestamp)
        headers["User-Agent"] = USER_AGENT

        url = delivery.url
        with httpx.Client(timeout=self._timeout_seconds, follow_redirects=False) as client:
            for _ in range(MAX_REDIRECTS + 1):
                request = client.build_request("POST", url, content=delivery.body, headers=headers)
                # Only the status and headers matter, so the response body is never downloaded.
                response = client.send(request, stream=True)
                response.close()
                target = _same_origin_redirect(url, response.status_code, response.headers.get("Location"))
                if target is None:
                    return response
                url = target
        return response

    def _retry_or_fail(
        self, delivery: Delivery, status: int | None, error: str, retry_after: int | None
    ) -> DeliveryResult:
        if delivery.attempt >= self._max_attempts:
            logger.error(
                "%s: webhook event %s (%s) to %s failed after %d attempts, last error %s",
                FAILED_EVENT_NAME, delivery.event_id, delivery.event, delivery.host, delivery.attempt, error,
                extra={"event_name": FAILED_EVENT_NAME, "event_id": delivery.event_id, "receiver_host": delivery.host},
            )
            return DeliveryResult(Outcome.FAILED, status)

        delay = self._retry_delay(delivery.attempt, retry_after)
        self._queue.send(delivery.next_attempt(), delay_seconds=delay)
        logger.warning(
            "webhook event %s to %s failed with %s on attempt %d of %d, attempt %d queued in %d s",
            delivery.event_id, delivery.host, error, delivery.attempt, self._max_attempts, delivery.attempt + 1, delay,
        )
        return DeliveryResult(Outcome.RETRY_QUEUED, status, delay)

    def _retry_delay(self, attempt: int, retry_after: int | None) -> int:
        """Return the receiver's Retry-After when given, else the first delay doubled per failed attempt, capped."""
        if retry_after is not None:
            return min(max(retry_after, 0), self._max_retry_delay)
        return min(self._first_retry_delay * 2 ** (attempt - 1), self._max_retry_delay)


def parse_retry_after(value: str | None, now: datetime) -> int | None:
    """Return the delay in seconds of a Retry-After value (delta-seconds or an HTTP date).

    Returns None when the value is absent or invalid.
    """
    if not value:
        return None
    text = value.strip()
    if text.isascii() and text.isdigit():
        return int(text)
    try:
        moment = parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)  # HTTP dates are in GMT
    return max(0, math.ceil((moment - now).total_seconds()))


def load_secret(settings: Settings) -> bytes:
    """Return the signing key: WEBHOOK_SECRET, or locally a key generated once under .local/."""
    if settings.webhook_secret:
        return settings.webhook_secret.encode("utf-8")
    if settings.app_env is Environment.PRODUCTION:
        raise RuntimeError("WEBHOOK_SECRET is missing: set it in the app settings, because APP_ENV=production")
    if not LOCAL_SECRET_FILE.exists():
        LOCAL_SECRET_FILE.parent.mkdir(parents=True, exist_ok=True)
        LOCAL_SECRET_FILE.write_text(secrets.token_urlsafe(32))
        os.chmod(LOCAL_SECRET_FILE, 0o600)
        logger.info("generated a local webhook secret in %s, where local receivers can read it", LOCAL_SECRET_FILE)
    return LOCAL_SECRET_FILE.read_text().strip().encode("utf-8")


def _quiet_httpx_request_log() -> None:
    """Raise the httpx logger to WARNING unless someone configured it.

    httpx logs every request with its full URL at INFO, and a Power Automate URL carries its access
    signature in the query string.
    """
    httpx_logger = logging.getLogger("httpx")
    if httpx_logger.level == logging.NOTSET:
        httpx_logger.setLevel(logging.WARNING)


def _same_origin_redirect(url: str, status: int, location: str | None) -> str | None:
    """Return the target of a 307/308 redirect to the same scheme, host and port, else None."""
    if status not in FOLLOWED_REDIRECTS or not location:
        return None
    target = urljoin(url, location)
    source_parts, target_parts = urlsplit(url), urlsplit(target)
    try:
        same_origin = (source_parts.scheme, source_parts.hostname, source_parts.port) == (
            target_parts.scheme, target_parts.hostname, target_parts.port,
        )
    except ValueError:  # an invalid port in Location
        return None
    return target if same_origin else None
