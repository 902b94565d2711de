"""A fake Microsoft Graph and Entra ID token endpoint on 127.0.0.1, for tests and benchmarks.

Two threaded HTTP servers share one state:
- the token endpoint, over TLS because azure-identity accepts only https authorities:
  POST /{tenant}/oauth2/v2.0/token (client credentials, with a secret or a certificate assertion);
- Graph v1.0 over plain http, which the SDK's authentication provider allows for 127.0.0.1:
  POST   /v1.0/users/{organizer}/onlineMeetings/createOrGet
  PATCH  /v1.0/users/{organizer}/onlineMeetings/{meetingId}
  DELETE /v1.0/users/{organizer}/onlineMeetings/{meetingId}
  GET    /v1.0/users/{organizer}/onlineMeetings/{meetingId}/getVirtualAppointmentJoinWebUrl[()]
  POST   /v1.0/users/{mailbox}/sendMail
  GET    /v1.0/users/{organizer}/onlineMeetings/{meetingId}
  GET    /v1.0/users/{organizer}/onlineMeetings/{meetingId}/attendanceReports
  GET    /v1.0/users/{organizer}/onlineMeetings/{meetingId}/attendanceReports/{reportId}/attendanceRecords
  POST   /beta/subscriptions (meetingCallEvents only), GET /beta/subscriptions
  PATCH  /beta/subscriptions/{id}, DELETE /beta/subscriptions/{id}, POST /beta/subscriptions/{id}/reauthorize

For the call events of meetings, the fake plays Graph's side of change notifications too:
`notification` builds the rich notification that Graph would POST for a subscription, encrypted
with the subscription's certificate. `validate_notification_url`, when a test sets it, replaces
Graph's validation request to the notificationUrl before a subscription is created.

Each request is checked against the shapes that the Graph v1.0 reference documents (fields,
types, enumeration values, base64 attachments) and recorded. A request that breaks a rule gets
400 and is added to `violations`, which tests assert to be empty. `fail_next` makes the next
calls of a route return 429 with Retry-After, 503, a late response, a meeting without joinWebUrl,
or 401 for an expired token.
"""

from __future__ import annotations

import base64
import binascii
import json
import secrets
import ssl
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Callable
from urllib.parse import parse_qs, unquote, urlsplit

from tests.graph.certificates import write_self_signed

TENANT_ID = "3f0d8a4e-5b7c-4e21-9a6d-0c1b2e3f4a5b"
CLIENT_ID = "7c9e6679-7425-40de-944b-e07fc1f90ae7"
CLIENT_SECRET = "fake-graph-client-secret"
GRAPH_SCOPE = "https://graph.microsoft.com/.default"
ORGANIZER_ID = "5b1e2f3a-0000-4000-8000-00000000a001"
AGENT_USER_ID = "5b1e2f3a-0000-4000-8000-00000000a002"
MAILBOX = "videoloket@hvw.example"

ROUTES = ("token", "createOrGet", "updateMeeting", "deleteMeeting", "virtualAppointment", "sendMail", "getMeeting",
          "createSubscription", "listSubscriptions", "renewSubscription", "deleteSubscription",
          "reauthorizeSubscription", "listAttendanceReports", "listAttendanceRecords")
FAULT_KINDS = ("throttle", "unavailable", "slow", "no_join_url", "expired_token")

# Documented for POST .../onlineMeetings/createOrGet (v1.0).
CREATE_OR_GET_FIELDS = {"chatInfo", "endDateTime", "externalId", "participants", "startDateTime", "subject"}
# Documented as updatable by PATCH .../onlineMeetings/{id} (v1.0), plus allowParticipantsToChangeName,
# a writable onlineMeeting property that the update page does not list.
UPDATE_FIELDS = {
    "allowAttendeeToEnableCamera", "allowAttendeeToEnableMic", "allowBreakoutRooms",
    "allowCopyingAndSharingMeetingContent", "allowedLobbyAdmitters", "allowedPresenters", "allowLiveShare",
    "allowMeetingChat", "allowPowerPointSharing", "allowRecording", "allowTeamworkReactions",
    "allowTranscription", "allowWhiteboard", "anonymizeIdentityForRoles", "endDateTime", "isEntryExitAnnounced",
    "lobbyBypassSettings", "participants", "recordAutomatically", "startDateTime", "subject",
    "watermarkProtection", "allowParticipantsToChangeName",
}
BOOLEAN_OPTIONS = {
    "allowAttendeeToEnableCamera", "allowAttendeeToEnableMic", "allowRecording", "allowTranscription",
    "recordAutomatically", "isEntryExitAnnounced", "allowParticipantsToChangeName", "allowTeamworkReactions",
}
LOBBY_SCOPES = {"organizer", "organization", "organizationAndFederated", "everyone", "invited",
                "organizationExcludingGuests"}
PRESENTERS = {"everyone", "organization", "roleIsPresenter", "organizer"}
CHAT_MODES = {"enabled", "disabled", "limited"}
SEND_MAIL_FIELDS = {"message", "saveToSentItems"}
# Documented properties of a subscription that POST /subscriptions (beta) takes.
SUBSCRIPTION_FIELDS = {
    "changeType", "notificationUrl", "resource", "expirationDateTime", "clientState", "includeResourceData",
    "encryptionCertificate", "encryptionCertificateId", "lifecycleNotificationUrl", "latestSupportedTlsVersion",
    "notificationUrlAppId", "notificationQueryOptions",
}
# A meetingCallEvents subscription lives at most 3 days (Graph documentation of the resource), and
# Graph raises an expiry less than 45 minutes ahead to 45 minutes (subscription resource, v1.0).
MAX_SUBSCRIPTION_LIFETIME = timedelta(days=3)
MIN_SUBSCRIPTION_LIFETIME = timedelta(minutes=45)
CALL_EVENTS_PREFIX = "/communications/onlineMeetings(joinWebUrl='"
CALL_EVENTS_SUFFIX = "')/meetingCallEvents"
MESSAGE_FIELDS = {"subject", "body", "toRecipients", "ccRecipients", "bccRecipients", "replyTo", "attachments",
                  "internetMessageHeaders", "importance"}


