"""What a slash command's actions need from outside the conversation: the worker's content items
and its connectors. The conversation actor calls these; the pure core decides what comes of them.

`run_connector(alias, input, region=..., client_token=...)` is the connectors' door: the service
passes one that finds the connector by alias and calls it (connectors/); without one, an
`executeApi` action fails with the code NoConnectors and the agent is told.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from store.content import ContentRegistry

RunConnector = Callable[..., Any]


class SlashActionError(Exception):
    """An action that could not run: `code` is stable, `message` is for the agent (never a secret)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


class SlashActions:
    def __init__(self, content: ContentRegistry, run_connector: RunConnector | None = None) -> None:
        self._content = content
        self._run_connector = run_connector

    def content(self, worker_id: str, key: str) -> str:
        text = self._content.get(worker_id, key)
        if text is None:
            raise SlashActionError("NoSuchContent", f"this worker has no content item {key!r}")
        return text

    def run_connector(self, alias: str, input: dict[str, Any], *, region: str, client_token: str) -> None:
        if self._run_connector is None:
            raise SlashActionError("NoConnectors", "this service runs no connectors")
        self._run_connector(alias, input, region=region, client_token=client_token)
