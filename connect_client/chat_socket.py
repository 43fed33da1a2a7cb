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

Both callbacks run on the hub thread that serves every socket of the
process (`connect_client.socket_hub`): they must be quick (hand the value to
an actor's mailbox) and must not raise; an exception from one stops the
socket (it reports GAVE_UP). See README.md for the threading model.
"""

from __future__ import annotations

import collections
import enum
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from connect_client.errors import ChatEnded, ConnectError, PermanentError, RetryableError
from connect_client.frames import ChatItem, Heartbeat, ItemKind, MalformedFrame, SubscribeAnswer, parse_frame
from connect_client.heartbeats import Beat, Heartbeats
from connect_client.link import Link, LinkFailed
from connect_client.participant import Participant
from connect_client.records import ParticipantConnection
from connect_client.socket_hub import SocketHub, Timer, default_hub
from retry import Backoff

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
    doubling to 30 s, both with full jitter (`retry.Backoff`). Renewal starts
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


@dataclass(eq=False)
class _Session:
    """One serving WebSocket of the chat: its heartbeats and timers."""

    link: Link
    beats: Heartbeats | None = None
    timers: list[Timer] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class _Dialed:
    """What one pass on the pool brought: a subscribed socket, the transcript after the last item
    delivered when the pass began, and the chat items that came on the socket before that (in order)."""

    link: Link
    filled: list[ChatItem]
    early: list[ChatItem]


class _ConnectionFailed(Exception):
    """CreateParticipantConnection failed: `error` is the participant's own (a ConnectError, or a bug)."""

    def __init__(self, error: BaseException) -> None:
        super().__init__(str(error))
        self.error = error


class _FillFailed(Exception):
    """GetTranscript failed on a socket already subscribed (and now closed)."""

    def __init__(self, error: BaseException) -> None:
        super().__init__(str(error))
        self.error = error


class ChatSocket:
    """One chat's participant WebSocket, kept by the process's `SocketHub`.

    Everything of one socket happens on the hub thread, one step at a time,
    but getting a socket: CreateParticipantConnection, opening it, subscribing
    and GetTranscript are one blocking pass on the hub's pool (`_dial`), which
    reports back to it once. The public surface is `start`, `close`,
    `wait_stopped` and the two callbacks."""

    def __init__(
        self,
        participant: Participant,
        participant_token: str,
        on_item: Callable[[ChatItem], None],
        on_state: Callable[[SocketState], None],
        *,
        subscribe_message: str = DEFAULT_SUBSCRIBE,
        after_id: str | None = None,
        last_connection_token: str | None = None,
        settings: SocketSettings | None = None,
        clock: Callable[[], float] = time.time,
        name: str = "chat-socket",
        hub: SocketHub | None = None,
    ) -> None:
        """`after_id`: the last item the owner has already seen (on recovery);
        the first transcript fill starts after it. `last_connection_token`: the
        connection token the owner had before a restart; should the chat have
        ended meanwhile (Connect refuses a new connection), the chat's last items
        are read with it. `clock` is the wall clock
        (seconds since the epoch) that ConnectionExpiry is compared with.
        `hub`: the process's shared one by default."""
        self._participant = participant
        self._participant_token = participant_token
        self._on_item = on_item
        self._on_state = on_state
        self._subscribe_message = subscribe_message
        self._last_transcript_id = after_id
        self._settings = settings or SocketSettings()
        self._clock = clock
        self._name = name
        self._hub = hub or default_hub()
        self._stopped = threading.Event()
        # From here on, touched only on the hub thread.
        self._done = False
        self._serving: _Session | None = None
        # A renewal is under way (its pass is on the pool).
        self._renewal_pending = False
        self._connection: ParticipantConnection | None = None
        self._last_connection_token = last_connection_token
        self._failures = 0
        self._wait: Timer | None = None
        self._recent: collections.deque[str] = collections.deque(maxlen=_RECENT_IDS)

    def start(self) -> ChatSocket:
        self._hub.call_soon(self._connect)
        return self

    def close(self) -> None:
        """Stop for good (the chat itself goes on: DisconnectParticipant is the
        owner's call). Returns at once; `on_state` will hear SocketStopped(CLOSED)."""
        self._hub.call_soon(lambda: self._stop(StopReason.CLOSED, "closed by its owner"))

    def wait_stopped(self, timeout: float | None = None) -> bool:
        """Whether the socket has stopped (waiting up to `timeout` seconds)."""
        return self._stopped.wait(timeout)

    # -- getting a socket ---------------------------------------------------

    def _connect(self, attempt: int = 0) -> None:
        """A new socket, its connection retried with backoff up to `connection_attempts` calls while
        Connect answers retryably."""
        if self._done:
            return
        self._dial(lambda dialed, error: self._connected(dialed, error, attempt))

    def _dial(self, then: Callable[[_Dialed | None, BaseException | None], None]) -> None:
        """One pass on the pool: a connection, the socket opened and subscribed, the gap filled after
        the last item delivered now; `then` hears of it on the hub thread."""
        participant, token, settings = self._participant, self._participant_token, self._settings
        subscribe, after = self._subscribe_message, self._last_transcript_id

        def dial() -> _Dialed:
            try:
                connection = participant.connect(token)
            except Exception as error:
                raise _ConnectionFailed(error) from None
            link = Link(connection, settings.open_timeout)
            try:
                early = _subscribed(link, subscribe, settings)
                try:
                    filled = participant.transcript_after(connection.connection_token, after)
                except Exception as error:
                    raise _FillFailed(error) from None
            except BaseException:
                link.close()
                raise
            return _Dialed(link, filled, early)

        self._hub.run_blocking(dial, then)

    def _connected(self, dialed: _Dialed | None, error: BaseException | None, attempt: int) -> None:
        if self._done:
            if dialed is not None:
                dialed.link.close()
            return
        if isinstance(error, _ConnectionFailed):
            if not self._connection_refused(error.error):
                attempt += 1
                assert isinstance(error.error, RetryableError)
                if attempt >= self._settings.connection_attempts:
                    self._reconnect_failed(f"no connection after {attempt} tries: {error.error.code}")
                else:
                    delay = self._settings.connection_backoff.delay(attempt)
                    self._pause(
                        f"CreateParticipantConnection: {error.error.code}", attempt, delay, lambda: self._connect(attempt)
                    )
        elif isinstance(error, LinkFailed):
            self._reconnect_failed(str(error))
        elif isinstance(error, _FillFailed):
            if isinstance(error.error, RetryableError):
                self._reconnect_failed(f"GetTranscript: {error.error.code}")
            else:
                self._fill_refused(error.error)
        elif error is not None:
            self._unexpected(error)
        else:
            assert dialed is not None
            self._serve(dialed, renewal=False)

    def _connection_refused(self, error: BaseException) -> bool:
        """Stop for an error that no retry mends (the chat is over, or a permanent refusal); False for a retryable one."""
        if isinstance(error, ChatEnded):
            self._final_fill()
            return True
        if isinstance(error, PermanentError):
            self._stop(StopReason.GAVE_UP, str(error))
            return True
        if not isinstance(error, RetryableError):
            self._unexpected(error)
            return True
        return False

    def _fill_refused(self, error: BaseException) -> None:
        if isinstance(error, PermanentError):
            self._stop(StopReason.GAVE_UP, str(error))
        else:
            self._unexpected(error)

    def _serve(self, dialed: _Dialed, renewal: bool) -> None:
        """Serve the new socket: deliver the fill, then the items that came on it meanwhile (a renewal:
        make before break, the old socket goes now; what it still held comes with the fill, and what it
        delivered during the pass is skipped as a repeat)."""
        link = dialed.link
        lifetime = link.connection.websocket_expiry.timestamp() - self._clock()
        link.renew_at = self._clock() + max(lifetime - self._settings.renew_before_expiry, lifetime / 2)
        if renewal:
            self._renewal_pending = False
            if self._serving is not None:
                self._close_session(self._serving)
        session = _Session(link)
        self._serving = session
        self._connection = link.connection
        self._hub.watch(link.socket, lambda: self._readable(session))
        if not self._deliver_all(dialed.filled) or not self._deliver_all(dialed.early):
            return
        if not renewal:
            self._failures = 0
        if not self._tell(SocketConnected(link.connection, renewal)):
            return
        session.beats = Heartbeats.starting(time.monotonic(), self._settings.heartbeat)
        self._after(session, self._settings.heartbeat, lambda: self._heartbeat(session))
        self._after(session, link.renew_at - self._clock(), lambda: self._renew(session))
        if link.pending():
            self._hub.call_soon(lambda: self._readable(session) if not link.closed else None)

    # -- serving ------------------------------------------------------------

    def _readable(self, session: _Session) -> None:
        """A frame (or part of one) arrived on `session`'s socket."""
        try:
            text = session.link.receive(0)
        except LinkFailed as error:
            self._session_failed(session, str(error))
            return
        if text is None:
            return
        if session.link.pending():
            self._hub.call_soon(lambda: self._readable(session) if not session.link.closed else None)
        frame = parse_frame(text)
        if isinstance(frame, Heartbeat):
            if session.beats is not None:
                session.beats.answered()
        elif isinstance(frame, ChatItem):
            self._deliver(frame)
        elif isinstance(frame, MalformedFrame):
            log.warning("malformed frame on a chat socket: %s", frame.reason)

    def _heartbeat(self, session: _Session) -> None:
        assert session.beats is not None
        now = time.monotonic()
        beat = session.beats.check(now)
        if beat is Beat.DEAD:
            self._session_failed(session, beat.value)
            return
        if beat is Beat.SEND:
            try:
                session.link.send(HEARTBEAT)
            except LinkFailed as error:
                self._session_failed(session, str(error))
                return
        self._after(session, session.beats.seconds_left(now), lambda: self._heartbeat(session))

    def _renew(self, session: _Session) -> None:
        """Make before break: a new socket, subscribed and caught up, before the old one goes.
        If the new one cannot be had, the old one serves on and renewal is tried again later."""
        if session is not self._serving or self._renewal_pending:
            return
        self._renewal_pending = True
        self._dial(self._renewed)

    def _renewed(self, dialed: _Dialed | None, error: BaseException | None) -> None:
        if self._done or not self._renewal_pending:
            # Stopped, or the socket being renewed broke meanwhile (its reconnection took over).
            if dialed is not None:
                dialed.link.close()
            return
        if isinstance(error, _ConnectionFailed):
            if not self._connection_refused(error.error):
                self._renew_later()
        elif isinstance(error, _FillFailed) and not isinstance(error.error, RetryableError):
            self._fill_refused(error.error)
        elif isinstance(error, (LinkFailed, _FillFailed)):
            self._renew_later()
        elif error is not None:
            self._unexpected(error)
        else:
            assert dialed is not None
            self._serve(dialed, renewal=True)

    def _renew_later(self) -> None:
        self._renewal_pending = False
        session = self._serving
        if session is None:
            return
        link = session.link
        link.renew_failures += 1
        link.renew_at = self._clock() + self._settings.connection_backoff.delay(link.renew_failures)
        self._after(session, link.renew_at - self._clock(), lambda: self._renew(session))

    # -- failures -------------------------------------------------------------

    def _session_failed(self, session: _Session, reason: str) -> None:
        """The serving socket broke, was closed or stopped answering."""
        if self._done:
            return
        self._close_session(session)
        if session is not self._serving:
            return
        self._serving = None
        # The socket being renewed is gone: a reconnection replaces it, and the renewal's new socket with it.
        self._renewal_pending = False
        # A drop counts as the first failure of the reconnections that follow.
        self._failures = 1
        self._pause(reason, 1, self._settings.reconnect_backoff.delay(1), self._connect)

    def _reconnect_failed(self, reason: str) -> None:
        self._failures += 1
        if self._failures >= self._settings.reconnect_attempts:
            self._stop(StopReason.GAVE_UP, f"{self._failures} reconnections failed, the last: {reason}")
            return
        self._pause(reason, self._failures, self._settings.reconnect_backoff.delay(self._failures), self._connect)

    def _pause(self, reason: str, attempt: int, delay: float, then: Callable[[], None]) -> None:
        if self._tell(SocketReconnecting(reason, attempt, delay)):
            self._wait = self._hub.call_later(delay, then)

    def _final_fill(self) -> None:
        """The chat is over: bring its last items with the last connection token (this run's, or
        the one the owner kept from before a restart), if it still works."""
        detail = "the chat has ended: no new connection"
        token = self._connection.connection_token if self._connection is not None else self._last_connection_token
        if token is None:
            self._stop(StopReason.CHAT_ENDED, detail)
            return
        after = self._last_transcript_id

        def filled(items: list[ChatItem] | None, error: BaseException | None) -> None:
            if self._done:
                return
            if isinstance(error, ConnectError):
                log.info("no final transcript after the chat ended: %s", error.code)
            elif error is not None:
                self._unexpected(error)
                return
            if items is None or self._deliver_all(items):
                self._stop(StopReason.CHAT_ENDED, detail)

        self._hub.run_blocking(lambda: self._participant.transcript_after(token, after), filled)

    def _unexpected(self, error: BaseException) -> None:
        # A bug here or in a callback must not leave the owner waiting for a socket that is gone.
        log.error("chat socket %s failed", self._name, exc_info=error)
        self._stop(StopReason.GAVE_UP, f"unexpected {type(error).__name__}")

    def _stop(self, reason: StopReason, detail: str) -> None:
        if self._done:
            return
        self._done = True
        if self._wait is not None:
            self._wait.cancel()
        if self._serving is not None:
            self._close_session(self._serving)
        self._serving = None
        try:
            self._on_state(SocketStopped(reason, detail))
        except Exception:
            log.exception("chat socket %s: on_state failed", self._name)
        self._stopped.set()

    # -- delivery -----------------------------------------------------------

    def _deliver_all(self, items: list[ChatItem]) -> bool:
        """Deliver in order; False once the socket has stopped (the chat ended, or a callback failed)."""
        return all(self._deliver(item) for item in items)

    def _deliver(self, item: ChatItem) -> bool:
        if item.id in self._recent:
            return True
        self._recent.append(item.id)
        if item.in_transcript:
            self._last_transcript_id = item.id
        try:
            self._on_item(item)
        except Exception as error:
            self._unexpected(error)
            return False
        if item.kind is ItemKind.CHAT_ENDED:
            self._stop(StopReason.CHAT_ENDED, "the chat has ended")
            return False
        return True

    def _tell(self, state: SocketState) -> bool:
        try:
            self._on_state(state)
        except Exception as error:
            self._unexpected(error)
            return False
        return True

    # -- sessions -------------------------------------------------------------

    def _after(self, session: _Session, delay: float, callback: Callable[[], None]) -> None:
        """A timer of the session's, dropped with it."""
        session.timers = [timer for timer in session.timers if not timer.cancelled]
        session.timers.append(self._hub.call_later(delay, callback))

    def _close_session(self, session: _Session) -> None:
        for timer in session.timers:
            timer.cancel()
        session.timers.clear()
        self._hub.unwatch(session.link.socket)
        session.link.close()


def _subscribed(link: Link, subscribe: str, settings: SocketSettings) -> list[ChatItem]:
    """Send the subscribe and wait for its acceptance, sending it again every `subscribe_retry`
    seconds, `subscribe_attempts` times in all (a refusal waits for its try's time to be up); the chat
    items that came first, in order. Blocking: on the pool. Raises LinkFailed."""
    early: list[ChatItem] = []
    for _ in range(settings.subscribe_attempts):
        link.send(subscribe)
        deadline = time.monotonic() + settings.subscribe_retry
        while (left := deadline - time.monotonic()) > 0:
            text = link.receive(left)
            if text is None:
                break
            frame = parse_frame(text)
            if isinstance(frame, SubscribeAnswer) and frame.ok:
                return early
            if isinstance(frame, ChatItem):
                early.append(frame)
    raise LinkFailed(f"subscribe not accepted after {settings.subscribe_attempts} tries")