@dataclass
class Fault:
    kind: str
    remaining: int
    retry_after: str | None = None
    delay: float = 0.0


@dataclass
class RecordedRequest:
    route: str
    method: str
    path: str
    body: Any
    headers: dict[str, str]  # names in lower case
    at: float
    status: int = 0


@dataclass
class StoredSubscription:
    id: str
    resource: str
    join_web_url: str
    notification_url: str
    client_state: str | None
    expires: datetime
    certificate_der: bytes | None
    certificate_id: str | None
    lifecycle_url: str | None = None
    deleted: bool = False
    reauthorizations: int = 0

    def as_json(self) -> dict:
        return {
            "@odata.context": "https://graph.microsoft.com/beta/$metadata#subscriptions/$entity",
            "id": self.id,
            "resource": self.resource,
            "applicationId": CLIENT_ID,
            "changeType": "updated",
            "clientState": self.client_state,
            "notificationUrl": self.notification_url,
            "lifecycleNotificationUrl": self.lifecycle_url,
            "expirationDateTime": self.expires.strftime("%Y-%m-%dT%H:%M:%S.0000000Z"),
            "includeResourceData": self.certificate_der is not None,
            "encryptionCertificateId": self.certificate_id,
        }


@dataclass
class AttendanceReport:
    id: str
    records: list[dict]


@dataclass
class SentMail:
    mailbox: str
    to: list[str]
    subject: str
    html: str
    attachments: list[tuple[str, str, bytes]]  # (name, contentType, decoded bytes)
    save_to_sent_items: bool


@dataclass
class StoredMeeting:
    id: str
    organizer: str
    external_id: str
    start: str
    end: str
    subject: str | None
    join_web_url: str
    options: dict[str, Any] = field(default_factory=dict)
    deleted: bool = False

    def as_json(self, with_join_url: bool = True) -> dict:
        body = {
            "@odata.context": "https://graph.microsoft.com/v1.0/$metadata#users('x')/onlineMeetings/$entity",
            "id": self.id,
            "externalId": self.external_id,
            "startDateTime": self.start,
            "endDateTime": self.end,
            "subject": self.subject,
            "creationDateTime": "2027-01-01T00:00:00Z",
            "participants": {"organizer": {"identity": {"user": {"id": self.organizer}}, "role": "presenter"},
                             "attendees": []},
            "lobbyBypassSettings": {"scope": "organization", "isDialInBypassEnabled": False},
            "allowedPresenters": "everyone",
            "isEntryExitAnnounced": True,
            "chatInfo": {"threadId": "19:meeting_x@thread.v2", "messageId": "0"},
        }
        body.update(self.options)
        if with_join_url:
            body["joinWebUrl"] = self.join_web_url
        return body


class RequestRejected(Exception):
    """A request broke a documented rule, so the fake returns 400 and records the violation."""


