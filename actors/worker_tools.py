"""What a conversation needs from outside it, besides Amazon Connect: its worker's content items,
connectors (a slash command's `executeApi` action, translation) and short links. The conversation
actor calls these; the pure core decides what comes of the answers.

`run_connector(alias, input, region=..., client_token=...) -> output` is the connectors' door: the
service passes one that finds the connector by its alias and calls it (connectors/); without one,
a connector is "not available" (ToolError NoConnectors) and the agent is told.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from typing import Any, TypeVar

from actors.short_links import Secret, shorten_links
from events.conversation_events import ShortLinkRule
from store.content import ContentRegistry

log = logging.getLogger(__name__)

RunConnector = Callable[..., dict[str, Any]]
F = TypeVar("F", bound=Callable[..., Any])


class ToolError(Exception):
    """Something a conversation asked for could not be had: `code` is stable, `message` is for
    people (the agent may be shown it) and never holds a secret."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


def _only_tool_errors(method: F) -> F:
    """Whatever goes wrong in a tool (a bug, a store or file error) is a ToolError to its caller, so a
    conversation's actor treats it like any failed tool (the message goes as written, the agent is
    told) instead of stopping on it, and the cause is logged once with its traceback."""

    @functools.wraps(method)
    def guarded(*args: Any, **kwargs: Any) -> Any:
        try:
            return method(*args, **kwargs)
        except ToolError:
            raise
        except Exception as error:
            log.exception("%s failed", method.__name__)
            raise ToolError("Unexpected", f"{type(error).__name__} in the worker's {method.__name__}; see the service log") from None

    return guarded  # type: ignore[return-value]


class WorkerTools:
    def __init__(
        self,
        content: ContentRegistry,
        run_connector: RunConnector | None = None,
        secret: Secret = lambda reference: None,
    ) -> None:
        """`secret(reference)`: the value of a vault reference (the short-link API's key), or None."""
        self._content = content
        self._run_connector = run_connector
        self._secret = secret

    @_only_tool_errors
    def shorten(self, rule: ShortLinkRule, links: list[str]) -> dict[str, str]:
        """The short forms that could be had, by link (see actors/short_links.py)."""
        return shorten_links(rule, links, self._secret)

    @_only_tool_errors
    def content(self, worker_id: str, key: str) -> str:
        text = self._content.get(worker_id, key)
        if text is None:
            raise ToolError("NoSuchContent", f"this worker has no content item {key!r}")
        return text

    @_only_tool_errors
    def run_connector(self, alias: str, input: dict[str, Any], *, region: str, client_token: str) -> dict[str, Any]:
        if self._run_connector is None:
            raise ToolError("NoConnectors", "this service runs no connectors")
        return self._run_connector(alias, input, region=region, client_token=client_token)

    @_only_tool_errors
    def translate(self, alias: str, text: str, source: str, target: str, *, region: str, client_token: str) -> str:
        """`text` through the translation connector `alias` (the seed's translateText mapping: Text,
        SourceLanguageCode and TargetLanguageCode in; TranslatedText out)."""
        request = {"Text": text, "SourceLanguageCode": source, "TargetLanguageCode": target}
        output = self.run_connector(alias, request, region=region, client_token=client_token)
        translated = output.get("TranslatedText")
        if not isinstance(translated, str) or not translated.strip():
            raise ToolError("NoTranslation", f"the connector {alias!r} answered no TranslatedText")
        return translated
