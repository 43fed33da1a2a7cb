"""`run.py client ...`: the bots' API clients (create, list, revoke).

`create` is the only place a token or a signing secret is ever printed: once,
to the operator who made it. `list` shows neither.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from api.deliver_to import BadHost, normalized_host
from commands.database import add_db_argument, open_log_for_writing
from commands.export import timestamp
from store import StoreError
from store.clients import ApiClients, UnknownClient
from store.clients_of import clients_of


# A client's name is for people, in tables and on the operator page.
MAX_NAME = 128


def register(subcommands: Any) -> None:
    parser = subcommands.add_parser("client", help="create, list and revoke the bots' API clients")
    verbs = parser.add_subparsers(dest="verb", metavar="VERB", required=True)
    create = verbs.add_parser(
        "create",
        help="create a client and print its token and webhook signing secret (shown this once only)",
        description="Create an API client (a bot). Its token and webhook signing secret are printed once.",
    )
    create.add_argument(
        "name", type=_client_name, metavar="NAME",
        help=f"a name for people (need not be unique): 1 to {MAX_NAME} printable characters, not only spaces",
    )
    create.add_argument("--admin", action="store_true", help="the client sees and changes every conversation")
    create.add_argument(
        "--allow-host",
        action="append",
        default=[],
        metavar="HOST",
        help="a webhook host the client may use as DeliverTo (repeat for more); with none, any host the default rule accepts",
    )
    create.set_defaults(run=_guarded(_create))
    listing = verbs.add_parser("list", help="list the clients: id, name, admin, created, revoked (never a token)")
    listing.set_defaults(run=_guarded(_list))
    revoke = verbs.add_parser("revoke", help="refuse a client's token from now on")
    revoke.add_argument("id", metavar="ID")
    revoke.set_defaults(run=_guarded(_revoke))
    for verb in (create, listing, revoke):
        add_db_argument(verb)


def _client_name(text: str) -> str:
    """A name `client list`, `status` and the operator page show on one line: printable, not blank."""
    if not text.strip() or len(text) > MAX_NAME or not text.isprintable():
        raise argparse.ArgumentTypeError(
            f"{text[:MAX_NAME]!r} is not a client's name: 1 to {MAX_NAME} printable characters, not only spaces"
        )
    return text


def _guarded(run: Any) -> Any:
    def guarded(args: argparse.Namespace) -> int:
        try:
            return run(args)
        except (UnknownClient, StoreError) as error:
            print(f"client {args.verb}: {error}", file=sys.stderr)
            return 2
        except BadHost as error:
            print(f"client {args.verb}: --allow-host: {error}", file=sys.stderr)
            return 2

    return guarded


@contextmanager
def _registry(args: argparse.Namespace) -> Iterator[ApiClients]:
    """The clients beside the log `--db` or `--config` names: in the SQLite file, or in the DynamoDB
    table where every node of the service finds them."""
    with open_log_for_writing(args) as store, clients_of(store) as registry:
        yield registry


def _create(args: argparse.Namespace) -> int:
    hosts = tuple(_checked_host(host) for host in args.allow_host)
    with _registry(args) as registry:
        made = registry.create(args.name, admin=args.admin, allowed_hosts=hosts)
    print(f"client {made.client.id} ({made.client.name}{', admin' if made.client.admin else ''})")
    print(f"token           {made.token}")
    print(f"signing secret  {made.signing_secret}")
    print("Keep both now: they are stored so that they cannot be shown again.")
    return 0


def _checked_host(host: str) -> str:
    """The host as DeliverTo's check compares it; ValueError (BadHost) for what is no host."""
    return normalized_host(host)


def _list(args: argparse.Namespace) -> int:
    with _registry(args) as registry:
        clients = registry.list()
    for client in clients:
        revoked = f"revoked {timestamp(client.revoked_at)}" if client.revoked_at is not None else "active"
        hosts = f"  hosts {','.join(client.allowed_hosts)}" if client.allowed_hosts else ""
        print(
            f"{client.id}  {client.name}  {'admin' if client.admin else 'bot'}  "
            f"created {timestamp(client.created_at)}  {revoked}{hosts}"
        )
    return 0


def _revoke(args: argparse.Namespace) -> int:
    with _registry(args) as registry:
        client = registry.get(args.id)
        registry.revoke(client.id)
    print(f"revoked {client.id} ({client.name})")
    return 0
