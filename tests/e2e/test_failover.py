"""Failover the way an operator meets it: `run.py serve` against a local Amazon Connect serving two regions,
a worker whose primary region is us-east-1 with a failover region "dublin" in eu-west-1, a bot speaking
through the HTTP API and told everything by webhook, a human agent the test plays, and the supervisor
command `run.py failover` given while chats are live: drain, move, move during an outage of the primary,
a SIGKILL in the middle of a move, and failback. In each, every message reaches the other side once.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from actors.conversation import LEFT_BEHIND_NOTICE
from events.carried_transcript import MOVED_FROM, TRANSCRIPT
from events.conversation_decide import MOVED_NOTICE
from tests.crash import service_process
from tests.crash.children import Children, start_connect_local
from tests.crash.connect_side import FAILOVER_REGION, FLOWS, INSTANCE, QUEUES, REGION, ConnectSide, connect_config
from tests.crash.receiver import WebhookReceiver
from tests.e2e.stage import AGENT, DEADLINE, Service, logged, of_type
from tests.service.harness import Api, wait_for


def worker_file(name: str) -> dict[str, Any]:
    """A worker in the seed's format: the primary in REGION, the failover region "dublin" in FAILOVER_REGION
    (the same instance id and flow, so the local Connect's human queue takes its chats too)."""
    return {
        "Data": {
            "ContactFlowId": FLOWS["human"],
            "InstanceId": INSTANCE,
            "Region": REGION,
            "Secret": "srn:vault::e2e:aws-cross-account-role:local",
            "FailoverRegionConfig": {
                "FailoverRegions": [{
                    "Name": "dublin",
                    "Secret": "srn:vault::e2e:aws-cross-account-role:dublin",
                    "Region": FAILOVER_REGION,
                    "InstanceId": INSTANCE,
                    "ContactFlowId": FLOWS["human"],
                    "QueueId": QUEUES["human"],
                }],
            },
        },
        "Enabled": True,
        "Name": name,
        "Type": "amazon-connect-worker",
    }


@dataclass
class FailoverStage:
    folder: Path
    data: Path
    connect: ConnectSide
    service: Service
    webhook: WebhookReceiver
    api: Api

    def new_worker(self, name: str) -> str:
        return service_process.create_worker(worker_file(name), self.folder, self.data)

    def failover(self, worker_id: str, *options: str) -> str:
        code, out = service_process.failover(worker_id, self.data, *options)
        assert code == 0, out
        return out

    def hand_over(self, conversation_id: str, worker_id: str, region: str = REGION) -> str:
        """The bot hands the conversation over; the agent accepts its chat in `region`; Connect's contact id."""
        status, answer = self.api.transfer(conversation_id, worker_id, DeliverTo=self.webhook.url,
                                           User={"Name": conversation_id})
        assert status == 201, answer
        return self.accept_in(region, conversation_id, nth=1)

    def accept_in(self, region: str, conversation_id: str, nth: int) -> str:
        """Once the customer has an `nth` chat in `region`, the agent accepts it and the bot is told."""
        contact_id = wait_for(lambda: self._nth_contact(region, conversation_id, nth),
                              f"chat {nth} of {conversation_id} in {region}", DEADLINE)
        joined = self.told(conversation_id).count("AgentJoined")
        self.connect.accept(contact_id, AGENT)
        wait_for(lambda: self.told(conversation_id).count("AgentJoined") > joined, "the bot to be told", DEADLINE)
        return contact_id

    def _nth_contact(self, region: str, conversation_id: str, nth: int) -> str | None:
        contacts = self.connect.contacts_in(region, conversation_id)
        return contacts[nth - 1] if len(contacts) >= nth else None

    def bot_says(self, conversation_id: str, message_id: str, text: str) -> None:
        status, answer = self.api.say(conversation_id, message_id, text)
        assert status == 202, answer

    def customer_texts(self, contact_id: str) -> list[str]:
        """What the agent got from the customer in this chat."""
        return [item["Content"] for item in self.connect.record(contact_id)["Items"]
                if item.get("Type") == "MESSAGE" and item.get("ParticipantRole") == "CUSTOMER"]

    def reaches_agent_once(self, conversation_id: str, text: str, contact_id: str) -> None:
        """`text` from the bot is in `contact_id`'s chat, and in no other chat of the customer's, once."""
        wait_for(lambda: text in self.customer_texts(contact_id), f"{text!r} to reach the agent", DEADLINE)
        everywhere = [t for region in (REGION, FAILOVER_REGION) for c in self.connect.contacts_in(region, conversation_id)
                      for t in self.customer_texts(c)]
        assert everywhere.count(text) == 1, everywhere

    def reaches_bot_once(self, conversation_id: str, contact_id: str, text: str) -> None:
        """The agent writes `text` in `contact_id`; the bot is told it exactly once."""
        self.connect.agent_says(contact_id, text)
        wait_for(lambda: text in self.agent_texts(conversation_id), f"{text!r} to reach the bot", DEADLINE)
        assert self.agent_texts(conversation_id).count(text) == 1

    def agent_texts(self, conversation_id: str) -> list[str | None]:
        return [m.text for m in self.webhook.once_each(conversation_id) if m.type == "AgentMessage"]

    def told(self, conversation_id: str) -> list[str]:
        return [m.type for m in self.webhook.once_each(conversation_id)]

    def handed_back(self, conversation_id: str, contact_id: str) -> dict[str, Any]:
        """The agent leaves; the context the bot gets back."""
        self.connect.agent_leaves(contact_id)
        returned = wait_for(lambda: next((m for m in self.webhook.once_each(conversation_id)
                                          if m.type == "ReturnedToBot"), None), "the hand-back", DEADLINE)
        return returned.context

    def switches(self, conversation_id: str) -> list[Any]:
        return of_type(logged(self.data, conversation_id), "FailoverSwitched")


@pytest.fixture(scope="module")
def stage(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FailoverStage]:
    folder = tmp_path_factory.mktemp("failover")
    webhook = WebhookReceiver().start()
    try:
        with Children() as children:
            connect_child, connect = start_connect_local(folder, connect_config(chats=30))
            children.start(connect_child)
            data = folder / "data"
            credentials = service_process.client_credentials(data, "failover-bot")
            webhook.secret = credentials.signing_secret
            service = Service(folder, data, connect, children)
            service.start()
            yield FailoverStage(folder, data, ConnectSide(connect), service, webhook, Api(service.api_url, credentials.token))
    finally:
        webhook.stop()


def test_drain_lets_live_chats_finish_where_they_are_while_new_ones_start_in_the_failover_region(
    stage: FailoverStage,
) -> None:
    worker = stage.new_worker("drain")
    live = stage.hand_over("drain-live", worker)
    out = stage.failover(worker, "--to", "dublin")
    assert "carried out: 0 live conversations moved, 1 finishes where it is" in out, out
    [switched] = stage.switches("drain-live")
    assert (switched.mode, switched.moved, switched.target.region) == ("drain", False, REGION)

    new = stage.hand_over("drain-new", worker, region=FAILOVER_REGION)
    assert stage.switches("drain-new") == []  # transferred under the order: nothing to take
    stage.bot_says("drain-live", "b-1", "still with you?")
    stage.reaches_agent_once("drain-live", "still with you?", live)
    stage.reaches_bot_once("drain-live", live, "yes, right here")
    stage.bot_says("drain-new", "b-1", "hello from the new one")
    stage.reaches_agent_once("drain-new", "hello from the new one", new)

    assert stage.handed_back("drain-live", live)["ConnectRegion"] == {"Region": REGION, "FailoverRegion": None}
    assert stage.handed_back("drain-new", new)["ConnectRegion"] == {"Region": FAILOVER_REGION, "FailoverRegion": "dublin"}


def test_move_ends_the_live_chat_in_the_old_region_and_starts_it_again_in_the_new_one_with_the_conversation_so_far(
    stage: FailoverStage,
) -> None:
    worker = stage.new_worker("move")
    old = stage.hand_over("move-live", worker)
    stage.bot_says("move-live", "b-1", "my order never came")
    stage.reaches_agent_once("move-live", "my order never came", old)
    stage.reaches_bot_once("move-live", old, "let me look")

    out = stage.failover(worker, "--to", "dublin", "--move")
    assert "carried out: 1 live conversation moved, 0 finish where they are" in out, out
    new = stage.accept_in(FAILOVER_REGION, "move-live", nth=1)
    attributes = stage.connect.record(new)["Attributes"]
    assert attributes[MOVED_FROM] == f"{REGION} (primary) contact {old}"
    assert attributes[TRANSCRIPT] == f"Customer: my order never came\n{AGENT}: let me look"
    # The agent left behind was told, and the customer left that chat.
    wait_for(lambda: stage.connect.record(old)["State"] == "ENDED", "the old chat to end", DEADLINE)
    assert LEFT_BEHIND_NOTICE in stage.customer_texts(old)
    assert [m.text for m in stage.webhook.once_each("move-live") if m.type == "UserNotified"] == [MOVED_NOTICE]

    stage.bot_says("move-live", "b-2", "hello again")
    stage.reaches_agent_once("move-live", "hello again", new)
    stage.reaches_bot_once("move-live", new, "found it")
    assert stage.agent_texts("move-live") == ["let me look", "found it"]
    context = stage.handed_back("move-live", new)
    assert context["ConnectRegion"] == {"Region": FAILOVER_REGION, "FailoverRegion": "dublin"}
    assert context["SessionEndReason"] == "AgentLeft"


def test_an_outage_of_the_primary_then_the_command_moves_live_chats_with_the_messages_the_outage_held_back(
    stage: FailoverStage,
) -> None:
    worker = stage.new_worker("outage")
    old = stage.hand_over("outage-live", worker)
    stage.connect.outage(REGION)
    try:
        stage.bot_says("outage-live", "b-1", "are you there?")  # accepted; Connect cannot take it now
        out = stage.failover(worker, "--to", "dublin", "--move")
        assert "carried out: 1 live conversation moved" in out, out
        new = stage.accept_in(FAILOVER_REGION, "outage-live", nth=1)
        stage.reaches_agent_once("outage-live", "are you there?", new)
        stage.reaches_bot_once("outage-live", new, "I am, in Dublin")
        [left] = wait_for(lambda: of_type(logged(stage.data, "outage-live"), "ChatLeft"), "the old chat's outcome",
                          DEADLINE)
        assert left.error is not None  # the primary could not be told: recorded, and not waited for
    finally:
        stage.connect.outage(REGION, down=False)
    assert stage.customer_texts(old).count("are you there?") == 0
    assert stage.handed_back("outage-live", new)["ConnectRegion"]["Region"] == FAILOVER_REGION


def test_a_sigkill_in_the_middle_of_a_move_moves_each_conversation_exactly_once(stage: FailoverStage) -> None:
    worker = stage.new_worker("killed")
    names = [f"killed-{index}" for index in range(8)]
    old = {name: stage.hand_over(name, worker) for name in names}
    code, out = service_process.failover(worker, stage.data, "--to", "dublin", "--move", "--wait", "0")
    assert code in (0, 1), out
    # Killed as soon as the first conversation has taken the order (or, on a slow start, before any has).
    wait_for(lambda: any(stage.switches(name) for name in names), "a conversation to take the order", DEADLINE)
    stage.service.kill()
    stage.service.start()
    stage.api = Api(stage.service.api_url, stage.api.token)

    for name in names:
        new = stage.accept_in(FAILOVER_REGION, name, nth=1)
        stage.bot_says(name, "after", f"after the restart, {name}")
        stage.reaches_agent_once(name, f"after the restart, {name}", new)
        stage.reaches_bot_once(name, new, f"welcome back, {name}")
        assert len(stage.switches(name)) == 1
        assert stage.connect.contacts_in(FAILOVER_REGION, name) == [new]
        wait_for(lambda: stage.connect.record(old[name])["State"] == "ENDED", "the old chat to end", DEADLINE)
        assert [m.text for m in stage.webhook.once_each(name) if m.type == "UserNotified"] == [MOVED_NOTICE]


def test_failback_to_the_primary_moves_the_chats_back(stage: FailoverStage) -> None:
    worker = stage.new_worker("failback")
    stage.hand_over("failback-live", worker)
    stage.failover(worker, "--to", "dublin", "--move")
    dublin = stage.accept_in(FAILOVER_REGION, "failback-live", nth=1)
    stage.bot_says("failback-live", "b-1", "in dublin")
    stage.reaches_agent_once("failback-live", "in dublin", dublin)

    out = stage.failover(worker, "--primary", "--move")
    assert "starts new transfers in the primary region" in out and "1 live conversation moved" in out, out
    home = stage.accept_in(REGION, "failback-live", nth=2)
    assert TRANSCRIPT in stage.connect.record(home)["Attributes"]
    stage.bot_says("failback-live", "b-2", "home again")
    stage.reaches_agent_once("failback-live", "home again", home)
    stage.reaches_bot_once("failback-live", home, "welcome home")
    assert [s.target.region for s in stage.switches("failback-live")] == [FAILOVER_REGION, REGION]
    assert stage.handed_back("failback-live", home)["ConnectRegion"] == {"Region": REGION, "FailoverRegion": None}


def test_a_refused_second_transfer_of_a_live_conversation_leaves_it_with_its_worker(stage: FailoverStage) -> None:
    worker, other = stage.new_worker("owner"), stage.new_worker("intruder")
    live = stage.hand_over("owned-live", worker)
    status, answer = stage.api.transfer("owned-live", other, DeliverTo=stage.webhook.url, User={"Name": "owned-live"})
    assert (status, answer["Code"]) == (409, "already_transferred")
    assert "0 live conversations moved, 0 finish" in stage.failover(other, "--to", "dublin", "--move")
    assert "1 live conversation moved" in stage.failover(worker, "--to", "dublin", "--move")
    new = stage.accept_in(FAILOVER_REGION, "owned-live", nth=1)
    stage.bot_says("owned-live", "b-1", "still mine")
    stage.reaches_agent_once("owned-live", "still mine", new)
    assert stage.connect.record(live)["State"] == "ENDED"


def test_an_old_region_that_hangs_does_not_hold_the_moved_chat_up(stage: FailoverStage) -> None:
    worker = stage.new_worker("hanging")
    old = stage.hand_over("hanging-live", worker)
    stage.connect.latency(60, REGION)  # every call there waits past the clients' read timeout
    try:
        stage.failover(worker, "--to", "dublin", "--move")
        new = stage.accept_in(FAILOVER_REGION, "hanging-live", nth=1)
        stage.bot_says("hanging-live", "b-1", "anyone in Dublin?")
        stage.reaches_agent_once("hanging-live", "anyone in Dublin?", new)  # within DEADLINE, long before the leave gives up
        assert stage.customer_texts(old).count("anyone in Dublin?") == 0
    finally:
        stage.connect.clear_faults()


def test_a_move_to_a_region_that_refuses_the_chat_hands_back_and_still_leaves_the_old_chat(stage: FailoverStage) -> None:
    worker = stage.new_worker("refused")
    old = stage.hand_over("refused-live", worker)
    stage.connect.refuse_next("StartChatContact", "ResourceNotFoundException", "no such contact flow", status=404)
    stage.failover(worker, "--to", "dublin", "--move")
    returned = wait_for(lambda: next((m for m in stage.webhook.once_each("refused-live") if m.type == "ReturnedToBot"),
                                     None), "the hand-back", DEADLINE)
    assert returned.context["SessionEndReason"] == "Error"
    assert returned.context["Error"]["Code"] == "ResourceNotFoundException"
    wait_for(lambda: stage.connect.record(old)["State"] == "ENDED", "the old chat to be left", DEADLINE)
    assert LEFT_BEHIND_NOTICE in stage.customer_texts(old)
