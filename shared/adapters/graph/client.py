"""The Microsoft Graph client: the msgraph SDK's request adapter with an azure-identity credential.

msgraph and azure.identity are imported on the first request, never at import time. Importing
msgraph alone takes 0.2 to 0.6 s (msgraph-sdk 1.65.0 on a 2-core machine, warm and cold file
cache), and the app's cold start must not pay for it.
"""

from __future__ import annotations

import asyncio
import json
import logging
import weakref
from dataclasses import dataclass, field
from typing import Any, Callable
from urllib.parse import urlsplit

from shared.adapters.graph.errors import (
    GraphConfigurationError,
    error_from_credential,
    error_from_response,
    error_from_transport,
)

logger = logging.getLogger(__name__)

GRAPH_SCOPE = "https://graph.microsoft.com/.default"
CREDENTIAL_KINDS = ("managed_identity", "client_secret", "certificate")


@dataclass(frozen=True)
class GraphConnection:
    """The Graph and token endpoints and the credential that signs in, built from the settings."""

    base_url: str = "https://graph.microsoft.com/v1.0"
    authority_host: str = "https://login.microsoftonline.com"
    credential: str = "managed_identity"
    tenant_id: str | None = None
    client_id: str | None = None
    client_secret: str | None = field(default=None, repr=False)
    certificate_path: str | None = None
    certificate_password: str | None = field(default=None, repr=False)
    managed_identity_client_id: str | None = None
    authority_ca_file: str | None = None
    timeout_seconds: float = 30.0

    @classmethod
    def from_settings(cls, settings) -> "GraphConnection":
        """Read the GRAPH_* settings. Empty values count as unset, as the Bicep writes '' for unused ones."""

        def secret(value) -> str | None:
            return (value.get_secret_value() or None) if value is not None else None

        client_secret = secret(settings.graph_client_secret)
        certificate_path = str(settings.graph_client_certificate_path or "") or None
        credential = settings.graph_credential
        if credential is None and client_secret:
            credential = "client_secret"
        elif credential is None and certificate_path:
            credential = "certificate"
        elif credential is None:
            credential = "managed_identity"
        return cls(
            base_url=settings.graph_base_url.rstrip("/"),
            authority_host=settings.graph_authority_host.rstrip("/"),
            credential=str(credential),
            tenant_id=settings.graph_tenant_id or None,
            client_id=settings.graph_client_id or None,
            client_secret=client_secret,
            certificate_path=certificate_path,
            certificate_password=secret(settings.graph_client_certificate_password),
            managed_identity_client_id=(settings.graph_managed_identity_client_id
                                        or settings.managed_identity_client_id or settings.graph_client_id or None),
            authority_ca_file=str(settings.graph_authority_ca_file or "") or None,
            timeout_seconds=settings.graph_timeout_seconds,
        )

    def check(self) -> None:
        """Raise GraphConfigurationError naming the first setting that the chosen credential lacks."""
        required = {
            "client_secret": (("GRAPH_TENANT_ID", self.tenant_id), ("GRAPH_CLIENT_ID", self.client_id),
                              ("GRAPH_CLIENT_SECRET", self.client_secret)),
            "certificate": (("GRAPH_TENANT_ID", self.tenant_id), ("GRAPH_CLIENT_ID", self.client_id),
                            ("GRAPH_CLIENT_CERTIFICATE_PATH", self.certificate_path)),
            "managed_identity": (),
        }
        if self.credential not in required:
            raise GraphConfigurationError(
                "signIn", f"GRAPH_CREDENTIAL {self.credential!r} is invalid: use one of {', '.join(CREDENTIAL_KINDS)}"
            )
        for name, value in required[self.credential]:
            if not value:
                raise GraphConfigurationError("signIn", f"{name} is missing; GRAPH_CREDENTIAL={self.credential} needs it")
        if self.client_secret and self.client_secret.startswith("@Microsoft.KeyVault("):
            # The platform leaves the reference text in place when it cannot resolve it.
            raise GraphConfigurationError(
                "signIn", "GRAPH_CLIENT_SECRET is an unresolved Key Vault reference: check that the secret exists "
                "and that the app's identity has the Key Vault Secrets User role",
            )
        if urlsplit(self.base_url).scheme not in ("https", "http") or not urlsplit(self.base_url).hostname:
            raise GraphConfigurationError("signIn", f"GRAPH_BASE_URL {self.base_url!r} is not an absolute URL")


