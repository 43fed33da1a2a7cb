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
import random
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
from retry import JITTER, Backoff

log = logging.getLogger(__name__)

DEFAULT_SUBSCRIBE = '{"topic":"aws/subscribe","content":{"topics":["aws/chat"]}}'
HEARTBEAT = '{"topic":"aws/heartbeat"}'
# How many delivered ids the socket remembers to skip its own repeats: the
# overlap between a transcript fill and the frames queued on the new socket
# (or still read on the old one during a renewal), which are always the newest
# few items. The owner still deduplicates: delivery is at least once, and a
# repeat beyond these costs the owner a lookup, not a message told twice. Kept
# small because every socket fills it for its whole life, about two ids an
# exchange at some 95 bytes each: 256 held up to 24 KB a chat, and in a soak
# grew with every exchange (bench/README.md, "The soak's memory").
_RECENT_IDS = 8


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
class SocketCredentials:
    """A new connection, told as soon as CreateParticipantConnection returns, before its socket is
    open: its token still reads the transcript after the chat has ended, so the owner keeps it at
    once (a crash before `SocketConnected` would otherwise leave no way to read the chat's end).
    Not yet for sending: that waits for `SocketConnected`."""

    connection_token: str


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


SocketState = SocketCredentials | SocketConnected | SocketReconnecting | SocketStopped


@dataclass(frozen=True)
class SocketSettings:
    """The socket's timings, in seconds. Defaults follow amazon-connect-chatjs:
    heartbeat every 10 s; subscribe retried every second; reconnect after
    about 1 s doubling to 30 s, and a new connection fetched after 2 s
    doubling to 30 s, both with full jitter (`retry.Backoff`). Renewal starts
    `renew_before_expiry` before ConnectionExpiry and up to `renew_spread`
    earlier still, drawn from `renew_rng` (`renewal_delay`), but never before
    half of the connection's life, so that a short-lived connection is not
    renewed over and over."""

    heartbeat: float = 10.0
    subscribe_retry: float = 1.0
    subscribe_attempts: int = 5
    open_timeout: float = 10.0
    renew_before_expiry: float = 60.0
    renew_spread: float = 600.0
    renew_rng: random.Random = JITTER
    reconnect_backoff: Backoff = Backoff(first=1.0, cap=30.0)
    connection_backoff: Backoff = Backoff(first=2.0, cap=30.0)
    connection_attempts: int = 8
    # Failed reconnections in a row (each one after its own connection
    # retries) before the socket gives up.
    reconnect_attempts: int = 10


def renewal_delay(lifetime: float, settings: SocketSettings, draw: float) -> float:
    """Seconds from a socket's opening until its renewal starts, for a socket that lives `lifetime`
    seconds and a `draw` in [0, 1): `renew_before_expiry` before it expires, and a share `draw` of
    `renew_spread` before that, but never before half its life. The spread is for sockets opened
    together (every chat of a restart's recovery, or of a failover move): renewed all at once, an
    hour later, they would call CreateParticipantConnection and open sockets in one burst, as many
    as the recovery did; spread, 5,000 of them renew at about 8 a second over ten minutes."""
    return max(lifetime - settings.renew_before_expiry - draw * settings.renew_spread, lifetime / 2)


# The settings of a socket given none. One for all: each `SocketSettings` seeds three `random.Random`
# from the system's entropy (its renewal spread's and its two backoffs'), which a recovery of thousands
# of sockets paid for each; their draws need to be spread, not independent.
DEFAULT_SETTINGS = SocketSettings()


@dataclass(eq=False)
class _Session:
    """One WebSocket of the chat and where it is in its life: subscribing, catching up, serving."""

    link: Link
    renewal: bool
    phase: str = "subscribing"
    subscribe_tries: int = 1
    early: list[ChatItem] = field(default_factory=list)
    beats: Heartbeats | None = None
    timers: list[Timer] = field(default_factory=list)


