"""The pure half of running a connector: the request from the input, the output from the response.

    >>> build_request(email_connector, {"email": "maya@example.com"})
    {'Message': {...}, 'Source': 'YOUR_SOURCE@EMAIL.HERE', 'Destination': {'ToAddresses': ['maya@example.com']}}
    >>> map_response(translate_connector, {"TranslatedText": "hola", "ResponseMetadata": {...}})
    {'TranslatedText': 'hola'}

The request is a copy of the connector's `Body` with each `RequestMapping` entry's value written in,
in the file's order; a value the input lacks is named by its entry and path (`ConnectorFailed`
`input_missing`). An `inputPath` that finds several values (a wildcard) writes them as a list.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

import msgspec

from connectors import json_paths
from connectors.config import ConnectorConfig
from connectors.errors import ConnectorFailed

# boto3 adds this to every answer; it is about the HTTP exchange, not the operation's output.
_RESPONSE_METADATA = "ResponseMetadata"


def build_request(connector: ConnectorConfig, input: Mapping[str, Any]) -> dict[str, Any]:
    """The operation's parameters: the `Body` with every `RequestMapping` value from `input` written in."""
    request = copy.deepcopy(connector.body)
    missing = []
    for name, entry in connector.request_mapping.items():
        found = json_paths.read(entry.input_path, input)
        if not found or found == [None]:
            missing.append(f"RequestMapping.{name}: {entry.input_path} is {'null' if found else 'not'} in the input")
            continue
        value = found[0] if len(found) == 1 else found
        try:
            json_paths.write(entry.request_body_path, request, copy.deepcopy(value))
        except json_paths.CannotWrite as error:
            raise ConnectorFailed("mapping_failed", f"RequestMapping.{name}: {error}") from None
    if missing:
        raise ConnectorFailed("input_missing", "; ".join(missing))
    return request


def map_response(connector: ConnectorConfig, response: Mapping[str, Any]) -> dict[str, Any]:
    """The connector's output: the whole response when `ResponseMapping` is empty, else what it picks.

    Either way as plain JSON values (timestamps as ISO 8601 strings, bytes as base64), without
    boto3's `ResponseMetadata`.
    """
    answer = msgspec.to_builtins({key: value for key, value in response.items() if key != _RESPONSE_METADATA})
    if not connector.response_mapping:
        return answer
    output: dict[str, Any] = {}
    missing = []
    for name, entry in connector.response_mapping.items():
        found = json_paths.read(entry.response_body_path, answer)
        if not found:
            missing.append(f"ResponseMapping.{name}: {entry.response_body_path} is not in the response")
            continue
        try:
            json_paths.write(entry.output_path, output, found[0] if len(found) == 1 else found)
        except json_paths.CannotWrite as error:
            raise ConnectorFailed("mapping_failed", f"ResponseMapping.{name}: {error}") from None
    if missing:
        raise ConnectorFailed("response_missing", "; ".join(missing))
    return output
