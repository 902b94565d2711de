"""Graph change-notification subscriptions on Teams meeting call events, and the rich notifications they deliver.

Facts from the Microsoft Graph documentation ("Get change notifications for Microsoft Teams meeting
call event updates" and "Set up change notifications that include resource data"):
- the resource /communications/onlineMeetings(joinWebUrl='{url-encoded join URL}')/meetingCallEvents
  exists only in Graph beta and needs the application permission OnlineMeetings.Read.All;
- one subscription per application and meeting, living at most 3 days, then renewed by PATCH;
- basic notifications carry no participants, so subscriptions ask for rich notifications
  (includeResourceData). Graph encrypts each notification's data with a one-time AES key, which it
  encrypts with the RSA public key of our certificate (OAEP). An HMAC-SHA256 signature covers the
  encrypted data.

msgraph and cryptography are imported on first use, never at import time.
"""

from __future__ import annotations

import base64
import json
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Callable
from urllib.parse import quote, unquote

from shared.adapters.graph.client import GraphApi, GraphResponse
from shared.adapters.graph.errors import GraphError
from shared.services.call_events import ReceivedNotification, parse_time

logger = logging.getLogger(__name__)

MAX_SUBSCRIPTION_LIFETIME = timedelta(days=3)
_RESOURCE_PREFIX = "/communications/onlineMeetings(joinWebUrl='"
_RESOURCE_SUFFIX = "')/meetingCallEvents"
# Pages of GET /subscriptions to follow before giving up.
_MAX_PAGES = 20


class InvalidNotification(ValueError):
    """A notification that cannot be trusted or read: wrong certificate, bad signature, or not JSON."""


@dataclass(frozen=True)
class GraphSubscription:
    id: str
    expires: datetime
    resource: str = ""


def call_events_resource(join_web_url: str) -> str:
    """Return the subscription resource of a meeting's call events, with the whole join URL percent-encoded."""
    return f"{_RESOURCE_PREFIX}{quote(join_web_url, safe='')}{_RESOURCE_SUFFIX}"


def join_web_url_of(resource: str) -> str | None:
    """Return the decoded join URL inside a meetingCallEvents resource, or None for another resource.

    Notifications name the resource without the leading slash, so both forms are accepted.
    """
    text = "/" + resource.lstrip("/")
    if not (text.startswith(_RESOURCE_PREFIX) and text.endswith(_RESOURCE_SUFFIX)):
        return None
    encoded = text[len(_RESOURCE_PREFIX):-len(_RESOURCE_SUFFIX)]
    return unquote(encoded) or None


