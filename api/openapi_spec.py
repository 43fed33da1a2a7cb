"""Writes api/openapi.json: the paths by hand, the schemas from the msgspec body types.

    .venv/bin/python -m api.openapi_spec     # from the repository root, after changing this file or api/bodies.py

tests/api/ fails while the committed file differs from `render()`, or while a route of
`api.app.create_app` (the pull stream included) is missing from `paths` or vice versa.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import msgspec

from api.bodies import ALL_TYPES
from api.context_limits import MAX_ATTRIBUTES_BYTES, MAX_DEPTH
from api.operator_page import ASSETS
from api.request_body import DEFAULT_MAX_BODY_BYTES
from delivery.backpressure import DEFAULT_LAG_LIMIT_SECONDS, MAX_RETRY_AFTER_SECONDS
from delivery.pull import MAX_SEQ, MAX_WAIT_SECONDS
from events.conversation_decide import MAX_MESSAGE_PIECES
from events.long_messages import MAX_MESSAGE_BYTES
from service.queue_metrics import DEFAULT_QUEUE_METRICS_TTL

OPENAPI_FILE = Path(__file__).with_name("openapi.json")
REGENERATE = ".venv/bin/python -m api.openapi_spec"
_REF = "#/components/schemas/{name}"


def _ref(name: str) -> dict[str, Any]:
    return {"$ref": _REF.format(name=name)}


def _answer(description: str, schema: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": _ref(schema)}}}


def _body(schema: str) -> dict[str, Any]:
    return {"required": True, "content": {"application/json": {"schema": _ref(schema)}}}


_ERRORS = {
    "401": _answer("no token, not a Bearer token, or a token that is not a client's or is revoked", "Error"),
    "404": _answer(
        "unknown conversation, or another client's (answered exactly alike); unknown worker", "Error"
    ),
    "409": _answer("not possible in the conversation's state (Code is the rejection code)", "Error"),
}
_BAD_BODY = {
    "400": _answer(
        "Code invalid_body: not JSON, or every wrong field named by JSON path and said in words (nested "
        f"deeper than {MAX_DEPTH} levels, a Context over Amazon Connect's {MAX_ATTRIBUTES_BYTES:,} bytes of "
        "contact attributes, a DeliverTo that can never be delivered to, ...); or content the core refuses (Code "
        f"empty_message; message_too_long: more than {MAX_MESSAGE_PIECES} Amazon Connect messages of "
        f"{MAX_MESSAGE_BYTES:,} UTF-8 bytes (or the worker's MaxMessageBytes), as a longer text is sent in pieces; "
        "invalid_display_name)",
        "Error",
    ),
    "413": _answer(
        f"Code body_too_large: the body is over the API's limit ({DEFAULT_MAX_BODY_BYTES:,} bytes unless configured)",
        "Error",
    ),
}
_ID = [{"name": "conversation_id", "in": "path", "required": True, "schema": {"type": "string"}}]
_BEHIND = {
    "429": {
        **_answer(
            "Code delivery_behind: webhook delivery to this client is behind (its oldest message due, not "
            "waiting for a retry, has waited longer than the service's limit: "
            f"{DEFAULT_LAG_LIMIT_SECONDS:g} s unless configured, delivery_lag_limit_seconds); nothing was "
            "accepted: send the same request again after Retry-After",
            "Error",
        ),
        "headers": {
            "Retry-After": {
                "description": f"seconds to wait: how far delivery is past the limit (1 to {MAX_RETRY_AFTER_SECONDS})",
                "schema": {"type": "integer", "minimum": 1, "maximum": MAX_RETRY_AFTER_SECONDS},
            }
        },
    }
}
# Several nodes on one DynamoDB log (docs/cluster.md): the node that runs the conversation answers a
# call forwarded to it; when it cannot, this.
_MOVING = {
    "503": {
        **_answer(
            "Code conversation_moving (several nodes): the node that runs the conversation cannot be reached, or "
            "the conversation moved between nodes while the call was forwarded; nothing was accepted: send the "
            "same request again after Retry-After",
            "Error",
        ),
        "headers": {
            "Retry-After": {
                "description": "seconds to wait: what is left of the conversation's lease on its node",
                "schema": {"type": "integer", "minimum": 1},
            }
        },
    }
}


def _command(
    summary: str, body: str | None = None, *, refused_when_behind: bool = False, conflict: str | None = None
) -> dict[str, Any]:
    """`conflict`: what else a 409 may say for this command, besides the conversation's state."""
    operation: dict[str, Any] = {
        "summary": summary,
        "parameters": _ID,
        "responses": {"202": _answer("accepted and durable; Connect follows", "Conversation"), **_ERRORS, **_MOVING},
    }
    if body:
        operation["requestBody"] = _body(body)
        operation["responses"].update(_BAD_BODY)
    if refused_when_behind:
        operation["responses"].update(_BEHIND)
    if conflict:
        operation["responses"]["409"] = _answer(f"{_ERRORS['409']['description']}, or {conflict}", "Error")
    return operation


