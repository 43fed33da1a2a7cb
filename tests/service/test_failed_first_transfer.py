"""A first transfer of an id that fails keeps nothing of it once the log shows it never began: neither
its actor nor its routing (nor, in a cluster, its lease: tests/cluster/test_two_nodes.py). And a
transfer refused beside another of the same id, at the same moment, leaves the other one to succeed."""

from __future__ import annotations

import sqlite3
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from events.rejection import Rejected
from tests.service.conftest import Running
from tests.service.harness import events_of, of_type

ATTEMPTS = 100


def test_a_first_transfer_that_fails_on_a_locked_log_keeps_nothing_and_the_id_can_be_handed_over_after(
    running: Running,
) -> None:
    holder = sqlite3.connect(running.store.path, isolation_level=None)
    try:
        holder.execute("BEGIN IMMEDIATE")  # another process keeps the write lock past the store's patience
        status, _ = running.api.transfer("locked-1", running.worker_id)
    finally:
        holder.execute("ROLLBACK")
        holder.close()

    assert status >= 500
    assert running.service.version("locked-1") == 0
    assert running.service.running_actor("locked-1") is None
    with pytest.raises(KeyError):
        running.service.supervisor_of("locked-1")  # not routed

    assert running.api.transfer("locked-1", running.worker_id)[0] == 201
    assert running.service.running_actor("locked-1") is not None


def test_a_transfer_refused_beside_another_of_the_same_new_id_does_not_fail_the_other(running: Running) -> None:
    def transfer(conversation_id: str, bot_name: str, start: threading.Barrier) -> str:
        start.wait()
        try:
            running.service.transfer(conversation_id, running.worker_id, bot_name=bot_name, user_name=None,
                                     context={}, deliver_to=None)
        except Rejected as refused:
            return refused.code
        except Exception as error:  # noqa: BLE001 - what the API would answer 500
            return f"failed: {error!r}"
        return "transferred"

    with ThreadPoolExecutor(2) as pool:
        for attempt in range(ATTEMPTS):
            conversation_id = f"both-{attempt}"
            start = threading.Barrier(2)
            good = pool.submit(transfer, conversation_id, "Botty", start)
            refused = pool.submit(transfer, conversation_id, "B" * 300, start)
            # The refused one may come second and find the conversation handed over already.
            assert refused.result() in ("invalid_display_name", "already_transferred")
            assert good.result() == "transferred", f"attempt {attempt}"
            assert running.service.running_actor(conversation_id) is not None
            assert len(of_type(events_of(running.store, conversation_id), "Transferred")) == 1
