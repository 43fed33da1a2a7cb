"""The subcommands of run.py, one module each.

Every module here exposes `register(subcommands)`, which adds its parser and
sets `run` (a function taking the parsed arguments and returning an exit
code) as the parser's default.
"""

from __future__ import annotations

from types import ModuleType

from commands import connect_local

COMMAND_MODULES: list[ModuleType] = [connect_local]


def default_command() -> int:
    """What `python run.py` does with no arguments: the embedded default."""
    raise SystemExit("run.py: the embedded default is not wired yet; see --help")
