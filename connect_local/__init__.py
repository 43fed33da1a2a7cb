"""A local Amazon Connect chat service that boto3 and websocket-client (and
Amazon's chatjs) talk to unchanged over loopback; see README.md beside this
file."""

from connect_local.config import Config, InvalidConfig, default_config, load_config
from connect_local.server import LocalConnect

__all__ = ["Config", "InvalidConfig", "LocalConnect", "default_config", "load_config"]
