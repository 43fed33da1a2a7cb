"""Redaction for every export (replay, events tail, logs): credentials never leave the store.

The events hold two kinds of credential: the participant token (`ChatStarted`, and with the
connection token `ChatLeaveRequested`, the chat a failover move leaves) and the connection
token of each connection (`ConnectionTokenKept`, `ConnectionOpened`, `ConnectionRenewed`), kept so that a chat that ended
while the service was down can still be read after a restart. A worker's `Secret` is a vault
reference (SRN), not a secret, and is left as it is.

A bot's webhook URL (`Transferred.deliver_to`, the state's `deliver_to`) may carry a credential of the
bot's own: a password in its user info, or a query parameter named for one (`?token=...`, `api_key`,
`sig`, ...), for a receiver that cannot check signatures. Shown, those values are redacted too; the
webhook itself is posted to the stored URL, never to a redacted one (delivery/webhook.py reads the
event undecorated). A worker's short-link API URL (`ShortLinkConfig.Config.Api`, and the conversation's
copy of it, `Transferred.short_links`) is shown the same way: its user info's password is sent as
Basic auth.
"""

from __future__ import annotations

import re
from typing import TypeVar

from msgspec.structs import replace

from events.conversation_events import (
    ChatLeaveRequested,
    ChatStarted,
    ConnectionOpened,
    ConnectionRenewed,
    ConnectionTokenKept,
    ShortLinkRule,
    Transferred,
)
from events.conversation_state import ConversationState
from events.worker import WorkerCreated, WorkerUpdated
from events.worker_config import REDACTED, WorkerConfig

T = TypeVar("T")

# A query parameter whose name says it holds a credential, and its value (up to the next & or #).
_QUERY_CREDENTIAL = re.compile(r"(?i)([?&][^=&#]*(?:token|key|sig|secret|pass|auth|credential)[^=&#]*=)[^&#]*")
# The password of a URL's user info: scheme://user:PASSWORD@host.
_USER_PASSWORD = re.compile(r"(?i)^([a-z][a-z0-9+.-]*://[^/?#@:]*:)[^/?#@]*@")


def redact_url(url: str) -> str:
    """The URL as it may be shown: a user info password and the values of query parameters named for a
    credential replaced by "<redacted>"; the rest as it was.

    >>> redact_url("https://bot:pw@bot.example/hook?tenant=7&access_token=abc")
    'https://bot:<redacted>@bot.example/hook?tenant=7&access_token=<redacted>'
    """
    return _QUERY_CREDENTIAL.sub(r"\1" + REDACTED, _USER_PASSWORD.sub(r"\1" + REDACTED + "@", url))


def redact(event: T) -> T:
    """The event as it may be shown: tokens replaced by "<redacted>"."""
    if isinstance(event, Transferred):
        return replace(  # type: ignore[return-value]
            event, deliver_to=redact_url(event.deliver_to), short_links=_redacted_rule(event.short_links)
        )
    if isinstance(event, ChatStarted):
        return replace(event, participant_token=REDACTED)  # type: ignore[return-value]
    if isinstance(event, (ConnectionOpened, ConnectionRenewed, ConnectionTokenKept)) and event.connection_token is not None:
        return replace(event, connection_token=REDACTED)  # type: ignore[return-value]
    if isinstance(event, (WorkerCreated, WorkerUpdated)):
        return replace(event, config=redact_worker_config(event.config))  # type: ignore[return-value]
    if isinstance(event, ChatLeaveRequested):
        token = None if event.connection_token is None else REDACTED
        return replace(event, participant_token=REDACTED, connection_token=token)  # type: ignore[return-value]
    return event


def redact_state(state: ConversationState) -> ConversationState:
    """The state as it may be shown: its chat's tokens, and those of a pending leave of the chat a
    failover move left behind, replaced by "<redacted>"."""
    pending = {seq: redact(event) for seq, event in state.pending.items()}
    deliver_to = None if state.deliver_to is None else redact_url(state.deliver_to)
    shown = replace(state, pending=pending, deliver_to=deliver_to, short_links=_redacted_rule(state.short_links))
    if state.chat is None:
        return shown
    token = None if state.chat.connection_token is None else REDACTED
    return replace(shown, chat=replace(state.chat, participant_token=REDACTED, connection_token=token))


def redact_worker_config(config: WorkerConfig) -> WorkerConfig:
    """The worker's configuration as it may be shown (`worker get`, `events tail`): its short-link API's
    URL redacted. Given back to `worker update`, such a URL is refused (events/worker_config.py)."""
    short = config.data.short_link_config
    if short is None:
        return config
    shown = replace(short, config=replace(short.config, api=redact_url(short.config.api)))
    return replace(config, data=replace(config.data, short_link_config=shown))


def _redacted_rule(rule: ShortLinkRule | None) -> ShortLinkRule | None:
    """The short-link API's URL as it may be shown: its user info's password is sent as Basic auth."""
    return None if rule is None else replace(rule, api=redact_url(rule.api))
