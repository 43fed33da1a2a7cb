"""The open-files limit of the long-running commands (`serve`, `connect-local`, the embedded default).

Every live conversation holds a socket open (the service's chat WebSocket; in the local Amazon Connect,
its end of it), and most systems start a process with a soft RLIMIT_NOFILE of 1,024 under a far higher
hard limit. A process may raise its own soft limit up to the hard one; only the operator (systemd's
LimitNOFILE=, `ulimit -Hn`) may raise the hard limit, so the hard limit is what caps the conversations.
"""

from __future__ import annotations

import logging
import resource

log = logging.getLogger(__name__)


def raise_open_files_limit() -> int:
    """Raise RLIMIT_NOFILE's soft limit to the hard limit, and log once (INFO) what the limit is now;
    returns it. A limit the system refuses to raise is left as it is, with a warning."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == hard:
        log.info("open files: limit %s (already the hard limit); each live conversation holds one socket", _shown(soft))
        return soft
    try:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    except (ValueError, OSError) as error:
        # Linux refuses an unlimited hard limit above fs.nr_open as a soft one.
        log.warning("open files: limit %s, not raised to the hard limit %s: %s", _shown(soft), _shown(hard), error)
        return soft
    log.info(
        "open files: limit raised from %s to %s (the hard limit); each live conversation holds one socket",
        _shown(soft),
        _shown(hard),
    )
    return hard


def _shown(limit: int) -> str:
    return "unlimited" if limit == resource.RLIM_INFINITY else str(limit)
