"""A failover move given while the service was down, to a conversation whose last message may have
reached the old chat just before the stop: the move waits until that message is settled there (sent
again with its client token, Connect keeps it once), so the new chat does not get it a second time."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import msgspec

from commands.runtime import running_service
from connect_client import RegionClients, static_session
from connect_local import Config, LocalConnect
from connect_local.config import RegionConfig, default_instance
from events import client_token, encode, event_type
from events.conversation_events import UserMessageRequested
from events.worker_config import FailoverRegion, FailoverRegionConfig, WorkerConfig, WorkerData
from service import local_regions
from service.demo_worker import demo_worker_config
from store import EventStore, NewEvent
from store.conversations import conversation_stream, load_conversation
from store.workers import WorkerRegistry
from tests.connect_local.configs import INSTANT_ANA
from tests.crash.connect_side import ConnectSide
from tests.service.harness import Api, events_of, of_type, wait_for

PRIMARY, DUBLIN = "us-east-1", "eu-west-1"


def failover_worker(connect: LocalConnect) -> WorkerConfig:
    """The local Connect's demo worker with the same instance and flow in DUBLIN as failover region "dublin"."""
    info = connect.ready_info()
    demo = demo_worker_config(info)
    dublin = FailoverRegion(name="dublin", secret=demo.data.secret, region=DUBLIN, instance_id=info["instance_id"],
                            contact_flow_id=info["contact_flow_id"])
    data: WorkerData = msgspec.structs.replace(demo.data, failover_region_config=FailoverRegionConfig(failover_regions=[dublin]))
    return msgspec.structs.replace(demo, data=data)


def customer_texts(side: ConnectSide, region: str, customer: str) -> list[str]:
    return [item["Content"] for chat in side.chats() if chat["CustomerName"] == customer and chat["Region"] == region
            for item in side.record(chat["ContactId"])["Items"]
            if item["Type"] == "MESSAGE" and item["ParticipantRole"] == "CUSTOMER"]


def test_after_a_restart_a_move_waits_until_the_message_perhaps_sent_before_is_settled_in_the_old_chat(
    tmp_path: Path, start_server: Callable[[Config], LocalConnect]
) -> None:
    instance = default_instance([INSTANT_ANA])
    connect = start_server(Config(regions=[RegionConfig(name=PRIMARY, instances=[instance]),
                                           RegionConfig(name=DUBLIN, instances=[instance])]))
    side = ConnectSide(connect.ready_info())
    with EventStore.open(tmp_path / "events.db") as store:
        workers = WorkerRegistry(store)
        worker_id = workers.create(failover_worker(connect), at=time.time())
        with running_service(store, local_regions(connect.endpoint_url)) as served:
            api = Api(served.api_url, served.clients.create("bot").token)
            assert api.transfer("held-1", worker_id, User={"Name": "held-1"})[0] == 201
            wait_for(lambda: of_type(events_of(store, "held-1"), "AgentJoined")
                     and of_type(events_of(store, "held-1"), "ConnectionOpened"), "Ana to join, the socket open")

        # As if the service had been killed while sending this: Connect has it, the log has no answer.
        state = load_conversation(store, "held-1")
        assert state.chat is not None and state.chat.connection_token is not None
        token = client_token("held-1", state.version + 1)
        intent = UserMessageRequested(at=time.time(), text="perhaps sent", client_token=token, bot_message_id="b-1")
        store.append(conversation_stream("held-1"), [NewEvent(event_type(intent), encode(intent))], state.version)
        participant = RegionClients.create(PRIMARY, endpoint_url=connect.endpoint_url, session=static_session()).participant
        participant.send_message(state.chat.connection_token, "perhaps sent", token)
        order = workers.failover(worker_id, to="dublin", mode="move", at=time.time()).failover_order

        with running_service(store, local_regions(connect.endpoint_url)):
            wait_for(lambda: workers.state(worker_id).carried_out == order, "the order to be carried out")
            wait_for(lambda: any(c["Region"] == DUBLIN and c["CustomerName"] == "held-1" for c in side.chats()),
                     "the chat to start again in Dublin")
            [switched] = of_type(events_of(store, "held-1"), "FailoverSwitched")
            assert switched.moved
            sent = of_type(events_of(store, "held-1"), "UserMessageSent")
            assert [s.request_seq for s in sent][-1] == state.version + 1  # settled before the move
        assert customer_texts(side, PRIMARY, "held-1").count("perhaps sent") == 1
        assert "perhaps sent" not in customer_texts(side, DUBLIN, "held-1")