# The pull stream's bodies (delivery/pull.py builds them as plain dicts, not msgspec types).
_PULL_SCHEMAS: dict[str, Any] = {
    "BotMessage": {
        "type": "object",
        "description": "One bot message: these fields, then those of its Type (see delivery/README.md); "
        "the same as the webhook's",
        "properties": {
            "Id": {"type": "string", "description": "'<conversation id>:<seq>': deduplicate on it"},
            "ConversationId": {"type": "string"},
            "Seq": {"type": "integer"},
            "Type": {"type": "string"},
            "At": {"type": "string", "format": "date-time"},
        },
        "required": ["Id", "ConversationId", "Seq", "Type", "At"],
    },
    "BotMessages": {
        "type": "object",
        "properties": {
            "Events": {"type": "array", "items": _ref("BotMessage")},
            "Next": {"type": "integer", "description": "the after of the next call"},
            "Ended": {"type": "boolean", "description": "the conversation was handed back (ReturnedToBot was told)"},
        },
        "required": ["Events", "Next", "Ended"],
    },
}

_EVENTS = {
    "get": {
        "summary": "The bot messages of a conversation: a long poll, or server-sent events with "
        "Accept: text/event-stream (see delivery/)",
        "parameters": [
            *_ID,
            {
                "name": "after",
                "in": "query",
                "description": "read after this Seq (the Next of the previous answer)",
                "schema": {"type": "integer", "minimum": 0, "maximum": MAX_SEQ, "default": 0},
            },
            {
                "name": "wait",
                "in": "query",
                "description": "long poll: seconds to wait when there is nothing new",
                "schema": {"type": "number", "minimum": 0, "maximum": MAX_WAIT_SECONDS, "default": 0},
            },
            {
                "name": "Last-Event-ID",
                "in": "header",
                "description": "server-sent events: resume after '<conversation id>:<seq>' (instead of after)",
                "schema": {"type": "string"},
            },
        ],
        "responses": {
            "200": {
                "description": "the messages after `after` (none if `wait` passed), or an event stream of them "
                "(id: the message's Id, event: its Type, data: the message) that ends after ReturnedToBot, "
                "or before its first frame after the token is revoked",
                "content": {
                    "application/json": {"schema": _ref("BotMessages")},
                    "text/event-stream": {"schema": {"type": "string"}},
                },
            },
            "400": _answer("Code invalid_query: a bad after, wait or Last-Event-ID (the message names it)", "Error"),
            "401": _answer("no token, not a Bearer token, or a token that is not a client's or is revoked, "
                           "also when revoked while a long poll waited", "Error"),
            "404": _ERRORS["404"],
        },
    }
}

_WORKER_QUEUE = {
    "get": {
        "summary": "The worker's queue at Amazon Connect: agents online and available, contacts waiting, the "
        "oldest one's age (GetCurrentMetricData), so that a bot can decide before it transfers",
        "description": "Any client may read any worker's queue: workers are shared configuration. The queue is "
        "the worker file's Data.QueueId in its Region, or, while a failover region is active, that failover "
        "region's QueueId in its region. Each queue's answer (or Connect's failure) is kept "
        f"{DEFAULT_QUEUE_METRICS_TTL:g} seconds unless the service is configured otherwise, and bots asking at "
        "once share one call, so each queue costs Connect at most one call a period however many bots ask; "
        "AsOf and AgeSeconds say how old the figures are.",
        "parameters": [{"name": "worker_id", "in": "path", "required": True, "schema": {"type": "string"}}],
        "responses": {
            "200": _answer("the queue's figures and how old they are", "WorkerQueue"),
            "401": _ERRORS["401"],
            "404": _answer("Code unknown_worker: no worker has this id", "Error"),
            "409": _answer(
                "Code no_queue: the worker file sets no queue for the region in use (the message names the "
                "field: $.Data.QueueId, or the active failover region's QueueId)",
                "Error",
            ),
            "502": _answer(
                "Code connect_refused: Amazon Connect refused the call for good (an unknown instance or queue, "
                "no permission); the message carries Connect's error",
                "Error",
            ),
            "503": {
                **_answer(
                    "Code connect_throttled (Connect throttled the call) or connect_unavailable (Connect failed "
                    "or could not be reached): ask again after Retry-After",
                    "Error",
                ),
                "headers": {
                    "Retry-After": {
                        "description": "seconds until Connect will be asked again",
                        "schema": {"type": "integer", "minimum": 1},
                    }
                },
            },
        },
    }
}

