"""The connector file, exactly as the seed writes it (the document calls connectors "BaaS").

A connector file is the seed's JSON: PascalCase keys at the top, camelCase keys inside each mapping
entry. `parse_connector_config` turns the bytes into a `ConnectorConfig` or raises
`InvalidConnectorConfig`, whose problems each name the JSON path (or, for a syntax error, the line
and column), in words, all at once, as worker files do.

    >>> config = parse_connector_config(open("translate.json", "rb").read())
    >>> config.alias, config.endpoint, config.method
    ('IngressTranslateBaas', 'Translate', 'translateText')
"""

from __future__ import annotations

import copy
from typing import Annotated, Any, Literal

import msgspec

from connectors import json_paths
from connectors.aws_operations import AwsOperation, UnknownOperation, find_operation, parameter_problem
from events.json_shape import shape_problems
from events.json_syntax import describe_syntax_error

# The JSON file's other problems are worded by the worker format's helpers, so both formats point at
# a mistake the same way.
from events.worker_config import NonEmpty, SecretSrn, _describe_deep_nesting, _describe_validation_error

ConnectorType = Literal["aws-sdk"]
Alias = Annotated[str, msgspec.Meta(min_length=1, max_length=128, pattern=r"^\S+(?![\s\S])")]
JsonPathText = Annotated[str, msgspec.Meta(pattern=r"^\$")]
EpochMilliseconds = Annotated[int, msgspec.Meta(ge=0)]


class RequestMappingEntry(msgspec.Struct, frozen=True, rename="camel", forbid_unknown_fields=True):
    """Copy the value at `inputPath` in the input to `requestBodyPath` in the request."""

    type: Literal["requestBody"]
    input_path: JsonPathText
    request_body_path: JsonPathText


class ResponseMappingEntry(msgspec.Struct, frozen=True, rename="camel", forbid_unknown_fields=True):
    """Copy the value at `responseBodyPath` in the response to `outputPath` in the output (not in the seed)."""

    type: Literal["responseBody"]
    response_body_path: JsonPathText
    output_path: JsonPathText


class ConnectorConfig(msgspec.Struct, frozen=True, kw_only=True, rename="pascal", forbid_unknown_fields=True):
    """One connector: which AWS operation it calls, with what credentials, and how its input and output map."""

    alias: Alias
    type: ConnectorType
    endpoint: NonEmpty
    method: NonEmpty
    credentials: SecretSrn
    body: dict[str, Any] = {}
    request_mapping: dict[str, RequestMappingEntry] = {}
    response_mapping: dict[str, ResponseMappingEntry] = {}
    headers: dict[str, str] = {}
    description: str = ""
    organization: str | None = None
    persona: str | None = None
    created: EpochMilliseconds | None = None
    updated: EpochMilliseconds | None = None


_WORDS = {
    ConnectorType: "aws-sdk (the only connector type supported)",
    SecretSrn: "a vault reference srn:vault::ORG:TYPE:ALIAS",
    Alias: "an alias of 1 to 128 characters without spaces",
    JsonPathText: "a JSONPath starting with $, such as $.Text",
}
# A placeholder written at each requestBodyPath to try it on the Body when the file is read.
_TRIAL_VALUE = "x"


