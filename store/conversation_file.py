"""A conversation exported to one file: redacted, self-contained, replayable on another machine with
no store and no AWS, through the same fold that recovery uses (`store.conversations.fold`).

    run.py events export conv-42 > conv-42.jsonl
    run.py replay --file conv-42.jsonl

JSON lines. The first is the header:

    {"format": "connect-worker-conversation", "format_version": 1, "conversation_id": "conv-42",
     "exported_at": "2026-11-24T07:00:00.000+00:00", "events": 17}

then each event of the conversation's stream in order, as the store keeps it (`seq`, `position`,
`type`, `recorded_at` in Unix seconds), its body (`data`) decoded, redacted (events/redaction.py:
no participant or connection token) and encoded again at this version's schema:

    {"seq": 1, "position": 812, "type": "Transferred", "recorded_at": 1795503600.0, "data": {...}}

`events` in the header lets a reader tell a file cut short from a conversation that had no more.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterator
from pathlib import Path
from types import TracebackType
from typing import Annotated, BinaryIO, Callable

import msgspec

from events import decode, encode, redact
from store.conversations import conversation_stream
from store.records import StoredEvent

FORMAT = "connect-worker-conversation"
FORMAT_VERSION = 1


class ConversationFileError(ValueError):
    """The file is not an exported conversation this code can read; the message names the line."""


class Header(msgspec.Struct, frozen=True, kw_only=True):
    format: str
    format_version: int
    conversation_id: str
    exported_at: str
    events: int


# The last moment a timeline can print (9999-12-31T23:59:59Z): a time past it is no store's.
LATEST_TIME = 253_402_300_799.0


class _Line(msgspec.Struct, frozen=True, kw_only=True):
    seq: int
    position: int
    type: str
    recorded_at: Annotated[float, msgspec.Meta(ge=0, le=LATEST_TIME)]
    data: msgspec.Raw


_header_decoder = msgspec.json.Decoder(Header)
_line_decoder = msgspec.json.Decoder(_Line)
_encoder = msgspec.json.Encoder()


def write_conversation(
    out: TextIO,
    conversation_id: str,
    stored_events: list[StoredEvent],
    *,
    exported_at: float,
    on_event: Callable[[], None] = lambda: None,
) -> None:
    """Write the header and each event, redacted. A body this code cannot read raises the codec's
    EventDecodeError (nothing is written in its place)."""
    header = Header(
        format=FORMAT,
        format_version=FORMAT_VERSION,
        conversation_id=conversation_id,
        exported_at=datetime.datetime.fromtimestamp(exported_at, datetime.UTC).isoformat(timespec="milliseconds"),
        events=len(stored_events),
    )
    out.write(_encoder.encode(header).decode() + "\n")
    for stored in stored_events:
        line = _Line(
            seq=stored.seq,
            position=stored.position,
            type=stored.type,
            recorded_at=stored.recorded_at,
            data=msgspec.Raw(encode(redact(decode(stored.data)))),
        )
        out.write(_encoder.encode(line).decode() + "\n")
        on_event()


class ExportedConversation:
    """An exported file, opened: its header read and checked; `events()` reads the rest as the store's
    records, each line checked (a line that is no event, one out of order, a file cut short raise
    `ConversationFileError` naming the line).

        with ExportedConversation.open(path) as exported:
            for step in fold(exported.header.conversation_id, exported.events()):
                ...

    An event's line is its seq + 1: the codec's error about event N is about line N + 1.
    """

    def __init__(self, path: Path, lines: BinaryIO, header: Header) -> None:
        self.path = path
        self.header = header
        self._lines = lines

    @classmethod
    def open(cls, path: str | Path) -> ExportedConversation:
        """Raises OSError (FileNotFoundError, IsADirectoryError, ...), or ConversationFileError when its
        first line is no header. Lines are read as bytes and decoded by msgspec, so a line that is not
        UTF-8 is named like any line that is not JSON."""
        path = Path(path)
        lines = path.open("rb")
        try:
            return cls(path, lines, _header(lines.readline()))
        except BaseException:
            lines.close()
            raise

    @property
    def conversation_id(self) -> str:
        return self.header.conversation_id

    def events(self) -> Iterator[StoredEvent]:
        stream = conversation_stream(self.header.conversation_id)
        seq = 0
        blank: int | None = None  # the first of the empty lines read since the last event
        for number, text in enumerate(self._lines, start=2):
            if not text.strip():
                blank = blank or number  # at the end (an editor's or a paste's newline), nothing
                continue
            if blank is not None:
                raise ConversationFileError(f"line {blank}: empty: every line after the header is one event")
            line = _event_line(number, text)
            if line.seq != seq + 1:
                raise ConversationFileError(
                    f"line {number}: event seq {line.seq} where seq {seq + 1} was expected:"
                    " the events of one conversation in order, from 1, are expected"
                )
            seq = line.seq
            yield StoredEvent(stream, line.seq, line.position, line.type, bytes(line.data), line.recorded_at)
        if seq != self.header.events:
            raise ConversationFileError(
                f"line {seq + 2}: the file ends after {seq} events, and its header says {self.header.events}:"
                " it was cut short"
            )

    def close(self) -> None:
        self._lines.close()

    def __enter__(self) -> ExportedConversation:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.close()


def _header(text: bytes) -> Header:
    if not text.strip():
        raise ConversationFileError("line 1: empty: an exported conversation starts with its header")
    try:
        header = _header_decoder.decode(text)
    except msgspec.ValidationError as error:
        raise ConversationFileError(f"line 1: not the header of an exported conversation: {error}") from None
    except msgspec.DecodeError as error:
        raise ConversationFileError(f"line 1: not JSON: {error}") from None
    if header.format != FORMAT:
        raise ConversationFileError(f"line 1: format {header.format!r}, not {FORMAT!r}: not an exported conversation")
    if header.format_version > FORMAT_VERSION:
        raise ConversationFileError(
            f"line 1: format version {header.format_version} is newer than version {FORMAT_VERSION} that this"
            " code reads; replay it with a newer version"
        )
    return header


def _event_line(number: int, text: bytes) -> _Line:
    try:
        return _line_decoder.decode(text)
    except msgspec.ValidationError as error:
        raise ConversationFileError(f"line {number}: not an exported event: {error}") from None
    except msgspec.DecodeError as error:
        raise ConversationFileError(f"line {number}: not JSON: {error}") from None