@dataclass(frozen=True)
class GraphResponse:
    status: int
    headers: dict[str, str]
    content: bytes

    def json(self) -> Any:
        """Return the parsed body; raise ValueError when it is not JSON."""
        return json.loads(self.content)


def build_credential(connection: GraphConnection):
    """Create the azure.identity.aio credential that the connection names."""
    options: dict[str, Any] = {"authority": connection.authority_host}
    if connection.authority_ca_file:
        # Extra trusted CA certificates for the token endpoint: tests use a local one with its own certificate.
        options["connection_verify"] = connection.authority_ca_file
    if connection.credential == "client_secret":
        from azure.identity.aio import ClientSecretCredential

        return ClientSecretCredential(connection.tenant_id, connection.client_id, connection.client_secret, **options)
    if connection.credential == "certificate":
        from azure.identity.aio import CertificateCredential

        password = connection.certificate_password.encode() if connection.certificate_password else None
        return CertificateCredential(
            connection.tenant_id, connection.client_id, certificate_path=connection.certificate_path,
            password=password, **options,
        )
    from azure.identity.aio import ManagedIdentityCredential

    return ManagedIdentityCredential(client_id=connection.managed_identity_client_id)


class _Session:
    """One SDK client with its credential and HTTP client, usable only on the event loop that built it."""

    def __init__(self, client, credential, http_client, request_options: list) -> None:
        self.client = client
        self.credential = credential
        self.http_client = http_client
        self.request_options = request_options
        self.token_ready = asyncio.Lock()
        self.has_token = False
        self.in_flight = 0
        self.retired = False

    async def close(self) -> None:
        await self.http_client.aclose()
        await self.credential.close()


