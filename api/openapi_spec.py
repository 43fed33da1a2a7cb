"""Writes api/openapi.json: the paths by hand, the schemas from the msgspec body types.

    python -m api.openapi_spec        # regenerate after changing api/bodies.py
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import msgspec

from api.bodies import ALL_TYPES
from events.conversation_decide import MAX_MESSAGE_PIECES
from events.long_messages import MAX_MESSAGE_LENGTH

OPENAPI_FILE = Path(__file__).with_name("openapi.json")
_REF = "#/components/schemas/{name}"


def _ref(name: str) -> dict[str, Any]:
    return {"$ref": _REF.format(name=name)}


def _answer(description: str, schema: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": _ref(schema)}}}


def _body(schema: str) -> dict[str, Any]:
    return {"required": True, "content": {"application/json": {"schema": _ref(schema)}}}


_ERRORS = {
    "400": _answer(
        "malformed body (the message names the field by its JSON path), or content the core refuses (Code "
        f"empty_message; message_too_long: more than {MAX_MESSAGE_PIECES} Amazon Connect messages of "
        f"{MAX_MESSAGE_LENGTH:,} characters, as a longer text is sent in pieces; invalid_display_name)",
        "Error",
    ),
    "401": _answer("missing or wrong API token", "Error"),
    "404": _answer("unknown conversation (or worker)", "Error"),
    "409": _answer("not possible in the conversation's state (Code is the rejection code)", "Error"),
}
_ID = [{"name": "conversation_id", "in": "path", "required": True, "schema": {"type": "string"}}]


def _command(summary: str, body: str | None = None) -> dict[str, Any]:
    operation: dict[str, Any] = {
        "summary": summary,
        "parameters": _ID,
        "responses": {"202": _answer("accepted and durable; Connect follows", "Conversation"), **_ERRORS},
    }
    if body:
        operation["requestBody"] = _body(body)
    return operation


def document() -> dict[str, Any]:
    _, components = msgspec.json.schema_components(ALL_TYPES, ref_template=_REF)
    return {
        "openapi": "3.1.0",
        "info": {"title": "Connect worker: the bots' API", "version": "1"},
        "components": {
            "schemas": components,
            "securitySchemes": {"token": {"type": "http", "scheme": "bearer"}},
        },
        "security": [{"token": []}],
        "paths": {
            "/v1/conversations": {
                "post": {
                    "summary": "Transfer a conversation to a worker (starts an Amazon Connect chat)",
                    "requestBody": _body("TransferRequest"),
                    "responses": {"201": _answer("transferred; durable", "Conversation"), **_ERRORS},
                },
                "get": {
                    "summary": "The live conversations",
                    "parameters": [{"name": "live", "in": "query", "schema": {"type": "string", "enum": ["true"]}}],
                    "responses": {"200": _answer("their ids", "ConversationList"), **_ERRORS},
                },
            },
            "/v1/conversations/{conversation_id}": {
                "get": {
                    "summary": "A conversation's state (no tokens)",
                    "parameters": _ID,
                    "responses": {"200": _answer("the state", "Conversation"), **_ERRORS},
                }
            },
            "/v1/conversations/{conversation_id}/messages": {"post": _command("A user message", "MessageRequest")},
            "/v1/conversations/{conversation_id}/typing": {"post": _command("The user is typing")},
            "/v1/conversations/{conversation_id}/leave": {"post": _command("The user leaves (ends the chat)")},
            "/v1/conversations/{conversation_id}/context": {
                "put": _command("The bot's context changed (UpdateContactAttributes)", "ContextRequest")
            },
        },
    }


if __name__ == "__main__":
    OPENAPI_FILE.write_text(json.dumps(document(), indent=2) + "\n")
