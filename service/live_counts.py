"""How many conversations that have not ended each worker has in each region, read from the store.

    >>> counts = LiveCounts(store)
    >>> counts.count()          # the first count folds every live conversation, as recovery does
    [LiveCount(worker_id='0b5c...', region='us-east-1', conversations=12)]
    >>> counts.count()          # later ones fold only the events appended since
    >>> LiveCounts(store, first=lambda: service.take_live_fold(10.0))   # the first, recovery's fold

The running service's status writer takes recovery's fold for its first count (`first`): both ran at
start, on two threads, and the second fold was 4 % of a 5,000-conversation restart's CPU
(bench/README.md, "Recovery: less CPU per resumed conversation").

A conversation's region is where it is served now (its target, which a failover order may have
moved), found by the same fold as recovery and `run.py replay`, so the counts never disagree with
them. The service counts this way every few seconds for `run.py status`, and `run.py status` once,
from the store, when the service is down.

Each state is kept without its seen ids (`SeenIds`: every Connect id and bot message id of the chat,
for deduplication). Nothing here reads them, and `evolve` reads them only to add a bot message id
once, so the worker, the target and the timers come out the same; kept, they were a second copy of
every live chat's ids beside the actor's, growing with each message for as long as the chat lasts
(bench/README.md, "Memory growth in the soak").
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable

import msgspec
from msgspec.structs import replace

from events import ConversationState, armed_timers, decode, evolve, initial_state
from events.seen_ids import SeenIds
from store import EventStore
from store.conversations import STREAM_PREFIX, LiveFold, fold_live, live_conversations

_PAGE = 1000


class LiveCount(msgspec.Struct, frozen=True):
    worker_id: str
    region: str
    conversations: int


class LiveCounts:
    """Not thread-safe: one caller counts (the status writer's thread, or the `status` command)."""

    def __init__(self, store: EventStore, first: Callable[[], LiveFold | None] | None = None) -> None:
        """`first`: the live conversations already folded by someone else (the running service's
        recovery), for the first count instead of a fold of its own; None from it, or no `first`, and
        the first count folds them itself."""
        self._store = store
        self._first = first
        self._states: dict[str, ConversationState] | None = None
        self._position = 0

    def count(self) -> list[LiveCount]:
        """By worker, then region."""
        if self._states is None:
            self._states = self._load_all()
        self._follow(self._states)  # the first time too: a fold given may be some seconds old
        self._keep_live(self._states)
        tally = Counter(
            (state.worker_id, state.target.region)
            for state in self._states.values()
            if state.worker_id is not None and state.target is not None
        )
        return [LiveCount(worker, region, n) for (worker, region), n in sorted(tally.items())]

    def timers_pending(self) -> int:
        """The auto-disconnect timers armed and not yet fired or cancelled in the live conversations, as of
        the last `count` (the log's own account, whether the service runs or not)."""
        return sum(len(armed_timers(state)) for state in (self._states or {}).values())

    def _load_all(self) -> dict[str, ConversationState]:
        # The fold's position is taken first: what is appended while loading is read again by `_follow`,
        # which skips the events a state already holds.
        folded = self._first() if self._first is not None else None
        if folded is None:
            folded = fold_live(self._store)
        self._position = folded.position
        return {conversation_id: _counted(state) for conversation_id, state in folded.states.items()}

    def _follow(self, states: dict[str, ConversationState]) -> None:
        while page := self._store.read_all(self._position, limit=_PAGE):
            for stored in page:
                if stored.stream.startswith(STREAM_PREFIX):
                    conversation_id = stored.stream.removeprefix(STREAM_PREFIX)
                    state = states.get(conversation_id) or initial_state(conversation_id)
                    if stored.seq > state.version:  # else loaded already, with the live ones
                        states[conversation_id] = _counted(evolve(state, decode(stored.data)))
            self._position = page[-1].position

    def _keep_live(self, states: dict[str, ConversationState]) -> None:
        """Forget the conversations whose streams are closed. (One begun since the last page read is
        counted next time, from its first event on.)"""
        for conversation_id in set(states) - set(live_conversations(self._store)):
            del states[conversation_id]


_NO_IDS = SeenIds()


def _counted(state: ConversationState) -> ConversationState:
    """The state as the counts keep it: without its seen ids (above)."""
    return replace(state, seen_connect_ids=_NO_IDS, seen_bot_message_ids=_NO_IDS)
