"""CORS as the Functions platform applies it in front of the app, configured by local.settings.json "Host"."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from tools.localhost.local_settings import CorsSettings

ALL_METHODS = "DELETE, GET, HEAD, OPTIONS, PATCH, POST, PUT"


def _normalize(origin: str) -> str:
    return origin.strip().rstrip("/").lower()


@dataclass(frozen=True)
class CorsPolicy:
    origins: frozenset[str]
    allow_any: bool
    credentials: bool

    @classmethod
    def from_settings(cls, settings: CorsSettings) -> "CorsPolicy":
        origins = frozenset(_normalize(origin) for origin in settings.origins if origin.strip() != "*")
        return cls(origins, "*" in (origin.strip() for origin in settings.origins), settings.credentials)

    def allows(self, origin: str | None) -> bool:
        return bool(origin) and (self.allow_any or _normalize(origin) in self.origins)

    def is_preflight(self, method: str, headers: Mapping[str, str]) -> bool:
        """Tell whether this is a CORS preflight from an allowed origin. `headers` has lower-case names."""
        return (method == "OPTIONS" and "access-control-request-method" in headers
                and self.allows(headers.get("origin")))

    def response_headers(self, origin: str | None) -> dict[str, str]:
        """Return the headers for a response to a request from `origin`; none for an origin not allowed."""
        if not self.allows(origin):
            return {}
        # A wildcard cannot go with credentials, so the origin itself is sent back then.
        allow_origin = "*" if self.allow_any and not self.credentials else origin
        headers = {"Access-Control-Allow-Origin": allow_origin, "Vary": "Origin"}
        if self.credentials:
            headers["Access-Control-Allow-Credentials"] = "true"
        return headers

    def preflight_headers(self, headers: Mapping[str, str]) -> dict[str, str]:
        """Return the headers for an allowed preflight; Access-Control-Allow-Headers echoes the requested ones."""
        answer = self.response_headers(headers.get("origin"))
        answer["Access-Control-Allow-Methods"] = ALL_METHODS
        requested_headers = headers.get("access-control-request-headers")
        if requested_headers:
            answer["Access-Control-Allow-Headers"] = requested_headers
        return answer