class ChatSocket:
    """One chat's participant WebSocket, kept by the process's `SocketHub`.

    Everything of one socket happens on the hub thread, one step at a time;
    the blocking calls (CreateParticipantConnection, opening the socket,
    GetTranscript) run on the hub's pool and report back to it. The public
    surface is `start`, `close`, `wait_stopped` and the two callbacks."""

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
        self._settings = settings or DEFAULT_SETTINGS
        self._clock = clock
        self._name = name
        self._hub = hub or default_hub()
        self._stopped = threading.Event()
        # From here on, touched only on the hub thread.
        self._done = False
        self._serving: _Session | None = None
        self._renewing: _Session | None = None
        # A renewal is under way (its connection or socket may still be on the pool).
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

    # -- getting a connection ------------------------------------------------

    def _connect(self, attempt: int = 0) -> None:
        """A new connection, retried with backoff up to `connection_attempts` calls while Connect answers retryably."""
        if self._done:
            return
        self._hub.run_blocking(
            lambda: self._participant.connect(self._participant_token),
            lambda connection, error: self._connected(connection, error, attempt),
        )

    def _connected(self, connection: ParticipantConnection | None, error: BaseException | None, attempt: int) -> None:
        if self._done:
            return
        if error is not None:
            if not self._connection_refused(error):
                attempt += 1
                assert isinstance(error, RetryableError)
                if attempt >= self._settings.connection_attempts:
                    self._reconnect_failed(f"no connection after {attempt} tries: {error.code}")
                else:
                    delay = self._settings.connection_backoff.delay(attempt)
                    self._pause(f"CreateParticipantConnection: {error.code}", attempt, delay, lambda: self._connect(attempt))
            return
        assert connection is not None
        self._last_connection_token = connection.connection_token  # the newest, for a final fill
        if self._tell(SocketCredentials(connection.connection_token)):
            self._open(connection, renewal=False)

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

    def _open(self, connection: ParticipantConnection, renewal: bool) -> None:
        """Open the socket and send the subscribe on the pool; then wait for its answer here."""

        def open_and_subscribe() -> Link:
            link = Link(connection, self._settings.open_timeout)
            try:
                link.send(self._subscribe_message)
            except LinkFailed:
                link.close()
                raise
            return link

        self._hub.run_blocking(open_and_subscribe, lambda link, error: self._opened(link, error, renewal))

    def _opened(self, link: Link | None, error: BaseException | None, renewal: bool) -> None:
        if self._done or (renewal and not self._renewal_pending):
            # Stopped, or the socket being renewed broke meanwhile (its reconnection took over).
            if link is not None:
                link.close()
            return
        if error is not None:
            if not isinstance(error, LinkFailed):
                self._unexpected(error)
            elif renewal:
                self._renew_later()
            else:
                self._reconnect_failed(str(error))
            return
        assert link is not None
        lifetime = link.connection.websocket_expiry.timestamp() - self._clock()
        link.renew_at = self._clock() + renewal_delay(lifetime, self._settings, self._settings.renew_rng.random())
        session = _Session(link, renewal)
        if renewal:
            self._renewing = session
        else:
            self._serving = session
        self._hub.watch(link.socket, lambda: self._readable(session))
        if link.pending():  # a frame that came with the handshake's answer: the socket will not show it
            self._hub.call_soon(lambda: self._readable(session) if not session.link.closed else None)
        self._after(session, self._settings.subscribe_retry, lambda: self._subscribe_unanswered(session))

    # -- subscribing and catching up ----------------------------------------

    def _subscribe_unanswered(self, session: _Session) -> None:
        """Send the subscribe again every `subscribe_retry` seconds, `subscribe_attempts` times in all."""
        if session.phase != "subscribing":
            return
        if session.subscribe_tries >= self._settings.subscribe_attempts:
            self._session_failed(session, f"subscribe not accepted after {self._settings.subscribe_attempts} tries")
            return
        session.subscribe_tries += 1
        try:
            session.link.send(self._subscribe_message)
        except LinkFailed as error:
            self._session_failed(session, str(error))
            return
        self._after(session, self._settings.subscribe_retry, lambda: self._subscribe_unanswered(session))

    def _subscribed(self, session: _Session) -> None:
        """Fill the gap from the transcript (renewal: make before break, the old socket goes now;
        the frames it still held come with the fill)."""
        if session.renewal:
            self._renewing = None
            self._renewal_pending = False
            if self._serving is not None:
                self._close_session(self._serving)
            self._serving = session
        session.phase = "catching up"
        self._connection = session.link.connection
        token, after = session.link.connection.connection_token, self._last_transcript_id
        self._hub.run_blocking(
            lambda: self._participant.transcript_after(token, after),
            lambda items, error: self._caught_up(session, items, error),
        )

    def _caught_up(self, session: _Session, items: list[ChatItem] | None, error: BaseException | None) -> None:
        if self._done or session is not self._serving:
            return
        if error is not None:
            if isinstance(error, RetryableError):
                self._session_failed(session, f"GetTranscript: {error.code}")
            elif isinstance(error, PermanentError):
                self._stop(StopReason.GAVE_UP, str(error))
            else:
                self._unexpected(error)
            return
        assert items is not None
        if not self._deliver_all(items) or not self._deliver_all(session.early):
            return
        session.early.clear()
        session.phase = "serving"
        if not session.renewal:
            self._failures = 0
        if not self._tell(SocketConnected(session.link.connection, session.renewal)):
            return
        session.beats = Heartbeats.starting(time.monotonic(), self._settings.heartbeat)
        self._after(session, self._settings.heartbeat, lambda: self._heartbeat(session))
        self._after(session, session.link.renew_at - self._clock(), lambda: self._renew(session))

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
        elif isinstance(frame, SubscribeAnswer):
            if session.phase == "subscribing" and frame.ok:
                self._subscribed(session)
            # A refusal: the next try goes out when the current one's time is up.
        elif isinstance(frame, ChatItem):
            if session.phase == "serving":
                self._deliver(frame)
            else:
                session.early.append(frame)
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
        """Make before break: a new connection and socket, subscribed, before the old one goes.
        If the new one cannot be had, the old one serves on and renewal is tried again later."""
        if session is not self._serving or self._renewal_pending:
            return
        self._renewal_pending = True
        self._hub.run_blocking(lambda: self._participant.connect(self._participant_token), self._renewal_connected)

    def _renewal_connected(self, connection: ParticipantConnection | None, error: BaseException | None) -> None:
        if self._done or not self._renewal_pending:
            return
        if error is not None:
            if not self._connection_refused(error):
                self._renew_later()
            return
        assert connection is not None
        self._open(connection, renewal=True)

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
        """A socket broke, was closed, stopped answering, or its subscribe or fill failed."""
        if self._done:
            return
        self._close_session(session)
        if session is self._renewing:
            self._renewing = None
            self._renew_later()
            return
        if session is not self._serving:
            return
        self._serving = None
        self._abandon_renewal()
        if session.phase == "serving" or session.renewal:
            # A drop counts as the first failure of the reconnections that follow.
            self._failures = 1
            self._pause(reason, 1, self._settings.reconnect_backoff.delay(1), self._connect)
        else:
            self._reconnect_failed(reason)

    def _abandon_renewal(self) -> None:
        """The socket being renewed is gone: a reconnection replaces it, and the renewal's new socket with it."""
        self._renewal_pending = False
        if self._renewing is not None:
            self._close_session(self._renewing)
            self._renewing = None

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
        for session in (self._serving, self._renewing):
            if session is not None:
                self._close_session(session)
        self._serving = self._renewing = None
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
