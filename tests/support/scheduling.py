"""Which tests pytest-xdist (`make test`: `-n 2 --dist loadgroup`) keeps apart.

By default a test module's tests run in one worker (tests/conftest.py). The modules marked
`one_harness_at_a_time` also share one worker between them: each starts the service as several child
processes and checks timing (the crash harnesses, the three-node acceptance, the auto-disconnect
timers), so two of them never compete for the machine's two cores at once."""

from __future__ import annotations

import pytest

one_harness_at_a_time = pytest.mark.xdist_group("one_harness_at_a_time")
