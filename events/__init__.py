"""The vocabulary and the pure core of a conversation: events, commands, decide and evolve.

No I/O here: time arrives on each command. See events/README.md.
"""

from events.codec import (
    EventDecodeError,
    FutureSchemaVersion,
    InvalidEvent,
    UnknownEventType,
    decode,
    decode_worker,
    encode,
    event_type,
)
from events.conversation_decide import client_token, decide, display_name, egress_plan, sent_by_the_worker
from events.conversation_state import (
    ConversationState,
    armed_timers,
    evolve,
    handback,
    initial_state,
    pending_effects,
)
from events.redaction import REDACTED, redact, redact_state, redact_url, redact_worker_config
from events.rejection import Rejected
from events.worker import decide_worker, evolve_worker, initial_worker_state

__all__ = [
    "REDACTED",
    "ConversationState",
    "EventDecodeError",
    "FutureSchemaVersion",
    "InvalidEvent",
    "Rejected",
    "UnknownEventType",
    "armed_timers",
    "client_token",
    "decide",
    "decide_worker",
    "decode",
    "decode_worker",
    "display_name",
    "egress_plan",
    "encode",
    "event_type",
    "evolve",
    "evolve_worker",
    "handback",
    "initial_state",
    "initial_worker_state",
    "pending_effects",
    "redact",
    "redact_state",
    "redact_url",
    "redact_worker_config",
    "sent_by_the_worker",
]
