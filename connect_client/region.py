"""The clients of one Amazon Connect region: boto3's `connect`, and the participant calls' own transport.

    >>> region = RegionClients.create("eu-west-2")                    # real AWS, default credential chain
    >>> local = RegionClients.create("us-east-1", endpoint_url=url,
    ...                              session=static_session())         # the local Amazon Connect
    >>> local.contacts.start_chat(ChatStart(...))

The credentials seam is the boto3 `Session`: clients sign with whatever
credentials it resolves. The vault/STS issue will pass a session whose
botocore credentials are `RefreshableCredentials` built from an AssumeRole
of the worker's cross-account role; botocore refreshes them before expiry by
itself. boto3 clients are thread-safe and are shared by every conversation
of the region; sessions are not, so build clients once, up front. The
participant calls need no credentials (their tokens authorise them): they
go through `ParticipantTransport` (participant_http.py), whose endpoint is
the `endpoint_url` given or the region's, resolved by botocore once here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import boto3
from botocore.config import Config

from connect_client.contacts import Contacts
from connect_client.health import RegionHealth
from connect_client.long_messages import DEFAULT_MESSAGE_LIMIT
from connect_client.parser_cycles import without_parser_cycles
from connect_client.participant import Participant
from connect_client.participant_http import ParticipantTransport, participant_endpoint


@dataclass(frozen=True, slots=True)
class ClientSettings:
    """How the clients talk: timeouts in seconds, `max_attempts` calls
    in all per operation (botocore's standard retry mode, and the participant
    transport the same way, back off with jitter between them on throttles,
    5xx and connection errors), and connections kept per client for the next
    call (`max_pool_connections`; the participant transport keeps as many to
    its endpoint, in net/http.py's pool).

    The pool does not bound the calls: botocore never waits for a free
    connection, it opens one more and, when more calls than the pool holds
    were in flight at once, closes it after its call (urllib3's "Connection
    pool is full, discarding connection" warning), so the next burst pays a
    TCP and TLS handshake again. The conversations' actors call from their
    pool (up to 512 threads, actors/pooled.py), beside the socket hub's: a
    ramp of 100 had 61 calls of the `connect` client in flight at once
    (bench/README.md, "Less CPU per message"), and the 19,500 held run
    overflowed 128 connections 154 times in its ramp ("19,500 held on the
    pool"). 128 is twice the first, at one open file a kept connection:
    every file the pool keeps is one a conversation's socket cannot have."""

    connect_timeout: float = 5.0
    read_timeout: float = 15.0
    max_attempts: int = 3
    max_pool_connections: int = 128
    message_limit: int = DEFAULT_MESSAGE_LIMIT

    def botocore_config(self) -> Config:
        return Config(
            connect_timeout=self.connect_timeout,
            read_timeout=self.read_timeout,
            retries={"mode": "standard", "total_max_attempts": self.max_attempts},
            max_pool_connections=self.max_pool_connections,
            tcp_keepalive=True,
        )


def static_session(access_key: str = "local", secret_key: str = "local") -> boto3.session.Session:
    """A session with fixed dummy credentials, for the local Amazon Connect
    (it checks no signature) and tests."""
    return boto3.session.Session(aws_access_key_id=access_key, aws_secret_access_key=secret_key)


@dataclass(frozen=True, slots=True)
class RegionClients:
    """The typed calls of one region: `contacts` (service `connect`, signed
    with the session's credentials) and `participant` (service
    `connectparticipant`, authorised by participant and connection tokens, sent
    without boto3). `health` counts the calls of both when `create` made them (connect_client/health.py);
    clients put together by hand get a health of their own that counts nothing unless told to watch."""

    region: str
    endpoint_url: str | None
    contacts: Contacts
    participant: Participant
    health: RegionHealth = field(default_factory=RegionHealth)

    @classmethod
    def create(
        cls,
        region: str,
        endpoint_url: str | None = None,
        session: boto3.session.Session | None = None,
        settings: ClientSettings = ClientSettings(),
        health: RegionHealth | None = None,
    ) -> RegionClients:
        """`endpoint_url` None means real AWS; `session` None means the default
        credential chain (environment, profile, instance role); `health` None, a new one on the
        system clock (tests pass one on their own clock)."""
        session = without_parser_cycles(session or boto3.session.Session())
        config = settings.botocore_config()
        health = health if health is not None else RegionHealth()

        def connect() -> Any:
            client = session.client("connect", region_name=region, endpoint_url=endpoint_url, config=config)
            health.watch(client)
            return client

        transport = ParticipantTransport(
            endpoint_url or participant_endpoint(region, session),
            health,
            connect_timeout=settings.connect_timeout,
            read_timeout=settings.read_timeout,
            max_attempts=settings.max_attempts,
            connections=settings.max_pool_connections,
        )
        return cls(
            region=region,
            endpoint_url=endpoint_url,
            contacts=Contacts(make=connect),
            participant=Participant(transport, message_limit=settings.message_limit),
            health=health,
        )