class FakeGraph:
    """The shared state of both servers. Use as a context manager, or call start() and stop()."""

    def __init__(self, directory: Path, *, mailbox_concurrency: int = 4, mail_latency: float = 0.02) -> None:
        self._directory = Path(directory)
        self.mailbox_concurrency = mailbox_concurrency
        self.mail_latency = mail_latency
        self._lock = threading.Lock()
        self._faults: dict[str, list[Fault]] = {}
        self._valid_tokens: set[str] = set()
        self._mail_in_flight: dict[str, int] = {}
        self.requests: list[RecordedRequest] = []
        self.violations: list[str] = []
        self.meetings: dict[tuple[str, str], StoredMeeting] = {}  # (organizer, externalId)
        self.mails: list[SentMail] = []
        self.tokens_issued = 0
        self.max_mail_concurrency_seen = 0
        self._graph_server: ThreadingHTTPServer | None = None
        self._token_server: ThreadingHTTPServer | None = None
        self._threads: list[threading.Thread] = []
        self.ca_file: Path | None = None
        self.subscriptions: dict[str, StoredSubscription] = {}
        self.attendance: dict[tuple[str, str], list[AttendanceReport]] = {}  # (organizer, meeting id)
        self.attendance_page_size = 100
        # Graph's clock for subscription lifetimes; tests with an injected clock set it to theirs.
        self.now: Callable[[], datetime] = lambda: datetime.now(timezone.utc)
        # Replaces Graph's validation request to a notificationUrl: (url, token) -> (status, content type, body).
        self.validate_notification_url: Callable[[str, str], tuple[int, str, str]] | None = None

    # --- lifecycle ---------------------------------------------------------------------------

    def start(self) -> "FakeGraph":
        certificate = write_self_signed(self._directory)
        self.ca_file = certificate.certificate
        self._graph_server = _Server(("127.0.0.1", 0), _GraphHandler, self)
        self._token_server = _Server(("127.0.0.1", 0), _TokenHandler, self)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(certificate.certificate, certificate.private_key)
        self._token_server.socket = context.wrap_socket(self._token_server.socket, server_side=True)
        for server in (self._graph_server, self._token_server):
            thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
            thread.start()
            self._threads.append(thread)
        return self

    def stop(self) -> None:
        for server in (self._graph_server, self._token_server):
            if server is not None:
                server.shutdown()
                server.server_close()
        for thread in self._threads:
            thread.join(timeout=5)

    def __enter__(self) -> "FakeGraph":
        return self.start()

    def __exit__(self, *exc_info) -> None:
        self.stop()

    @property
    def graph_url(self) -> str:
        return f"http://127.0.0.1:{self._graph_server.server_address[1]}/v1.0"

    @property
    def authority(self) -> str:
        return f"https://127.0.0.1:{self._token_server.server_address[1]}"

    def app_settings(self) -> dict[str, str]:
        """Return the app settings that point the Graph adapters at this fake."""
        return {
            "MAILER": "graph",
            "MEETING_PROVIDER": "graph",
            "GRAPH_TENANT_ID": TENANT_ID,
            "GRAPH_CLIENT_ID": CLIENT_ID,
            "GRAPH_CREDENTIAL": "client_secret",
            "GRAPH_CLIENT_SECRET": CLIENT_SECRET,
            "GRAPH_AUTHORITY_HOST": self.authority,
            "GRAPH_AUTHORITY_CA_FILE": str(self.ca_file),
            "GRAPH_BASE_URL": self.graph_url,
            "GRAPH_ORGANIZER_USER_ID": ORGANIZER_ID,
            "GRAPH_MAILBOX": MAILBOX,
        }

    # --- what tests set and read -----------------------------------------------------------

    def fail_next(self, route: str, kind: str, count: int = 1, *, retry_after: str | int | None = None,
                  delay: float = 0.0) -> None:
        """Make the next `count` calls of `route` (one of ROUTES, or "*" for every Graph route) fail as `kind`."""
        if route != "*" and route not in ROUTES:
            raise ValueError(f"unknown route {route!r}: expected one of {', '.join(ROUTES)} or '*'")
        if kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault {kind!r}: expected one of {', '.join(FAULT_KINDS)}")
        fault = Fault(kind, count, None if retry_after is None else str(retry_after), delay)
        with self._lock:
            self._faults.setdefault(route, []).append(fault)

    def calls(self, route: str) -> list[RecordedRequest]:
        with self._lock:
            return [request for request in self.requests if request.route == route]

    def live_meetings(self) -> list[StoredMeeting]:
        with self._lock:
            return [meeting for meeting in self.meetings.values() if not meeting.deleted]

    def meeting_for(self, external_id: str) -> StoredMeeting | None:
        with self._lock:
            found = [m for m in self.meetings.values() if m.external_id == external_id]
        return found[0] if found else None

    def clear_faults(self) -> None:
        with self._lock:
            self._faults.clear()

    # --- used by the handlers ----------------------------------------------------------------

    def take_fault(self, route: str) -> Fault | None:
        with self._lock:
            for key in (route, "*"):
                if route == "token" and key == "*":
                    continue
                queue = self._faults.get(key) or []
                while queue and queue[0].remaining <= 0:
                    queue.pop(0)
                if queue:
                    queue[0].remaining -= 1
                    return queue[0]
        return None

    def record(self, request: RecordedRequest) -> None:
        with self._lock:
            self.requests.append(request)

    def violation(self, text: str) -> None:
        with self._lock:
            self.violations.append(text)

    def issue_token(self) -> str:
        token = "fake-" + secrets.token_urlsafe(24)
        with self._lock:
            self._valid_tokens.add(token)
            self.tokens_issued += 1
        return token

    def token_is_valid(self, token: str) -> bool:
        with self._lock:
            return token in self._valid_tokens

    def expire_token(self, token: str) -> None:
        with self._lock:
            self._valid_tokens.discard(token)

    def enter_mailbox(self, mailbox: str) -> bool:
        """Count one more sendMail in flight for `mailbox`; False when the concurrency limit is reached."""
        with self._lock:
            in_flight = self._mail_in_flight.get(mailbox, 0)
            if in_flight >= self.mailbox_concurrency:
                return False
            self._mail_in_flight[mailbox] = in_flight + 1
            self.max_mail_concurrency_seen = max(self.max_mail_concurrency_seen, in_flight + 1)
            return True

    def leave_mailbox(self, mailbox: str) -> None:
        with self._lock:
            self._mail_in_flight[mailbox] -= 1

    def create_or_get(self, organizer: str, body: dict) -> tuple[StoredMeeting, bool]:
        with self._lock:
            key = (organizer, body["externalId"])
            existing = self.meetings.get(key)
            if existing is not None and not existing.deleted:
                return existing, False
            thread = uuid.uuid4().hex
            raw_id = f"1*{organizer}*0**19:meeting_{thread}@thread.v2".encode()
            meeting = StoredMeeting(
                # Standard base64, so ids can contain "+", "/" and "=", as real meeting ids can.
                id=base64.b64encode(raw_id + secrets.token_bytes(2)).decode(),
                organizer=organizer,
                external_id=body["externalId"],
                start=body.get("startDateTime") or "",
                end=body.get("endDateTime") or "",
                subject=body.get("subject"),
                join_web_url=f"https://teams.microsoft.com/l/meetup-join/19%3ameeting_{thread}%40thread.v2/0",
            )
            self.meetings[key] = meeting
            return meeting, True

    def find_meeting(self, organizer: str, meeting_id: str) -> StoredMeeting | None:
        with self._lock:
            for meeting in self.meetings.values():
                if meeting.organizer == organizer and meeting.id == meeting_id and not meeting.deleted:
                    return meeting
        return None

    def find_meeting_by_join_url(self, join_web_url: str) -> StoredMeeting | None:
        with self._lock:
            return next((m for m in self.meetings.values() if m.join_web_url == join_web_url and not m.deleted), None)

    def store_mail(self, mail: SentMail) -> None:
        with self._lock:
            self.mails.append(mail)

    # --- call events and attendance ------------------------------------------------------------

    def live_subscriptions(self) -> list[StoredSubscription]:
        """Return the subscriptions that are neither deleted nor expired by the fake's clock."""
        now = self.now()
        with self._lock:
            return [sub for sub in self.subscriptions.values() if not sub.deleted and sub.expires > now]

    def subscription_on(self, join_web_url: str) -> StoredSubscription | None:
        return next((sub for sub in self.live_subscriptions() if sub.join_web_url == join_web_url), None)

    def create_subscription(self, body: dict, join_web_url: str, expires: datetime,
                            certificate_der: bytes | None) -> tuple[StoredSubscription | None, bool]:
        """Store a subscription; return (the existing one, False) when the meeting has one already."""
        existing = self.subscription_on(join_web_url)
        if existing is not None:
            return existing, False
        subscription = StoredSubscription(
            id=str(uuid.uuid4()), resource=body["resource"], join_web_url=join_web_url,
            notification_url=body["notificationUrl"], client_state=body.get("clientState"), expires=expires,
            certificate_der=certificate_der, certificate_id=body.get("encryptionCertificateId"),
            lifecycle_url=body.get("lifecycleNotificationUrl"),
        )
        with self._lock:
            self.subscriptions[subscription.id] = subscription
        return subscription, True

    def find_subscription(self, subscription_id: str) -> StoredSubscription | None:
        return next((sub for sub in self.live_subscriptions() if sub.id == subscription_id), None)

    def add_attendance_report(self, external_id: str, records: list[dict]) -> AttendanceReport:
        """Add a report, as Graph does when a session of the booking's meeting ends; `records` as attendance_record()."""
        meeting = self.meeting_for(external_id)
        assert meeting is not None, f"no meeting for {external_id}"
        report = AttendanceReport(str(uuid.uuid4()), records)
        with self._lock:
            self.attendance.setdefault((meeting.organizer, meeting.id), []).append(report)
        return report

    def notification(self, subscription: StoredSubscription, content: dict, *, client_state: str | None = None) -> bytes:
        """Return the body Graph POSTs for `content` (a decrypted call event, such as roster_update()).

        The content is encrypted as the Graph documentation describes: a one-time AES-256-CBC key
        (initialization vector: its first 16 bytes, PKCS7 padding), an HMAC-SHA256 of the encrypted
        data, and the key encrypted for the subscription's certificate with RSA-OAEP (SHA-1).
        """
        from cryptography import x509
        from cryptography.hazmat.primitives import hashes, hmac, padding
        from cryptography.hazmat.primitives.asymmetric import padding as asymmetric_padding
        from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

        certificate = x509.load_der_x509_certificate(subscription.certificate_der)
        key = secrets.token_bytes(32)
        padder = padding.PKCS7(128).padder()
        plain = padder.update(json.dumps(content).encode()) + padder.finalize()
        encryptor = Cipher(algorithms.AES(key), modes.CBC(key[:16])).encryptor()
        data = encryptor.update(plain) + encryptor.finalize()
        mac = hmac.HMAC(key, hashes.SHA256())
        mac.update(data)
        wrapped_key = certificate.public_key().encrypt(
            key, asymmetric_padding.OAEP(mgf=asymmetric_padding.MGF1(hashes.SHA1()), algorithm=hashes.SHA1(), label=None)
        )
        item = {
            "subscriptionId": subscription.id,
            "clientState": subscription.client_state if client_state is None else client_state,
            "changeType": "updated",
            "tenantId": TENANT_ID,
            "resource": subscription.resource.lstrip("/"),
            "subscriptionExpirationDateTime": subscription.expires.strftime("%Y-%m-%dT%H:%M:%S.0000000Z"),
            "resourceData": {
                "@odata.id": subscription.resource.lstrip("/"),
                "@odata.type": "#microsoft.graph.callevent",
                "id": content.get("id", str(uuid.uuid4())),
            },
            "organizationId": TENANT_ID,
            "encryptedContent": {
                "data": base64.b64encode(data).decode(),
                "dataSignature": base64.b64encode(mac.finalize()).decode(),
                "dataKey": base64.b64encode(wrapped_key).decode(),
                "encryptionCertificateId": subscription.certificate_id,
                "encryptionCertificateThumbprint": certificate.fingerprint(hashes.SHA1()).hex().upper(),
            },
        }
        return json.dumps({"value": [item], "validationTokens": ["fake-validation-token"]}).encode()

    def lifecycle_notification(self, subscription: StoredSubscription, event: str) -> bytes:
        """Return the body of a lifecycle notification such as "subscriptionRemoved"."""
        item = {
            "subscriptionId": subscription.id,
            "subscriptionExpirationDateTime": subscription.expires.strftime("%Y-%m-%dT%H:%M:%S.0000000Z"),
            "tenantId": TENANT_ID,
            "clientState": subscription.client_state,
            "lifecycleEvent": event,
        }
        return json.dumps({"value": [item]}).encode()


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address, handler, fake: FakeGraph) -> None:
        super().__init__(address, handler)
        self.fake = fake

    def handle_error(self, request, client_address) -> None:
        # A client that timed out closes its socket while a late response is written, as expected.
        pass


