"""Typed app settings, read from the environment (app settings in Azure, local.settings.json locally)."""

from __future__ import annotations

import base64
import functools
import os
import secrets
from enum import StrEnum
from pathlib import Path

from pydantic import AliasChoices, Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from shared.domain.model import Language

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


# --- Microsoft Graph: value sets of the GRAPH_* settings -----------------------------------------


class GraphCredentialKind(StrEnum):
    MANAGED_IDENTITY = "managed_identity"
    CLIENT_SECRET = "client_secret"
    CERTIFICATE = "certificate"


class LobbyBypassScope(StrEnum):
    """The participants who skip the lobby (Graph lobbyBypassScope). Anonymous guests wait with each value."""

    ORGANIZER = "organizer"
    ORGANIZATION = "organization"
    ORGANIZATION_EXCLUDING_GUESTS = "organizationExcludingGuests"
    INVITED = "invited"


class AllowedPresenters(StrEnum):
    ORGANIZER = "organizer"
    ORGANIZATION = "organization"


class MeetingChatMode(StrEnum):
    ENABLED = "enabled"
    DISABLED = "disabled"
    LIMITED = "limited"  # chat only while the meeting runs

# --- end of Microsoft Graph value sets ------------------------------------------------------------


def _reject_unresolved_reference(name: str, value: str | None) -> None:
    """Raise for a Key Vault reference the platform could not resolve: it then leaves the text in place."""
    if value is not None and value.startswith("@Microsoft.KeyVault("):
        raise ValueError(
            f"{name} is an unresolved Key Vault reference: check that the secret exists "
            "and that the app's identity has the Key Vault Secrets User role"
        )


