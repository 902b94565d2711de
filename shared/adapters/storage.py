"""Clients for Table and Queue Storage: a connection string locally, the managed identity in Azure."""

from __future__ import annotations

import logging

from shared.settings import Settings

logger = logging.getLogger(__name__)

# Azurite's documented development account on its default ports.
AZURITE_DEFAULT = (
    "DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;"
    "AccountKey=Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==;"
    "TableEndpoint=http://127.0.0.1:10002/devstoreaccount1;QueueEndpoint=http://127.0.0.1:10001/devstoreaccount1;"
)
# Azurite 3.35 rejects the API version that azure-storage-queue 12.18.1 sends by default.
QUEUE_API_VERSION = "2025-11-05"


def connection_string(settings: Settings) -> str | None:
    if settings.storage_connection and settings.storage_connection != "UseDevelopmentStorage=true":
        return settings.storage_connection
    if settings.table_service_uri:
        return None
    return AZURITE_DEFAULT


def _credential(settings: Settings):
    from azure.identity import ManagedIdentityCredential

    return ManagedIdentityCredential(client_id=settings.managed_identity_client_id)


def table_service(settings: Settings):
    from azure.data.tables import TableServiceClient

    conn = connection_string(settings)
    if conn:
        return TableServiceClient.from_connection_string(conn)
    return TableServiceClient(endpoint=settings.table_service_uri, credential=_credential(settings))


def queue_client(settings: Settings, queue_name: str):
    from azure.storage.queue import QueueClient, TextBase64EncodePolicy

    conn = connection_string(settings)
    options = {"message_encode_policy": TextBase64EncodePolicy()}
    if conn:
        if "127.0.0.1" in conn or "localhost" in conn:
            options["api_version"] = QUEUE_API_VERSION
        return QueueClient.from_connection_string(conn, queue_name, **options)
    return QueueClient(settings.queue_service_uri, queue_name, credential=_credential(settings), **options)


def ensure_table(service, table_name: str):
    """Return a TableClient, creating the table on first use in this process."""
    from azure.core.exceptions import ResourceExistsError

    key = (table_name, service.url)
    if key not in _KNOWN_TABLES:
        try:
            service.create_table(table_name)
            logger.info("created table %s", table_name)
        except ResourceExistsError:
            pass
        _KNOWN_TABLES.add(key)
    return service.get_table_client(table_name)


_KNOWN_TABLES: set[tuple[str, str]] = set()