class _BaseHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def log_message(self, format: str, *args) -> None:
        return None

    @property
    def fake(self) -> FakeGraph:
        return self.server.fake

    def _read_body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _send(self, status: int, body: dict | None = None, headers: dict[str, str] | None = None) -> None:
        payload = json.dumps(body).encode() if body is not None else b""
        try:
            self.send_response(status)
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            if body is not None:
                self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)
        except (BrokenPipeError, ConnectionResetError):
            pass

    def _error(self, status: int, code: str, message: str, headers: dict[str, str] | None = None) -> None:
        self._send(status, {"error": {"code": code, "message": message,
                                      "innerError": {"request-id": str(uuid.uuid4())}}}, headers)


class _TokenHandler(_BaseHandler):
    def do_POST(self) -> None:
        path = urlsplit(self.path).path
        form = {key: values[0] for key, values in parse_qs(self._read_body().decode()).items()}
        record = RecordedRequest("token", "POST", path, _redact_form(form), _lower_keys(self.headers), time.monotonic())
        self.fake.record(record)

        if path != f"/{TENANT_ID}/oauth2/v2.0/token":
            record.status = 404
            self.fake.violation(f"token request to an unexpected path {path}")
            return self._error(404, "invalid_request", "unknown tenant or path")
        fault = self.fake.take_fault("token")
        if fault is not None and fault.kind == "unavailable":
            record.status = 503
            return self._error(503, "temporarily_unavailable", "the token service is unavailable")
        problems = _check_token_form(form)
        if problems:
            record.status = 400
            self.fake.violation("token request: " + "; ".join(problems))
            return self._send(400, {"error": "invalid_request", "error_description": "; ".join(problems)})
        record.status = 200
        self._send(200, {"token_type": "Bearer", "expires_in": 3599, "ext_expires_in": 3599,
                         "access_token": self.fake.issue_token()})