class Settings(BaseSettings):
    """Every setting the code reads. Names match the app settings in infra/main.bicep."""

    model_config = SettingsConfigDict(
        case_sensitive=False, extra="ignore", populate_by_name=True, hide_input_in_errors=True
    )

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
    citizen_site_url: str = "http://127.0.0.1:7071/local/site"
    terms_version: str = "2026-01"
    terms_url: str = "https://www.hvw.fgov.be/videoloket/terms"
    config_cache_seconds: int = Field(default=60, ge=0, le=3600)
    max_request_bytes: int = Field(default=16_384, ge=1024, le=1_048_576)
    outbox_dir: Path = Path(".local/outbox")
    mailer: MailerKind = MailerKind.OUTBOX
    meeting_provider: MeetingProviderKind = MeetingProviderKind.LOCAL
    provisioning_queue: str = "provisioning"
    retention_days: int = Field(default=30, ge=1, le=3650, description="Days after the appointment's end")
    rules_settle_seconds: int = Field(
        default=0, ge=0, le=300, description="Extra wait before the 10-minute rules decide, for late signals"
    )
    team_alert_address: str | None = Field(default=None, description="Mailbox that gets an alert for each agent-late or technical-problem case")
    team_alert_language: Language = Language.DUTCH

    # --- Microsoft Graph (Teams meetings, mail) and provisioning retries --------------------------
    # Used when MAILER=graph or MEETING_PROVIDER=graph; docs/graph-admin.md explains each one.
    # Unset: client_secret when GRAPH_CLIENT_SECRET is set, certificate when a certificate path is, else managed_identity.
    graph_credential: GraphCredentialKind | None = None
    graph_tenant_id: str | None = None
    graph_client_id: str | None = None
    graph_client_secret: SecretStr | None = None
    graph_client_certificate_path: Path | None = None  # PEM with the private key and the certificate
    graph_client_certificate_password: SecretStr | None = None
    graph_managed_identity_client_id: str | None = None  # user-assigned identity; default AzureWebJobsStorage__clientId
    graph_authority_host: str = "https://login.microsoftonline.com"
    graph_authority_ca_file: Path | None = None  # extra CA certificates for the token endpoint (tests)
    graph_base_url: str = "https://graph.microsoft.com/v1.0"
    graph_timeout_seconds: float = Field(default=30.0, gt=0, le=300)
    graph_organizer_user_id: str | None = None  # object id of the organizer for agents without graph_user_id
    graph_mailbox: str | None = None  # the shared mailbox that sends, such as videoloket@hvw.be
    graph_mail_concurrency: int = Field(default=4, ge=1, le=4)  # Exchange allows 4 per app and mailbox
    graph_virtual_appointment_links: bool = False  # join links that open in a mobile browser
    graph_meeting_subject_prefix: str = Field(default="Videoloket", max_length=100)
    graph_lobby_bypass_scope: LobbyBypassScope = LobbyBypassScope.ORGANIZATION
    graph_allowed_presenters: AllowedPresenters = AllowedPresenters.ORGANIZER
    graph_meeting_chat: MeetingChatMode = MeetingChatMode.LIMITED
    graph_announce_entry_exit: bool = True
    graph_attendee_camera: bool = True  # the identity check needs the citizen's camera
    graph_attendee_microphone: bool = True
    provisioning_max_attempts: int = Field(default=6, ge=1, le=50)
    provisioning_retry_base_seconds: float = Field(default=60.0, ge=0, le=86_400)
    provisioning_retry_max_seconds: float = Field(default=3600.0, ge=0, le=604_800)
    provisioning_max_inline_wait_seconds: float = Field(default=60.0, ge=0, le=300)
    # --- end of Microsoft Graph ---------------------------------------------------------------------

    @field_validator("personal_data_key")
    @classmethod
    def _check_key_length(cls, value: str | None) -> str | None:
        _reject_unresolved_reference("PERSONAL_DATA_KEY", value)
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

    # --- Outgoing webhooks (shared/adapters/webhooks.py, functions/webhooks.py) ---
    # WEBHOOK_URLS: comma-separated receiver URLs, stored normalized; read them with webhook_url_list().
    webhook_urls: str = ""
    # The HMAC-SHA256 key, as UTF-8 text. Required in production when WEBHOOK_URLS is set. Locally, a
    # key generated under .local/ is used when it is missing.
    webhook_secret: str | None = Field(default=None, repr=False)
    webhook_queue: str = Field(default="webhooks", pattern=r"^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$")
    webhook_max_attempts: int = Field(default=8, ge=1, le=20)
    # Applies to each phase of one POST (connect, write, read), in seconds.
    webhook_timeout_seconds: float = Field(default=10, gt=0, le=60)

    @field_validator("webhook_urls")
    @classmethod
    def _check_webhook_urls(cls, value: str) -> str:
        from urllib.parse import urlsplit

        urls: list[str] = []
        for position, url in enumerate((part.strip() for part in value.split(",")), start=1):
            if not url:
                continue
            # Error messages name the position and host only, because a Power Automate URL contains its
            # access signature.
            parts = urlsplit(url)
            try:
                parts.port
            except ValueError:
                raise ValueError(f"WEBHOOK_URLS entry {position} has an invalid port") from None
            local = parts.scheme == "http" and parts.hostname in ("127.0.0.1", "localhost")
            if not ((parts.scheme == "https" and parts.hostname) or local):
                raise ValueError(
                    f"WEBHOOK_URLS entry {position} (host {parts.hostname or 'missing'}) is invalid: "
                    "use an https URL; http is allowed only for 127.0.0.1 and localhost"
                )
            if url not in urls:
                urls.append(url)
        return ",".join(urls)

    @field_validator("webhook_secret")
    @classmethod
    def _check_webhook_secret(cls, value: str | None) -> str | None:
        if not value:
            return None  # an app setting that exists but is empty counts as missing
        _reject_unresolved_reference("WEBHOOK_SECRET", value)
        if len(value) < 32:
            raise ValueError(
                "WEBHOOK_SECRET must be at least 32 characters; generate one with "
                "python -c \"import secrets; print(secrets.token_urlsafe(32))\""
            )
        return value

    @model_validator(mode="after")
    def _require_webhook_secret(self) -> "Settings":
        if self.app_env is Environment.PRODUCTION and self.webhook_urls and not self.webhook_secret:
            raise ValueError("WEBHOOK_SECRET is required when WEBHOOK_URLS is set and APP_ENV=production")
        return self

    def webhook_url_list(self) -> tuple[str, ...]:
        """Return the configured webhook receiver URLs, without duplicates, in their configured order."""
        return tuple(url for url in self.webhook_urls.split(",") if url)

    # --- Graph call events (functions/graph_events.py, docs/graph-call-events.md) ----------------------
    # Everything below is off unless GRAPH_CALL_EVENTS=true. The Functions host itself reads the timer's
    # schedule, GRAPH_SUBSCRIPTIONS_SCHEDULE, so Settings has no field for it.
    graph_call_events: bool = False
    # The https URL of receive_graph_notification, including ?code=<function key>.
    graph_notification_url: SecretStr | None = None
    # Optional: where Graph sends subscription lifecycle notifications; usually the same URL.
    graph_lifecycle_notification_url: SecretStr | None = None
    # The secret Graph echoes in every notification's clientState; 1 to 128 characters.
    graph_notification_client_state: SecretStr | None = None
    graph_events_queue: str = Field(default="graph-events", pattern=r"^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$")
    # Default: GRAPH_BASE_URL with its /v1.0 replaced by /beta.
    graph_beta_base_url: str | None = None
    # Subscribe this many hours before an appointment starts.
    graph_subscription_window_hours: int = Field(default=24, ge=1, le=168)
    # PEM file with the RSA private key and its certificate; Graph encrypts the notifications' resource data for it.
    graph_notification_certificate_path: Path | None = None
    graph_notification_certificate_password: SecretStr | None = None
    # Our name for the certificate, at most 128 characters; default: its SHA-1 thumbprint.
    graph_notification_certificate_id: str | None = Field(default=None, max_length=128)
    graph_attendance_reconciliation: bool = False
    # Read the attendance report this many minutes after the appointment's end, and give up after the lookback.
    graph_attendance_delay_minutes: int = Field(default=30, ge=1, le=1440)
    graph_attendance_lookback_hours: int = Field(default=24, ge=1, le=168)

    @field_validator(
        "graph_notification_url", "graph_lifecycle_notification_url", "graph_notification_client_state",
        "graph_beta_base_url", "graph_notification_certificate_path", "graph_notification_certificate_password",
        "graph_notification_certificate_id", mode="before",
    )
    @classmethod
    def _empty_is_unset(cls, value):
        # The Bicep writes '' for unused settings, and Path('') would be the current directory.
        return None if value == "" else value

    def graph_beta_url(self) -> str:
        """Return the Graph beta base URL: GRAPH_BETA_BASE_URL, else GRAPH_BASE_URL with /v1.0 replaced by /beta."""
        if self.graph_beta_base_url:
            return self.graph_beta_base_url.rstrip("/")
        base = self.graph_base_url.rstrip("/")
        return base[: -len("/v1.0")] + "/beta" if base.endswith("/v1.0") else base + "/beta"
    # --- end of Graph call events ----------------------------------------------------------------------


@functools.cache
def get_settings() -> Settings:
    """Build the settings once, on first use, never at import time."""
    return Settings()