def graph_time(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


# --- the certificate that decrypts rich notifications ------------------------------------------


class NotificationCertificate:
    """Our RSA certificate: its public part goes into each subscription, its private key decrypts notifications."""

    def __init__(self, private_key, certificate, certificate_id: str | None = None) -> None:
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.asymmetric import rsa
        from cryptography.hazmat.primitives.serialization import Encoding

        if not isinstance(private_key, rsa.RSAPrivateKey):
            raise ValueError("the notification certificate's key must be RSA (Graph encrypts with RSA-OAEP)")
        if not 2048 <= private_key.key_size <= 4096:
            raise ValueError(f"the notification key has {private_key.key_size} bits; Graph accepts 2048 to 4096")
        self._private_key = private_key
        self.public_base64 = base64.b64encode(certificate.public_bytes(Encoding.DER)).decode("ascii")
        self.thumbprint = certificate.fingerprint(hashes.SHA1()).hex().upper()
        self.id = certificate_id or self.thumbprint

    @classmethod
    def from_pem_file(cls, path: Path, password: str | None = None, certificate_id: str | None = None):
        """Load a PEM file that contains the private key and the certificate, as Key Vault exports them."""
        from cryptography import x509
        from cryptography.hazmat.primitives.serialization import load_pem_private_key

        pem = Path(path).read_bytes()
        private_key = load_pem_private_key(pem, password.encode() if password else None)
        certificate = x509.load_pem_x509_certificate(pem)
        return cls(private_key, certificate, certificate_id)

    def decrypt(self, encrypted_content: dict) -> dict:
        """Return the resource data of one notification item's encryptedContent.

        Raises InvalidNotification when the item names another certificate, when the signature
        does not match, or when the content is not a JSON object.
        """
        from cryptography.exceptions import InvalidSignature
        from cryptography.hazmat.primitives import hashes, hmac, padding
        from cryptography.hazmat.primitives.asymmetric import padding as asymmetric_padding
        from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

        certificate_id = encrypted_content.get("encryptionCertificateId")
        if certificate_id != self.id:
            raise InvalidNotification(f"the notification is encrypted for certificate {certificate_id!r}, "
                                      f"not for GRAPH_NOTIFICATION_CERTIFICATE_ID {self.id!r}")
        try:
            data = base64.b64decode(encrypted_content["data"], validate=True)
            wrapped_key = base64.b64decode(encrypted_content["dataKey"], validate=True)
            signature = base64.b64decode(encrypted_content["dataSignature"], validate=True)
        except (KeyError, TypeError, ValueError) as error:
            raise InvalidNotification(f"encryptedContent lacks valid base64 data, dataKey or dataSignature ({error})")
        try:
            # OAEP with SHA-1, as the .NET, Java and Node.js examples of the Graph documentation decrypt it.
            key = self._private_key.decrypt(
                wrapped_key,
                asymmetric_padding.OAEP(mgf=asymmetric_padding.MGF1(hashes.SHA1()), algorithm=hashes.SHA1(), label=None),
            )
        except ValueError:
            raise InvalidNotification("the private key cannot decrypt dataKey") from None

        mac = hmac.HMAC(key, hashes.SHA256())
        mac.update(data)
        try:
            mac.verify(signature)
        except InvalidSignature:
            raise InvalidNotification("dataSignature does not match the data: the notification was altered") from None

        try:
            # AES-CBC with PKCS7 padding; the initialization vector is the key's first 16 bytes.
            decryptor = Cipher(algorithms.AES(key), modes.CBC(key[:16])).decryptor()
            padded = decryptor.update(data) + decryptor.finalize()
            unpadder = padding.PKCS7(128).unpadder()
            plain = unpadder.update(padded) + unpadder.finalize()
            content = json.loads(plain)
        except ValueError as error:
            raise InvalidNotification(f"the decrypted data is not JSON ({type(error).__name__})") from None
        if not isinstance(content, dict):
            raise InvalidNotification("the decrypted data is not a JSON object")
        return content


# --- subscriptions ------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Route:
    """The URL template and parameters of one request, as GraphApi.request expects from an SDK request builder."""

    url_template: str
    path_parameters: dict[str, Any]


def route_of_url(url: str) -> _Route:
    """Return the route of an absolute URL, such as an @odata.nextLink or a beta path.

    The request adapter always sets the template's base URL to GRAPH_BASE_URL (v1.0), so beta
    requests name their whole URL. The SDK sends a request-raw-url as it is.
    """
    return _Route("{+baseurl}", {"request-raw-url": url})


class GraphSubscriptions:
    """Creates, renews and deletes meetingCallEvents subscriptions in Graph beta, for rich notifications."""

    max_lifetime = MAX_SUBSCRIPTION_LIFETIME

    def __init__(
        self,
        api: GraphApi,
        beta_base_url: str,
        *,
        notification_url: str,
        client_state: str,
        certificate: NotificationCertificate,
        lifecycle_url: str | None = None,
    ) -> None:
        self._api = api
        self._beta = beta_base_url.rstrip("/")
        self._notification_url = notification_url
        self._client_state = client_state
        self._certificate = certificate
        self._lifecycle_url = lifecycle_url

    async def subscribe_to_meeting(self, organizer: str, meeting_id: str, expires: datetime) -> tuple[str, datetime, str]:
        """Subscribe to the call events of a meeting, and return the subscription id, its expiry and the join URL.

        When Graph responds with 409 because this application has the subscription already (after
        a request that timed out, say), the existing one is adopted. Raises GraphError.
        """
        join_web_url = await self._meeting_join_web_url(organizer, meeting_id)
        resource = call_events_resource(join_web_url)
        try:
            created = await self._create(resource, expires)
        except GraphError as error:
            if error.status != 409:
                raise
            existing = await self._find(resource)
            if existing is None:
                raise
            logger.info("adopted the existing subscription %s", existing.id)
            created = existing
        return created.id, created.expires, join_web_url

    async def renew(self, subscription_id: str, expires: datetime) -> datetime:
        """Move the expiry of a subscription and return the new one. Raises GraphError with status 404 when it is gone."""
        response = await self._api.request(
            "renewSubscription", "PATCH",
            lambda graph: route_of_url(self._subscription_url(subscription_id)),
            {"expirationDateTime": graph_time(expires)},
        )
        return _subscription(response, "renewSubscription", expires, subscription_id).expires

    async def delete(self, subscription_id: str) -> None:
        """Delete a subscription. One that is already gone (404) counts as deleted."""
        try:
            await self._api.request(
                "deleteSubscription", "DELETE",
                lambda graph: route_of_url(self._subscription_url(subscription_id)),
            )
        except GraphError as error:
            if error.status != 404:
                raise

    async def reauthorize(self, subscription_id: str) -> None:
        """Reauthorize a subscription, as a reauthorizationRequired lifecycle notification requests."""
        await self._api.request(
            "reauthorizeSubscription", "POST",
            lambda graph: route_of_url(self._subscription_url(subscription_id) + "/reauthorize"),
        )

    # --- internals -----------------------------------------------------------------------------

    def _subscription_url(self, subscription_id: str) -> str:
        return f"{self._beta}/subscriptions/{quote(subscription_id, safe='')}"

    async def _create(self, resource: str, expires: datetime) -> GraphSubscription:
        body = {
            "changeType": "updated",
            "notificationUrl": self._notification_url,
            "resource": resource,
            "expirationDateTime": graph_time(expires),
            "clientState": self._client_state,
            "includeResourceData": True,
            "encryptionCertificate": self._certificate.public_base64,
            "encryptionCertificateId": self._certificate.id,
        }
        if self._lifecycle_url:
            body["lifecycleNotificationUrl"] = self._lifecycle_url
        response = await self._api.request(
            "createSubscription", "POST", lambda graph: route_of_url(f"{self._beta}/subscriptions"), body
        )
        return _subscription(response, "createSubscription", expires)

    async def _find(self, resource: str) -> GraphSubscription | None:
        """Return this application's subscription on `resource`, or None, reading every page of GET /subscriptions."""
        expected_resource = "/" + resource.lstrip("/").lower()
        locate: Callable = lambda graph: route_of_url(f"{self._beta}/subscriptions")  # noqa: E731
        for _ in range(_MAX_PAGES):
            page = _document(await self._api.request("listSubscriptions", "GET", locate))
            for item in page.get("value") or []:
                if isinstance(item, dict) and "/" + str(item.get("resource", "")).lstrip("/").lower() == expected_resource:
                    expires = parse_time(item.get("expirationDateTime"))
                    if item.get("id") and expires:
                        return GraphSubscription(str(item["id"]), expires, str(item.get("resource")))
            next_link = page.get("@odata.nextLink")
            if not isinstance(next_link, str) or not next_link:
                return None
            locate = lambda graph, url=next_link: route_of_url(url)  # noqa: E731
        logger.warning("stopped reading GET /subscriptions after %d pages", _MAX_PAGES)
        return None

    async def _meeting_join_web_url(self, organizer: str, meeting_id: str) -> str:
        """Return the Teams joinWebUrl of a meeting (v1.0), because booking.join_url may be a virtual-appointment link."""
        response = await self._api.request(
            "getMeeting", "GET",
            lambda graph: graph.users.by_user_id(organizer).online_meetings.by_online_meeting_id(meeting_id),
        )
        url = _document(response).get("joinWebUrl")
        if not isinstance(url, str) or not url:
            raise GraphError("getMeeting", "Graph returned the meeting without joinWebUrl")
        return url


def _document(response: GraphResponse) -> dict:
    try:
        document = response.json()
    except ValueError:
        return {}
    return document if isinstance(document, dict) else {}


def _subscription(response: GraphResponse, operation: str, requested: datetime, known_id: str | None = None):
    document = _document(response)
    subscription_id = document.get("id") or known_id
    if not isinstance(subscription_id, str) or not subscription_id:
        raise GraphError(operation, f"Graph returned no subscription id for {operation}")
    # Graph may change the requested expiry, and its own value counts.
    expires = parse_time(document.get("expirationDateTime")) or requested
    return GraphSubscription(subscription_id, expires, str(document.get("resource") or ""))


# --- the queue between the webhook and the processing -------------------------------------------


class NotificationQueue:
    """Puts accepted notification items on the storage queue, creating the queue on first use."""

    # A storage queue message is at most 64 KiB, and base64 makes 48 KiB of JSON the most that fits.
    MAX_MESSAGE_BYTES = 48 * 1024

    def __init__(self, queue_client) -> None:
        self._queue = queue_client
        self._checked = False

    def send(self, item: dict, received_at: datetime) -> bool:
        """Queue one item with the time it arrived, or return False when it is too large for a queue message.

        Raises azure.core AzureError when the queue cannot be reached.
        """
        from azure.core.exceptions import ResourceExistsError

        message = json.dumps({"receivedAt": received_at.astimezone(timezone.utc).isoformat(), "notification": item},
                             separators=(",", ":"))
        if len(message.encode("utf-8")) > self.MAX_MESSAGE_BYTES:
            return False
        if not self._checked:
            try:
                self._queue.create_queue()
            except ResourceExistsError:
                pass
            self._checked = True
        self._queue.send_message(message)
        return True


class NotificationReader:
    """Reads the queue messages that NotificationQueue wrote, decrypting their resource data."""

    def __init__(self, certificate: NotificationCertificate | None) -> None:
        self._certificate = certificate

    def read(self, message: bytes | str) -> ReceivedNotification:
        """Return the notification of one queue message. Raises InvalidNotification."""
        try:
            document = json.loads(message)
        except (ValueError, UnicodeDecodeError):
            raise InvalidNotification("the queue message is not JSON") from None
        item = document.get("notification") if isinstance(document, dict) else None
        received_at = parse_time(document.get("receivedAt")) if isinstance(document, dict) else None
        if not isinstance(item, dict) or received_at is None:
            raise InvalidNotification("the queue message lacks notification or receivedAt")

        content = None
        encrypted = item.get("encryptedContent")
        if isinstance(encrypted, dict):
            if self._certificate is None:
                raise InvalidNotification("the notification is encrypted, but GRAPH_NOTIFICATION_CERTIFICATE_PATH is not set")
            content = self._certificate.decrypt(encrypted)

        resource = item.get("resource")
        return ReceivedNotification(
            subscription_id=_text(item.get("subscriptionId")),
            tenant_id=_text(item.get("tenantId")),
            join_web_url=join_web_url_of(resource) if isinstance(resource, str) else None,
            lifecycle_event=_text(item.get("lifecycleEvent")),
            content=content,
            received_at=received_at,
        )


def _text(value: object) -> str | None:
    return value if isinstance(value, str) and value else None
