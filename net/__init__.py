"""Outbound HTTP, one way for the whole project (webhooks, the short-link API, a cluster node's forwarding, the Amazon Connect participant calls)."""

from net.http import ConnectTimedOut, HttpAnswer, post

__all__ = ["ConnectTimedOut", "HttpAnswer", "post"]
