"""The local Amazon Connect's configuration: regions, instances, flows, queues,
hours of operation, simulated agents, limits and rate limits.

A configuration file is JSON with snake_case keys, decoded into the frozen
Structs below; unknown keys are refused and every error names its JSON path.
With no file, `default_config()` gives one region (us-east-1), one instance,
one contact flow, one queue that is always open, and one simulated agent who
joins within a second and answers each customer message.

    >>> config = load_config(open("connect.json", "rb").read())
    >>> config.regions[0].instances[0].queues[0].agents[0].name
    'Ana'
"""

from __future__ import annotations

from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import msgspec

NonEmpty = Annotated[str, msgspec.Meta(min_length=1)]
Seconds = Annotated[float, msgspec.Meta(ge=0)]
ClockTime = Annotated[str, msgspec.Meta(pattern=r"^([01]\d|2[0-3]):[0-5]\d$|^24:00$")]
Weekday = Literal["MONDAY", "TUESDAY", "WEDNESDAY", "THURSDAY", "FRIDAY", "SATURDAY", "SUNDAY"]
WEEKDAYS: tuple[Weekday, ...] = ("MONDAY", "TUESDAY", "WEDNESDAY", "THURSDAY", "FRIDAY", "SATURDAY", "SUNDAY")

DEFAULT_INSTANCE_ID = "11111111-2222-4333-8444-555555555555"
DEFAULT_CONTACT_FLOW_ID = "aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee"
DEFAULT_QUEUE_ID = "99999999-8888-4777-8666-555555555555"
DEFAULT_HOURS_ID = "24x7"


class InvalidConfig(ValueError):
    """The configuration file cannot be used; the message names the JSON path."""


