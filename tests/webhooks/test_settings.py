"""The WEBHOOK_* settings: URL rules, the secret, defaults and the local secret file."""

from __future__ import annotations

import base64

import pytest
from pydantic import ValidationError

from shared.adapters import webhooks
from shared.settings import Settings
from tests.webhooks.support import SECRET

PRODUCTION = {
    "app_env": "production",
    "personal_data_key": base64.b64encode(bytes(32)).decode(),
    "storage_connection": "UseDevelopmentStorage=true",
}


@pytest.fixture(autouse=True)
def no_webhook_environment(monkeypatch):
    """Keep WEBHOOK_* variables of the developer's shell out of these tests."""
    for name in ("WEBHOOK_URLS", "WEBHOOK_SECRET", "WEBHOOK_QUEUE", "WEBHOOK_MAX_ATTEMPTS", "WEBHOOK_TIMEOUT_SECONDS"):
        monkeypatch.delenv(name, raising=False)


def test_defaults() -> None:
    settings = Settings()

    assert settings.webhook_url_list() == ()
    assert settings.webhook_secret is None
    assert settings.webhook_queue == "webhooks"
    assert settings.webhook_max_attempts == 8
    assert settings.webhook_timeout_seconds == 10


def test_urls_are_read_from_environment(monkeypatch) -> None:
    monkeypatch.setenv("WEBHOOK_URLS", " https://a.example.test/hook , ,http://127.0.0.1:8080/in,https://a.example.test/hook")

    assert Settings().webhook_url_list() == ("https://a.example.test/hook", "http://127.0.0.1:8080/in")


@pytest.mark.parametrize(
    "url",
    ["https://prod-01.westeurope.logic.azure.com/workflows/x/triggers/manual/paths/invoke?sig=abc",
     "http://localhost:9000/hook", "http://127.0.0.1/hook"],
)
def test_accepted_urls(url: str) -> None:
    assert Settings(webhook_urls=url).webhook_url_list() == (url,)


@pytest.mark.parametrize(
    "url",
    ["http://receiver.example.test/hook", "ftp://receiver.example.test/hook", "https:///hook",
     "receiver.example.test/hook", "http://10.0.0.5/hook", "https://receiver.example.test:99999/hook"],
)
def test_rejected_urls(url: str) -> None:
    with pytest.raises(ValidationError, match="WEBHOOK_URLS entry 2"):
        Settings(webhook_urls=f"https://ok.example.test/hook,{url}")


def test_short_secret_is_rejected() -> None:
    with pytest.raises(ValidationError, match="at least 32 characters"):
        Settings(webhook_secret="too-short")


def test_empty_secret_counts_as_missing() -> None:
    assert Settings(webhook_secret="").webhook_secret is None


def test_secret_is_hidden_from_repr() -> None:
    assert SECRET not in repr(Settings(webhook_secret=SECRET))


def test_production_requires_secret_with_urls() -> None:
    with pytest.raises(ValidationError, match="WEBHOOK_SECRET is required"):
        Settings(**PRODUCTION, webhook_urls="https://a.example.test/hook")


def test_production_without_urls_needs_no_secret() -> None:
    assert Settings(**PRODUCTION).webhook_secret is None


def test_invalid_queue_name_is_rejected() -> None:
    with pytest.raises(ValidationError, match="webhook_queue"):
        Settings(webhook_queue="Webhooks_Queue")


@pytest.mark.parametrize(("name", "value"), [("webhook_max_attempts", 0), ("webhook_timeout_seconds", 0)])
def test_non_positive_limits_are_rejected(name: str, value: int) -> None:
    with pytest.raises(ValidationError, match=name):
        Settings(**{name: value})


def test_load_secret_uses_configured_secret() -> None:
    assert webhooks.load_secret(Settings(webhook_secret=SECRET)) == SECRET.encode()


def test_load_secret_generates_local_file_once(monkeypatch, tmp_path) -> None:
    secret_file = tmp_path / ".local" / "webhook-secret"
    monkeypatch.setattr(webhooks, "LOCAL_SECRET_FILE", secret_file)

    first = webhooks.load_secret(Settings())
    second = webhooks.load_secret(Settings())

    assert first == second
    assert len(first) >= 32
    assert secret_file.read_text().encode() == first
    assert secret_file.stat().st_mode & 0o777 == 0o600


def test_unresolved_key_vault_reference_is_rejected(monkeypatch):
    import pytest
    from pydantic import ValidationError

    from shared.settings import Settings

    monkeypatch.setenv("WEBHOOK_SECRET", "@Microsoft.KeyVault(SecretUri=https://vault.example/secrets/webhook-secret/)")

    with pytest.raises(ValidationError) as raised:
        Settings()

    assert "unresolved Key Vault reference" in str(raised.value)
