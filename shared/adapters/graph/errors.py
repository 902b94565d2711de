"""Errors of the Graph adapters, classified for the retry decisions of the provisioning service.

Every GraphError is a StepFailed, so the provisioning service tries the step again. `ambiguous`
is True when Graph may have carried out the request although no success response came back. A
mail may then have been sent, so the mail log does not resend it.
"""

from __future__ import annotations

import re
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime

from shared.services.provisioning import StepFailed

# 503 means the request was not processed. 500, 502 and 504 leave it open whether it was.
_AMBIGUOUS_STATUSES = {500, 502, 504}
_EMAIL_ADDRESS = re.compile(r"[^\s@'\"<>]+@[^\s@'\"<>]+")
_MAX_DETAIL = 300


class GraphError(StepFailed):
    """A Graph request failed.

    `operation` names the request (such as "sendMail"), `status` is the HTTP status or None when
    no response came, `code` is Graph's error code, `request_id` the id to quote to Microsoft.
    """

    def __init__(
        self,
        operation: str,
        message: str,
        *,
        status: int | None = None,
        code: str | None = None,
        request_id: str | None = None,
        retry_after: float | None = None,
        ambiguous: bool = False,
    ) -> None:
        super().__init__(message, retry_after=retry_after)
        self.operation = operation
        self.status = status
        self.code = code
        self.request_id = request_id
        self.ambiguous = ambiguous


class GraphThrottled(GraphError):
    """Graph returned 429 Too Many Requests."""


class GraphAuthenticationFailed(GraphError):
    """No access token could be obtained, or Graph rejected the token (401)."""


class GraphTimeout(GraphError):
    """No response came within the configured timeout; Graph may still have carried the request out."""


class GraphConfigurationError(GraphError):
    """A setting that the request needs is missing or invalid; the message names it."""


def error_from_response(operation: str, status: int, headers, body: bytes) -> GraphError:
    """Build the error for an unsuccessful Graph response."""
    code, detail = _error_code_and_message(body)
    request_id = headers.get("request-id") or headers.get("client-request-id")
    retry_after = parse_retry_after(headers.get("Retry-After"))
    message = f"{operation} failed with HTTP {status}" + (f" {code}" if code else "") + (f": {detail}" if detail else "")
    if status == 429:
        return GraphThrottled(operation, message, status=status, code=code, request_id=request_id,
                              retry_after=retry_after)
    if status == 401:
        # GraphApi signs in again on the next request, so that request can follow right away.
        return GraphAuthenticationFailed(operation, message, status=status, code=code, request_id=request_id,
                                         retry_after=0.0)
    return GraphError(
        operation, message, status=status, code=code, request_id=request_id,
        retry_after=retry_after if status == 503 else None,
        ambiguous=status in _AMBIGUOUS_STATUSES,
    )


def error_from_transport(operation: str, error: Exception) -> GraphError:
    """Build the error for a request that got no HTTP response (httpx exceptions)."""
    import httpx

    name = type(error).__name__
    if isinstance(error, (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)):
        # Nothing reached Graph.
        return GraphError(operation, f"{operation} could not connect to Graph ({name})")
    if isinstance(error, httpx.TimeoutException):
        return GraphTimeout(operation, f"{operation} timed out waiting for Graph ({name})", ambiguous=True)
    return GraphError(operation, f"{operation} lost its connection to Graph ({name}: {error})", ambiguous=True)


def error_from_credential(operation: str, error: Exception) -> GraphAuthenticationFailed:
    """Build the error for a failed token request (azure.core ClientAuthenticationError and the like)."""
    first_line = _scrub(str(error).splitlines()[0] if str(error) else type(error).__name__)
    return GraphAuthenticationFailed(operation, f"{operation} could not get an access token: {first_line}")


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Return the wait of a Retry-After header in seconds (delta-seconds or an HTTP date), or None."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return max(0.0, (moment - (now or datetime.now(timezone.utc))).total_seconds())


def _error_code_and_message(body: bytes) -> tuple[str | None, str | None]:
    import json

    try:
        error = json.loads(body)["error"]
    except (ValueError, KeyError, TypeError):
        return None, None
    if not isinstance(error, dict):
        return None, None
    code = error.get("code") if isinstance(error.get("code"), str) else None
    message = error.get("message") if isinstance(error.get("message"), str) else None
    return code, _scrub(message) if message else None


def _scrub(text: str) -> str:
    """Remove e-mail addresses, which Graph puts in some mail errors, and cap the length for logs."""
    cleaned = _EMAIL_ADDRESS.sub("<address>", text)
    return cleaned if len(cleaned) <= _MAX_DETAIL else cleaned[:_MAX_DETAIL] + "..."
