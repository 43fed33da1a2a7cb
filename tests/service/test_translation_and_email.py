"""Translation and the seed's /email end to end: the seed's connectors in the event store, the worker
naming them, Translate served by the local Amazon Connect, SES by moto (its sent mail checked)."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from typing import Any

import boto3
import msgspec
import pytest
from moto import mock_aws
from moto.core import DEFAULT_ACCOUNT_ID
from moto.ses import ses_backends

from connectors.config import parse_connector_config
from events.worker_config import SlashCommand, SlashCommandAction, TranslationConfig
from store.connectors import ConnectorRegistry
from store.workers import WorkerRegistry
from tests.connect_local.configs import config_with
from tests.connectors.seeds import EMAIL_FILE, seed_translate
from tests.service.conftest import Bot, Running
from tests.service.harness import events_of, of_type, wait_for
from tests.service.test_slash_commands import accepted_chat, agent_api, customer_lines

SEED_SOURCE = "YOUR_SOURCE@EMAIL.HERE"


@pytest.fixture
def ses() -> Iterator[Any]:
    """moto's SES in us-east-1 (the demo worker's region), the seed's source address verified; calls to
    the local Amazon Connect pass through moto untouched."""
    with mock_aws():
        boto3.client("ses", region_name="us-east-1").verify_email_identity(EmailAddress=SEED_SOURCE)
        yield ses_backends[DEFAULT_ACCOUNT_ID]["us-east-1"]


def local_translate(connect: Any) -> dict[str, str]:
    return {"Translate": connect.endpoint_url}


def with_connectors_and_worker(running: Running, **data: Any) -> None:
    connectors = ConnectorRegistry(running.store)
    for alias in ("IngressTranslateBaas", "EgressTranslateBaas"):
        connectors.create(parse_connector_config(json.dumps({**seed_translate(), "Alias": alias})), at=time.time())
    connectors.create(parse_connector_config(EMAIL_FILE.read_bytes()), at=time.time())
    workers = WorkerRegistry(running.store)
    config = workers.get(running.worker_id)
    workers.update(running.worker_id, msgspec.structs.replace(config, data=msgspec.structs.replace(config.data, **data)), at=time.time())


TRANSLATING = {
    "ingress_translation_config": TranslationConfig(
        connector_alias="IngressTranslateBaas", source_language_code="es", target_language_code="en"
    ),
    "egress_translation_config": TranslationConfig(
        connector_alias="EgressTranslateBaas", source_language_code="en", target_language_code="es"
    ),
}


def told(bot: Bot, kind: str) -> list[dict[str, Any]]:
    return [m for m in bot.received if m["Type"] == kind]


def test_each_side_reads_the_other_in_its_own_language(start_service: Callable[..., Running], bot: Bot) -> None:
    running = start_service(config_with(agents=[]), connector_endpoints=local_translate)
    with_connectors_and_worker(running, **TRANSLATING)
    contact_id = accepted_chat(running, bot, "tr-1")

    assert running.api.say("tr-1", "m-1", "hola")[0] == 202
    assert running.api.say("tr-1", "m-2", "donde esta mi pedido")[0] == 202
    wait_for(lambda: len(customer_lines(running, contact_id)) == 2, "both messages at Connect")
    assert customer_lines(running, contact_id) == ["hello", "[en] donde esta mi pedido"]
    translated = wait_for(lambda: got if len(got := told(bot, "MessageTranslated")) == 2 else None, "both translations told")
    assert [(m["MessageId"], m["Text"], m["OriginalText"]) for m in translated] == [
        ("m-1", "hello", "hola"),
        ("m-2", "[en] donde esta mi pedido", "donde esta mi pedido"),
    ]

    agent_api(running, "POST", f"{contact_id}/messages", {"Content": "thank you"})
    [answer] = wait_for(lambda: told(bot, "AgentMessage"), "the agent's answer at the bot")
    assert (answer["Text"], answer["OriginalText"]) == ("gracias", "thank you")


def test_a_failing_translator_lets_every_message_through_as_written_in_order(
    start_service: Callable[..., Running], bot: Bot
) -> None:
    running = start_service(config_with(agents=[]), connector_endpoints=local_translate)
    with_connectors_and_worker(running, **TRANSLATING)
    contact_id = accepted_chat(running, bot, "tr-2")
    running.connect.refuse_next(3, "TranslateText", "ServiceUnavailableException", "Translate is down", status=503)

    assert running.api.say("tr-2", "m-1", "hola")[0] == 202
    assert running.api.say("tr-2", "m-2", "gracias")[0] == 202
    lines = wait_for(lambda: got if len(got := customer_lines(running, contact_id)) == 4 else None, "four lines at Connect")
    assert [line for line in lines if not line.startswith("[connect worker]")] == ["hola", "gracias"]
    assert lines[0].startswith("[connect worker] the user's next message could not be translated (ServiceUnavailableException")
    agent_api(running, "POST", f"{contact_id}/messages", {"Content": "thank you"})
    [answer] = wait_for(lambda: told(bot, "AgentMessage"), "the agent's answer at the bot")
    assert answer["Text"] == "thank you" and "OriginalText" not in answer
    wait_for(lambda: any("reached the user untranslated" in line for line in customer_lines(running, contact_id)), "the notice")


def test_the_seeds_email_command_sends_through_ses_to_the_address_in_context(
    start_service: Callable[..., Running], bot: Bot, ses: Any
) -> None:
    running = start_service(config_with(agents=[]))
    email = SlashCommand(actions=[SlashCommandAction(type="executeApi", value="sendEmail")], description="Send an email to the customer")
    with_connectors_and_worker(running, slash_commands={"/email": email})
    assert running.api.transfer("mail-1", running.worker_id, DeliverTo=bot.url, Context={"name": "Maya", "email": "maya@example.com"})[0] == 201
    wait_for(lambda: of_type(events_of(running.store, "mail-1"), "ConnectionOpened"), "the chat's socket")
    contact_id = running.service.state("mail-1").chat.contact_id
    agent_api(running, "POST", f"{contact_id}/accept", {"AgentName": "Ana"})

    agent_api(running, "POST", f"{contact_id}/messages", {"Content": "/email"})
    assert wait_for(lambda: customer_lines(running, contact_id), "the outcome, to the agent") == [
        "[connect worker] /email: sendEmail done"
    ]
    [sent] = ses.sent_messages
    assert (sent.destinations, sent.source, sent.subject) == ({"ToAddresses": ["maya@example.com"]}, SEED_SOURCE, "Subject here")
    assert told(bot, "AgentMessage") == [], "the command never reaches the user"


def test_email_without_an_address_in_context_is_named_to_the_agent(
    start_service: Callable[..., Running], bot: Bot, ses: Any
) -> None:
    running = start_service(config_with(agents=[]))
    email = SlashCommand(actions=[SlashCommandAction(type="executeApi", value="sendEmail")])
    with_connectors_and_worker(running, slash_commands={"/email": email})
    contact_id = accepted_chat(running, bot, "mail-2")
    agent_api(running, "POST", f"{contact_id}/messages", {"Content": "/email"})
    assert wait_for(lambda: customer_lines(running, contact_id), "the refusal, to the agent") == [
        "[connect worker] /email: sendEmail failed (input_missing): RequestMapping.Email: $.email is not in the input"
    ]
    assert ses.sent_messages == []