class GraphApi:
    """Sends JSON requests to Microsoft Graph through the msgraph SDK and returns the raw responses.

    The SDK's request adapter adds the access token, its telemetry headers and redirects. Two of
    its defaults are turned off for every request:
    - the retry handler, because it resends POSTs, so a sendMail could go out twice. It also
      sleeps up to 180 s per Retry-After. The provisioning service decides on retries instead;
    - parsing into SDK models, because the first parsed Entity model imports about 1,200 modules
      (2.5-3.7 s and 66 MB per process with msgraph-sdk 1.65.0). NativeResponseHandler returns the
      httpx response, and the callers read the few JSON fields they need.

    An SDK client holds an httpx client and an aiohttp session bound to the event loop that
    created them, so one client is kept per event loop.
    """

    def __init__(self, connection: GraphConnection) -> None:
        self.connection = connection
        self._sessions: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _Session] = weakref.WeakKeyDictionary()

    async def request(
        self,
        operation: str,
        method: str,
        locate: Callable[[Any], Any],
        body: dict | None = None,
        *,
        headers: dict[str, str] | None = None,
    ) -> GraphResponse:
        """Send one request and return its response when the status is below 400.

        `locate` receives the GraphServiceClient and returns the SDK request builder of the path,
        for example `lambda graph: graph.users.by_user_id(mailbox).send_mail`. Raises a GraphError:
        GraphThrottled (429), GraphAuthenticationFailed (no token, or 401), GraphTimeout, or
        GraphError with `ambiguous` set when Graph may have carried the request out.
        """
        self.connection.check()
        session = self._current_session()
        session.in_flight += 1
        try:
            await self._ensure_token(session, operation)
            response = await self._send(session, operation, method, locate(session.client), body, headers or {})
            if response.status_code == 401:
                # An expired or revoked token: the next request builds a new credential, which signs in again.
                self._retire(session)
        finally:
            session.in_flight -= 1
            if session.retired and session.in_flight == 0:
                await session.close()

        if response.status_code >= 400:
            raise error_from_response(operation, response.status_code, response.headers, response.content)
        return GraphResponse(response.status_code, dict(response.headers), response.content)

    async def aclose(self) -> None:
        """Close the client of the running event loop (tests and benchmarks, before the loop ends)."""
        session = self._sessions.pop(asyncio.get_running_loop(), None)
        if session is not None:
            await session.close()

    # --- internals -----------------------------------------------------------------------------

    def _current_session(self) -> _Session:
        loop = asyncio.get_running_loop()
        session = self._sessions.get(loop)
        if session is None:
            # Built without an await, so concurrent first requests on one loop share one session.
            session = self._build_session()
            self._sessions[loop] = session
        return session

    def _retire(self, session: _Session) -> None:
        loop = asyncio.get_running_loop()
        if self._sessions.get(loop) is session:
            del self._sessions[loop]
        session.retired = True
        logger.warning("Graph rejected the access token; the next request signs in again")

    def _build_session(self) -> _Session:
        import httpx
        from kiota_abstractions.native_response_handler import NativeResponseHandler
        from kiota_authentication_azure.azure_identity_authentication_provider import (
            AzureIdentityAuthenticationProvider,
        )
        from kiota_http.middleware.options import ResponseHandlerOption, RetryHandlerOption
        from msgraph import GraphServiceClient
        from msgraph.graph_request_adapter import GraphRequestAdapter
        from msgraph.graph_request_adapter import options as graph_middleware_options
        from msgraph_core import GraphClientFactory

        connection = self.connection
        credential = build_credential(connection)
        # Tokens go only to the configured Graph host.
        authentication = AzureIdentityAuthenticationProvider(
            credential, scopes=[GRAPH_SCOPE], allowed_hosts=[urlsplit(connection.base_url).hostname]
        )
        timeout = httpx.Timeout(connection.timeout_seconds, connect=min(10.0, connection.timeout_seconds))
        http_client = GraphClientFactory.create_with_default_middleware(
            client=httpx.AsyncClient(timeout=timeout, http2=True), options=graph_middleware_options
        )
        adapter = GraphRequestAdapter(authentication, client=http_client)
        adapter.base_url = connection.base_url
        options = [ResponseHandlerOption(NativeResponseHandler()), RetryHandlerOption(max_retries=0, should_retry=False)]
        return _Session(GraphServiceClient(request_adapter=adapter), credential, http_client, options)

    async def _ensure_token(self, session: _Session, operation: str) -> None:
        """Get the first token once per session, so concurrent first requests do not each sign in."""
        if session.has_token:
            return
        from azure.core.exceptions import AzureError

        async with session.token_ready:
            if session.has_token:
                return
            try:
                # The same arguments as the SDK's token provider, so it finds this token in the cache.
                await session.credential.get_token(GRAPH_SCOPE, claims=None, enable_cae=True)
            except AzureError as error:
                raise error_from_credential(operation, error) from error
            session.has_token = True

    async def _send(self, session: _Session, operation: str, method: str, builder, body, headers: dict[str, str]):
        import httpx
        from azure.core.exceptions import AzureError
        from kiota_abstractions.method import Method
        from kiota_abstractions.request_information import RequestInformation

        request = RequestInformation(Method(method), builder.url_template, builder.path_parameters)
        request.headers.try_add("Accept", "application/json")
        for name, value in headers.items():
            request.headers.try_add(name, value)
        if body is not None:
            request.set_stream_content(json.dumps(body).encode("utf-8"), "application/json")
        request.add_request_options(session.request_options)
        try:
            return await session.client.request_adapter.send_async(request, None, {})
        except httpx.HTTPError as error:
            raise error_from_transport(operation, error) from error
        except AzureError as error:
            raise error_from_credential(operation, error) from error