class _GraphHandler(_BaseHandler):
    def do_POST(self) -> None:
        self._dispatch("POST")

    def do_PATCH(self) -> None:
        self._dispatch("PATCH")

    def do_DELETE(self) -> None:
        self._dispatch("DELETE")

    def do_GET(self) -> None:
        self._dispatch("GET")

    def _dispatch(self, method: str) -> None:
        raw = self._read_body()
        route, params = _route(method, urlsplit(self.path).path)
        body: Any = None
        if raw:
            try:
                body = json.loads(raw)
            except ValueError:
                body = raw.decode(errors="replace")
        record = RecordedRequest(route or "unknown", method, self.path, body, _lower_keys(self.headers), time.monotonic())
        self.fake.record(record)

        if route is None:
            record.status = 404
            self.fake.violation(f"{method} {self.path} is not a route the adapters should call")
            return self._error(404, "ResourceNotFound", "unsupported segment or method")

        token = (self.headers.get("Authorization") or "").removeprefix("Bearer ")
        if not token or not self.fake.token_is_valid(token):
            record.status = 401
            if not token:
                self.fake.violation(f"{route}: no bearer token")
            return self._error(401, "InvalidAuthenticationToken", "Access token has expired or is not yet valid.",
                               {"WWW-Authenticate": 'Bearer realm="", error="invalid_token"'})

        fault = self.fake.take_fault(route)
        if fault is not None:
            answered = self._apply_fault(fault, token, record)
            if answered:
                return

        try:
            status, answer = getattr(self, "_" + route)(method, params, body, fault)
        except RequestRejected as rejected:
            record.status = 400
            self.fake.violation(f"{route}: {rejected}")
            return self._error(400, "BadRequest", str(rejected))
        record.status = status
        if status == 429:
            return self._error(429, "ApplicationThrottled", "Too many concurrent requests to this mailbox.",
                               {"Retry-After": "1"})
        if status >= 400:
            return self._error(status, answer["code"], answer["message"])
        self._send(status, answer)

    def _apply_fault(self, fault: Fault, token: str, record: RecordedRequest) -> bool:
        """Answer the fault, or wait and fall through (slow, no_join_url); return True when answered."""
        if fault.kind == "throttle":
            record.status = 429
            self._error(429, "TooManyRequests", "Too many requests.",
                        {"Retry-After": fault.retry_after} if fault.retry_after is not None else None)
            return True
        if fault.kind == "unavailable":
            record.status = 503
            headers = {"Retry-After": fault.retry_after} if fault.retry_after is not None else None
            self._error(503, "ServiceUnavailable", "The service is temporarily unavailable.", headers)
            return True
        if fault.kind == "expired_token":
            self.fake.expire_token(token)
            record.status = 401
            self._error(401, "InvalidAuthenticationToken", "Access token has expired or is not yet valid.",
                        {"WWW-Authenticate": 'Bearer realm="", error="invalid_token"'})
            return True
        if fault.kind == "slow":
            time.sleep(fault.delay)
        return False

    # --- routes ------------------------------------------------------------------------------

    def _createOrGet(self, method, params, body, fault):
        _check_create_or_get(body)
        meeting, created = self.fake.create_or_get(params["user"], body)
        with_url = not (fault is not None and fault.kind == "no_join_url")
        return (201 if created else 200), meeting.as_json(with_join_url=with_url)

    def _updateMeeting(self, method, params, body, fault):
        _check_update(body)
        meeting = self.fake.find_meeting(params["user"], params["meeting"])
        if meeting is None:
            return 404, {"code": "NotFound", "message": "meeting not found"}
        if "startDateTime" in body:
            meeting.start, meeting.end = body["startDateTime"], body["endDateTime"]
        if "subject" in body:
            meeting.subject = body["subject"]
        meeting.options.update({k: v for k, v in body.items() if k not in {"startDateTime", "endDateTime", "subject"}})
        with_url = not (fault is not None and fault.kind == "no_join_url")
        return 200, meeting.as_json(with_join_url=with_url)

    def _deleteMeeting(self, method, params, body, fault):
        if body not in (None, ""):
            raise RequestRejected("DELETE takes no body")
        meeting = self.fake.find_meeting(params["user"], params["meeting"])
        if meeting is None:
            return 404, {"code": "NotFound", "message": "meeting not found"}
        meeting.deleted = True
        return 204, None

    def _virtualAppointment(self, method, params, body, fault):
        meeting = self.fake.find_meeting(params["user"], params["meeting"])
        if meeting is None:
            return 404, {"code": "NotFound", "message": "meeting not found"}
        thread = meeting.join_web_url.split("meeting_")[1].split("%40")[0]
        return 200, {"@odata.context": "https://graph.microsoft.com/v1.0/$metadata#Edm.String",
                     "value": f"https://visit.teams.microsoft.com/webrtc-svc/api/route?tid={TENANT_ID}"
                              f"&convId=19:meeting_{thread}@thread.v2"}

    def _sendMail(self, method, params, body, fault):
        mailbox = params["user"]
        mail = _check_send_mail(mailbox, body)
        if not self.fake.enter_mailbox(mailbox):
            return 429, None
        try:
            time.sleep(self.fake.mail_latency)
            self.fake.store_mail(mail)
        finally:
            self.fake.leave_mailbox(mailbox)
        return 202, None

    def _getMeeting(self, method, params, body, fault):
        meeting = self.fake.find_meeting(params["user"], params["meeting"])
        if meeting is None:
            return 404, {"code": "NotFound", "message": "meeting not found"}
        return 200, meeting.as_json(with_join_url=not (fault is not None and fault.kind == "no_join_url"))

    def _createSubscription(self, method, params, body, fault):
        body = _require_object(body, "the subscription body")
        join_web_url, expires, certificate_der = _check_subscription(body, self.fake.now())
        if self.fake.find_meeting_by_join_url(join_web_url) is None:
            return 404, {"code": "NotFound", "message": "no online meeting has this joinWebUrl"}
        for url in filter(None, (body["notificationUrl"], body.get("lifecycleNotificationUrl"))):
            if not self._endpoint_validates(url):
                return 400, {"code": "InvalidRequest", "message": "Subscription validation request failed. "
                             "Notification endpoint must respond with 200 OK to validation request."}
        subscription, created = self.fake.create_subscription(body, join_web_url, expires, certificate_der)
        if not created:
            return 409, {"code": "Conflict", "message": "a subscription on this meeting exists for the application"}
        return 201, subscription.as_json()

    def _endpoint_validates(self, url: str) -> bool:
        validate = self.fake.validate_notification_url
        if validate is None:
            return True
        token = secrets.token_urlsafe(16)
        status, content_type, text = validate(url, token)
        return status == 200 and content_type.split(";")[0].strip() == "text/plain" and text == token

    def _listSubscriptions(self, method, params, body, fault):
        return 200, {"@odata.context": "https://graph.microsoft.com/beta/$metadata#subscriptions",
                     "value": [subscription.as_json() for subscription in self.fake.live_subscriptions()]}

    def _renewSubscription(self, method, params, body, fault):
        body = _require_object(body, "the PATCH body")
        if set(body) != {"expirationDateTime"}:
            raise RequestRejected(f"a renewal sends only expirationDateTime, not {sorted(body)}")
        expires = _check_expiry(body["expirationDateTime"], self.fake.now())
        subscription = self.fake.find_subscription(params["subscription"])
        if subscription is None:
            return 404, {"code": "ResourceNotFound", "message": "subscription not found"}
        subscription.expires = expires
        return 200, subscription.as_json()

    def _deleteSubscription(self, method, params, body, fault):
        if body not in (None, ""):
            raise RequestRejected("DELETE takes no body")
        subscription = self.fake.find_subscription(params["subscription"])
        if subscription is None:
            return 404, {"code": "ResourceNotFound", "message": "subscription not found"}
        subscription.deleted = True
        return 204, None

    def _reauthorizeSubscription(self, method, params, body, fault):
        subscription = self.fake.find_subscription(params["subscription"])
        if subscription is None:
            return 404, {"code": "ResourceNotFound", "message": "subscription not found"}
        subscription.reauthorizations += 1
        return 204, None

    def _listAttendanceReports(self, method, params, body, fault):
        meeting = self.fake.find_meeting(params["user"], params["meeting"])
        if meeting is None:
            return 404, {"code": "NotFound", "message": "meeting not found"}
        reports = self.fake.attendance.get((meeting.organizer, meeting.id), [])
        return 200, {"value": [{"id": report.id, "totalParticipantCount": len(report.records),
                                "meetingStartDateTime": meeting.start, "meetingEndDateTime": meeting.end}
                               for report in reports]}

    def _listAttendanceRecords(self, method, params, body, fault):
        meeting = self.fake.find_meeting(params["user"], params["meeting"])
        reports = self.fake.attendance.get((meeting.organizer, meeting.id), []) if meeting else []
        report = next((r for r in reports if r.id == params["report"]), None)
        if report is None:
            return 404, {"code": "NotFound", "message": "attendance report not found"}
        skip = int(parse_qs(urlsplit(self.path).query).get("$skiptoken", ["0"])[0])
        size = self.fake.attendance_page_size
        page = {"value": report.records[skip:skip + size]}
        if skip + size < len(report.records):
            origin = self.fake.graph_url.removesuffix("/v1.0")
            page["@odata.nextLink"] = f"{origin}{urlsplit(self.path).path}?$skiptoken={skip + size}"
        return 200, page


