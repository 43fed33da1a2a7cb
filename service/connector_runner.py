"""How a conversation calls a connector by its alias: found in the event store, run by the executor.

The executor used while a conversation waits has a tighter time limit than the connectors' default
(`CONVERSATION_CONFIG`: 2 s to connect, 3 s to read, one try), so a slow translator costs a message
at most about 5 s before it goes as written, and a slow SES at most as much before the agent hears.
`endpoints` sends a service's calls elsewhere than AWS (by the connector's `Endpoint`: "Translate",
"SES"): the embedded default points both at its local Amazon Connect.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from botocore.config import Config

from actors.worker_tools import ToolError
from connectors.credentials import CredentialsResolver, default_chain
from connectors.errors import ConnectorFailed
from connectors.executor import ConnectorExecutor
from store import EventStore
from store.connectors import ConnectorRegistry, UnknownConnector

CONVERSATION_CONFIG = Config(connect_timeout=2, read_timeout=3, retries={"mode": "standard", "total_max_attempts": 1})


class ConnectorRunner:
    """`run_connector` for `WorkerTools`: (alias, input, region=, client_token=) -> the connector's output."""

    def __init__(
        self,
        store: EventStore,
        *,
        credentials: CredentialsResolver = default_chain,
        endpoints: Mapping[str, str] | None = None,
        config: Config = CONVERSATION_CONFIG,
    ) -> None:
        self._connectors = ConnectorRegistry(store)
        self._executor = ConnectorExecutor(credentials, config=config)
        self._endpoints = dict(endpoints or {})

    def __call__(self, alias: str, input: dict[str, Any], *, region: str, client_token: str) -> dict[str, Any]:
        try:
            _, connector = self._connectors.by_alias(alias)
        except UnknownConnector:
            raise ToolError("NoSuchConnector", f"no connector has the alias {alias!r}") from None
        try:
            return self._executor.execute(
                connector, input, region=region, endpoint_url=self._endpoints.get(connector.endpoint),
                idempotency_key=client_token,
            )
        except ConnectorFailed as failure:
            raise ToolError(failure.code, failure.message) from None
