"""Agent slash commands in the pure core: never relayed as text, actions in order, each outcome
recorded, what the agent is told, and a connector call made at most once across a restart."""

from __future__ import annotations

from events import pending_effects
from events.commands import SlashActionFailure, SlashActionStarting, SlashActionSucceeded, SlashContentFound
from events.conversation_events import (
    AgentMessageReceived,
    ErrorDetail,
    SlashActionFailed,
    SlashActionRequested,
    SlashCommandReceived,
    SlashContentSent,
    TimerArmed,
    UserMessageRequested,
)
from events.effects import RunSlashAction
from events.slash_commands import SlashAction, SlashCommandRule, command_in, fill_placeholders
from tests.events.scenario import Run, of_type

WELCOME = SlashCommandRule(
    name="/welcome",
    description="A welcome message with the users name",
    actions=(SlashAction(type="content", value="welcomewithname"),),
)
EMAIL = SlashCommandRule(
    name="/email",
    description="Send an email to the customer",
    actions=(SlashAction(type="executeApi", value="sendEmail"), SlashAction(type="content", value="emailsent")),
)
COMMANDS = (WELCOME, EMAIL)


def chat() -> Run:
    return Run().connected(slash_commands=COMMANDS, context={"name": "Maya", "email": "maya@example.com"}).with_agent()


def told_the_agent(events: list) -> list[str]:
    return [e.text for e in of_type(events, UserMessageRequested) if e.origin == "notice"]


def test_a_command_is_recorded_not_relayed_and_runs_its_first_action() -> None:
    run = chat()
    events = run.agent_says("/welcome", at=5, message_id="cmd-1")
    assert of_type(events, AgentMessageReceived) == []
    assert of_type(events, SlashCommandReceived)[0].command == "/welcome"
    [effect] = pending_effects(run.state)
    assert isinstance(effect, RunSlashAction)
    assert (effect.action, effect.worker_id, effect.context["name"]) == (WELCOME.actions[0], "worker-1", "Maya")
    assert run.agent_says("/welcome", at=6, message_id="cmd-1") == [], "the same Connect item again is a repeat"


def test_content_is_sent_to_the_user_with_placeholders_filled_and_restarts_the_timers() -> None:
    run = chat()
    run.agent_says("/welcome", at=5, message_id="cmd-1")
    [effect] = pending_effects(run.state)
    events = run(SlashContentFound(at=6, effect_id=effect.effect_id, template="Welcome, {{name}}!"))
    [sent] = of_type(events, SlashContentSent)
    assert (sent.text, sent.command, sent.agent_name) == ("Welcome, Maya!", "/welcome", "Ana")
    assert {timer.due_at for timer in of_type(events, TimerArmed)} == {16, 26}
    assert pending_effects(run.state) == []



def test_content_goes_with_the_short_links_the_shell_found_and_keeps_the_filled_text_as_written() -> None:
    run = chat()
    run.agent_says("/welcome", at=5, message_id="cmd-1")
    [effect] = pending_effects(run.state)
    found = SlashContentFound(
        at=6, effect_id=effect.effect_id, template="{{name}}: https://shop.example/t/{{name}}, https://x.example/a.",
        short_links={"https://shop.example/t/Maya": "https://sqz.example/1"},
    )
    [sent] = of_type(run(found), SlashContentSent)
    assert sent.text == "Maya: https://sqz.example/1, https://x.example/a."
    assert sent.original_text == "Maya: https://shop.example/t/Maya, https://x.example/a."


def test_content_without_short_links_has_no_original_text() -> None:
    run = chat()
    run.agent_says("/welcome", at=5, message_id="cmd-1")
    [effect] = pending_effects(run.state)
    [sent] = of_type(run(SlashContentFound(at=6, effect_id=effect.effect_id, template="See https://x.example")), SlashContentSent)
    assert (sent.text, sent.original_text) == ("See https://x.example", None)

