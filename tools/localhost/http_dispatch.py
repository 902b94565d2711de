"""Turn one HTTP request into a function call and its result into a response: CORS, routing, keys, conversion."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from urllib.parse import parse_qsl

import azure.functions as func

from tools.localhost.auth import Keys, presented_key
from tools.localhost.cors import CorsPolicy
from tools.localhost.invoker import Invoker
from tools.localhost.join_page import JOIN_ROUTE, render_join_page
from tools.localhost.routing import MethodNotAllowed, RouteNotFound, Router, RouteTemplate

logger = logging.getLogger(__name__)

JSON_CONTENT_TYPE = "application/json"
HTML_CONTENT_TYPE = "text/html; charset=utf-8"


@dataclass(frozen=True)
class IncomingRequest:
    method: str
    path: str  # percent-encoded, without the query string
    query_string: str
    headers: dict[str, str]  # lower-case names; repeated headers joined with ", "
    body: bytes
    base_url: str  # scheme and authority, for example "http://127.0.0.1:7071"


@dataclass
class OutgoingResponse:
    status: int
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""

    def has_header(self, name: str) -> bool:
        return any(existing.lower() == name.lower() for existing, _ in self.headers)


def json_response(status: int, error: str, message: str, extra_headers: list[tuple[str, str]] | None = None
                  ) -> OutgoingResponse:
    body = json.dumps({"error": error, "message": message}).encode("utf-8")
    return OutgoingResponse(status, [("Content-Type", JSON_CONTENT_TYPE), *(extra_headers or [])], body)


def _query_params(query_string: str) -> dict[str, str]:
    # NOTE: a repeated key gives "a,b", because ASP.NET's StringValues.ToString() joins values that way.
    # That the Functions host passes this string on to Python was not checked against a real host.
    params: dict[str, str] = {}
    for name, value in parse_qsl(query_string, keep_blank_values=True):
        params[name] = f"{params[name]},{value}" if name in params else value
    return params


def _convert_result(result: object) -> OutgoingResponse:
    """Convert what the function returned the way the Python worker's HTTP converter does."""
    if isinstance(result, str):
        return OutgoingResponse(200, [("Content-Type", "text/plain; charset=utf-8")], result.encode("utf-8"))
    if not isinstance(result, func.HttpResponse):
        raise TypeError(f"the function returned {type(result).__name__}; return a func.HttpResponse or a str")
    headers = list(result.headers.items())
    if not any(name.lower() == "content-type" for name, _ in headers):
        content_type = result.mimetype
        if content_type.startswith("text/"):
            content_type = f"{content_type}; charset={result.charset}"
        headers.append(("Content-Type", content_type))
    return OutgoingResponse(int(result.status_code), headers, result.get_body() or b"")


class HttpDispatcher:
    def __init__(self, router: Router, keys: Keys, cors: CorsPolicy, invoker: Invoker) -> None:
        self._router = router
        self._keys = keys
        self._cors = cors
        self._invoker = invoker
        self._join_route = RouteTemplate(JOIN_ROUTE)

    def handle(self, request: IncomingRequest) -> OutgoingResponse:
        """Return the response. A failure inside a function gives a 500 and a logged traceback, never an exception."""
        origin = request.headers.get("origin")
        if self._cors.is_preflight(request.method, request.headers):
            return OutgoingResponse(204, list(self._cors.preflight_headers(request.headers).items()))

        response = self._dispatch(request)
        for name, value in self._cors.response_headers(origin).items():
            if not response.has_header(name):
                response.headers.append((name, value))
        return response

    def _dispatch(self, request: IncomingRequest) -> OutgoingResponse:
        join_params = self._join_route.match(request.path)
        if join_params is not None:
            return self._join_page(request.method, join_params["meeting_id"])

        try:
            match = self._router.resolve(request.method, request.path)
        except RouteNotFound:
            return json_response(404, "not_found", f"No function matches {request.method} {request.path}.")
        except MethodNotAllowed as error:
            allowed = ", ".join(sorted(error.allowed))
            return json_response(405, "method_not_allowed",
                                 f"{request.method} is not allowed on {request.path}; allowed: {allowed}.",
                                 [("Allow", allowed)])

        params = _query_params(request.query_string)
        function = match.function
        if not self._keys.authorizes(function.auth_level, presented_key(request.headers, params)):
            # Azure rejects a missing or wrong key with a 401 and an empty body.
            return OutgoingResponse(401)

        url = request.base_url + request.path + (f"?{request.query_string}" if request.query_string else "")
        http_request = func.HttpRequest(request.method, url, headers=request.headers, params=params,
                                        route_params=match.route_params, body=request.body)
        failed = json_response(500, "internal_error",
                               f"Function {function.name} failed; the local host's log has the details.")
        try:
            result = self._invoker.invoke(function.name, function.user_function, function.arg_name,
                                          http_request, reason="HTTP request")
        except Exception:
            return failed  # the invoker has logged the traceback
        try:
            return _convert_result(result)
        except TypeError as error:
            logger.error("Function %s returned an invalid result: %s", function.name, error)
            return failed

    def _join_page(self, method: str, meeting_id: str) -> OutgoingResponse:
        if method not in ("GET", "HEAD"):
            return json_response(405, "method_not_allowed", f"{method} is not allowed; use GET.",
                                 [("Allow", "GET, HEAD")])
        headers = [
            ("Content-Type", HTML_CONTENT_TYPE),
            ("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'"),
            ("Cache-Control", "no-store"),
        ]
        return OutgoingResponse(200, headers, render_join_page(meeting_id))