class _Section(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    pass


class ReplyRule(_Section):
    """A scripted answer: the first rule whose `contains` is found in the
    customer's message (case-insensitive) answers it."""

    contains: NonEmpty
    reply: NonEmpty
    leave: bool = False


class AgentConfig(_Section):
    """A simulated agent. `{message}`, `{customer}` and `{agent}` in replies are
    replaced by the customer's message, the customer's and the agent's names."""

    name: NonEmpty
    join_delay_seconds: Seconds = 0.5
    reply_delay_seconds: Seconds = 0.0
    max_concurrent_chats: Annotated[int, msgspec.Meta(ge=1)] = 10
    greeting: str | None = None
    replies: list[ReplyRule] = []
    default_reply: str | None = "You said: {message}"
    leave_after_messages: Annotated[int, msgspec.Meta(ge=1)] | None = None
    farewell: str | None = None
    idle: bool = False


class OpenPeriod(_Section):
    """Open from `start` to `end` (HH:MM, `end` may be 24:00) on `day`."""

    day: Weekday
    start: ClockTime
    end: ClockTime


class HoursOfOperation(_Section):
    id: NonEmpty
    name: str = ""
    time_zone: NonEmpty = "UTC"
    schedule: list[OpenPeriod] = []


class QueueConfig(_Section):
    """A queue; `agents` is its pool of simulated agents. An empty pool means
    chats wait for a human agent (through the agent API or page)."""

    id: NonEmpty
    name: str = "BasicQueue"
    hours_of_operation_id: NonEmpty = DEFAULT_HOURS_ID
    agents: list[AgentConfig] = []


class ContactFlowConfig(_Section):
    """A contact flow places chats in `queue_id` when its hours are open;
    otherwise it answers the customer with `closed_message` (a SYSTEM message,
    at the start and after each customer message) and offers no agent."""

    id: NonEmpty
    queue_id: NonEmpty
    name: str = "Default customer queue"
    closed_message: NonEmpty = "We are closed at the moment. Please come back during our opening hours."


class InstanceConfig(_Section):
    id: Annotated[str, msgspec.Meta(min_length=1, max_length=100)]
    contact_flows: list[ContactFlowConfig]
    queues: list[QueueConfig]
    hours_of_operation: list[HoursOfOperation] = []
    alias: str = "local"


class RegionConfig(_Section):
    name: Annotated[str, msgspec.Meta(pattern=r"^[a-z]{2}(-[a-z]+)+-\d+$")]
    instances: list[InstanceConfig]


class RateLimit(_Section):
    """A token bucket: `rate` calls per second on average, `burst` at once."""

    rate: Annotated[float, msgspec.Meta(gt=0)]
    burst: Annotated[int, msgspec.Meta(ge=1)]


class Limits(_Section):
    # SendMessage Content, in UTF-8 bytes as Amazon Connect counts it (16,384 for every content type).
    message_max_bytes: Annotated[int, msgspec.Meta(ge=1, le=16384)] = 16384
    connection_lifetime_seconds: Annotated[float, msgspec.Meta(gt=0)] = 3600.0
    connection_token_lifetime_seconds: Annotated[float, msgspec.Meta(gt=0)] = 86400.0
    max_active_chats_per_instance: Annotated[int, msgspec.Meta(ge=1)] = 100


class Config(_Section):
    regions: Annotated[list[RegionConfig], msgspec.Meta(min_length=1)]
    limits: Limits = Limits()
    # Per operation name (e.g. "SendMessage"), per region; unlisted operations
    # use `default_rate_limit`.
    rate_limits: dict[str, RateLimit] = {}
    default_rate_limit: RateLimit = RateLimit(rate=200.0, burst=400)


ALWAYS_OPEN = HoursOfOperation(
    id=DEFAULT_HOURS_ID,
    name="24x7",
    schedule=[OpenPeriod(day=day, start="00:00", end="24:00") for day in WEEKDAYS],
)

DEFAULT_AGENT = AgentConfig(name="Ana")


def default_instance(agents: list[AgentConfig] | None = None, instance_id: str = DEFAULT_INSTANCE_ID) -> InstanceConfig:
    """One flow into one always-open queue served by `agents` (default: Ana)."""
    return InstanceConfig(
        id=instance_id,
        contact_flows=[ContactFlowConfig(id=DEFAULT_CONTACT_FLOW_ID, queue_id=DEFAULT_QUEUE_ID)],
        queues=[QueueConfig(id=DEFAULT_QUEUE_ID, agents=[DEFAULT_AGENT] if agents is None else agents)],
        hours_of_operation=[ALWAYS_OPEN],
    )


def default_config(agents: list[AgentConfig] | None = None, regions: tuple[str, ...] = ("us-east-1",)) -> Config:
    """One region, us-east-1 (or each of `regions`, the first first), with the default instance served
    by `agents` (default: Ana; `[]`: no simulated agent, every chat waits for a person on the agent page)."""
    return Config(regions=[RegionConfig(name=name, instances=[default_instance(agents)]) for name in regions])


def load_config(data: bytes) -> Config:
    """Decode and check a configuration file's bytes."""
    try:
        config = msgspec.json.decode(data, type=Config)
    except msgspec.DecodeError as error:
        raise InvalidConfig(f"invalid connect-local configuration: {error}") from None
    _check_references(config)
    return config


def _check_references(config: Config) -> None:
    for r, region in enumerate(config.regions):
        for i, instance in enumerate(region.instances):
            path = f"$.regions[{r}].instances[{i}]"
            for h, hours_config in enumerate(instance.hours_of_operation):
                if not _known_time_zone(hours_config.time_zone):
                    raise InvalidConfig(
                        f"invalid connect-local configuration: unknown time zone {hours_config.time_zone!r} "
                        f"- at `{path}.hours_of_operation[{h}].time_zone`"
                    )
            hours = {h.id for h in instance.hours_of_operation} | {DEFAULT_HOURS_ID}
            queues = {q.id for q in instance.queues}
            for q, queue in enumerate(instance.queues):
                if queue.hours_of_operation_id not in hours:
                    raise InvalidConfig(
                        f"invalid connect-local configuration: unknown hours of operation "
                        f"{queue.hours_of_operation_id!r} - at `{path}.queues[{q}].hours_of_operation_id`"
                    )
            for f, flow in enumerate(instance.contact_flows):
                if flow.queue_id not in queues:
                    raise InvalidConfig(
                        f"invalid connect-local configuration: unknown queue {flow.queue_id!r} "
                        f"- at `{path}.contact_flows[{f}].queue_id`"
                    )


def _known_time_zone(name: str) -> bool:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True