_WORKER_ID = [{"name": "worker_id", "in": "path", "required": True, "schema": {"type": "string"}}]
_WORKERS = {
    "get": {
        "summary": "Every worker and the region its new transfers start in now",
        "description": "Any client may read every worker: workers are shared configuration. No secret or vault "
        "reference is shown. ActiveRegion follows failover orders (`python run.py failover`) within a second.",
        "responses": {"200": _answer("every worker not deleted", "WorkerList"), "401": _ERRORS["401"]},
    }
}
_WORKER = {
    "get": {
        "summary": "A worker: the region its new transfers start in now, its failover regions and its last "
        "failover order (and whether the running service has carried it out)",
        "parameters": _WORKER_ID,
        "responses": {
            "200": _answer("the worker", "Worker"),
            "401": _ERRORS["401"],
            "404": _answer("Code unknown_worker: no worker has this id", "Error"),
        },
    }
}

_REGIONS = {
    "get": {
        "summary": "The Amazon Connect regions in use and how each is doing: calls, errors, throttles, latency, "
        "failures in a row, live conversations",
        "description": "One entry per region and Secret the service has clients for (created at the first "
        "conversation there), sorted by Region then Secret; none before any. The figures are the service's own "
        "calls to Amazon Connect in that region (connect and connectparticipant), counted as they finish; "
        "`python run.py status` shows the same. Any client may read them: regions are shared configuration.",
        "responses": {
            "200": _answer("every region in use", "RegionList"),
            "401": _ERRORS["401"],
        },
    }
}

_TIMELINE = {
    "get": {
        "summary": "A conversation's timeline, for the operator: every event in order as `python run.py replay` "
        "shows it (tokens redacted), the phase after each, and the state they fold to",
        "description": "An admin client's only. A bot is refused with 403 admin_only for its own conversation, and "
        "answered 404 unknown_conversation for any other, exactly as for one that does not exist.",
        "parameters": _ID,
        "responses": {
            "200": _answer("the timeline", "Timeline"),
            "401": _ERRORS["401"],
            "403": _answer("Code admin_only: the token is a bot's, not an admin client's", "Error"),
            "404": _answer("unknown conversation, or (for a bot) another client's: answered exactly alike", "Error"),
        },
    }
}

_CLIENT = {
    "get": {
        "summary": "The API client whose token this is: its id, name and whether it is an admin (never a token)",
        "responses": {"200": _answer("the caller's client", "ApiClient"), "401": _ERRORS["401"]},
    }
}

_OPERATOR_PAGE = {
    "get": {
        "summary": "The operator page (HTML): live conversations, each one's timeline and state, workers, regions",
        "description": "Public: the page holds no data. It asks the API for everything with the admin client's "
        "token the operator pastes into it.",
        "security": [],
        "responses": {"200": {"description": "the page", "content": {"text/html": {"schema": {"type": "string"}}}}},
    }
}

_OPERATOR_ASSET = {
    "get": {
        "summary": "The operator page's script and style",
        "security": [],
        "parameters": [
            {"name": "name", "in": "path", "required": True, "schema": {"type": "string", "enum": list(ASSETS)}}
        ],
        "responses": {
            "200": {
                "description": "the file",
                "content": {
                    "text/javascript": {"schema": {"type": "string"}},
                    "text/css": {"schema": {"type": "string"}},
                },
            },
            "404": _answer("Code not_found: the page has no such file", "Error"),
        },
    }
}

_OPENAPI = {
    "get": {
        "summary": "This OpenAPI document",
        "security": [],
        "responses": {
            "200": {"description": "OpenAPI 3.1", "content": {"application/json": {"schema": {"type": "object"}}}}
        },
    }
}