# --- routing and checks ----------------------------------------------------------------------

def _route(method: str, path: str) -> tuple[str | None, dict[str, str]]:
    parts = path.split("/")
    if len(parts) >= 3 and parts[1] == "beta" and parts[2] == "subscriptions":
        return _subscription_route(method, [unquote(part) for part in parts[3:]])

    # ['', 'v1.0', 'users', '{user}', ...]
    if len(parts) < 5 or parts[1] != "v1.0" or parts[2] != "users":
        return None, {}
    user = unquote(parts[3])
    rest = parts[4:]
    if rest == ["sendMail"] and method == "POST":
        return "sendMail", {"user": user}
    if rest[:1] != ["onlineMeetings"]:
        return None, {}
    if rest == ["onlineMeetings", "createOrGet"] and method == "POST":
        return "createOrGet", {"user": user}
    if len(rest) == 2:
        params = {"user": user, "meeting": unquote(rest[1])}
        if method == "PATCH":
            return "updateMeeting", params
        if method == "DELETE":
            return "deleteMeeting", params
        if method == "GET":
            return "getMeeting", params
    if len(rest) == 3 and method == "GET" and rest[2] in ("getVirtualAppointmentJoinWebUrl",
                                                         "getVirtualAppointmentJoinWebUrl()"):
        return "virtualAppointment", {"user": user, "meeting": unquote(rest[1])}

    if len(rest) >= 3 and method == "GET" and rest[2] == "attendanceReports":
        params = {"user": user, "meeting": unquote(rest[1])}
        if len(rest) == 3:
            return "listAttendanceReports", params
        if len(rest) == 5 and rest[4] == "attendanceRecords":
            return "listAttendanceRecords", {**params, "report": unquote(rest[3])}
    return None, {}


def _subscription_route(method: str, rest: list[str]) -> tuple[str | None, dict[str, str]]:
    if rest in ([], [""]):
        return {"POST": "createSubscription", "GET": "listSubscriptions"}.get(method), {}
    params = {"subscription": rest[0]}
    if len(rest) == 1:
        return {"PATCH": "renewSubscription", "DELETE": "deleteSubscription"}.get(method), params
    if rest[1:] == ["reauthorize"] and method == "POST":
        return "reauthorizeSubscription", params
    return None, {}


def _lower_keys(headers) -> dict[str, str]:
    return {name.lower(): value for name, value in headers.items()}


def _redact_form(form: dict[str, str]) -> dict[str, str]:
    return {key: ("<redacted>" if key in ("client_secret", "client_assertion") else value) for key, value in form.items()}


def _check_token_form(form: dict[str, str]) -> list[str]:
    problems = []
    if form.get("grant_type") != "client_credentials":
        problems.append(f"grant_type must be client_credentials, not {form.get('grant_type')!r}")
    if form.get("client_id") != CLIENT_ID:
        problems.append("unknown client_id")
    if form.get("scope") != GRAPH_SCOPE:
        problems.append(f"scope must be {GRAPH_SCOPE}, not {form.get('scope')!r}")
    if "client_secret" in form:
        if form["client_secret"] != CLIENT_SECRET:
            problems.append("wrong client_secret")
    elif "client_assertion" in form:
        if form.get("client_assertion_type") != "urn:ietf:params:oauth:client-assertion-type:jwt-bearer":
            problems.append("client_assertion_type must be the JWT bearer type")
        problems.extend(_check_assertion(form["client_assertion"]))
    else:
        problems.append("neither client_secret nor client_assertion")
    return problems