def test_a_placeholder_the_context_lacks_is_named_to_the_agent_and_nothing_is_sent() -> None:
    run = chat()
    run.agent_says("/welcome", at=5, message_id="cmd-1")
    [effect] = pending_effects(run.state)
    events = run(SlashContentFound(at=6, effect_id=effect.effect_id, template="Dear {{FirstName}} {{Plan.Name}}"))
    assert of_type(events, SlashContentSent) == []
    assert of_type(events, SlashActionFailed)[0].code == "MissingContext"
    [text] = told_the_agent(events)
    assert "needs FirstName, Plan.Name" in text and text.startswith("[connect worker] /welcome")


def test_actions_run_in_order_each_after_the_one_before() -> None:
    run = chat()
    run.agent_says("/email please", at=5, message_id="cmd-2")
    [first] = pending_effects(run.state)
    assert first.action == EMAIL.actions[0]
    run(SlashActionStarting(at=6, effect_id=first.effect_id))
    events = run(SlashActionSucceeded(at=7, effect_id=first.effect_id))
    assert told_the_agent(events) == ["[connect worker] /email: sendEmail done"]
    second = [e for e in pending_effects(run.state) if isinstance(e, RunSlashAction)]
    assert [e.action for e in second] == [EMAIL.actions[1]]


def test_a_failed_action_is_told_to_the_agent_and_stops_the_command() -> None:
    run = chat()
    run.agent_says("/email", at=5, message_id="cmd-2")
    [first] = pending_effects(run.state)
    failure = ErrorDetail(code="MessageRejected", message="Email address is not verified.")
    events = run(SlashActionFailure(at=6, effect_id=first.effect_id, error=failure))
    assert told_the_agent(events) == [
        "[connect worker] /email: sendEmail failed (MessageRejected): Email address is not verified."
    ]
    assert not any(isinstance(e, RunSlashAction) for e in pending_effects(run.state))


def test_a_connector_call_started_before_a_restart_is_not_made_again() -> None:
    run = chat()
    run.agent_says("/email", at=5, message_id="cmd-2")
    [first] = pending_effects(run.state)
    assert run(SlashActionStarting(at=6, effect_id=first.effect_id))
    # The service died during the call; after the restart the same effect is pending again ...
    [again] = [e for e in pending_effects(run.state) if isinstance(e, RunSlashAction)]
    assert again.effect_id == first.effect_id
    # ... and the core settles it instead of letting the call be made twice.
    events = run(SlashActionStarting(at=60, effect_id=first.effect_id))
    assert of_type(events, SlashActionFailed)[0].code == "OutcomeUnknown"
    assert "may or may not have run" in told_the_agent(events)[0]
    assert first.effect_id not in run.state.pending and not run.state.started_slash_actions


def test_help_and_unknown_commands_are_told_only_to_the_agent() -> None:
    run = chat()
    [help_text] = told_the_agent(run.agent_says("/help", at=5, message_id="cmd-3"))
    assert help_text.splitlines()[1:] == [
        "/welcome: A welcome message with the users name",
        "/email: Send an email to the customer",
        "/help: this list",
    ]
    [unknown] = told_the_agent(run.agent_says("/refund 20", at=6, message_id="cmd-4"))
    assert "/refund is not a command of this chat" in unknown and "/welcome, /email, /help" in unknown
    assert of_type(run.events, AgentMessageReceived) == []


def test_without_slash_commands_a_slash_is_only_text() -> None:
    run = Run().connected().with_agent()
    events = run.agent_says("/help", at=5)
    assert of_type(events, AgentMessageReceived)[0].content == "/help"


def test_what_counts_as_a_command() -> None:
    assert command_in("/welcome", COMMANDS) == "/welcome"
    assert command_in("  /email now", COMMANDS) == "/email"
    assert command_in("/usr/bin is a path", COMMANDS) is None
    assert command_in("see /welcome", COMMANDS) is None
    assert command_in("/welcome", ()) is None


def test_placeholders_read_nested_context_and_write_other_values_as_json() -> None:
    assert fill_placeholders("{{ a }} {{b.c}} {{n}} {{x}}", {"a": "A", "b": {"c": [1, "é"]}, "n": 3}) == (
        'A [1, "é"] 3 {{x}}',
        ["x"],
    )
