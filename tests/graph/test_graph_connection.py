"""GraphConnection.from_settings: which credential signs in, from the GRAPH_* app settings."""

from __future__ import annotations

import pytest

from shared.adapters.graph.client import GraphConnection
from shared.adapters.graph.errors import GraphConfigurationError
from shared.settings import Settings

MANAGED_IDENTITY = "0a1b2c3d-0000-4000-8000-000000000001"


def connection(**settings) -> GraphConnection:
    return GraphConnection.from_settings(Settings(_env_file=None, **settings))


def test_secret_selects_client_secret():
    chosen = connection(graph_tenant_id="t", graph_client_id="c", graph_client_secret="s")

    assert chosen.credential == "client_secret"
    assert chosen.client_secret == "s"


def test_certificate_path_selects_certificate():
    assert connection(graph_client_certificate_path="/certs/app.pem").credential == "certificate"


def test_empty_secret_from_bicep_selects_managed_identity():
    chosen = connection(graph_client_id=MANAGED_IDENTITY, graph_client_secret="")

    assert chosen.credential == "managed_identity"
    assert chosen.client_secret is None
    assert chosen.managed_identity_client_id == MANAGED_IDENTITY


def test_managed_identity_defaults_to_the_storage_identity():
    chosen = connection(managed_identity_client_id=MANAGED_IDENTITY)

    assert chosen.managed_identity_client_id == MANAGED_IDENTITY


def test_explicit_credential_wins():
    assert connection(graph_credential="managed_identity", graph_client_secret="s").credential == "managed_identity"


def test_unresolved_key_vault_reference_is_reported():
    chosen = connection(graph_tenant_id="t", graph_client_id="c",
                        graph_client_secret="@Microsoft.KeyVault(SecretUri=https://kv.vault.azure.net/secrets/x)")

    with pytest.raises(GraphConfigurationError, match="unresolved Key Vault reference"):
        chosen.check()


def test_client_secret_without_tenant_is_reported():
    with pytest.raises(GraphConfigurationError, match="GRAPH_TENANT_ID is missing"):
        connection(graph_client_id="c", graph_client_secret="s").check()


def test_secret_is_not_in_the_repr():
    assert "s3cr3t" not in repr(connection(graph_tenant_id="t", graph_client_id="c", graph_client_secret="s3cr3t"))
