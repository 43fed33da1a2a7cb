"""`run.py connector ...`: create, read, change and delete connectors (the seed's "BaaS")."""

from __future__ import annotations

from typing import Any

from commands.registry_verbs import RegistryVerbs
from connectors.config import ConnectorConfig, InvalidConnectorConfig, encode_connector_config, parse_connector_config
from store.connectors import ConnectorRegistry, UnknownConnector


def _row(connector_id: str, config: ConnectorConfig) -> str:
    return f"{connector_id}  {config.alias}  {config.type}  {config.endpoint}.{config.method}"


CONNECTORS = RegistryVerbs(
    noun="connector",
    columns="ID, alias, type, endpoint.method",
    registry=ConnectorRegistry,
    parse=parse_connector_config,
    encode=encode_connector_config,
    row=_row,
    invalid=InvalidConnectorConfig,
    errors=(UnknownConnector,),
)


def register(subcommands: Any) -> None:
    parser = subcommands.add_parser("connector", help="create, show, change and delete connectors")
    CONNECTORS.register(parser.add_subparsers(dest="verb", metavar="VERB", required=True))
