"""`run.py store create-table`: the DynamoDB table that holds the event log when serve's config says
`"store": {"dynamodb": ...}` (docs/dynamodb-store.md)."""

from __future__ import annotations

import argparse
import re
import sys
from typing import Any

from store.dynamo_table import REGION_NAME, TABLE_NAME, DynamoTableError, create_table, dynamodb_client


def add_create_table(verbs: Any) -> None:
    parser = verbs.add_parser(
        "create-table",
        help="create the DynamoDB table for the event log",
        description="Create the DynamoDB table serve's \"store\": {\"dynamodb\": ...} names: keys pk and sk "
        "(strings), on-demand capacity, no index. Signed with boto3's default credentials.",
    )
    parser.add_argument("--table", required=True, help="the table's name (3 to 255 of A-Z a-z 0-9 _ . -)")
    parser.add_argument("--region", required=True, help="the AWS region, such as eu-west-2")
    parser.add_argument("--endpoint-url", help="DynamoDB elsewhere than AWS (a local one)")
    parser.set_defaults(run=run_create_table)


def run_create_table(args: argparse.Namespace) -> int:
    if not re.match(TABLE_NAME, args.table):
        print(f"store create-table: --table {args.table!r} is not a DynamoDB table's name (3 to 255 of A-Z a-z 0-9 _ . -)",
              file=sys.stderr)
        return 2
    if not re.match(REGION_NAME, args.region):
        print(f"store create-table: --region {args.region!r} is not a region's name (such as eu-west-2)", file=sys.stderr)
        return 2
    if args.endpoint_url is not None and not re.match(r"^https?://[^\s/]+", args.endpoint_url):
        print(f"store create-table: --endpoint-url {args.endpoint_url!r} is not an http(s) URL", file=sys.stderr)
        return 2
    try:
        create_table(dynamodb_client(args.region, args.endpoint_url), args.table)
    except DynamoTableError as error:
        print(f"store create-table: {error}", file=sys.stderr)
        return 1
    where = f" at {args.endpoint_url}" if args.endpoint_url else ""
    print(f"created DynamoDB table {args.table} in {args.region}{where}")
    return 0
