"""The thin I/O half of a connector: its AWS operation called through boto3.

    >>> executor = ConnectorExecutor()            # boto3's default credential chain (serve passes the vault's)
    >>> executor.execute(translate, {"Text": "hello", "SourceLanguageCode": "en",
    ...                              "TargetLanguageCode": "es"}, region="us-east-1")
    {'TranslatedText': 'hola', 'SourceLanguageCode': 'en', 'TargetLanguageCode': 'es'}

Everything `execute` raises is a `ConnectorFailed`. The boto3 clients are made once per
(Credentials, service, region, endpoint) and shared: they are thread-safe, so one executor serves
every conversation's actor.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from typing import Any

from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from connectors.aws_operations import AwsOperation, UnknownOperation, find_operation
from connectors.config import ConnectorConfig
from connectors.credentials import CredentialsResolver, default_chain
from connectors.errors import ConnectorFailed, failure_from_botocore
from connectors.mapping import build_request, map_response

# A connector runs while a conversation waits (a message to translate): bounded tries and timeouts.
DEFAULT_CONFIG = Config(connect_timeout=5, read_timeout=10, retries={"mode": "standard", "total_max_attempts": 3})


class ConnectorExecutor:
    """Runs connectors: builds the request, calls the operation with boto3, maps the answer."""

    def __init__(self, credentials: CredentialsResolver = default_chain, *, config: Config = DEFAULT_CONFIG) -> None:
        self._credentials = credentials
        self._config = config
        self._clients: dict[tuple[str, str, str, str | None], Any] = {}
        self._lock = threading.Lock()

    def execute(
        self,
        connector: ConnectorConfig,
        input: Mapping[str, Any],
        *,
        region: str,
        endpoint_url: str | None = None,
        idempotency_key: str | None = None,
    ) -> dict[str, Any]:
        """Run `connector` on `input` in `region` (at `endpoint_url` instead of AWS's, if given); its output.

        `idempotency_key` (derived from the conversation's log, so a retry after a crash carries the
        same one) becomes the operation's idempotency token where botocore's model has one
        (`ClientToken`); TranslateText and SES SendEmail have none (see the README).
        """
        operation = _operation(connector)
        request = with_idempotency_key(build_request(connector, input), operation, idempotency_key)
        client = self._client(connector.credentials, operation.service, region, endpoint_url)
        try:
            response = getattr(client, operation.python_method)(**request)
        except (BotoCoreError, ClientError) as error:
            raise failure_from_botocore(error, f"{operation.model.service_model.service_id} {operation.name}") from None
        return map_response(connector, response)

    def _client(self, reference: str, service: str, region: str, endpoint_url: str | None) -> Any:
        key = (reference, service, region, endpoint_url)
        with self._lock:  # boto3 sessions are not thread-safe; the clients they make are
            if key not in self._clients:
                session = self._credentials(reference)
                self._clients[key] = session.client(
                    service, region_name=region, endpoint_url=endpoint_url, config=self._config
                )
            return self._clients[key]


def with_idempotency_key(request: dict[str, Any], operation: AwsOperation, key: str | None) -> dict[str, Any]:
    """The request with `key` as the operation's idempotency token, unless the mapping set one."""
    member = operation.idempotency_member
    if key is None or member is None or member in request:
        return request
    return {**request, member: key}


def _operation(connector: ConnectorConfig) -> AwsOperation:
    try:
        return find_operation(connector.endpoint, connector.method)
    except UnknownOperation as unknown:  # a connector stored before boto3 lost the operation
        raise ConnectorFailed("unknown_operation", f"{unknown.field}: {unknown.message}") from None
