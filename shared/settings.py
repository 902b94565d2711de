"""Typed app settings, read from the environment (app settings in Azure, local.settings.json locally)."""

from __future__ import annotations

import base64
import functools
import os
import secrets
from enum import StrEnum
from pathlib import Path

from pydantic import AliasChoices, Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

AZURITE_CONNECTION_STRING = "UseDevelopmentStorage=true"
LOCAL_KEY_FILE = Path(".local/personal-data.key")


class Environment(StrEnum):
    LOCAL = "local"
    PRODUCTION = "production"


class MailerKind(StrEnum):
    OUTBOX = "outbox"
    GRAPH = "graph"


class MeetingProviderKind(StrEnum):
    LOCAL = "local"
    GRAPH = "graph"


class Settings(BaseSettings):
    """Every setting the code reads. Names match the app settings in infra/main.bicep."""

    model_config = SettingsConfigDict(case_sensitive=False, extra="ignore", populate_by_name=True)

    app_env: Environment = Environment.LOCAL
    storage_connection: str | None = Field(
        default=None, validation_alias=AliasChoices("AzureWebJobsStorage", "storage_connection")
    )
    table_service_uri: str | None = Field(
        default=None, validation_alias=AliasChoices("AzureWebJobsStorage__tableServiceUri", "table_service_uri")
    )
    queue_service_uri: str | None = Field(
        default=None, validation_alias=AliasChoices("AzureWebJobsStorage__queueServiceUri", "queue_service_uri")
    )
    managed_identity_client_id: str | None = Field(
        default=None, validation_alias=AliasChoices("AzureWebJobsStorage__clientId", "managed_identity_client_id")
    )
    table_prefix: str = Field(default="", pattern=r"^[A-Za-z0-9]{0,20}$")
    personal_data_key: str | None = None
    public_api_base_url: str = "http://127.0.0.1:7071"
    website_base_url: str = "http://127.0.0.1:7071/local/site"
    terms_version: str = "2026-01"
    terms_url: str = "https://www.hvw.fgov.be/videoloket/terms"
    cors_allowed_origins: str = ""
    config_cache_seconds: int = Field(default=60, ge=0, le=3600)
    max_request_bytes: int = Field(default=16_384, ge=1024, le=1_048_576)
    outbox_dir: Path = Path(".local/outbox")
    mailer: MailerKind = MailerKind.OUTBOX
    meeting_provider: MeetingProviderKind = MeetingProviderKind.LOCAL
    provisioning_queue: str = "provisioning"

    @field_validator("personal_data_key")
    @classmethod
    def _check_key_length(cls, value: str | None) -> str | None:
        if value is not None and len(base64.b64decode(value, validate=True)) != 32:
            raise ValueError("PERSONAL_DATA_KEY must be 32 bytes, base64-encoded")
        return value

    @model_validator(mode="after")
    def _require_production_secrets(self) -> "Settings":
        if self.app_env is Environment.PRODUCTION:
            if not self.personal_data_key:
                raise ValueError("PERSONAL_DATA_KEY is required when APP_ENV=production")
            if not (self.storage_connection or self.table_service_uri):
                raise ValueError("set AzureWebJobsStorage or AzureWebJobsStorage__tableServiceUri")
        return self

    @property
    def allowed_origins(self) -> frozenset[str]:
        return frozenset(origin.strip() for origin in self.cors_allowed_origins.split(",") if origin.strip())

    def personal_data_key_bytes(self) -> bytes:
        """Return the 32-byte key; locally, generate one once under .local/ when none is set."""
        if self.personal_data_key:
            return base64.b64decode(self.personal_data_key)
        if self.app_env is Environment.PRODUCTION:
            raise RuntimeError("PERSONAL_DATA_KEY is missing")
        if not LOCAL_KEY_FILE.exists():
            LOCAL_KEY_FILE.parent.mkdir(parents=True, exist_ok=True)
            LOCAL_KEY_FILE.write_text(base64.b64encode(secrets.token_bytes(32)).decode())
            os.chmod(LOCAL_KEY_FILE, 0o600)
        return base64.b64decode(LOCAL_KEY_FILE.read_text().strip())


@functools.cache
def get_settings() -> Settings:
    """Build the settings once, on first use, never at import time."""
    return Settings()
