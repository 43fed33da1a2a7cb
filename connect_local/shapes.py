"""Requests read and checked against botocore's own service models, so that
field names, required members, lengths, ranges and enums are the real ones.

    >>> connect = service_model("connect")
    >>> operation = connect.operation_model("StopContact")
    >>> params = read_rest_json(operation, body, headers, {})
    >>> validate(operation.input_shape, params)
"""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping
from typing import Any

import botocore.session
from botocore.model import OperationModel, ServiceModel, Shape

from connect_local.errors import InvalidInput


@functools.cache
def service_model(name: str) -> ServiceModel:
    session = botocore.session.get_session()
    return ServiceModel(session.get_service_data(name), service_name=name)


def read_rest_json(
    operation: OperationModel, body: bytes, headers: Mapping[str, str], path_params: Mapping[str, str]
) -> dict[str, Any]:
    """The operation's input: body members from JSON, others from their
    header or URI location. Not yet validated: see `validate`."""
    shape = operation.input_shape
    if shape is None:
        return {}
    try:
        params = json.loads(body) if body.strip() else {}
    except ValueError:
        raise InvalidInput("The request body is not valid JSON") from None
    if not isinstance(params, dict):
        raise InvalidInput("The request body must be a JSON object")
    for name, member in shape.members.items():
        location = member.serialization.get("location")
        wire_name = member.serialization.get("name", name)
        if location == "header" and wire_name in headers:
            params[name] = headers[wire_name]
        elif location == "uri" and wire_name in path_params:
            params[name] = path_params[wire_name]
    return params


def validate(shape: Shape, value: Any, path: str = "") -> None:
    """Raise InvalidInput naming the first member that breaks the model."""
    kind = shape.type_name
    where = path or "request"
    if kind == "structure":
        if not isinstance(value, dict):
            raise InvalidInput(f"Value at '{where}' must be an object")
        for required in shape.required_members:
            if value.get(required) is None:
                raise InvalidInput(f"Value at '{_join(path, required)}' failed to satisfy constraint: Member must not be null")
        for name, member in shape.members.items():
            if value.get(name) is not None:
                validate(member, value[name], _join(path, name))
    elif kind == "list":
        if not isinstance(value, list):
            raise InvalidInput(f"Value at '{where}' must be a list")
        _check_size(shape, len(value), where, "length")
        for index, element in enumerate(value):
            validate(shape.member, element, f"{where}[{index}]")
    elif kind == "map":
        if not isinstance(value, dict):
            raise InvalidInput(f"Value at '{where}' must be a map")
        for key, element in value.items():
            validate(shape.key, key, f"{where}.key")
            validate(shape.value, element, f"{where}.{key}")
    elif kind == "string":
        if not isinstance(value, str):
            raise InvalidInput(f"Value at '{where}' must be a string")
        _check_size(shape, len(value), where, "length")
        if shape.enum and value not in shape.enum:
            raise InvalidInput(
                f"Value '{value}' at '{where}' failed to satisfy constraint: "
                f"Member must satisfy enum value set: [{', '.join(shape.enum)}]"
            )
    elif kind in ("integer", "long"):
        if isinstance(value, bool) or not isinstance(value, int):
            raise InvalidInput(f"Value at '{where}' must be an integer")
        _check_size(shape, value, where, "value")
    elif kind == "boolean" and not isinstance(value, bool):
        raise InvalidInput(f"Value at '{where}' must be a boolean")


def _check_size(shape: Shape, size: int, where: str, what: str) -> None:
    low, high = shape.metadata.get("min"), shape.metadata.get("max")
    if low is not None and size < low:
        raise InvalidInput(f"Value at '{where}' failed to satisfy constraint: Member must have {what} greater than or equal to {low}")
    if high is not None and size > high:
        raise InvalidInput(f"Value at '{where}' failed to satisfy constraint: Member must have {what} less than or equal to {high}")


def _join(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name
