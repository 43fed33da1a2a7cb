"""The worker's tools fail only with ToolError, whatever goes wrong inside them, so a conversation's
actor goes on (the message as written, the agent told) instead of stopping on a bug or a bad file."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from actors.worker_tools import ToolError, WorkerTools
from events.conversation_events import ShortLinkRule
from store import EventStore
from store.content import ContentRegistry


@pytest.fixture
def store(tmp_path: Path) -> Iterator[EventStore]:
    with EventStore.open(tmp_path / "events.db") as opened:
        yield opened


def tools(store: EventStore, **options: Any) -> WorkerTools:
    return WorkerTools(ContentRegistry(store), **options)


def broken_connector(alias: str, input: dict[str, Any], **where: Any) -> dict[str, Any]:
    raise RuntimeError("a bug in the connector code")


def test_an_unexpected_error_in_a_tool_is_a_tool_error_and_logged(store: EventStore, caplog: pytest.LogCaptureFixture) -> None:
    with pytest.raises(ToolError) as caught:
        tools(store, run_connector=broken_connector).translate("T", "hola", "es", "en", region="us-east-1", client_token="t")
    assert caught.value.code == "Unexpected" and "RuntimeError" in caught.value.message
    assert "a bug in the connector code" in caplog.text


def test_a_secret_that_cannot_be_read_is_a_tool_error(store: EventStore) -> None:
    def unreadable(reference: str) -> str | None:
        raise ValueError("not a JSON object")

    rule = ShortLinkRule(api="https://sqz.example/standard", api_key_ref="srn:vault::acme:secret:squeeze")
    with pytest.raises(ToolError):
        tools(store, secret=unreadable).shorten(rule, ["https://shop.example/a"])


@pytest.mark.parametrize("answer", [{}, {"TranslatedText": ""}, {"TranslatedText": "  "}, {"TranslatedText": 3}])
def test_a_translation_without_text_is_no_translation(store: EventStore, answer: dict[str, Any]) -> None:
    with pytest.raises(ToolError) as caught:
        tools(store, run_connector=lambda *a, **k: answer).translate("T", "hola", "es", "en", region="r", client_token="t")
    assert caught.value.code == "NoTranslation"


def test_a_tool_error_passes_as_it_is(store: EventStore, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.ERROR)
    with pytest.raises(ToolError) as caught:
        tools(store).content("worker-1", "missing")
    assert caught.value.code == "NoSuchContent" and caplog.text == ""
