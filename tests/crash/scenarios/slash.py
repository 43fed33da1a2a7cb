"""Slash commands under kills: a human agent types the worker's commands between messages."""

from __future__ import annotations

import random
from typing import Any

from tests.connectors.seeds import seed_email
from tests.crash.checks import Evidence
from tests.crash.scenarios.conversation import Conversation, WorkerPlan
from tests.crash.scenarios.talking import HumanAgent

SEED_SOURCE = "YOUR_SOURCE@EMAIL.HERE"  # the seed's email connector's Source
WELCOME = "Welcome, {{name}}! I am here to help."
EMAILED = "We sent an email to {{email}}, {{name}}."
COMMANDS = ("/welcome", "/email", "/emailed", "/help", "/nosuch")


def _email(cid: str) -> str:
    # The harness gives a conversation the emails addressed to `<conversation id>@...` (Evidence.emails).
    return f"{cid}@example.com"


def _name(cid: str) -> str:
    return f"Kim {cid}"


class SlashCommands(HumanAgent):
    """As HumanAgent, with the worker's slash commands: about half of what the agent writes after its
    greeting is one of `/welcome` (a content item with the user's `{{name}}`), `/email` (the seed's email
    connector, through the local SES, to the address in the conversation's context), `/emailed` (the
    email, then a content item saying so), `/help`, or a command the worker lacks. The commands must
    never reach the bot as text; tests/crash/slash_checks.py checks what they did, this the texts."""

    name = "slash"
    worker = WorkerPlan(
        data={"SlashCommands": {
            "/welcome": {"actions": [{"type": "content", "value": "welcome"}], "description": "greet the user by name"},
            "/email": {"actions": [{"type": "executeApi", "value": "sendEmail"}], "description": "email the user"},
            "/emailed": {"actions": [{"type": "executeApi", "value": "sendEmail"}, {"type": "content", "value": "emailed"}],
                         "description": "email the user and say so"},
        }},
        connectors=(seed_email(),),
        content={"welcome": WELCOME, "emailed": EMAILED},
    )

    def context(self, conversation: Conversation) -> dict[str, Any]:
        return {"name": _name(conversation.id), "email": _email(conversation.id)}

    def agent_lines(self, conversation: Conversation, count: int, rng: random.Random) -> list[str]:
        return [rng.choice(COMMANDS) if rng.random() < 0.5 else line
                for line in super().agent_lines(conversation, count, rng)]

    def check(self, evidence: Evidence) -> list[str]:
        cid = evidence.conversation_id
        context = {"{{name}}": _name(cid), "{{email}}": _email(cid)}
        filled = {"/welcome": _fill(WELCOME, context), "/emailed": _fill(EMAILED, context)}
        problems = super().check(evidence)
        for told in {m.id: m for m in evidence.arrivals}.values():
            if told.slash_command is not None and told.text != filled.get(told.slash_command):
                expected = filled.get(told.slash_command)
                problems.append(f"{cid}: {told.slash_command} told {told.text!r}, not {expected!r}")
            if (told.text or "").lstrip().startswith("/"):
                problems.append(f"{cid}: the bot was told a command's text: {told.text!r} ({told.id})")
        for email in evidence.emails:
            if (email["ToAddresses"], email["Source"]) != ([_email(cid)], SEED_SOURCE):
                problems.append(f"{cid}: an email from {email['Source']} to {email['ToAddresses']}")
        return problems


def _fill(template: str, values: dict[str, str]) -> str:
    for placeholder, value in values.items():
        template = template.replace(placeholder, value)
    return template
