"""The worker configuration, exactly as the seed's users write it.

A worker file is the seed's JSON (`sb-cli worker create file.json`): PascalCase
keys at the top and under `Data`, lowercase keys inside `SlashCommands`.
`parse_worker_config` turns the bytes into a `WorkerConfig` or raises
`InvalidWorkerConfig`, whose problems each name the JSON path (or, for a syntax
error, the line and column), so a user who pastes the seed's example, with its
`//` comment and trailing commas, is told exactly where to look.

    >>> config = parse_worker_config(open("worker.json", "rb").read())
    >>> config.data.region
    'us-east-1'
"""

from __future__ import annotations

import json
import re
from typing import Annotated, Literal

import msgspec

from events.json_shape import shape_problems
from events.json_syntax import describe_syntax_error, line_and_column
from events.long_messages import MAX_MESSAGE_BYTES

DEFAULT_INITIAL_CONNECTION_MESSAGE = '{"topic":"aws/subscribe","content":{"topics":["aws/chat"]}}'
WORKER_TYPE = "amazon-connect-worker"
SLASH_COMMAND_ACTION_TYPES = ("content", "executeApi")

# Lengths from botocore's `connect` model (InstanceId 1..100, ContactFlowId 1..500).
InstanceId = Annotated[str, msgspec.Meta(min_length=1, max_length=100)]
ContactFlowId = Annotated[str, msgspec.Meta(min_length=1, max_length=500)]
QueueId = Annotated[str, msgspec.Meta(min_length=1, max_length=500)]
# Patterns end with (?![\s\S]), never $: in Python's re, $ also matches before a final newline.
AwsRegion = Annotated[str, msgspec.Meta(pattern=r"^[a-z]{2}(-[a-z]+)+-\d+(?![\s\S])")]
# srn:vault::ORG:KIND:ALIAS, as in the seed's examples.
SecretSrn = Annotated[str, msgspec.Meta(pattern=r"^srn:vault::[^:\s]+:[^:\s]+:[^:\s]+(?![\s\S])")]
LanguageCode = Annotated[str, msgspec.Meta(pattern=r"^[a-z]{2,3}(-[A-Za-z]{2,4})?(?![\s\S])")]
NonEmpty = Annotated[str, msgspec.Meta(min_length=1)]
PositiveSeconds = Annotated[int, msgspec.Meta(gt=0)]
# What a credential is replaced by wherever it is shown (events/redaction.py).
REDACTED = "<redacted>"
HttpUrl = Annotated[str, msgspec.Meta(pattern=r"^https?://\S+(?![\s\S])")]
# Connect's own bound on a message; at least room for a few characters with their marks.
MessageBytes = Annotated[int, msgspec.Meta(ge=64, le=MAX_MESSAGE_BYTES)]


class _Seed(msgspec.Struct, frozen=True, rename="pascal", forbid_unknown_fields=True):
    """A section of the seed's format: PascalCase keys, typos refused."""


class SqueezeConfig(_Seed):
    api: HttpUrl
    api_key: SecretSrn


class ShortLinkConfig(_Seed):
    config: SqueezeConfig
    type: Literal["Squeeze"]


class TranslationConfig(_Seed):
    connector_alias: NonEmpty
    source_language_code: LanguageCode
    target_language_code: LanguageCode


