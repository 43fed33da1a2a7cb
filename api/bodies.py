"""The request and answer bodies of the bots' HTTP API, as msgspec types.

api/validation.py decodes requests into them, naming every bad field by its
JSON path in words (a field's `description` says what it takes);
`api/openapi.json` is generated from them, descriptions included.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

import msgspec

from api.context_limits import MAX_ATTRIBUTES_BYTES, MAX_DEPTH, MAX_KEY_LENGTH

NonEmpty = Annotated[str, msgspec.Meta(min_length=1, description="a string of 1 or more characters")]
# `(?![\s\S])` ends the string: msgspec matches with Python's re.search, where `$` also matches before a
# trailing newline ("c-1\n"); `\Z` would do in Python but is no JSON Schema (ECMA-262) pattern.
ConversationId = Annotated[
    str,
    msgspec.Meta(
        min_length=1,
        max_length=200,
        pattern=r"^[A-Za-z0-9._:-]+(?![\s\S])",
        description="1 to 200 letters, digits or . _ : -",
    ),
]
# What Amazon Connect's SendMessage takes (the participant service's ContentType).
ContentType = Annotated[
    Literal["text/plain", "text/markdown", "application/json", "application/vnd.amazonaws.connect.message.interactive.response"],
    msgspec.Meta(
        description="one of text/plain, text/markdown, application/json, "
        "application/vnd.amazonaws.connect.message.interactive.response (what Amazon Connect's SendMessage takes)"
    ),
]

# The limits api/context_limits.py checks (Amazon Connect's contact attributes) and api/nesting.py's depth.
BotContext = Annotated[
    dict[str, Any],
    msgspec.Meta(
        description="an object, sent to Amazon Connect as the contact's attributes: keys of 1 to "
        f"{MAX_KEY_LENGTH:,} letters, digits, - or _; at most {MAX_ATTRIBUTES_BYTES:,} UTF-8 bytes of keys and "
        f"values (a value other than a string counted as its JSON text); nested at most {MAX_DEPTH} levels"
    ),
]
# The rule api/deliver_to.py decides (api/README.md).
DeliverTo = Annotated[
    str | None,
    msgspec.Meta(
        description="the bot's webhook URL: http or https with a valid host; only the client's allowed hosts "
        "if it has any, else no link-local or cloud metadata address (api/README.md); null for the pull "
        "stream only"
    ),
]


class _Body(msgspec.Struct, frozen=True, rename="pascal", forbid_unknown_fields=True):
    pass


class User(_Body):
    name: str | None = None


class TransferRequest(_Body):
    """Hand a conversation over to a worker. `DeliverTo` is the bot's webhook URL, or null for the pull stream only."""

    conversation_id: ConversationId
    worker_id: NonEmpty
    bot_name: NonEmpty
    user: User = User()
    context: BotContext = {}
    deliver_to: DeliverTo = None


class MessageRequest(_Body):
    """A user message; `MessageId` is the bot's own id for it: sent again with the same `Text` and
    `ContentType`, a retry (sent to Amazon Connect once); with another, refused 409 idempotency_conflict."""

    message_id: NonEmpty
    text: str
    content_type: ContentType = "text/plain"


class ContextRequest(_Body):
    context: BotContext


class KnownAgent(_Body):
    """The last agent who joined, left or wrote: the same shape as the hand-back's `LastKnownAgent`."""

    agent_name: str


class EndError(_Body):
    """Why a conversation ended with SessionEndReason Error: Connect's error name (or ChatSocketGaveUp,
    ChatEndedAtConnect, NoAgentJoined) and its message; the same as the hand-back's `Error`."""

    code: str
    message: str


class Conversation(_Body):
    """A conversation as the API shows it (the participant token never appears)."""

    conversation_id: str
    phase: str
    version: int
    worker_id: str | None
    bot_name: str | None
    display_name: str | None
    context: dict[str, Any]
    deliver_to: str | None
    contact_id: str | None
    participant_id: str | None
    last_known_agent: KnownAgent | None
    session_end_reason: str | None
    error: EndError | None = None


class ConversationList(_Body):
    conversations: list[str]


class WorkerQueue(_Body):
    """A worker's queue at Amazon Connect on the CHAT channel (GetCurrentMetricData), in the region new
    transfers go to (the active failover region's, if one is active). Answers are kept a few seconds:
    the figures are Connect's as of `AsOf`, `AgeSeconds` ago."""

    worker_id: str
    region: str
    queue_id: str
    agents_online: int
    agents_available: Annotated[int, msgspec.Meta(description="agents online with room for another chat")]
    contacts_in_queue: int
    oldest_contact_age_seconds: Annotated[
        float | None, msgspec.Meta(description="how long the longest-waiting contact has waited; null when none waits")
    ]
    as_of: Annotated[
        datetime,
        msgspec.Meta(
            description="when Amazon Connect gave these figures (UTC)", extra_json_schema={"format": "date-time"}
        ),
    ]
    age_seconds: Annotated[float, msgspec.Meta(ge=0, description="seconds since AsOf when this answer was made")]


_WHEN = {"format": "date-time"}


