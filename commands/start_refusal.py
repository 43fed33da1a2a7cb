"""The exit code of a service command that could not start: 2 for a mistake a restart cannot mend,
which the systemd unit does not restart (`RestartPreventExitStatus=2`), and 1 for what may pass by
itself (a port another program holds for now, a name server not answering at boot), which it tries
again after `RestartSec`. Either way one line says why, never a traceback."""

from __future__ import annotations

from net.server_thread import CannotListen

MISTAKE = 2
PASSING = 1


def refusal_code(error: Exception) -> int:
    return PASSING if isinstance(error, CannotListen) and not error.lasting else MISTAKE