_NO_STORE = {"Cache-Control": {"description": "no-store", "schema": {"type": "string"}}}
_HEALTHZ = {
    "get": {
        "summary": "Liveness, for load balancers and systemd: the process is up and serving HTTP",
        "description": "No token: a probe has none, and the answer says nothing else.",
        "security": [],
        "responses": {
            "200": {
                "description": "always, while the process serves",
                "headers": _NO_STORE,
                "content": {"application/json": {"schema": {
                    "type": "object", "properties": {"Status": {"const": "ok"}}, "required": ["Status"]
                }}},
            }
        },
    }
}
_READYZ = {
    "get": {
        "summary": "Readiness, for load balancers and systemd: the event store takes a write",
        "description": "No token: a probe has none. The store's write is a small commit outside the log, made "
        "at most every 2 seconds however many probes ask. Recovery after a start does not hold it back: the bots' "
        "routes serve while it runs. The reason given when not ready names no path, "
        "conversation or client.",
        "security": [],
        "responses": {
            "200": {
                "description": "ready for bots",
                "headers": _NO_STORE,
                "content": {"application/json": {"schema": {
                    "type": "object", "properties": {"Status": {"const": "ready"}}, "required": ["Status"]
                }}},
            },
            "503": {
                **_answer(
                    "Code not_ready: the event store's writer has stopped, the store cannot be written "
                    "(SQLite's reason: 'database or disk is full'), or recovering the live conversations failed",
                    "Error",
                ),
                "headers": {"Retry-After": {"description": "seconds", "schema": {"type": "integer"}}, **_NO_STORE},
            },
        },
    }
}
_METRICS = {
    "get": {
        "summary": "The service's Prometheus metrics (text exposition format): conversations by phase, messages "
        "relayed and their latency each way, Amazon Connect calls by operation and region, the store's appends "
        "and group commits, webhook deliveries and backlog, timers (metrics/README.md names each)",
        "description": "An admin client's token (`python run.py client create prometheus --admin`, given to "
        "Prometheus as its bearer token); a bot's is refused. No label holds a token or a secret. Served while "
        "the service recovers, so recovery can be watched.",
        "responses": {
            "200": {
                "description": "the metrics",
                "content": {"text/plain; version=0.0.4; charset=utf-8": {"schema": {"type": "string"}}},
            },
            "401": _ERRORS["401"],
            "403": _answer("Code admin_only: the token is a bot's, not an admin client's", "Error"),
        },
    }
}
def document() -> dict[str, Any]:
    _, components = msgspec.json.schema_components(ALL_TYPES, ref_template=_REF)
    return {
        "openapi": "3.1.0",
        "info": {"title": "Connect worker: the bots' API", "version": "1"},
        "components": {
            "schemas": {**components, **_PULL_SCHEMAS},
            "securitySchemes": {"token": {"type": "http", "scheme": "bearer"}},
        },
        "security": [{"token": []}],
        "paths": {
            "/openapi.json": _OPENAPI,
            "/healthz": _HEALTHZ,
            "/readyz": _READYZ,
            "/metrics": _METRICS,
            "/v1/conversations": {
                "post": {
                    "summary": "Transfer a conversation to a worker (starts an Amazon Connect chat)",
                    "requestBody": _body("TransferRequest"),
                    "responses": {
                        "201": _answer("transferred; durable; the conversation is the caller's", "Conversation"),
                        **_ERRORS,
                        **_BAD_BODY,
                        "409": _answer(
                            "not possible in the conversation's state (Code is the rejection code), or Code "
                            "conversation_id_taken: another client's conversation has this id",
                            "Error",
                        ),
                        **_BEHIND,
                        **_MOVING,
                    },
                },
                "get": {
                    "summary": "The live conversations of the caller (every client's for an admin client)",
                    "parameters": [{"name": "live", "in": "query", "schema": {"type": "string", "enum": ["true"]}}],
                    "responses": {
                        "200": _answer("their ids", "ConversationList"),
                        "400": _answer("Code invalid_query: live is not true", "Error"),
                        "401": _ERRORS["401"],
                    },
                },
            },
            "/v1/conversations/{conversation_id}": {
                "get": {
                    "summary": "A conversation's state (no tokens)",
                    "parameters": _ID,
                    "responses": {"200": _answer("the state", "Conversation"), **_ERRORS},
                }
            },
            "/v1/conversations/{conversation_id}/messages": {
                "post": _command(
                    "A user message; sent again with the same MessageId and the same Text and ContentType, a "
                    "retry, answered 202 with the conversation as it is now (nothing is sent twice)",
                    "MessageRequest",
                    refused_when_behind=True,
                    conflict="Code idempotency_conflict: the MessageId was already used for a message with "
                    "a different Text or ContentType (the Message names the field)",
                )
            },
            "/v1/conversations/{conversation_id}/typing": {"post": _command("The user is typing")},
            "/v1/conversations/{conversation_id}/leave": {"post": _command("The user leaves (ends the chat)")},
            "/v1/conversations/{conversation_id}/context": {
                "put": _command("The bot's context changed (UpdateContactAttributes)", "ContextRequest")
            },
            "/v1/conversations/{conversation_id}/events": _EVENTS,
            "/v1/conversations/{conversation_id}/timeline": _TIMELINE,
            "/v1/client": _CLIENT,
            "/v1/workers": _WORKERS,
            "/v1/workers/{worker_id}": _WORKER,
            "/v1/workers/{worker_id}/queue": _WORKER_QUEUE,
            "/v1/regions": _REGIONS,
            "/operator": _OPERATOR_PAGE,
            "/operator/{name}": _OPERATOR_ASSET,
        },
    }


def render() -> str:
    """The text of api/openapi.json, exactly."""
    return json.dumps(document(), indent=2) + "\n"


if __name__ == "__main__":
    OPENAPI_FILE.write_text(render())
    print(f"wrote {OPENAPI_FILE}", file=sys.stderr)
