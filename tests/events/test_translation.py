"""Translation in the pure core: a bot's message is translated (an intent with its outcome) before it
is sent, in order, and goes as written when translation fails; an agent's message is translated by
the shell when `egress_plan` says so, and recorded with its original."""

from __future__ import annotations

import msgspec

from events import egress_plan, pending_effects
from events.conversation_decide import EgressPlan
from events.commands import ChatEndedReceived, ConnectMessageReceived, UserMessageTranslationDone, UserSays
from events.conversation_events import (
    AgentMessageReceived,
    ErrorDetail,
    MessageRefused,
    MessageTranslated,
    ShortLinkRule,
    TranslationRule,
    UserMessageRequested,
)
from events.effects import SendMessage, TranslateUserMessage
from events.slash_commands import SlashAction, SlashCommandRule
from tests.events.scenario import Run, of_type

INGRESS = TranslationRule(connector_alias="IngressTranslateBaas", source_language_code="es", target_language_code="en")
EGRESS = TranslationRule(connector_alias="EgressTranslateBaas", source_language_code="en", target_language_code="es")


def translated_chat(**options: object) -> Run:
    return Run().connected(ingress_translation=INGRESS, egress_translation=EGRESS, **options).with_agent()


def sends(run: Run) -> list[str]:
    return [e.text for e in pending_effects(run.state) if isinstance(e, SendMessage)]


def test_a_bot_message_is_translated_before_it_is_sent_and_the_bot_is_told_both() -> None:
    run = translated_chat()
    run(UserSays(at=3, bot_message_id="b-1", text="hola"))
    [translate] = pending_effects(run.state)
    assert isinstance(translate, TranslateUserMessage)
    assert (translate.rule, translate.text) == (INGRESS, "hola")
    events = run(UserMessageTranslationDone(at=4, effect_id=translate.effect_id, translated="hello"))
    [told] = of_type(events, MessageTranslated)
    assert (told.bot_message_id, told.original, told.translated) == ("b-1", "hola", "hello")
    assert sends(run) == ["hello"]


def test_messages_keep_their_order_whatever_order_translations_finish_in() -> None:
    run = translated_chat()
    run(UserSays(at=3, bot_message_id="b-1", text="uno"))
    run(UserSays(at=3, bot_message_id="b-2", text="dos"))
    run(UserSays(at=3, bot_message_id="b-3", text='{"card": 1}', content_type="application/json"))
    first, second, json_card = pending_effects(run.state)
    assert isinstance(first, TranslateUserMessage) and isinstance(second, TranslateUserMessage)
    assert isinstance(json_card, SendMessage), "performed in order: after the translations before it"
    run(UserMessageTranslationDone(at=4, effect_id=second.effect_id, translated="two"))
    run(UserMessageTranslationDone(at=5, effect_id=first.effect_id, error=ErrorDetail(code="Slow", message="timed out")))
    assert sends(run)[1:] == ["uno", "two", '{"card": 1}']
    assert sends(run)[0].startswith("[connect worker] the user's next message could not be translated (Slow")


def test_an_empty_translation_is_a_failed_one() -> None:
    run = translated_chat()
    run(UserSays(at=3, bot_message_id="b-1", text="hola"))
    [translate] = pending_effects(run.state)
    events = run(UserMessageTranslationDone(at=4, effect_id=translate.effect_id, translated=""))
    assert of_type(events, MessageTranslated) == []
    assert sends(run)[1:] == ["hola"]


def test_a_failed_translation_sends_the_original_after_telling_the_agent() -> None:
    run = translated_chat()
    run(UserSays(at=3, bot_message_id="b-1", text="hola"))
    [translate] = pending_effects(run.state)
    error = ErrorDetail(code="ServiceUnavailableException", message="Translate is down")
    events = run(UserMessageTranslationDone(at=4, effect_id=translate.effect_id, error=error))
    texts = [e.text for e in of_type(events, UserMessageRequested)]
    assert texts[0].startswith("[connect worker] the user's next message could not be translated (ServiceUnavailableException")
    assert texts[1:] == ["hola"] and sends(run) == texts
    assert of_type(events, MessageTranslated) == []


def test_a_message_still_being_translated_when_the_chat_ends_is_told_to_the_bot() -> None:
    run = translated_chat()
    run(UserSays(at=3, bot_message_id="b-1", text="hola"))
    events = run(ChatEndedReceived(at=5, message_id="end"))
    assert [(r.bot_message_id, r.code) for r in of_type(events, MessageRefused)] == [("b-1", "ChatEnded")]


def test_the_egress_plan_names_what_the_shell_must_translate() -> None:
    command = ConnectMessageReceived(at=5, message_id="a-1", role="AGENT", display_name="Ana", content="Hello")
    assert egress_plan(translated_chat().state, command) == EgressPlan(translation=EGRESS, short_links=None)
    shortening = ShortLinkRule(api="https://sqz.example/standard", api_key_ref="srn:vault::acme:secret:squeeze")
    assert egress_plan(Run().connected(short_links=shortening).state, command) == EgressPlan(
        translation=None, short_links=shortening
    )
    assert egress_plan(Run().connected().with_agent().state, command) is None, "no EgressTranslationConfig"
    assert egress_plan(translated_chat().state, msgspec.structs.replace(command, role="CUSTOMER")) is None
    assert egress_plan(translated_chat().state, msgspec.structs.replace(command, content_type="application/json")) is None
    commands = (SlashCommandRule(name="/welcome", actions=(SlashAction(type="content", value="w"),)),)
    assert egress_plan(translated_chat(slash_commands=commands).state, msgspec.structs.replace(command, content="/welcome")) is None
    run = translated_chat()
    run(msgspec.structs.replace(command, content="Hola", original_content="Hello"))
    assert egress_plan(run.state, command) is None, "a repeat of a message already recorded"


def test_an_agent_message_is_recorded_translated_with_its_original_or_as_written_with_a_notice() -> None:
    run = translated_chat()
    command = ConnectMessageReceived(at=5, message_id="a-1", role="AGENT", display_name="Ana", content="Hola", original_content="Hello")
    [message] = of_type(run(command), AgentMessageReceived)
    assert (message.content, message.original_content) == ("Hola", "Hello")
    failed = ConnectMessageReceived(
        at=6, message_id="a-2", role="AGENT", display_name="Ana", content="Goodbye",
        translation_error=ErrorDetail(code="NoConnectors", message="this service runs no connectors"),
    )
    events = run(failed)
    assert of_type(events, AgentMessageReceived)[0].content == "Goodbye"
    [told] = [e.text for e in of_type(events, UserMessageRequested) if e.origin == "notice"]
    assert told == "[connect worker] your message reached the user untranslated (NoConnectors: this service runs no connectors)"
