"""How the standard library's log records become lines on stderr: structlog's ProcessorFormatter
renders every record (ours, uvicorn's, botocore's warnings) as one JSON object a line, or as text
for a person at a terminal. The code keeps logging the standard way (`log.warning("conversation
%s: ...", ...)`); what is bound with `structlog.contextvars` on the logging thread (a conversation
actor binds `conversation_id` and `worker_id` while it handles a message) is added to the line.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import MutableMapping
from typing import Any, Literal, TextIO

import structlog
from structlog.stdlib import ProcessorFormatter

from logs.scrub import scrub_secrets

Format = Literal["json", "text"]
FORMATS: tuple[Format, ...] = ("json", "text")
# Libraries whose DEBUG lines print credentials or request bodies (botocore signs requests in them):
# they stay at WARNING whatever level the operator asks for.
QUIET_LIBRARIES = ("botocore", "boto3", "s3transfer", "urllib3", "websocket")


class StderrHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to `sys.stderr` as it is when the line is logged, not as it was when configured."""

    def __init__(self) -> None:
        super().__init__(sys.stderr)

    @property  # type: ignore[override]
    def stream(self) -> TextIO:
        return sys.stderr

    @stream.setter
    def stream(self, value: TextIO) -> None:
        pass  # always the current stderr


def default_format(stream: TextIO) -> Format:
    """Text for a person at a terminal, JSON for whatever collects the lines otherwise."""
    return "text" if _is_terminal(stream) else "json"


def configure(level: int = logging.WARNING, format: Format | None = None) -> logging.Handler:
    """Send every log record at `level` or above to stderr in `format` (None: `default_format`).
    Called again, it replaces the handler it installed before."""
    chosen = format or default_format(sys.stderr)
    handler = StderrHandler()
    handler.setFormatter(formatter(chosen, colors=chosen == "text" and _is_terminal(sys.stderr)))
    root = logging.getLogger()
    for old in [h for h in root.handlers if isinstance(h, StderrHandler)]:
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    for name in QUIET_LIBRARIES:
        logging.getLogger(name).setLevel(max(level, logging.WARNING))
    return handler


def formatter(format: Format, *, colors: bool = False) -> ProcessorFormatter:
    """How a record becomes a line: the context bound on the logging thread, the scrub, the renderer."""
    shared = [
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        structlog.stdlib.add_log_level,
        _level_as_logging_names_it,
        structlog.stdlib.add_logger_name,
        structlog.contextvars.merge_contextvars,
    ]
    # Tracebacks are text before the scrub, so a token in an exception's message is caught too.
    finish = [ProcessorFormatter.remove_processors_meta, structlog.processors.format_exc_info, scrub_secrets]
    if format == "json":
        renderer = [structlog.processors.EventRenamer("message"), structlog.processors.JSONRenderer()]
    else:
        styles = {name.upper(): style for name, style in structlog.dev.ConsoleRenderer.get_default_level_styles(colors).items()}
        renderer = [
            structlog.dev.ConsoleRenderer(
                colors=colors, level_styles=styles, exception_formatter=structlog.dev.plain_traceback
            )
        ]
    return ProcessorFormatter(foreign_pre_chain=shared, processors=[*finish, *renderer])


def _level_as_logging_names_it(logger: Any, method_name: str, event_dict: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    """WARNING, not warning: what the operator's runbook and grep look for."""
    event_dict["level"] = event_dict["level"].upper()
    return event_dict


def _is_terminal(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):  # no isatty, or closed
        return False
