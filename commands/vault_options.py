"""Which vault a command reads: the options `secret`, `worker policy` and `doctor` share.

    python run.py secret list                                             # the local vault in --db's file
    python run.py secret list --backend secretsmanager --region eu-west-2
    python run.py secret list --config serve.json                         # the vault serve's configuration names
"""

from __future__ import annotations

import argparse

from service.serve_config import LocalVaultConfig, SecretsManagerVaultConfig, VaultConfig


class BadArgument(ValueError):
    """An argument or input the command refuses; the message names it."""


def add_backend_arguments(parser: argparse.ArgumentParser) -> None:
    """`--backend`, `--region`, `--endpoint-url` (the local vault's file is the store's, `--db`)."""
    parser.add_argument(
        "--backend",
        choices=("local", "secretsmanager"),
        default="local",
        help="local: encrypted in the store's file, its key beside it (default); secretsmanager: AWS Secrets Manager",
    )
    parser.add_argument("--region", help="Secrets Manager's region (with --backend secretsmanager)")
    parser.add_argument("--endpoint-url", help="another Secrets Manager endpoint (with --backend secretsmanager)")


def vault_config(args: argparse.Namespace) -> VaultConfig:
    """The vault the options name, or with `--config` (commands/database.py) the one serve's
    configuration names; `BadArgument` for options that do not go together."""
    if args.config is not None:
        if args.backend != "local" or args.region is not None or args.endpoint_url is not None:
            raise BadArgument("--config names the vault: leave out --backend, --region and --endpoint-url")
        return args.config.config.vault
    if args.backend == "secretsmanager":
        if args.region is None:
            raise BadArgument("--region: required with --backend secretsmanager")
        return SecretsManagerVaultConfig(region=args.region, endpoint_url=args.endpoint_url)
    if args.region is not None or args.endpoint_url is not None:
        raise BadArgument("--region and --endpoint-url go with --backend secretsmanager")
    return LocalVaultConfig()
