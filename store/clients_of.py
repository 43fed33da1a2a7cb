"""Which registry keeps a log's API clients: the one beside the log, so that whoever can read the log
knows its bots. An SQLite log keeps them in its file (`ClientRegistry`); a DynamoDB log in its table
(`DynamoClientRegistry`), where every node sharing the table finds them."""

from __future__ import annotations

from store.clients import ApiClients, ClientRegistry
from store.dynamo_clients import DynamoClientRegistry
from store.dynamo_event_store import DynamoEventStore
from store.event_log import EventLog


def clients_of(log: EventLog) -> ApiClients:
    """The API clients that go with `log` (close them before the log)."""
    if isinstance(log, DynamoEventStore):
        return DynamoClientRegistry(log.client, log.table)
    return ClientRegistry(log.path)
