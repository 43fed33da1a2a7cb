"""Outbound HTTP, one way for the whole project (webhooks, the short-link API)."""

from net.http import HttpAnswer, post

__all__ = ["HttpAnswer", "post"]
