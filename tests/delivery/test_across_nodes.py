"""The deliverer on a log other writers share: what this store commits is handed in memory, what
another node (another store on the same table or file) commits is found in the log, and a gap the log
does not show yet is waited for, never skipped."""

from __future__ import annotations

import pytest

from delivery import WebhookDeliverer
from store import EventStore, StoredEvent
from store.conversations import conversation_stream
from tests.delivery.conversations import append, whole
from tests.delivery.deliverers import ids, start, told
from tests.delivery.receiver import Receiver
from tests.support.dynamodb import fresh_table, open_dynamo_store


@pytest.mark.usefixtures("dynamodb_credentials")
def test_on_dynamodb_this_node_s_messages_are_handed_and_another_node_s_are_read_from_the_log(
    tmp_path, dynamodb_endpoint: str, receiver: Receiver, deliverers: list[WebhookDeliverer]
) -> None:
    table = fresh_table(dynamodb_endpoint)
    with (
        open_dynamo_store(dynamodb_endpoint, table, tmp_path / "here.db") as here,
        open_dynamo_store(dynamodb_endpoint, table, tmp_path / "there.db") as there,
    ):
        deliverer = start(here, deliverers)
        mine = whole("mine", receiver.url("mine"), agent_messages=1)
        theirs = whole("theirs", receiver.url("theirs"), agent_messages=1)
        for index in range(0, len(mine), 6):  # interleaved in the log, each store appending its own
            append(here, "mine", mine[index : index + 6])
            append(there, "theirs", theirs[index : index + 6])

        receiver.wait_until(lambda r: all(len(r.accepted(c)) == len(told(here, c)) for c in ("mine", "theirs")))

        for conversation_id in ("mine", "theirs"):
            assert ids(receiver.accepted(conversation_id)) == told(here, conversation_id)
        assert len(receiver.requests) == len(told(here, "mine")) + len(told(here, "theirs"))
        assert deliverer.stats().log_reads > 0, "another node's commits are read from the log"


class NotYetReadable(EventStore):
    """A log whose pages stop before conversation `late`'s events the first few times they are read, as
    a DynamoDB Query may not show another node's committed transaction at once: a page is a gapless
    prefix, so it stops there (docs/dynamodb-store.md)."""

    hidden_reads: int

    def read_all(self, after_position: int = 0, limit: int = 1000) -> list[StoredEvent]:
        page = super().read_all(after_position, limit)
        late = [n for n, event in enumerate(page) if event.stream == conversation_stream("late")]
        if late and self.hidden_reads < 3:
            self.hidden_reads += 1
            return page[: late[0]]
        return page


def test_a_gap_the_log_does_not_show_yet_is_waited_for_and_nothing_in_it_is_skipped(
    store_path, receiver: Receiver, deliverers: list[WebhookDeliverer]
) -> None:
    with NotYetReadable.open(store_path) as here, EventStore.open(store_path) as there:
        assert isinstance(here, NotYetReadable)
        here.hidden_reads = 0
        start(here, deliverers)
        append(there, "late", whole("late", receiver.url("late"), agent_messages=2))  # another writer: not handed
        append(here, "handed", whole("handed", receiver.url("handed"), agent_messages=2))  # handed, past a gap

        receiver.wait_until(lambda r: all(len(r.accepted(c)) == len(told(here, c)) for c in ("late", "handed")))

        assert ids(receiver.accepted("late")) == told(here, "late")
        assert ids(receiver.accepted("handed")) == told(here, "handed")
        assert here.hidden_reads == 3
