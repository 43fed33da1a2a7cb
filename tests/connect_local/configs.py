"""Configurations the tests start servers with."""

from __future__ import annotations

from typing import Any

from connect_local import Config
from connect_local.config import AgentConfig, RegionConfig, default_instance

INSTANT_ANA = AgentConfig(name="Ana", join_delay_seconds=0)


def config_with(agents: list[AgentConfig] | None = None, **fields: Any) -> Config:
    """One region, one instance whose queue is served by `agents` (default:
    Ana, who joins at once and echoes each message)."""
    instance = default_instance([INSTANT_ANA] if agents is None else agents)
    return Config(regions=[RegionConfig(name="us-east-1", instances=[instance])], **fields)
