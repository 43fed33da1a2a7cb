"""Outbound HTTP, one way for the whole project (webhooks, the short-link API, a cluster node's forwarding, the Amazon Connect participant calls);
and the one way an app is served on a thread of its own (`net.server_thread`: the bots' API, the local Amazon Connect)."""

from net.http import ConnectTimedOut, HttpAnswer, post

__all__ = ["ConnectTimedOut", "HttpAnswer", "post"]
