"""Chats signed with the cross-account role each worker's `Secret` names, against the local Amazon
Connect, the role assumed through moto's STS with IAM checks on (its trust policy is the one `run.py
worker policy` prints): assumed once per (secret, region) with the external id, renewed when it
expires mid-chat, and a role that cannot be used hands the conversation back with what to fix."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Iterator
from typing import Any

import msgspec
import pytest

from connect_local import LocalConnect
from roles import RoleSessions
from roles.sessions import default_sts_client
from service import RegionClientsFactory
from service.demo_worker import DEMO_SECRET
from service.serve_config import RegionOverride, ServeConfig, region_clients, role_sessions
from store import EventStore
from store.workers import WorkerRegistry
from tests.service.conftest import Bot, Running
from tests.service.harness import events_of, of_type, wait_for
from tests.support.aws_roles import Clock, ExpiringAt, MotoRoles, moto_roles
from vault import CrossAccountRole, LocalVault, parse_reference

EXTERNAL_ID = "ext-5d1c-never-shown"


@pytest.fixture
def aws() -> Iterator[MotoRoles]:
    with moto_roles() as roles:
        yield roles


def signed_by_roles(**roles: Any) -> Callable[[LocalConnect, EventStore], RegionClientsFactory]:
    """`serve`'s own clients factory, its region pointed at the local Connect with no dummy keys: each
    (region, secret) signs with the role the secret names (`RoleSessions(vault, **roles)`)."""

    def regions(connect: LocalConnect, store: EventStore) -> RegionClientsFactory:
        region = connect.ready_info()["region"]
        config = ServeConfig(data_dir="unused", regions={region: RegionOverride(endpoint_url=connect.endpoint_url)})
        vault = LocalVault(store.path)
        return region_clients(config, vault, roles=RoleSessions(vault, **roles))

    return regions


def keep_role(running: Running, reference: str, role: CrossAccountRole) -> None:
    LocalVault(running.store.path).put(parse_reference(reference), role)


def with_secret(running: Running, secret: str, name: str | None = None) -> str:
    """The demo worker with another `Secret`: changed in place, or a new worker when `name` is given."""
    workers = WorkerRegistry(running.store)
    config = workers.get(running.worker_id)
    changed = msgspec.structs.replace(config, data=msgspec.structs.replace(config.data, secret=secret))
    if name is not None:
        return workers.create(msgspec.structs.replace(changed, name=name), at=time.time())
    workers.update(running.worker_id, changed, at=time.time())
    return running.worker_id


def told(bot: Bot, kind: str) -> list[dict[str, Any]]:
    return [message for message in bot.received if message["Type"] == kind]


def answered(bot: Bot, text: str) -> list[dict[str, Any]]:
    return [m for m in told(bot, "AgentMessage") if m["Text"] == f"You said: {text}"]


def chatting(running: Running, bot: Bot, conversation_id: str, worker_id: str | None = None) -> None:
    assert running.api.transfer(conversation_id, worker_id or running.worker_id, DeliverTo=bot.url)[0] == 201
    wait_for(lambda: of_type(events_of(running.store, conversation_id), "AgentJoined"), "Ana to join")


def handed_back(bot: Bot) -> dict[str, Any]:
    [message] = wait_for(lambda: told(bot, "ReturnedToBot"), "the hand-back at the webhook")
    return message["Context"]


def test_a_chat_is_signed_by_the_workers_role_assumed_once_with_its_external_id(
    start_service: Callable[..., Running], bot: Bot, aws: MotoRoles
) -> None:
    running = start_service(regions=signed_by_roles())
    role = aws.role("acme-connect", EXTERNAL_ID)
    keep_role(running, DEMO_SECRET, role)

    chatting(running, bot, "ar-1")
    assert running.api.say("ar-1", "m-1", "hello")[0] == 202
    wait_for(lambda: answered(bot, "hello"), "Ana's answer")

    # StartChatContact, CreateParticipantConnection, SendMessage: one assumption for both clients.
    [assumed] = aws.assumed()
    assert (assumed.role_arn, assumed.external_id, assumed.session_name) == (
        role.role_arn, EXTERNAL_ID, "connect-worker.local.demo"
    )


def test_credentials_that_expire_mid_chat_are_renewed_and_the_chat_goes_on(
    start_service: Callable[..., Running], bot: Bot, aws: MotoRoles
) -> None:
    clock = Clock()
    sts = lambda region: ExpiringAt(default_sts_client(region), clock)  # noqa: E731 - an hour by `clock`
    running = start_service(regions=signed_by_roles(sts_client=sts, clock=clock))
    keep_role(running, DEMO_SECRET, aws.role("acme-connect", EXTERNAL_ID))
    chatting(running, bot, "ar-2")
    assert running.api.say("ar-2", "m-1", "before")[0] == 202
    wait_for(lambda: answered(bot, "before"), "Ana's answer before expiry")
    assert len(aws.assumed()) == 1

    clock.advance(2 * 3600)  # the credentials are an hour past their end: the next call must renew them

    assert running.api.say("ar-2", "m-2", "after")[0] == 202
    wait_for(lambda: answered(bot, "after"), "Ana's answer after expiry")
    assert running.api.call("PUT", "/v1/conversations/ar-2/context", {"Context": {"plan": "gold"}})[0] == 202
    wait_for(lambda: of_type(events_of(running.store, "ar-2"), "ContextUpdated"), "the context update at Connect")
    first, renewed = aws.assumed()
    assert renewed.external_id == EXTERNAL_ID and renewed.access_key_id != first.access_key_id
    assert not told(bot, "MessageRefused") and not told(bot, "ContextUpdateRefused") and not told(bot, "ReturnedToBot")


def test_a_role_whose_trust_refuses_the_service_hands_the_chat_back_with_the_trust_to_fix(
    start_service: Callable[..., Running], bot: Bot, aws: MotoRoles, caplog: pytest.LogCaptureFixture
) -> None:
    running = start_service(regions=signed_by_roles())
    role = aws.role("acme-connect", EXTERNAL_ID, trusted_external_id="ext-the-role-expects")
    keep_role(running, DEMO_SECRET, role)

    assert running.api.transfer("ar-3", running.worker_id, DeliverTo=bot.url)[0] == 201
    context = handed_back(bot)

    assert context["SessionEndReason"] == "Error"
    assert context["Error"]["Code"] == "AssumeRoleDenied"
    message = context["Error"]["Message"]
    assert message.startswith(f"sts:AssumeRole on {role.role_arn} was denied: the role's trust policy must allow")
    assert f"`python run.py worker policy {running.worker_id}` prints the policies the role needs" in message
    [line] = [r for r in caplog.records if r.levelno >= logging.WARNING and "AssumeRole" in r.getMessage()]
    assert line.levelno == logging.ERROR
    assert line.getMessage().startswith(
        f"conversation ar-3: worker {running.worker_id}, secret {DEMO_SECRET}, region us-east-1: AssumeRole failed: "
        "AssumeRoleDenied: sts:AssumeRole on"
    )
    said = [json.dumps(bot.received), *(r.getMessage() for r in caplog.records), repr(events_of(running.store, "ar-3"))]
    for secret in (EXTERNAL_ID, *aws.service_keys.values()):
        assert not any(secret in text for text in said)


def test_a_secret_the_vault_does_not_hold_hands_the_chat_back_saying_how_to_put_it(
    start_service: Callable[..., Running], bot: Bot, aws: MotoRoles
) -> None:
    running = start_service(regions=signed_by_roles())
    assert running.api.transfer("ar-4", running.worker_id, DeliverTo=bot.url)[0] == 201
    error = handed_back(bot)["Error"]
    assert error["Code"] == "SecretNotFound"
    assert error["Message"].startswith(f"the vault holds no {DEMO_SECRET}: put it there (python run.py secret put")
    assert aws.assumed() == []


def test_a_secret_that_names_no_role_hands_the_chat_back_naming_the_type_needed(
    start_service: Callable[..., Running], bot: Bot, aws: MotoRoles
) -> None:
    running = start_service(regions=signed_by_roles())
    with_secret(running, "srn:vault::acme:secretdoc:keys")
    assert running.api.transfer("ar-5", running.worker_id, DeliverTo=bot.url)[0] == 201
    error = handed_back(bot)["Error"]
    assert error["Code"] == "InvalidSecretReference"
    assert error["Message"].startswith(
        "the worker's Secret: srn:vault::acme:secretdoc:keys is a secretdoc reference; this needs one of type "
        "aws-cross-account-role or cross-account-role"
    )


def test_a_permission_connect_denies_the_role_is_named_in_the_hand_back(
    start_service: Callable[..., Running], bot: Bot, aws: MotoRoles
) -> None:
    running = start_service(regions=signed_by_roles())
    keep_role(running, DEMO_SECRET, aws.role("acme-connect", EXTERNAL_ID))
    denied = (
        "User: arn:aws:sts::123456789012:assumed-role/acme-connect/x is not authorized to perform: "
        "connect:StartChatContact"
    )
    running.connect.refuse_next(1, "StartChatContact", "AccessDeniedException", denied, status=403)

    assert running.api.transfer("ar-6", running.worker_id, DeliverTo=bot.url)[0] == 201
    error = handed_back(bot)["Error"]
    info = running.connect.ready_info()
    assert error["Code"] == "AccessDeniedException"
    assert error["Message"] == (
        f"connect:StartChatContact on contact flow {info['contact_flow_id']} of instance {info['instance_id']} in "
        f"us-east-1 was denied to the role {DEMO_SECRET} names: its permissions policy must allow it "
        f"(`python run.py worker policy {running.worker_id}` prints the policies the role needs); "
        f"Connect said: {denied}"
    )


def test_workers_with_different_secrets_in_one_region_sign_with_their_own_roles(
    start_service: Callable[..., Running], bot: Bot, aws: MotoRoles
) -> None:
    running = start_service(regions=signed_by_roles())
    acme, globex = aws.role("acme-connect", EXTERNAL_ID), aws.role("globex-connect", "ext-globex")
    keep_role(running, DEMO_SECRET, acme)
    keep_role(running, "srn:vault::globex:aws-cross-account-role:connect", globex)
    other = with_secret(running, "srn:vault::globex:aws-cross-account-role:connect", name="globex")

    for conversation_id, worker_id in (("ar-7", running.worker_id), ("ar-8", other), ("ar-9", running.worker_id)):
        chatting(running, bot, conversation_id, worker_id)

    service = running.service
    assert service.supervisor_of("ar-7") is service.supervisor_of("ar-9")
    assert service.supervisor_of("ar-7") is not service.supervisor_of("ar-8")
    assert sorted((a.role_arn, a.external_id) for a in aws.assumed()) == [
        (acme.role_arn, EXTERNAL_ID), (globex.role_arn, "ext-globex")
    ]


def test_a_region_with_static_credentials_assumes_no_role_and_reads_no_secret(
    start_service: Callable[..., Running], bot: Bot, aws: MotoRoles
) -> None:
    def static(connect: LocalConnect, store: EventStore) -> RegionClientsFactory:
        override = RegionOverride(endpoint_url=connect.endpoint_url, static_credentials=True)
        config = ServeConfig(data_dir="unused", regions={"us-east-1": override})
        return region_clients(config, LocalVault(store.path))

    running = start_service(regions=static)
    chatting(running, bot, "ar-10")  # its secret is in no vault
    assert aws.assumed() == []


def test_a_queue_read_with_a_role_that_cannot_be_assumed_says_why(
    start_service: Callable[..., Running], aws: MotoRoles
) -> None:
    running = start_service(regions=signed_by_roles())
    status, answer = running.api.call("GET", f"/v1/workers/{running.worker_id}/queue")
    assert (status, answer["Code"]) == (502, "connect_refused")
    assert f"AssumeRole failed: SecretNotFound: the vault holds no {DEMO_SECRET}" in answer["Message"]


def test_a_regions_roles_are_assumed_at_its_sts_endpoint_url(tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIDSERVICE")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "service-secret")
    reference = "srn:vault::acme:aws-cross-account-role:local-sts"
    role = CrossAccountRole(role_arn="arn:aws:iam::210987654321:role/connect-worker", external_id=EXTERNAL_ID)
    with LocalConnect() as connect, EventStore.open(tmp_path / "events.db") as store:
        vault = LocalVault(store.path)
        vault.put(parse_reference(reference), role)
        region = connect.ready_info()["region"]
        config = ServeConfig(data_dir=str(tmp_path), regions={region: RegionOverride(sts_endpoint_url=connect.endpoint_url)})
        credentials = role_sessions(config, vault).assumer(reference, region)()
        assert credentials["access_key"].startswith("ASIA")
        [call] = connect.assume_role_calls()
        assert (call.role_arn, call.role_session_name, call.external_id_present) == (
            role.role_arn, "connect-worker.acme.local-sts", True)
