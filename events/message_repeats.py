"""A bot's message sent again with a `MessageId` already used: a retry when it says the same, a conflict
when it does not.

The conversation keeps only the ids it has seen (`SeenIds`, about 21 to 29 bytes an id), not what each
message said: a digest of every message would cost memory on every conversation for a case that is
rare. So `decide` accepts a repeated id as a retry (it adds nothing), and only then does the actor read
what was first sent back from the conversation's log (`first_sent`) and refuse a repeat that differs
(`refuse_a_different_repeat`): the normal path costs nothing more, a repeat one read of the log.

What the bot sent is its `Text` and `ContentType` (a message carries nothing else, api/bodies.py):
as written, before any split into pieces or translation.

    >>> first = SentMessage(text="Where is my order?", content_type="text/plain")
    >>> refuse_a_different_repeat(UserSays(at=0.0, bot_message_id="m-1", text="Where is my order?"), first)
"""

from __future__ import annotations

from collections.abc import Iterable

import msgspec

from events.codec import event_type
from events.commands import UserSays
from events.conversation_events import ConversationEvent, UserMessageRequested, UserMessageTranslationRequested
from events.rejection import Rejected

# The events that can carry what the bot first sent (their store `type`), so that a reader decodes only those.
SENT_EVENT_TYPES = frozenset(map(event_type, (UserMessageRequested, UserMessageTranslationRequested)))


class SentMessage(msgspec.Struct, frozen=True, kw_only=True):
    """What the bot sent with one `MessageId`."""

    text: str
    content_type: str


def first_sent(events: Iterable[ConversationEvent], bot_message_id: str) -> SentMessage | None:
    """What the bot sent with `bot_message_id`, from the conversation's events in order; None if no
    event holds it (the id was never accepted).

    A message to translate is held whole by its translation intent. Any other is held by the pieces
    its acceptance wrote (`place` empty), which joined give it back exactly (events/long_messages.py);
    the pieces written later in its place (a translation's, or a piece Connect refused as too long,
    split again) are left out."""
    pieces: list[UserMessageRequested] = []
    for event in events:
        if isinstance(event, UserMessageTranslationRequested) and event.bot_message_id == bot_message_id:
            return SentMessage(text=event.text, content_type=event.content_type)
        if (
            isinstance(event, UserMessageRequested)
            and event.bot_message_id == bot_message_id
            and event.origin == "user"
            and not event.place
        ):
            pieces.append(event)
    if not pieces:
        return None
    return SentMessage(text="".join(piece.text for piece in pieces), content_type=pieces[0].content_type)


def refuse_a_different_repeat(command: UserSays, first: SentMessage | None) -> None:
    """Raise `Rejected("idempotency_conflict")` when `command` repeats a `MessageId` that was sent with
    a different text or content type; a repeat of the same message (or of one not found) passes."""
    if first is None:
        return
    differing = [
        field
        for field, before, now in (("Text", first.text, command.text), ("ContentType", first.content_type, command.content_type))
        if before != now
    ]
    if differing:
        raise Rejected(
            "idempotency_conflict",
            f"$.MessageId: {command.bot_message_id!r} was already used for a message with a different "
            f"{' and '.join(differing)}: a retry sends the same message again, a new message needs a new MessageId",
        )