class InvalidConnectorConfig(ValueError):
    """The connector file is not a valid connector; `problems` says every place found."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


def parse_connector_config(data: bytes | str) -> ConnectorConfig:
    """Decode and validate a connector file, or raise `InvalidConnectorConfig` with every problem found.

    In three steps, each listing all it finds: the JSON syntax (the first error, by line and column),
    every field against the format (by JSON path), then the rules that need botocore's model of the
    service and the JSONPaths parsed.
    """
    raw = data.encode() if isinstance(data, str) else data
    try:
        document = msgspec.json.decode(raw)
    except msgspec.DecodeError as error:
        raise InvalidConnectorConfig([describe_syntax_error(raw, str(error))]) from None
    except RecursionError:
        raise InvalidConnectorConfig([_describe_deep_nesting(raw)]) from None
    problems = shape_problems(document, ConnectorConfig, "$", words=_WORDS, hidden=(SecretSrn,))
    if problems:
        raise InvalidConnectorConfig(problems)
    try:
        config = msgspec.convert(document, type=ConnectorConfig)
    except msgspec.ValidationError as error:  # what the walk does not model, in msgspec's words
        raise InvalidConnectorConfig([_describe_validation_error(str(error))]) from None
    problems = connector_config_problems(config)
    if problems:
        raise InvalidConnectorConfig(problems)
    return config


def encode_connector_config(config: ConnectorConfig) -> bytes:
    """The seed's JSON for a connector, as `connector get` prints it."""
    return msgspec.json.format(msgspec.json.encode(config), indent=2)


def connector_config_problems(config: ConnectorConfig) -> list[str]:
    """The rules the types alone cannot say: the operation exists, the paths parse and fit its request."""
    problems = _path_problems(config)
    try:
        operation = find_operation(config.endpoint, config.method)
    except UnknownOperation as unknown:
        return [f"$.{unknown.field}: {unknown.message}"] + problems
    return problems + _body_problems(operation, config.body, ()) + _request_mapping_problems(operation, config)


def _path_problems(config: ConnectorConfig) -> list[str]:
    problems = []
    for name, entry in config.request_mapping.items():
        path = f"$.RequestMapping[{name!r}]"
        problems += _readable(f"{path}.inputPath", entry.input_path)
        problems += _writable(f"{path}.requestBodyPath", entry.request_body_path)
    for name, response_entry in config.response_mapping.items():
        path = f"$.ResponseMapping[{name!r}]"
        problems += _readable(f"{path}.responseBodyPath", response_entry.response_body_path)
        problems += _writable(f"{path}.outputPath", response_entry.output_path)
    return problems


def _readable(where: str, path: str) -> list[str]:
    try:
        json_paths.compiled(path)
    except json_paths.BadJsonPath as error:
        return [f"{where}: {error}"]
    return []


def _writable(where: str, path: str) -> list[str]:
    try:
        json_paths.steps(path)
    except json_paths.BadJsonPath as error:
        return [f"{where}: {error}"]
    return []


def _body_problems(operation: AwsOperation, body: Any, steps: tuple[str | int, ...]) -> list[str]:
    """Every name in the Body that the operation's request does not have, each by its JSON path."""
    if isinstance(body, dict):
        children: list[tuple[str | int, Any]] = list(body.items())
    elif isinstance(body, list):
        children = list(enumerate(body))
    else:
        return []
    problems = []
    for step, value in children:
        problem = parameter_problem(operation, steps + (step,))
        if problem is None:
            problems += _body_problems(operation, value, steps + (step,))
        else:
            problems.append(f"$.Body{json_paths.steps_text(steps + (step,))}: {problem}")
    return problems


def _request_mapping_problems(operation: AwsOperation, config: ConnectorConfig) -> list[str]:
    """Each requestBodyPath must be a parameter of the operation and writable into the Body.

    Each is tried on the Body alone: entries may write inside one another's values (an object at
    `$.Destination`, then `$.Destination.ToAddresses[0]`), which only the input can settle. A path
    that is not one place was named by `_path_problems` already.
    """
    problems = []
    for name, entry in config.request_mapping.items():
        where = f"$.RequestMapping[{name!r}].requestBodyPath"
        try:
            steps = json_paths.steps(entry.request_body_path)
        except json_paths.BadJsonPath:
            continue
        problem = parameter_problem(operation, steps)
        if problem is not None:
            problems.append(f"{where}: {problem}")
            continue
        try:
            json_paths.write(entry.request_body_path, copy.deepcopy(config.body), _TRIAL_VALUE)
        except json_paths.CannotWrite as error:
            problems.append(f"{where}: the Body does not fit: {error}")
    return problems
