"""The create/get/list/update/delete verbs that `run.py connector` and `run.py worker` share: each
reads FILE.json or an ID, asks the kind's registry in the event store, and turns the typed errors into
a message on stderr and exit code 2."""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Generic, Protocol, TypeVar

from commands.database import add_db_argument, open_log_for_writing
from events.rejection import Rejected
from store import StoreError
from store.event_log import EventLog

Config = TypeVar("Config")


class Registry(Protocol[Config]):
    def create(self, config: Config, /, *, at: float) -> str: ...
    def get(self, id: str, /) -> Config: ...
    def list(self) -> dict[str, Config]: ...
    def update(self, id: str, config: Config, /, *, at: float) -> object: ...
    def delete(self, id: str, /, *, at: float) -> object: ...


@dataclass(frozen=True)
class RegistryVerbs(Generic[Config]):
    """The five verbs for one kind of configuration kept in a registry (a connector, a worker).

    >>> WORKERS = RegistryVerbs(noun="worker", columns="ID, name, enabled, region", registry=WorkerRegistry, ...)
    >>> WORKERS.register(verbs)  # create, get, list, update, delete
    >>> WORKERS.add_verb(verbs, "validate", "check FILE.json", ("file",)).set_defaults(run=WORKERS.guarded(_validate))
    """

    noun: str
    columns: str
    registry: Callable[[EventLog], Registry[Config]]
    parse: Callable[[bytes], Config]
    encode: Callable[[Config], bytes]
    row: Callable[[str, Config], str]
    invalid: type[ValueError]
    errors: tuple[type[Exception], ...]
    # What more `update` says, given the configuration before, the one after and what the registry's
    # update returned (None: nothing more).
    updated: Callable[[Config, Config, Any], str | None] = lambda before, after, result: None
    # What still uses a configuration, which `delete` refuses to leave behind unless `--force` (None:
    # nothing can); raises an error of `errors` naming it.
    in_use: Callable[[EventLog, str], None] | None = None

    def register(self, verbs: Any) -> None:
        for name, help_text, run, arguments in (
            ("create", f"store a {self.noun} from FILE.json and print its new ID", self._create, ("file",)),
            ("get", f"print a {self.noun}'s configuration", self._get, ("id",)),
            ("list", f"list the {self.noun}s: {self.columns}", self._list, ()),
            ("update", f"replace a {self.noun}'s configuration with FILE.json", self._update, ("id", "file")),
            ("delete", f"delete a {self.noun}", self._delete, ("id",)),
        ):
            verb = self.add_verb(verbs, name, help_text, arguments)
            add_db_argument(verb)
            verb.set_defaults(run=self.guarded(run))
            if name == "delete" and self.in_use is not None:
                verb.add_argument(
                    "--force", action="store_true", help=f"delete the {self.noun} even while something still uses it"
                )

    @staticmethod
    def add_verb(verbs: Any, name: str, help_text: str, arguments: tuple[str, ...]) -> argparse.ArgumentParser:
        verb = verbs.add_parser(name, help=help_text, description=help_text)
        for argument in arguments:
            verb.add_argument(argument, type=Path if argument == "file" else str, metavar=argument.upper())
        return verb

    def guarded(self, run: Callable[[argparse.Namespace], int]) -> Callable[[argparse.Namespace], int]:
        """Turn the typed errors of this kind into a message and exit code 2."""

        def guarded(args: argparse.Namespace) -> int:
            try:
                return run(args)
            except self.invalid as error:
                for problem in error.problems:
                    print(f"{args.file}: {problem}", file=sys.stderr)
                return 2
            except (StoreError, *self.errors) as error:
                print(f"{self.noun} {args.verb}: {error}", file=sys.stderr)
                return 2
            except Rejected as rejection:
                print(f"{self.noun} {args.verb}: {rejection.message}", file=sys.stderr)
                return 2
            except OSError as error:
                print(f"{self.noun} {args.verb}: {error.filename}: {error.strerror}", file=sys.stderr)
                return 2

        return guarded

    def read_config(self, path: Path) -> Config:
        return self.parse(path.read_bytes())

    @contextmanager
    def opened(self, args: argparse.Namespace) -> Iterator[Registry[Config]]:
        with open_log_for_writing(args) as store:
            yield self.registry(store)

    def _create(self, args: argparse.Namespace) -> int:
        config = self.read_config(args.file)
        with self.opened(args) as registry:
            print(registry.create(config, at=time.time()))
        return 0

    def _get(self, args: argparse.Namespace) -> int:
        with self.opened(args) as registry:
            print(self.encode(registry.get(args.id)).decode())
        return 0

    def _list(self, args: argparse.Namespace) -> int:
        with self.opened(args) as registry:
            configs = registry.list()
        for config_id, config in configs.items():
            print(self.row(config_id, config))
        return 0

    def _update(self, args: argparse.Namespace) -> int:
        config = self.read_config(args.file)
        with self.opened(args) as registry:
            before = registry.get(args.id)
            result = registry.update(args.id, config, at=time.time())
        print(f"updated {args.id}")
        if (more := self.updated(before, config, result)) is not None:
            print(more)
        return 0

    def _delete(self, args: argparse.Namespace) -> int:
        with open_log_for_writing(args) as store:
            registry = self.registry(store)
            registry.get(args.id)  # an unknown id is said as such first
            if self.in_use is not None and not args.force:
                self.in_use(store, args.id)
            registry.delete(args.id, at=time.time())
        print(f"deleted {args.id}")
        return 0
