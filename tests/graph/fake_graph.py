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
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from tests.graph.certificates import write_self_signed

TENANT_ID = "3f0d8a4e-5b7c-4e21-9a6d-0c1b2e3f4a5b"
CLIENT_ID = "7c9e6679-7425-40de-944b-e07fc1f90ae7"
CLIENT_SECRET = "fake-graph-client-secret"
GRAPH_SCOPE = "https://graph.microsoft.com/.default"
ORGANIZER_ID = "5b1e2f3a-0000-4000-8000-00000000a001"
AGENT_USER_ID = "5b1e2f3a-0000-4000-8000-00000000a002"
MAILBOX = "videoloket@hvw.example"

ROUTES = ("token", "createOrGet", "updateMeeting", "deleteMeeting", "virtualAppointment", "sendMail")
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

    def store_mail(self, mail: SentMail) -> None:
        with self._lock:
            self.mails.append(mail)


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


# --- routing and checks ----------------------------------------------------------------------

def _route(method: str, path: str) -> tuple[str | None, dict[str, str]]:
    parts = path.split("/")
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
    if len(rest) == 3 and method == "GET" and rest[2] in ("getVirtualAppointmentJoinWebUrl",
                                                         "getVirtualAppointmentJoinWebUrl()"):
        return "virtualAppointment", {"user": user, "meeting": unquote(rest[1])}
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
