"""The participant WebSocket of one chat, kept alive for its owner.

A `ChatSocket` gets a connection with the participant token, opens the
socket, subscribes with the worker's InitialConnectionMessage, fills the gap
from GetTranscript, and then hands every chat item to `on_item`, in order,
at least once; the owner deduplicates by `ChatItem.id`. It sends
`aws/heartbeat` every `SocketSettings.heartbeat` seconds and takes a heartbeat still
unanswered at the next tick for a dead socket. It reconnects after a drop with
backoff and jitter, renews the socket make-before-break before its
ConnectionExpiry, and after every (re)connection asks GetTranscript for what
came after the last item it delivered. It stops for good when the chat ends,
when its owner closes it, or when it gives up; `on_state` hears of each
connection (with the new connection token), each wait before a retry, and
the stop.

    >>> chat_socket = ChatSocket(region.participant, started.participant_token,
    ...                          on_item=lambda item: actor.tell(AgentFrame(item)),
    ...                          on_state=lambda state: actor.tell(SocketChanged(state)))
    >>> chat_socket.start()
    >>> ...
    >>> chat_socket.close()

Both callbacks run on the socket's own thread: they must be quick (hand the
value to an actor's mailbox) and must not raise; an exception from one stops
the socket (it reports GAVE_UP). See README.md for the threading model.
"""

from __future__ import annotations

import collections
import enum
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from connect_client.backoff import Backoff
from connect_client.errors import ChatEnded, ConnectError, PermanentError, RetryableError
from connect_client.frames import ChatItem, Heartbeat, ItemKind, MalformedFrame, SubscribeAnswer, parse_frame
from connect_client.heartbeats import Beat, Heartbeats
from connect_client.link import Link, LinkFailed
from connect_client.participant import Participant
from connect_client.records import ParticipantConnection

log = logging.getLogger(__name__)

DEFAULT_SUBSCRIBE = '{"topic":"aws/subscribe","content":{"topics":["aws/chat"]}}'
HEARTBEAT = '{"topic":"aws/heartbeat"}'
# How many delivered ids the socket remembers to skip its own repeats (the
# overlap between a transcript fill and the frames queued on the new socket).
# The owner still deduplicates: delivery is at least once.
_RECENT_IDS = 256


class StopReason(enum.Enum):
    CHAT_ENDED = "chat ended"
    CLOSED = "closed by its owner"
    GAVE_UP = "gave up"


@dataclass(frozen=True, slots=True)
class SocketConnected:
    """Subscribed on a new connection and caught up from the transcript;
    `connection.connection_token` is the one to use from now on. `renewed`:
    a make-before-break renewal, not a recovery from a drop."""

    connection: ParticipantConnection
    renewed: bool


@dataclass(frozen=True, slots=True)
class SocketReconnecting:
    """Waiting `delay_seconds` before retry number `attempt` because of `reason`."""

    reason: str
    attempt: int
    delay_seconds: float


@dataclass(frozen=True, slots=True)
class SocketStopped:
    reason: StopReason
    detail: str


SocketState = SocketConnected | SocketReconnecting | SocketStopped


@dataclass(frozen=True)
class SocketSettings:
    """The socket's timings, in seconds. Defaults follow amazon-connect-chatjs:
    heartbeat every 10 s; subscribe retried every second; reconnect after
    about 1 s doubling to 30 s, and a new connection fetched after 2 s
    doubling to 30 s, both with ±30 % jitter. Renewal starts
    `renew_before_expiry` before ConnectionExpiry, but never before half of
    the connection's life, so that a short-lived connection is not renewed
    over and over."""

    heartbeat: float = 10.0
    subscribe_retry: float = 1.0
    subscribe_attempts: int = 5
    open_timeout: float = 10.0
    renew_before_expiry: float = 60.0
    reconnect_backoff: Backoff = field(default_factory=lambda: Backoff(first=1.0, cap=30.0))
    connection_backoff: Backoff = field(default_factory=lambda: Backoff(first=2.0, cap=30.0))
    connection_attempts: int = 8
    # Failed reconnections in a row (each one after its own connection
    # retries) before the socket gives up.
    reconnect_attempts: int = 10


class _Closing(Exception):
    """The owner closed the socket while it was waiting."""


