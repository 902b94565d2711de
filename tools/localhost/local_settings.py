"""Read local.settings.json and put its Values into the environment, as `func start` does."""

from __future__ import annotations

import json
import logging
import os
from collections.abc import MutableMapping
from dataclasses import dataclass, field
from pathlib import Path

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class CorsSettings:
    """The platform CORS settings: allowed origins ("*" allows any) and whether credentials are allowed."""

    origins: tuple[str, ...] = ()
    credentials: bool = False


@dataclass(frozen=True)
class LocalSettings:
    values: dict[str, str] = field(default_factory=dict)
    cors: CorsSettings = CorsSettings()
    http_port: int | None = None


def read_local_settings(path: Path) -> LocalSettings:
    """Parse the file; a missing file gives empty settings, an invalid one raises ValueError."""
    if not path.exists():
        logger.warning("%s not found; starting with no local settings", path)
        return LocalSettings()
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as error:
        raise ValueError(f"{path} is not valid JSON: {error}") from error
    if not isinstance(document, dict):
        raise ValueError(f"{path} must contain a JSON object")

    values = document.get("Values") or {}
    if not isinstance(values, dict):
        raise ValueError(f"{path}: Values must be an object of strings")
    for name, value in values.items():
        if not isinstance(value, str):
            raise ValueError(f"{path}: Values.{name} must be a string, got {json.dumps(value)}")

    host = document.get("Host") or {}
    if not isinstance(host, dict):
        raise ValueError(f"{path}: Host must be an object")
    origins = tuple(origin.strip() for origin in str(host.get("CORS", "")).split(",") if origin.strip())
    credentials = host.get("CORSCredentials", False)
    if not isinstance(credentials, bool):
        raise ValueError(f"{path}: Host.CORSCredentials must be true or false")
    http_port = host.get("LocalHttpPort")
    if http_port is not None and not isinstance(http_port, int):
        raise ValueError(f"{path}: Host.LocalHttpPort must be an integer")

    return LocalSettings(dict(values), CorsSettings(origins, credentials), http_port)


def apply_to_environment(values: dict[str, str], environ: MutableMapping[str, str] = os.environ) -> None:
    """Copy the values into the environment; a variable that is already set keeps its value, as with `func start`."""
    for name, value in values.items():
        if name in environ:
            logger.info("Skipping %r from local settings because the environment already defines it", name)
            continue
        environ[name] = value
