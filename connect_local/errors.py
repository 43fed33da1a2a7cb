"""What can go wrong in the chat model, independent of HTTP.

The REST layer turns each kind into the exception name and status that the
calling service (connect, connectparticipant, translate) declares for it.
"""

from __future__ import annotations


class ChatError(Exception):
    """Base of the model's refusals; the message is shown to the caller."""


class AccessDenied(ChatError):
    """A token is unknown, expired, or belongs to a chat that has ended."""


class NotFound(ChatError):
    """An instance, flow, queue or contact does not exist in this region."""


class InvalidInput(ChatError):
    """A field breaks the model's constraints; the message names the field."""


class Conflict(ChatError):
    """The request contradicts the chat's state (e.g. a receipt on one's own message)."""


class ContactNotActive(ChatError):
    """The contact has ended or never existed (StopContact's 410)."""


class LimitExceeded(ChatError):
    """A quota is used up (active chats per instance)."""
