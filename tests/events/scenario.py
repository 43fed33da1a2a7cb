"""Plain-value helpers to drive a conversation through decide and evolve, as the actor shell does."""

from __future__ import annotations

import json
from functools import reduce
from typing import Any

from events import ConversationState, decide, evolve, initial_state, pending_effects
from events.commands import (
    ChatStartSucceeded,
    Command,
    ConnectionEstablished,
    ConnectMessageReceived,
    ParticipantJoinedReceived,
    Transfer,
)
from events.conversation_events import AutoDisconnectRule, ConnectTarget, ConversationEvent, ShortLinkRule, TranslationRule
from events.effects import StartChat
from events.slash_commands import SlashCommandRule
from events.worker_config import WorkerConfig, parse_worker_config

PRIMARY = ConnectTarget(region="us-east-1", instance_id="instance-1", contact_flow_id="flow-1")
FAILOVER = ConnectTarget(
    region="us-west-2", instance_id="instance-2", contact_flow_id="flow-2", failover_region="us-west-2-oregon"
)
SUBSCRIBE = '{"topic":"aws/subscribe","content":{"topics":["aws/chat"]}}'
WARNING = AutoDisconnectRule(kind="WARNING", seconds_after_agent_message=10, user_message="Still there?", agent_message="User is quiet")
DISCONNECT = AutoDisconnectRule(kind="DISCONNECT", seconds_after_agent_message=20, user_message="Bye", agent_message="Disconnected")
TOKEN = "participant-token-SECRET"
CONNECTION_TOKEN = "connection-token-SECRET"


def transfer(at: float = 0.0, *, context: dict[str, Any] | None = None, user_name: str | None = None,
             rules: tuple[AutoDisconnectRule, ...] = (WARNING, DISCONNECT), target: ConnectTarget = PRIMARY,
             slash_commands: tuple[SlashCommandRule, ...] = (), ingress_translation: TranslationRule | None = None,
             egress_translation: TranslationRule | None = None, short_links: ShortLinkRule | None = None) -> Transfer:
    return Transfer(
        at=at,
        worker_id="worker-1",
        bot_name="Botty",
        user_name=user_name,
        context={"FirstName": "Bo"} if context is None else context,
        deliver_to="https://bot.example/webhook",
        target=target,
        initial_connection_message=SUBSCRIBE,
        auto_disconnect=rules,
        slash_commands=slash_commands,
        ingress_translation=ingress_translation,
        egress_translation=egress_translation,
        short_links=short_links,
    )


class Run:
    """A conversation driven command by command; keeps every event as the store would."""

    def __init__(self, conversation_id: str = "conv-1") -> None:
        self.state: ConversationState = initial_state(conversation_id)
        self.events: list[ConversationEvent] = []

    def __call__(self, command: Command) -> list[ConversationEvent]:
        new = decide(self.state, command)
        self.state = reduce(evolve, new, self.state)
        self.events.extend(new)
        return new

    def connected(self, at: float = 1.0, **transfer_options: Any) -> Run:
        """Transferred, chat started and the socket open."""
        self(transfer(0.0, **transfer_options))
        start = pending_effects(self.state)[0]
        assert isinstance(start, StartChat)
        self(ChatStartSucceeded(at=at, effect_id=start.effect_id, contact_id="contact-1", participant_id="participant-1", participant_token=TOKEN))
        self(ConnectionEstablished(at=at, connection_token=CONNECTION_TOKEN))
        return self

    def with_agent(self, name: str = "Ana", at: float = 2.0) -> Run:
        self(ParticipantJoinedReceived(at=at, message_id=f"joined-{name}", role="AGENT", display_name=name))
        return self

    def agent_says(self, text: str, at: float, message_id: str | None = None, name: str = "Ana") -> list[ConversationEvent]:
        return self(ConnectMessageReceived(at=at, message_id=message_id or f"m-{at}", role="AGENT", display_name=name, content=text))


def of_type(events: list[ConversationEvent], kind: type) -> list[Any]:
    return [event for event in events if isinstance(event, kind)]


def worker_config(active_failover: str | None = None) -> WorkerConfig:
    """A valid worker in the seed's format, with two failover regions."""
    failover: dict[str, Any] = {
        "FailoverRegions": [
            {
                "Name": "us-west-2-oregon",
                "Secret": "srn:vault::acme:aws-cross-account-role:failover",
                "Region": "us-west-2",
                "InstanceId": "instance-2",
                "ContactFlowId": "flow-2",
            },
            {
                "Name": "eu-west-1-dublin",
                "Secret": "srn:vault::acme:aws-cross-account-role:failover",
                "Region": "eu-west-1",
                "InstanceId": "instance-3",
                "ContactFlowId": "flow-3",
            },
        ]
    }
    if active_failover is not None:
        failover["ActiveFailoverRegion"] = active_failover
    worker = {
        "Data": {
            "ContactFlowId": "flow-1",
            "InstanceId": "instance-1",
            "Region": "us-east-1",
            "Secret": "srn:vault::acme:aws-cross-account-role:connect",
            "AutoDisconnectEvents": [
                {"SecondsAfterAgentMessage": 10, "Type": "WARNING", "UserMessage": "Still there?", "AgentMessage": "User is quiet"},
                {"SecondsAfterAgentMessage": 20, "Type": "DISCONNECT", "UserMessage": "Bye", "AgentMessage": "Disconnected"},
            ],
            "FailoverRegionConfig": failover,
        },
        "Name": "ConnectOne",
        "Type": "amazon-connect-worker",
    }
    return parse_worker_config(json.dumps(worker))
