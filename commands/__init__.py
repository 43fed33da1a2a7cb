"""The subcommands of run.py, one module each.

Every module here exposes `register(subcommands)`, which adds its parser and
sets `run` (a function taking the parsed arguments and returning an exit
code) as the parser's default.
"""

from __future__ import annotations

from types import ModuleType

from commands import (
    client, connect_local, connector, content, doctor, events_log, failover, replay, secret, serve, status,
    store_backup, worker,
)

COMMAND_MODULES: list[ModuleType] = [
    worker, failover, content, connector, client, secret, doctor, status, replay, events_log, store_backup,
    connect_local, serve,
]
