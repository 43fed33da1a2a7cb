"""The argparse type of a TCP port option: a number from 0 (a free one) to 65535, or a usage error
naming the option, before anything starts (a larger number would wrap around to another port)."""

from __future__ import annotations

import argparse


def port_number(text: str) -> int:
    try:
        port = int(text)
    except ValueError:
        port = -1
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port: 0 (a free one) to 65535")
    return port
