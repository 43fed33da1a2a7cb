"""The one error `decide` may raise: a command not legal in the current state."""

from __future__ import annotations


class Rejected(Exception):
    """A command refused by `decide`; the state is untouched.

    `code` is machine-readable and stable (the HTTP layer maps it to a status);
    `message` says what is wrong in words.

    >>> Rejected("conversation_ended", "the conversation was handed back").code
    'conversation_ended'
    """

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
