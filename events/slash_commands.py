"""Agent slash commands, pure: which agent message is a command, what the agent is told, and a
content item's `{{Name}}` placeholders filled from the conversation's context.

A worker with `SlashCommands` takes every agent message whose first word starts with "/" (and has
no other "/") as a command: it never reaches the user as text. `/help` lists the commands unless
the worker defines its own `/help`. A worker with no `SlashCommands` relays such messages as text.

What the agent is told (a list, an unknown command, a failed action) goes to Connect as a message
of the customer participant: the worker itself is that participant, and the user sees only what
the bot is told, so only the agent (and Connect's transcript) sees it.
"""

from __future__ import annotations

import json
import re
from typing import Any, Literal

import msgspec

HELP = "/help"
NOTICE_PREFIX = "[connect worker] "
SlashActionType = Literal["content", "executeApi"]

_COMMAND = re.compile(r"\s*(/[^\s/]+)(?:\s|$)")
_PLACEHOLDER = re.compile(r"\{\{\s*([^{}\s]+)\s*\}\}")


class SlashAction(msgspec.Struct, frozen=True, kw_only=True):
    """One action of a command: `content` sends the content item `value` to the user; `executeApi`
    runs the connector whose alias is `value`, with the conversation's context as its input."""

    type: SlashActionType
    value: str


class SlashCommandRule(msgspec.Struct, frozen=True, kw_only=True):
    """One of the worker's SlashCommands, as the conversation keeps it (copied at the transfer)."""

    name: str
    actions: tuple[SlashAction, ...]
    description: str = ""


def command_in(text: str, rules: tuple[SlashCommandRule, ...]) -> str | None:
    """The command an agent's message is, or None: it is one when the worker has commands and the
    message's first word starts with "/" (the rest of the message is the command's arguments)."""
    if not rules:
        return None
    match = _COMMAND.match(text)
    return match[1] if match else None


def rule_named(name: str, rules: tuple[SlashCommandRule, ...]) -> SlashCommandRule | None:
    return next((rule for rule in rules if rule.name == name), None)


def help_text(rules: tuple[SlashCommandRule, ...]) -> str:
    """The worker's commands, one a line, with their descriptions."""
    lines = [f"{rule.name}: {rule.description}" if rule.description else rule.name for rule in rules]
    if rule_named(HELP, rules) is None:
        lines.append(f"{HELP}: this list")
    return notice("commands of this chat:\n" + "\n".join(lines))


def unknown_command_text(name: str, rules: tuple[SlashCommandRule, ...]) -> str:
    names = ", ".join([rule.name for rule in rules] + ([HELP] if rule_named(HELP, rules) is None else []))
    return notice(f"{name} is not a command of this chat; the user did not see it. Commands: {names}")


def notice(text: str) -> str:
    """A message for the agent, marked as the worker's own."""
    return NOTICE_PREFIX + text


def fill_placeholders(template: str, context: dict[str, Any]) -> tuple[str, list[str]]:
    """The template with each `{{Name}}` replaced by the context's value (`{{Customer.Name}}` reads
    nested objects; a string as it is, anything else as JSON), and the names the context lacks."""
    missing: list[str] = []

    def value_of(match: re.Match[str]) -> str:
        name = match[1]
        found, value = _lookup(context, name)
        if not found:
            if name not in missing:
                missing.append(name)
            return match[0]
        return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)

    return _PLACEHOLDER.sub(value_of, template), missing


def _lookup(context: dict[str, Any], name: str) -> tuple[bool, Any]:
    if name in context:
        return True, context[name]
    value: Any = context
    for part in name.split("."):
        if not isinstance(value, dict) or part not in value:
            return False, None
        value = value[part]
    return True, value