class _Stop(Exception):
    def __init__(self, reason: StopReason, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason
        self.detail = detail


class _Renew(Exception):
    """The link's renewal time has come."""


class ChatSocket:
    """One chat's participant WebSocket, served by a thread of its own.

    The public surface is `start`, `close`, `wait_stopped` and the two
    callbacks, so that a hub serving many sockets from one thread can take
    the thread's place without changing the callers."""

    def __init__(
        self,
        participant: Participant,
        participant_token: str,
        on_item: Callable[[ChatItem], None],
        on_state: Callable[[SocketState], None],
        *,
        subscribe_message: str = DEFAULT_SUBSCRIBE,
        after_id: str | None = None,
        settings: SocketSettings | None = None,
        clock: Callable[[], float] = time.time,
        name: str = "chat-socket",
    ) -> None:
        """`after_id`: the last item the owner has already seen (on recovery);
        the first transcript fill starts after it. `clock` is the wall clock
        (seconds since the epoch) that ConnectionExpiry is compared with."""
        self._participant = participant
        self._participant_token = participant_token
        self._on_item = on_item
        self._on_state = on_state
        self._subscribe_message = subscribe_message
        self._last_transcript_id = after_id
        self._settings = settings or SocketSettings()
        self._clock = clock
        self._closing = threading.Event()
        self._stopped = threading.Event()
        self._lock = threading.Lock()
        self._links: set[Link] = set()
        self._connection: ParticipantConnection | None = None
        self._recent: collections.deque[str] = collections.deque(maxlen=_RECENT_IDS)
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)

    def start(self) -> ChatSocket:
        self._thread.start()
        return self

    def close(self) -> None:
        """Stop for good (the chat itself goes on: DisconnectParticipant is the
        owner's call). Returns at once; `on_state` will hear SocketStopped(CLOSED)."""
        self._closing.set()
        with self._lock:
            links = list(self._links)
        for link in links:
            link.abort()

    def wait_stopped(self, timeout: float | None = None) -> bool:
        """Whether the socket has stopped (waiting up to `timeout` seconds)."""
        return self._stopped.wait(timeout)

    def _run(self) -> None:
        try:
            stop = self._serve()
        except Exception as error:
            # A bug here or in a callback must not leave the owner waiting for
            # a socket that is gone.
            log.exception("chat socket failed")
            stop = _Stop(StopReason.GAVE_UP, f"unexpected {type(error).__name__}")
        with self._lock:
            links = list(self._links)
            self._links.clear()
        for link in links:
            link.close()
        self._on_state(SocketStopped(stop.reason, stop.detail))
        self._stopped.set()

    def _serve(self) -> _Stop:
        link: Link | None = None
        failures = 0
        try:
            while True:
                if link is None:
                    try:
                        link = self._reconnect()
                        failures = 0
                    except LinkFailed as error:
                        failures += 1
                        if failures >= self._settings.reconnect_attempts:
                            return _Stop(StopReason.GAVE_UP, f"{failures} reconnections failed, the last: {error}")
                        self._pause(str(error), failures, self._settings.reconnect_backoff.delay(failures))
                        continue
                try:
                    try:
                        self._pump(link)
                    except _Renew:
                        link = self._renew(link)
                        continue
                except LinkFailed as error:
                    self._drop(link)
                    link = None
                    failures = 1
                    self._pause(str(error), failures, self._settings.reconnect_backoff.delay(failures))
        except _Stop as stop:
            return stop
        except _Closing:
            return _Stop(StopReason.CLOSED, "closed by its owner")

    def _reconnect(self) -> Link:
        link = self._open(self._fetch_connection())
        try:
            self._catch_up(link, self._subscribe(link), renewed=False)
        except LinkFailed:
            self._drop(link)
            raise
        return link

    def _renew(self, old: Link) -> Link:
        """Make before break: a new socket, subscribed, before the old one closes.
        Frames still queued on the old one are never read; the transcript fill
        on the new connection brings whatever they held. If the new socket
        cannot be had, the old one serves on and renewal is tried again later."""
        try:
            new = self._open(self._fetch_connection(attempts=1))
        except LinkFailed:
            return self._renew_later(old)
        try:
            early = self._subscribe(new)
        except LinkFailed:
            self._drop(new)
            return self._renew_later(old)
        self._drop(old)
        try:
            self._catch_up(new, early, renewed=True)
        except LinkFailed:
            self._drop(new)
            raise
        return new

    def _renew_later(self, link: Link) -> Link:
        link.renew_failures += 1
        link.renew_at = self._clock() + self._settings.connection_backoff.delay(link.renew_failures)
        return link

    def _catch_up(self, link: Link, early: list[ChatItem], renewed: bool) -> None:
        """Fill the gap from the transcript, deliver what arrived before the
        subscribe answer, then tell the owner the socket is connected."""
        self._connection = link.connection
        try:
            self._fill_gap(link.connection)
        except RetryableError as error:
            raise LinkFailed(f"GetTranscript: {error.code}") from None
        except PermanentError as error:
            raise _Stop(StopReason.GAVE_UP, str(error)) from None
        self._deliver_all(early)
        self._on_state(SocketConnected(link.connection, renewed))

    def _fetch_connection(self, attempts: int | None = None) -> ParticipantConnection:
        """A new connection, retried with backoff up to `attempts` calls
        (`connection_attempts` by default) while Connect answers retryably."""
        attempts = attempts or self._settings.connection_attempts
        attempt = 0
        while True:
            try:
                return self._participant.connect(self._participant_token)
            except ChatEnded:
                self._final_fill()
                raise _Stop(StopReason.CHAT_ENDED, "the chat has ended: no new connection") from None
            except PermanentError as error:
                raise _Stop(StopReason.GAVE_UP, str(error)) from None
            except RetryableError as error:
                attempt += 1
                if attempt >= attempts:
                    raise LinkFailed(f"no connection after {attempt} tries: {error.code}") from None
                self._pause(f"CreateParticipantConnection: {error.code}", attempt, self._settings.connection_backoff.delay(attempt))

    def _open(self, connection: ParticipantConnection) -> Link:
        link = Link(connection, self._settings.open_timeout)
        lifetime = connection.websocket_expiry.timestamp() - self._clock()
        link.renew_at = self._clock() + max(lifetime - self._settings.renew_before_expiry, lifetime / 2)
        with self._lock:
            self._links.add(link)
        if self._closing.is_set():
            raise _Closing
        return link

    def _drop(self, link: Link) -> None:
        with self._lock:
            self._links.discard(link)
        link.close()

    def _subscribe(self, link: Link) -> list[ChatItem]:
        """Subscribe, retrying every `subscribe_retry` seconds; chat items that
        arrive before the answer are returned, to be delivered after the fill."""
        early: list[ChatItem] = []
        for _ in range(self._settings.subscribe_attempts):
            link.send(self._subscribe_message)
            deadline = time.monotonic() + self._settings.subscribe_retry
            while (left := deadline - time.monotonic()) > 0:
                text = link.receive(left)
                if text is None:
                    break
                frame = parse_frame(text)
                if isinstance(frame, ChatItem):
                    early.append(frame)
                elif isinstance(frame, SubscribeAnswer):
                    if frame.ok:
                        return early
                    if self._closing.wait(max(0.0, deadline - time.monotonic())):
                        raise _Closing
                    break
            if self._closing.is_set():
                raise _Closing
        raise LinkFailed(f"subscribe not accepted after {self._settings.subscribe_attempts} tries")

    def _fill_gap(self, connection: ParticipantConnection) -> None:
        self._deliver_all(self._participant.transcript_after(connection.connection_token, self._last_transcript_id))

    def _final_fill(self) -> None:
        """The chat is over: bring its last items with the last connection token, if it still works."""
        if self._connection is None:
            return
        try:
            self._fill_gap(self._connection)
        except _Stop:
            pass  # the fill delivered chat.ended
        except ConnectError as error:
            log.info("no final transcript after the chat ended: %s", error.code)

    def _pump(self, link: Link) -> None:
        """Read and deliver frames until the link fails, its renewal is due,
        the chat ends (_Stop) or the owner closes (_Closing)."""
        beats = Heartbeats.starting(time.monotonic(), self._settings.heartbeat)
        while True:
            if self._closing.is_set():
                raise _Closing
            renew_in = link.renew_at - self._clock()
            if renew_in <= 0:
                raise _Renew
            beat = beats.check(time.monotonic())
            if beat is Beat.DEAD:
                raise LinkFailed(beat.value)
            if beat is Beat.SEND:
                link.send(HEARTBEAT)
            text = link.receive(min(beats.seconds_left(time.monotonic()), renew_in))
            if text is None:
                continue
            frame = parse_frame(text)
            if isinstance(frame, Heartbeat):
                beats.answered()
            elif isinstance(frame, ChatItem):
                self._deliver(frame)
            elif isinstance(frame, MalformedFrame):
                log.warning("malformed frame on a chat socket: %s", frame.reason)

    def _deliver_all(self, items: list[ChatItem]) -> None:
        for item in items:
            self._deliver(item)

    def _deliver(self, item: ChatItem) -> None:
        if item.id in self._recent:
            return
        self._recent.append(item.id)
        if item.in_transcript:
            self._last_transcript_id = item.id
        self._on_item(item)
        if item.kind is ItemKind.CHAT_ENDED:
            raise _Stop(StopReason.CHAT_ENDED, "the chat has ended")

    def _pause(self, reason: str, attempt: int, delay: float) -> None:
        self._on_state(SocketReconnecting(reason, attempt, delay))
        if self._closing.wait(delay):
            raise _Closing