def _check_assertion(assertion: str) -> list[str]:
    """Check the claims of a certificate credential's JWT (not its signature)."""
    try:
        payload = assertion.split(".")[1]
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    except (IndexError, ValueError, binascii.Error):
        return ["client_assertion is not a JWT"]
    problems = []
    if claims.get("iss") != CLIENT_ID or claims.get("sub") != CLIENT_ID:
        problems.append("client_assertion iss and sub must be the client id")
    if not str(claims.get("aud", "")).endswith(f"/{TENANT_ID}/oauth2/v2.0/token"):
        problems.append("client_assertion aud must be the token endpoint")
    return problems


def _properties(body: dict) -> set[str]:
    """Return the property names of a JSON object, without OData annotations such as @odata.type."""
    return {name for name in body if not name.startswith("@odata.")}


def _require_object(body: Any, what: str) -> dict:
    if not isinstance(body, dict):
        raise RequestRejected(f"{what} must be a JSON object")
    return body


def _parse_utc(value: Any, name: str) -> datetime:
    if not isinstance(value, str):
        raise RequestRejected(f"{name} must be a string")
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise RequestRejected(f"{name} {value!r} is not an ISO 8601 date-time") from None
    if moment.tzinfo is None or moment.utcoffset() != timedelta(0):
        raise RequestRejected(f"{name} must be in UTC")
    return moment


def _check_times(body: dict) -> None:
    has_start, has_end = "startDateTime" in body, "endDateTime" in body
    if has_start != has_end:
        raise RequestRejected("startDateTime and endDateTime must be sent together")
    if has_start:
        start = _parse_utc(body["startDateTime"], "startDateTime")
        end = _parse_utc(body["endDateTime"], "endDateTime")
        if end <= start:
            raise RequestRejected("endDateTime must be later than startDateTime")


def _check_create_or_get(body: Any) -> None:
    body = _require_object(body, "the createOrGet body")
    unknown = _properties(body) - CREATE_OR_GET_FIELDS
    if unknown:
        raise RequestRejected(f"createOrGet does not take {sorted(unknown)}")
    if not isinstance(body.get("externalId"), str) or not body["externalId"]:
        raise RequestRejected("externalId is required")
    _check_times(body)


def _check_update(body: Any) -> None:
    body = _require_object(body, "the PATCH body")
    unknown = _properties(body) - UPDATE_FIELDS
    if unknown:
        raise RequestRejected(f"PATCH cannot update {sorted(unknown)}")
    _check_times(body)
    for name in BOOLEAN_OPTIONS & set(body):
        if not isinstance(body[name], bool):
            raise RequestRejected(f"{name} must be a boolean")
    if "lobbyBypassSettings" in body:
        lobby = _require_object(body["lobbyBypassSettings"], "lobbyBypassSettings")
        if lobby.get("scope") not in LOBBY_SCOPES:
            raise RequestRejected(f"lobbyBypassSettings.scope {lobby.get('scope')!r} is not a lobbyBypassScope")
        if not isinstance(lobby.get("isDialInBypassEnabled", False), bool):
            raise RequestRejected("lobbyBypassSettings.isDialInBypassEnabled must be a boolean")
    if "allowedPresenters" in body and body["allowedPresenters"] not in PRESENTERS:
        raise RequestRejected(f"allowedPresenters {body['allowedPresenters']!r} is not an onlineMeetingPresenters value")
    if "allowMeetingChat" in body and body["allowMeetingChat"] not in CHAT_MODES:
        raise RequestRejected(f"allowMeetingChat {body['allowMeetingChat']!r} is not a meetingChatMode value")


def _check_send_mail(mailbox: str, body: Any) -> SentMail:
    body = _require_object(body, "the sendMail body")
    unknown = set(body) - SEND_MAIL_FIELDS
    if unknown:
        raise RequestRejected(f"sendMail does not take {sorted(unknown)} (names are camelCase)")
    if body.get("saveToSentItems") is not True:
        raise RequestRejected("saveToSentItems must be the boolean true, so Sent Items keeps a copy")
    message = _require_object(body.get("message"), "message")
    unknown = set(message) - MESSAGE_FIELDS
    if unknown:
        raise RequestRejected(f"message has unexpected fields {sorted(unknown)}")
    if not isinstance(message.get("subject"), str) or not message["subject"]:
        raise RequestRejected("message.subject is required")
    mail_body = _require_object(message.get("body"), "message.body")
    if str(mail_body.get("contentType", "")).lower() != "html" or not isinstance(mail_body.get("content"), str):
        raise RequestRejected("message.body must be {contentType: HTML, content: string}")
    recipients = message.get("toRecipients")
    if not isinstance(recipients, list) or not recipients:
        raise RequestRejected("message.toRecipients must list at least one recipient")
    addresses = []
    for recipient in recipients:
        address = _require_object(recipient, "recipient").get("emailAddress", {}).get("address")
        if not isinstance(address, str) or "@" not in address:
            raise RequestRejected("each recipient needs emailAddress.address")
        addresses.append(address)
    attachments = []
    for attachment in message.get("attachments", []):
        attachments.append(_check_attachment(_require_object(attachment, "attachment")))
    return SentMail(mailbox, addresses, message["subject"], mail_body["content"], attachments, True)


def _check_attachment(attachment: dict) -> tuple[str, str, bytes]:
    if attachment.get("@odata.type") != "#microsoft.graph.fileAttachment":
        raise RequestRejected("attachments must have @odata.type #microsoft.graph.fileAttachment")
    name, content_type = attachment.get("name"), attachment.get("contentType")
    if not isinstance(name, str) or not name or not isinstance(content_type, str) or not content_type:
        raise RequestRejected("a fileAttachment needs name and contentType")
    try:
        content = base64.b64decode(attachment.get("contentBytes", ""), validate=True)
    except (binascii.Error, TypeError, ValueError):
        raise RequestRejected(f"contentBytes of {name} is not base64") from None
    if name.endswith(".ics"):
        if not content_type.split(";")[0].strip() == "text/calendar":
            raise RequestRejected(f"{name} must have contentType text/calendar, not {content_type!r}")
        if not content.startswith(b"BEGIN:VCALENDAR"):
            raise RequestRejected(f"{name} does not decode to an iCalendar object")
    return name, content_type, content


