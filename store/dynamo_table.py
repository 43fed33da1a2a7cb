"""The DynamoDB table that holds the event log: its keys, the items in it, and how it is created.

One table, a string partition key `pk` and a string sort key `sk`, no index (docs/dynamodb-store.md):

| item | pk | sk | attributes |
|---|---|---|---|
| an event in its stream | `stream#<stream>` | the seq, 12 digits | `position`, `type`, `data`, `recorded_at` |
| the same event in the global order | `log` | the position, 20 digits | `stream`, `seq`, `type`, `data`, `recorded_at` |
| the log's head | `log-head` | `-` | `position`: the last position handed out |
| a stream's head | `streams` | the stream | `version`, `closed_at` (only once closed) |
| an open stream | `open` | the stream | (none: there while the stream is open) |
| a lease (store/leases.py) | `lease` | its name | `owner`, `token`, `expires_at` |

Numbers in sort keys are zero-padded so that the string order is the number order.
"""

from __future__ import annotations

import re
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from store.errors import StoreError

LOG = "log"
LOG_HEAD = {"pk": {"S": "log-head"}, "sk": {"S": "-"}}
STREAM_HEADS = "streams"
OPEN_STREAMS = "open"
_STREAM = "stream#"

# DynamoDB's own rule for a table's name, and the shape of an AWS region's (eu-west-2, us-gov-east-1).
TABLE_NAME = r"^[A-Za-z0-9_.-]{3,255}$"
REGION_NAME = r"^[a-z]{2}(-[a-z]+)+-[0-9]+$"


class DynamoTableError(StoreError):
    """The log's table cannot be used: missing, keyed otherwise, or DynamoDB cannot be reached."""


def event_key(stream: str, seq: int) -> dict[str, Any]:
    return {"pk": {"S": _STREAM + stream}, "sk": {"S": seq_key(seq)}}


def stream_partition(stream: str) -> dict[str, str]:
    return {"S": _STREAM + stream}


def seq_key(seq: int) -> str:
    return f"{seq:012d}"


def log_key(position: int) -> dict[str, Any]:
    return {"pk": {"S": LOG}, "sk": {"S": position_key(position)}}


def position_key(position: int) -> str:
    return f"{position:020d}"


def head_key(stream: str) -> dict[str, Any]:
    return {"pk": {"S": STREAM_HEADS}, "sk": {"S": stream}}


def open_key(stream: str) -> dict[str, Any]:
    return {"pk": {"S": OPEN_STREAMS}, "sk": {"S": stream}}


def dynamodb_client(region: str, endpoint_url: str | None) -> Any:
    """A DynamoDB client with boto3's default credentials; its standard retries resend a transaction
    with the same ClientRequestToken, which DynamoDB applies once."""
    return boto3.client(
        "dynamodb",
        region_name=region,
        endpoint_url=endpoint_url,
        config=Config(retries={"mode": "standard", "max_attempts": 5}, max_pool_connections=32),
    )


def create_table(client: Any, table: str) -> None:
    """Create the log's table (on-demand capacity) and wait until it is active.

    Raises DynamoTableError naming what is wrong: a name DynamoDB would refuse, a table that exists,
    DynamoDB out of reach or refusing.
    """
    if not re.match(TABLE_NAME, table):
        raise DynamoTableError(f"table {table!r}: a DynamoDB table's name is 3 to 255 of A-Z a-z 0-9 _ . -")
    try:
        _create(client, table)
    except client.exceptions.ResourceInUseException:
        raise DynamoTableError(f"DynamoDB table {table!r} exists already: nothing was changed") from None
    except (BotoCoreError, ClientError) as error:
        raise DynamoTableError(f"DynamoDB table {table!r} cannot be created: {error}") from None


def _create(client: Any, table: str) -> None:
    client.create_table(
        TableName=table,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
        AttributeDefinitions=[
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "sk", "AttributeType": "S"},
        ],
        BillingMode="PAY_PER_REQUEST",
    )
    client.get_waiter("table_exists").wait(TableName=table, WaiterConfig={"Delay": 1, "MaxAttempts": 120})


def check_table(client: Any, table: str) -> None:
    """Raise DynamoTableError naming what is wrong if `table` is missing, keyed otherwise than
    `create_table` makes it, or cannot be described (no credentials, no such endpoint, no permission)."""
    try:
        described = client.describe_table(TableName=table)["Table"]
    except client.exceptions.ResourceNotFoundException:
        raise DynamoTableError(
            f"no DynamoDB table {table!r}: create it with `python run.py store create-table --table {table} ...`"
        ) from None
    except (BotoCoreError, ClientError) as error:
        raise DynamoTableError(f"DynamoDB table {table!r} cannot be read: {error}") from None
    keys = {(key["AttributeName"], key["KeyType"]) for key in described["KeySchema"]}
    types = {a["AttributeName"]: a["AttributeType"] for a in described["AttributeDefinitions"]}
    if keys != {("pk", "HASH"), ("sk", "RANGE")} or types.get("pk") != "S" or types.get("sk") != "S":
        raise DynamoTableError(f"DynamoDB table {table!r} is not an event log's table (its keys must be pk and sk, strings)")