class RegionStatus(_Body):
    """One region in use and how it is doing, as the service's own calls there show it: one entry per
    Connect region and `Secret` (the clients of workers whose roles differ are apart). `Calls`,
    `Errors` and `Throttles` count since the service started; the rates and latencies are over the
    last 1,000 calls. A call is one API operation, boto3's retries inside it."""

    region: str
    secret: Annotated[
        str | None,
        msgspec.Meta(
            description="the vault reference (srn:vault::...) naming the cross-account role the region's calls "
            "are signed with, never its value; null: the service's own credentials"
        ),
    ]
    live_conversations: Annotated[int, msgspec.Meta(ge=0, description="conversations with a running actor there now")]
    calls: Annotated[int, msgspec.Meta(ge=0)]
    errors: Annotated[
        int, msgspec.Meta(ge=0, description="calls answered with a 5xx, or not answered (refused, reset, timed out)")
    ]
    throttles: Annotated[int, msgspec.Meta(ge=0, description="calls answered with 429 or a throttling error")]
    error_rate: Annotated[float, msgspec.Meta(ge=0, le=1, description="share of the last calls that were errors")]
    throttle_rate: Annotated[
        float, msgspec.Meta(ge=0, le=1, description="share of the last calls that were throttled")
    ]
    latency_p50_ms: Annotated[float | None, msgspec.Meta(description="null before the first call")]
    latency_p99_ms: Annotated[float | None, msgspec.Meta(description="null before the first call")]
    consecutive_failures: Annotated[
        int,
        msgspec.Meta(
            ge=0,
            description="errors and throttles in a row; any answer that shows the region up (a 2xx, or a 4xx "
            "that is no throttle) sets it back to 0",
        ),
    ]
    last_success_at: Annotated[datetime | None, msgspec.Meta(extra_json_schema=_WHEN)]
    last_failure_at: Annotated[datetime | None, msgspec.Meta(extra_json_schema=_WHEN)]
    failing_since: Annotated[
        datetime | None,
        msgspec.Meta(
            description="when the first of the failures in a row happened; null while the region answers",
            extra_json_schema=_WHEN,
        ),
    ]


class RegionList(_Body):
    regions: list[RegionStatus]


class Error(_Body):
    """Every error answer: `Code` is stable (a rejection code or an API one), `Message` says what is wrong."""

    code: str
    message: str


class ActiveRegion(_Body):
    """Where the worker's new transfers start now."""

    name: Annotated[
        str | None, msgspec.Meta(description="the Name of the active failover region; null: the primary region")
    ]
    region: str
    instance_id: str
    contact_flow_id: str
    queue_id: Annotated[str | None, msgspec.Meta(description="the queue GET /v1/workers/{id}/queue reads; null: none")]


class FailoverOrder(_Body):
    """The last failover order (`run.py failover`, automatic failover, or an update of ActiveFailoverRegion)."""

    order: Annotated[int, msgspec.Meta(ge=1, description="its number: its place in the worker's event stream")]
    mode: Annotated[
        Literal["drain", "move"],
        msgspec.Meta(description="drain: live conversations finish where they are; move: they start again there"),
    ]
    carried_out: Annotated[
        bool, msgspec.Meta(description="every live conversation of the worker has taken it (the running service)")
    ]


class Worker(_Body):
    """A worker as the service uses it now: no secrets (its vault references are not shown either)."""

    worker_id: str
    name: str
    enabled: bool
    active_region: ActiveRegion
    failover_regions: Annotated[list[str], msgspec.Meta(description="the Names of its FailoverRegions")]
    failover_order: Annotated[FailoverOrder | None, msgspec.Meta(description="null: none since it was created")]


class WorkerList(_Body):
    workers: list[Worker]


class ApiClient(_Body):
    """The API client whose token this is (never its token or signing secret)."""

    client_id: str
    name: str
    admin: Annotated[bool, msgspec.Meta(description="an admin client sees every conversation and their timelines")]


class TimelineEvent(_Body):
    """One event of a conversation's stream, as `python run.py replay` shows it."""

    seq: Annotated[int, msgspec.Meta(ge=1, description="its place in the conversation's stream")]
    recorded_at: Annotated[datetime, msgspec.Meta(extra_json_schema=_WHEN)]
    type: Annotated[str, msgspec.Meta(description="the event's type: Transferred, ChatStarted, AgentJoined, ...")]
    event: Annotated[
        dict[str, Any],
        msgspec.Meta(
            description="its fields as `python run.py replay --json` shows them (snake_case, times in epoch "
            'seconds), every participant and connection token replaced by "<redacted>"'
        ),
    ]
    phase: Annotated[str, msgspec.Meta(description="the conversation's phase right after it")]


class PendingEffect(_Body):
    """An intent written whose outcome is not yet: what the actor, or recovery after a restart, still does."""

    seq: int
    type: str


class ArmedTimer(_Body):
    """An auto-disconnect timer that will fire unless an agent message comes first."""

    kind: Literal["WARNING", "DISCONNECT"]
    due_at: Annotated[datetime, msgspec.Meta(extra_json_schema=_WHEN)]


class Timeline(_Body):
    """A conversation's whole history for the operator: every event in order and the state they fold to."""

    conversation: Conversation
    events: list[TimelineEvent]
    pending: list[PendingEffect]
    armed_timers: list[ArmedTimer]


ALL_TYPES = (
    TransferRequest, MessageRequest, ContextRequest, Conversation, ConversationList, WorkerQueue, Worker, WorkerList,
    RegionList, ApiClient, Timeline, Error,
)
