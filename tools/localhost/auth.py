"""Function keys for the local host: FUNCTION accepts the function or the admin key, ADMIN only the admin key."""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Mapping
from dataclasses import dataclass

FUNCTION_KEY_SETTING = "LOCAL_FUNCTION_KEY"
ADMIN_KEY_SETTING = "LOCAL_ADMIN_KEY"
KEY_HEADER = "x-functions-key"
KEY_QUERY_PARAMETER = "code"


@dataclass(frozen=True)
class Keys:
    function_key: str
    admin_key: str
    generated: tuple[str, ...] = ()  # names of the settings whose key was generated at start

    def authorizes(self, auth_level: str, presented_key: str | None) -> bool:
        """Tell whether `presented_key` (None when the request carried none) opens a function of `auth_level`."""
        if auth_level == "anonymous":
            return True
        if not presented_key:
            return False
        if _equal(presented_key, self.admin_key):
            return True
        return auth_level == "function" and _equal(presented_key, self.function_key)


def _equal(presented: str, expected: str) -> bool:
    return hmac.compare_digest(presented.encode(), expected.encode())


def load_keys(environ: Mapping[str, str]) -> Keys:
    """Read both keys from the settings; generate a random one for each that is missing or empty."""
    generated = []
    keys = {}
    for setting in (FUNCTION_KEY_SETTING, ADMIN_KEY_SETTING):
        keys[setting] = environ.get(setting, "").strip()
        if not keys[setting]:
            keys[setting] = secrets.token_urlsafe(32)
            generated.append(setting)
    return Keys(keys[FUNCTION_KEY_SETTING], keys[ADMIN_KEY_SETTING], tuple(generated))


def presented_key(headers: Mapping[str, str], query: Mapping[str, str]) -> str | None:
    """Return the key from the x-functions-key header, else from ?code=, else None. `headers` has lower-case names."""
    return headers.get(KEY_HEADER) or query.get(KEY_QUERY_PARAMETER) or None