class SlashCommandAction(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    type: Literal["content", "executeApi"]
    value: NonEmpty


class SlashCommand(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    actions: Annotated[list[SlashCommandAction], msgspec.Meta(min_length=1)]
    description: str = ""


class AutoDisconnectEvent(_Seed):
    seconds_after_agent_message: PositiveSeconds
    type: Literal["WARNING", "DISCONNECT"]
    description: str = ""
    user_message: str | None = None
    agent_message: str | None = None


class FailoverRegion(_Seed):
    name: NonEmpty
    secret: SecretSrn
    region: AwsRegion
    instance_id: InstanceId
    contact_flow_id: ContactFlowId
    queue_id: QueueId | None = None


class FailoverRegionConfig(_Seed):
    failover_regions: list[FailoverRegion] = []
    active_failover_region: str | None = None


class WorkerData(_Seed):
    contact_flow_id: ContactFlowId
    instance_id: InstanceId
    region: AwsRegion
    secret: SecretSrn
    initial_connection_message: str = DEFAULT_INITIAL_CONNECTION_MESSAGE
    short_link_config: ShortLinkConfig | None = None
    egress_translation_config: TranslationConfig | None = None
    ingress_translation_config: TranslationConfig | None = None
    slash_commands: dict[str, SlashCommand] = {}
    auto_disconnect_events: list[AutoDisconnectEvent] = []
    failover_region_config: FailoverRegionConfig | None = None
    queue_id: QueueId | None = None
    # Not in the seed: a lower bound than Connect's for one message, in UTF-8 bytes,
    # for a channel that takes less (a longer user message is sent in more pieces).
    max_message_bytes: MessageBytes | None = None


class WorkerConfig(_Seed):
    data: WorkerData
    name: NonEmpty
    type: Literal["amazon-connect-worker"]
    description: str = ""
    enabled: bool = True


# What a value of these types looks like, where the type's constraint (a pattern) does not say it.
_WORDS = {
    AwsRegion: "an AWS region such as us-east-1",
    SecretSrn: "a vault reference srn:vault::ORG:TYPE:ALIAS",
    LanguageCode: "a language code such as en or pt-BR",
    HttpUrl: "an http:// or https:// URL",
}
# Past this depth a file is no worker (the deepest field is 5 levels down); msgspec gives up far
# deeper without saying where, so the problem names where the nesting passes this.
MAX_NESTING = 32


class InvalidWorkerConfig(ValueError):
    """The worker file is not a valid worker; `problems` says every place found."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


def parse_worker_config(data: bytes | str) -> WorkerConfig:
    """Decode and validate a worker file, or raise `InvalidWorkerConfig` with every problem found.

    In three steps, each of which lists all it finds: the JSON syntax (only the first error, by line
    and column: past it nothing can be read), then every field against the format (by JSON path, in
    words), then, once every field is right, the rules that span fields.
    """
    raw = data.encode() if isinstance(data, str) else data
    try:
        document = msgspec.json.decode(raw)
    except msgspec.DecodeError as error:
        raise InvalidWorkerConfig([describe_syntax_error(raw, str(error))]) from None
    except RecursionError:
        raise InvalidWorkerConfig([_describe_deep_nesting(raw)]) from None
    problems = shape_problems(document, WorkerConfig, "$", words=_WORDS, hidden=(SecretSrn,))
    if problems:
        raise InvalidWorkerConfig(problems)
    try:
        config = msgspec.convert(document, type=WorkerConfig)
    except msgspec.ValidationError as error:  # what the walk does not model, in msgspec's words
        raise InvalidWorkerConfig([_describe_validation_error(str(error))]) from None
    problems = worker_config_problems(config)
    if problems:
        raise InvalidWorkerConfig(problems)
    return config


def encode_worker_config(config: WorkerConfig) -> bytes:
    """The seed's JSON for a worker, as `worker get` prints it."""
    return msgspec.json.format(msgspec.json.encode(config), indent=2)


def worker_config_problems(config: WorkerConfig) -> list[str]:
    """The rules that span fields, which the types alone cannot say."""
    data = config.data
    problems = _initial_connection_message_problems(data.initial_connection_message)
    problems += _auto_disconnect_problems(data.auto_disconnect_events)
    problems += _slash_command_problems(data.slash_commands)
    if data.short_link_config is not None and REDACTED in data.short_link_config.config.api:
        problems.append(
            f"$.Data.ShortLinkConfig.Config.Api: holds {REDACTED} where a credential was hidden (`worker get` "
            "hides them): write the credential back in, or keep it in the vault under ApiKey"
        )
    if data.failover_region_config is not None:
        problems += _failover_problems(data.failover_region_config)
    return problems


def active_failover_region(config: WorkerConfig) -> FailoverRegion | None:
    """The failover region in use, or None for the primary.

    As the seed says, an `ActiveFailoverRegion` that names no failover region
    leaves the worker on its primary region.
    """
    failover = config.data.failover_region_config
    if failover is None or failover.active_failover_region is None:
        return None
    for region in failover.failover_regions:
        if region.name == failover.active_failover_region:
            return region
    return None


def _initial_connection_message_problems(message: str) -> list[str]:
    path = "$.Data.InitialConnectionMessage"
    try:
        decoded = json.loads(message)
    except ValueError as error:
        return [f"{path}: not JSON ({error.msg} at character {error.pos})"]
    except RecursionError:
        return [f"{path}: not JSON (nested too deeply)"]
    if not isinstance(decoded, dict) or decoded.get("topic") != "aws/subscribe":
        return [f'{path}: expected a subscribe frame like {DEFAULT_INITIAL_CONNECTION_MESSAGE}']
    return []


def _auto_disconnect_problems(events: list[AutoDisconnectEvent]) -> list[str]:
    problems = []
    disconnects = [i for i, event in enumerate(events) if event.type == "DISCONNECT"]
    for index in disconnects[1:]:
        problems.append(f"$.Data.AutoDisconnectEvents[{index}].Type: only one DISCONNECT is allowed")
    for index, event in enumerate(events):
        path = f"$.Data.AutoDisconnectEvents[{index}]"
        if event.user_message is None and event.agent_message is None and event.type == "WARNING":
            problems.append(f"{path}: a WARNING needs a UserMessage, an AgentMessage or both")
        if disconnects and event.type == "WARNING":
            limit = events[disconnects[0]].seconds_after_agent_message
            if event.seconds_after_agent_message >= limit:
                problems.append(
                    f"{path}.SecondsAfterAgentMessage: a WARNING at {event.seconds_after_agent_message} s"
                    f" would never fire before the DISCONNECT at {limit} s"
                )
    return problems


def _slash_command_problems(commands: dict[str, SlashCommand]) -> list[str]:
    return [
        f"$.Data.SlashCommands[{name!r}]: a slash command's name starts with / and has no spaces"
        for name in commands
        if not re.fullmatch(r"/\S+", name)
    ]


def _failover_problems(failover: FailoverRegionConfig) -> list[str]:
    problems = []
    seen: set[str] = set()
    for index, region in enumerate(failover.failover_regions):
        if region.name in seen:
            problems.append(
                f"$.Data.FailoverRegionConfig.FailoverRegions[{index}].Name: {region.name!r} is used twice"
            )
        seen.add(region.name)
    return problems


_AT_PATH = re.compile(r"^(?P<message>.*) - at `(?P<path>\$[^`]*)`$")


def _describe_validation_error(message: str) -> str:
    match = _AT_PATH.match(message)
    if match is None:
        return f"$: {message}"
    return f"{match['path']}: {match['message']}"


def _describe_deep_nesting(raw: bytes) -> str:
    """Where the nesting of `raw` first goes deeper than `MAX_NESTING`: msgspec does not say."""
    depth, in_string, escaped = 0, False, False
    for offset, byte in enumerate(raw):
        if in_string:
            if escaped:
                escaped = False
            elif byte == ord("\\"):
                escaped = True
            elif byte == ord('"'):
                in_string = False
        elif byte == ord('"'):
            in_string = True
        elif byte in b"[{":
            depth += 1
            if depth > MAX_NESTING:
                return f"{line_and_column(raw, offset)}: JSON syntax error: nested deeper than {MAX_NESTING} levels"
        elif byte in b"]}":
            depth -= 1
    return f"{line_and_column(raw, len(raw))}: JSON syntax error: nested too deeply"
