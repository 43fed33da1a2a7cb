"""`run.py secret ...`: the vault's secrets, in the local vault beside the event store (`--db`) or in
AWS Secrets Manager (`--backend secretsmanager --region R`), as `serve`'s `vault` section picks.

    python run.py secret put srn:vault::acme:secret:squeeze < key.txt
    python run.py secret put srn:vault::acme:aws-cross-account-role:connect --file role.json
    python run.py secret list
    python run.py secret get srn:vault::acme:secret:squeeze [--show-value]
    python run.py secret delete srn:vault::acme:secret:squeeze

A value comes from stdin (asked for without echo on a terminal) or `--file`, never from the command
line, where the shell's history and `ps` would keep it; its text form is `vault.values`'. Nothing
prints a value but `get --show-value`.
"""

from __future__ import annotations

import argparse
import getpass
import sys
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

from commands.database import add_db_argument, local_store_path, open_store_for_writing
from commands.vault_options import BadArgument, add_backend_arguments, vault_config
from service.serve_config import LocalVaultConfig, VaultConfig, open_vault
from store import StoreError
from vault import TYPES, Vault, VaultError, VaultRef, parse_reference, parse_value, serialize_value

REFERENCE_HELP = f"a vault reference srn:vault::ORG:TYPE:ALIAS (TYPE: {', '.join(TYPES)})"


def register(subcommands: Any) -> None:
    parser = subcommands.add_parser("secret", help="put, show, list and delete the vault's secrets")
    verbs = parser.add_subparsers(dest="verb", metavar="VERB", required=True)
    put = verbs.add_parser(
        "put",
        help="store (or replace) the value of a reference, read from stdin or --file",
        description="Store or replace the value of REF, read from stdin (or --file), never from the command line."
        " A secret is the text itself (one final line end is dropped); a secretdoc a JSON object;"
        ' a cross-account role {"RoleArn": "arn:aws:iam::<12 digits>:role/<name>", "ExternalId": "..."}.',
    )
    put.add_argument("reference", metavar="REF", help=REFERENCE_HELP)
    put.add_argument("--file", type=Path, help="a UTF-8 file holding the value (default: stdin)")
    put.set_defaults(run=_guarded(_put))
    get = verbs.add_parser("get", help="show what is known of a reference; its value only with --show-value")
    get.add_argument("reference", metavar="REF", help=REFERENCE_HELP)
    get.add_argument("--show-value", action="store_true", help="print the value alone, in the form put reads")
    get.set_defaults(run=_guarded(_get))
    listing = verbs.add_parser("list", help="list the references stored: reference, type, last updated (never a value)")
    listing.set_defaults(run=_guarded(_list))
    delete = verbs.add_parser("delete", help="delete a reference and its value for good")
    delete.add_argument("reference", metavar="REF", help=REFERENCE_HELP)
    delete.set_defaults(run=_guarded(_delete))
    for verb in (put, get, listing, delete):
        _add_backend_arguments(verb)


def _add_backend_arguments(parser: argparse.ArgumentParser) -> None:
    add_db_argument(parser)
    add_backend_arguments(parser)


def _guarded(run: Any) -> Any:
    def guarded(args: argparse.Namespace) -> int:
        try:
            return run(args)
        except (VaultError, BadArgument, StoreError) as error:
            print(f"secret {args.verb}: {error}", file=sys.stderr)
            return 2
        except OSError as error:
            print(f"secret {args.verb}: {error.filename}: {error.strerror}", file=sys.stderr)
            return 2

    return guarded


@contextmanager
def _vault(config: VaultConfig, db: Path) -> Iterator[Vault]:
    with ExitStack() as stack:
        if isinstance(config, LocalVaultConfig):
            # The local vault lives in the store's file: made (owner-only) and checked first.
            stack.enter_context(open_store_for_writing(db))
        yield open_vault(config, db)


def _reference(args: argparse.Namespace) -> VaultRef:
    return parse_reference(args.reference, where="REF")


def _put(args: argparse.Namespace) -> int:
    reference = _reference(args)
    config = vault_config(args)
    value = parse_value(reference, _read_value(args, reference))
    with _vault(config, local_store_path(args)) as vault:
        vault.put(reference, value)
    print(f"put {reference}")
    return 0


def _get(args: argparse.Namespace) -> int:
    reference = _reference(args)
    with _vault(vault_config(args), local_store_path(args)) as vault:
        info = vault.describe(reference)
        # Read even when it is not shown: an entry that cannot be decrypted or parsed is told now.
        value = vault.get(reference)
    if args.show_value:
        print(serialize_value(reference, value))
        return 0
    print(f"reference  {reference}")
    print(f"type       {reference.type}")
    print(f"created    {_when(info.created)}")
    print(f"updated    {_when(info.updated)}")
    print("value      hidden (--show-value prints it)")
    return 0


def _list(args: argparse.Namespace) -> int:
    with _vault(vault_config(args), local_store_path(args)) as vault:
        infos = vault.list()
    for info in infos:
        print(f"{info.reference}  {info.reference.type}  {_when(info.updated)}")
    return 0


def _delete(args: argparse.Namespace) -> int:
    reference = _reference(args)
    with _vault(vault_config(args), local_store_path(args)) as vault:
        vault.delete(reference)
    print(f"deleted {reference}")
    return 0


def _read_value(args: argparse.Namespace, reference: VaultRef) -> str:
    """The value's text, from --file or stdin, less one final line end (`echo KEY |` adds one)."""
    if args.file is not None:
        source, raw = f"--file {args.file}", args.file.read_bytes()
    elif sys.stdin.isatty():
        source, raw = "stdin", getpass.getpass(f"value of {reference} (not shown): ").encode()
    else:
        source, raw = "stdin", sys.stdin.buffer.read()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        raise BadArgument(f"{source}: not UTF-8 (byte {error.start})") from None
    text = _without_final_line_end(text)
    if not text:
        raise BadArgument(f"{source}: no value; put reads it from stdin or --file")
    return text


def _without_final_line_end(text: str) -> str:
    for end in ("\r\n", "\n"):
        if text.endswith(end):
            return text[: -len(end)]
    return text


def _when(at: datetime) -> str:
    return at.strftime("%Y-%m-%dT%H:%M:%SZ")