def _check_expiry(value: Any, now: datetime) -> datetime:
    expires = _parse_utc(value, "expirationDateTime")
    if expires <= now:
        raise RequestRejected("expirationDateTime must lie in the future")
    if expires > now + MAX_SUBSCRIPTION_LIFETIME:
        raise RequestRejected("expirationDateTime lies more than 3 days ahead, the maximum for meetingCallEvents")
    return max(expires, now + MIN_SUBSCRIPTION_LIFETIME)


def _check_subscription(body: dict, now: datetime) -> tuple[str, datetime, bytes | None]:
    """Check a POST /subscriptions body on meetingCallEvents; return the join URL, the expiry and the certificate."""
    unknown = _properties(body) - SUBSCRIPTION_FIELDS
    if unknown:
        raise RequestRejected(f"a subscription does not take {sorted(unknown)}")
    if body.get("changeType") != "updated":
        raise RequestRejected(f"meetingCallEvents supports changeType updated, not {body.get('changeType')!r}")
    for name in ("notificationUrl", "lifecycleNotificationUrl"):
        if name in body and urlsplit(str(body[name])).scheme != "https":
            raise RequestRejected(f"{name} must be an https URL")
    if "notificationUrl" not in body:
        raise RequestRejected("notificationUrl is required")
    resource = body.get("resource")
    if not (isinstance(resource, str) and resource.startswith(CALL_EVENTS_PREFIX) and resource.endswith(CALL_EVENTS_SUFFIX)):
        raise RequestRejected(f"resource {resource!r} is not /communications/onlineMeetings(joinWebUrl='...')/meetingCallEvents")
    encoded = resource[len(CALL_EVENTS_PREFIX):-len(CALL_EVENTS_SUFFIX)]
    if any(char in encoded for char in ":/?'"):
        raise RequestRejected("the joinWebUrl in the resource must be URL-encoded")
    expires = _check_expiry(body.get("expirationDateTime"), now)
    client_state = body.get("clientState")
    if client_state is not None and (not isinstance(client_state, str) or len(client_state) > 128):
        raise RequestRejected("clientState must be a string of at most 128 characters")
    certificate_der = None
    if body.get("includeResourceData") is True:
        certificate_der = _check_encryption_certificate(body.get("encryptionCertificate"))
        certificate_id = body.get("encryptionCertificateId")
        if not isinstance(certificate_id, str) or not 0 < len(certificate_id) <= 128:
            raise RequestRejected("encryptionCertificateId must be a string of 1 to 128 characters")
    return unquote(encoded), expires, certificate_der


def _check_encryption_certificate(value: Any) -> bytes:
    from cryptography import x509
    from cryptography.hazmat.primitives.asymmetric import rsa

    try:
        der = base64.b64decode(value, validate=True)
        certificate = x509.load_der_x509_certificate(der)
    except (TypeError, ValueError, binascii.Error):
        raise RequestRejected("encryptionCertificate must be a base64-encoded X.509 certificate") from None
    key = certificate.public_key()
    if not isinstance(key, rsa.RSAPublicKey) or not 2048 <= key.key_size <= 4096:
        raise RequestRejected("the encryption certificate's key must be RSA with 2048 to 4096 bits")
    return der


# --- what tests send as Graph: call events, attendance records, the notification certificate ----------


def graph_timestamp(moment: datetime) -> str:
    """Format a time as Graph does in notifications, with seven fractional digits."""
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f") + "0Z"


def roster_update(at: datetime, *participants: dict) -> dict:
    """Return a decrypted rosterUpdated call event, as the Graph beta documentation shows it."""
    return {
        "@odata.type": "#microsoft.graph.callevent",
        "@odata.id": "communications/onlineMeetings(joinWebUrl='x')/meetingCallEvents",
        "id": str(uuid.uuid4()),
        "eventType": "rosterUpdated",
        "eventDateTime": graph_timestamp(at),
        "participants@delta": list(participants),
    }


def user_participant(user_id: str, *, tenant_id: str = TENANT_ID, in_lobby: bool = False, left: bool = False) -> dict:
    entry = {"info": {"identity": {"user": {"id": user_id, "displayName": "Agent Example", "tenantId": tenant_id}}},
             "isInLobby": in_lobby, "id": str(uuid.uuid4())}
    if left:
        entry["removedState"] = {"reason": "Participant has left the meeting call."}
    return entry


def guest_participant(*, in_lobby: bool = True, left: bool = False) -> dict:
    """An anonymous guest: communicationsIdentitySet.guest, for a participant who joined without signing in.

    NOTE: the documented roster examples show signed-in users only; this shape follows the
    communicationsIdentitySet reference and was not observed in a real meeting.
    """
    entry = {"info": {"identity": {"guest": {"id": str(uuid.uuid4()), "displayName": "Jan Peeters"}}},
             "isInLobby": in_lobby, "id": str(uuid.uuid4())}
    if left:
        entry["removedState"] = {"reason": "Participant has left the meeting call."}
    return entry


def attendance_record(identity_id: str, role: str, *intervals: tuple[datetime, datetime]) -> dict:
    """Return an attendanceRecord as GET .../attendanceRecords (v1.0) lists it."""
    return {
        "id": identity_id,
        "emailAddress": None,
        "totalAttendanceInSeconds": sum(int((leave - join).total_seconds()) for join, leave in intervals),
        "role": role,
        "identity": {"id": identity_id, "displayName": "Jan Peeters", "tenantId": None},
        "attendanceIntervals": [
            {"joinDateTime": graph_timestamp(join), "leaveDateTime": graph_timestamp(leave),
             "durationInSeconds": int((leave - join).total_seconds())}
            for join, leave in intervals
        ],
    }


def write_notification_certificate(directory: Path) -> Path:
    """Write a PEM file with a 2048-bit RSA key and its self-signed certificate, as GRAPH_NOTIFICATION_CERTIFICATE_PATH."""
    import datetime as dt

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.x509.oid import NameOID

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "videoloket notifications (test)")])
    now = dt.datetime.now(dt.timezone.utc)
    certificate = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5)).not_valid_after(now + dt.timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / "notification-certificate.pem"
    path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
        + certificate.public_bytes(serialization.Encoding.PEM)
    )
    return path
