"""The state of the local Amazon Connect: contacts, participants, tokens,
connections and transcripts, with no HTTP and no event loop in sight.

`ChatModel` is thread-safe (one lock around every change) and takes the time
from an injected clock. Every item added to a chat is passed, still under the
lock so that every observer sees the transcript's order, to the listeners
registered with `on_item`; contacts placed in a queue go to `on_queued`.

    >>> model = ChatModel(default_config())
    >>> started = model.start_chat("us-east-1", StartChat(instance_id=..., ...))
"""

from __future__ import annotations

import json
import secrets
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

from connect_local.config import ALWAYS_OPEN, Config, ContactFlowConfig, InstanceConfig, QueueConfig
from connect_local.errors import AccessDenied, Conflict, ContactNotActive, InvalidInput, LimitExceeded, NotFound
from connect_local.hours import is_open

EVENT = "application/vnd.amazonaws.connect.event."
TYPING = EVENT + "typing"
JOINED = EVENT + "participant.joined"
LEFT = EVENT + "participant.left"
CHAT_ENDED = EVENT + "chat.ended"
CONNECTION_ACK = EVENT + "connection.acknowledged"
DELIVERED = EVENT + "message.delivered"
READ = EVENT + "message.read"
CUSTOMER_EVENTS = (TYPING, CONNECTION_ACK, DELIVERED, READ)

ContactState = Literal["WAITING", "CONNECTED", "ENDED", "CLOSED"]
Role = Literal["AGENT", "CUSTOMER", "SYSTEM"]
AgentKind = Literal["simulated", "human"]


def iso_time(moment: float) -> str:
    """AbsoluteTime as Connect writes it: UTC, milliseconds, a trailing Z."""
    return datetime.fromtimestamp(moment, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


@dataclass
class Item:
    """One chat item: a message, an event, or (on the socket only) receipts."""

    id: str
    type: str
    contact_id: str
    participant_id: str
    display_name: str
    role: str
    content_type: str
    time: float  # AbsoluteTime's: whole milliseconds, strictly increasing within the chat
    # The clock's own reading when the item was made, which the AWS answers do not show: the admin
    # record gives it, for measuring to the moment Connect took a message (`time` is that reading
    # rounded, or a millisecond after the chat's previous item when two come within one).
    received_at: float
    content: str | None = None
    client_token: str | None = None
    message_metadata: dict[str, Any] | None = None
    in_transcript: bool = True

    def to_wire(self) -> dict[str, Any]:
        """The item as GetTranscript and `aws/chat` frames show it."""
        wire: dict[str, Any] = {
            "Id": self.id,
            "Type": self.type,
            "ParticipantId": self.participant_id,
            "DisplayName": self.display_name,
            "ParticipantRole": self.role,
            "ContentType": self.content_type,
            "AbsoluteTime": iso_time(self.time),
            "ContactId": self.contact_id,
            "InitialContactId": self.contact_id,
        }
        if self.content is not None:
            wire["Content"] = self.content
        if self.message_metadata is not None:
            wire["MessageMetadata"] = self.message_metadata
        return wire


@dataclass
class Participant:
    id: str
    role: Role
    display_name: str
    token: str | None = None


@dataclass
class Connection:
    """A participant's connection: its token for REST calls and its socket URL."""

    token: str
    socket_key: str
    contact_id: str
    participant_id: str
    token_expires_at: float
    socket_expires_at: float


@dataclass
class Contact:
    id: str
    region: str
    instance_id: str
    flow: ContactFlowConfig
    queue_id: str
    customer: Participant
    initiated_at: float
    expires_at: float
    state: ContactState = "WAITING"
    attributes: dict[str, str] = field(default_factory=dict)
    agent: Participant | None = None
    agent_kind: AgentKind | None = None
    items: list[Item] = field(default_factory=list)
    enqueued_at: float | None = None
    connected_at: float | None = None
    ended_at: float | None = None
    last_update: float = 0.0
    last_item_time: float = 0.0

    @property
    def transcript(self) -> list[Item]:
        return [item for item in self.items if item.in_transcript]

    @property
    def last_message(self) -> str | None:
        messages = [item.content for item in self.items if item.type == "MESSAGE"]
        return messages[-1] if messages else None


@dataclass(frozen=True)
class StartChat:
    instance_id: str
    contact_flow_id: str
    display_name: str
    attributes: dict[str, str] = field(default_factory=dict)
    initial_message: tuple[str, str] | None = None
    client_token: str | None = None
    chat_duration_minutes: int | None = None


DEFAULT_CHAT_DURATION_MINUTES = 25 * 60


class ChatModel:
    """Every region's contacts and the tokens that lead to them."""

    def __init__(self, config: Config, clock: Callable[[], float] = time.time) -> None:
        self.config = config
        self._clock = clock
        self._lock = threading.RLock()
        self._contacts: dict[str, Contact] = {}
        # Chats not ENDED, by (region, instance id): StartChatContact checks the quota against it rather
        # than counting every contact (at 9,000 chats the count took a fifth of the local Connect's CPU).
        self._active: Counter[tuple[str, str]] = Counter()
        self._participant_tokens: dict[str, tuple[str, str]] = {}
        self._connections: dict[str, Connection] = {}
        self._sockets: dict[str, Connection] = {}
        self._answers: dict[tuple[str, ...], Any] = {}
        self._item_listeners: list[Callable[[Contact, Item], None]] = []
        self._queued_listeners: list[Callable[[Contact], None]] = []

    # -- observers -----------------------------------------------------------

    def on_item(self, listener: Callable[[Contact, Item], None]) -> None:
        self._item_listeners.append(listener)

    def on_queued(self, listener: Callable[[Contact], None]) -> None:
        self._queued_listeners.append(listener)

    # -- configuration lookups -------------------------------------------------

    def instance(self, region: str, instance_id: str) -> InstanceConfig:
        for configured in self.config.regions:
            if configured.name == region:
                for instance in configured.instances:
                    if instance.id == instance_id:
                        return instance
        raise NotFound(f"Instance {instance_id} not found in region {region}")

    def contact_flow(self, region: str, instance_id: str, contact_flow_id: str) -> ContactFlowConfig:
        for flow in self.instance(region, instance_id).contact_flows:
            if flow.id == contact_flow_id:
                return flow
        raise NotFound(f"Contact flow {contact_flow_id} not found in instance {instance_id}")

    def queue(self, region: str, instance_id: str, queue_id: str) -> QueueConfig:
        for queue in self.instance(region, instance_id).queues:
            if queue.id == queue_id:
                return queue
        raise NotFound(f"Queue {queue_id} not found in instance {instance_id}")

    # -- time and ids ----------------------------------------------------------

    def now(self) -> float:
        return self._clock()

    def _item_time(self, contact: Contact, now: float) -> float:
        """`now` in whole milliseconds (AbsoluteTime's precision), made
        strictly increasing within a chat so that no two of its items share
        a time and StartPosition.AbsoluteTime finds exactly one."""
        moment = max(round(now, 3), round(contact.last_item_time + 0.001, 3))
        contact.last_item_time = moment
        return moment

    def _remember(self, key: tuple[str, ...] | None, answer: Any) -> Any:
        if key is not None:
            self._answers[key] = answer
        return answer

    def _recall(self, key: tuple[str, ...] | None) -> Any:
        return None if key is None else self._answers.get(key)

    def _retry_key(self, operation: str, connection_token: str, client_token: str | None) -> tuple[str, ...] | None:
        """Retries are recognised per participant, whichever of its connections
        they come on, and before any check: a retry after the chat ended still
        gets the first answer."""
        connection = self._connections.get(connection_token)
        if connection is None or not client_token:
            return None
        return (operation, connection.participant_id, client_token)

    # -- contacts (service `connect`) -----------------------------------------

    def start_chat(self, region: str, request: StartChat) -> dict[str, str]:
        with self._lock:
            key = ("StartChatContact", region, request.instance_id, request.client_token) if request.client_token else None
            if (answer := self._recall(key)) is not None:
                return answer
            instance = self.instance(region, request.instance_id)
            flow = self.contact_flow(region, request.instance_id, request.contact_flow_id)
            active = self._active[(region, instance.id)]
            if active >= self.config.limits.max_active_chats_per_instance:
                raise LimitExceeded(f"The quota of {active} active chats for instance {instance.id} is used up")
            now = self.now()
            minutes = request.chat_duration_minutes or DEFAULT_CHAT_DURATION_MINUTES
            customer = Participant(str(uuid.uuid4()), "CUSTOMER", request.display_name, secrets.token_urlsafe(48))
            contact = Contact(
                id=str(uuid.uuid4()),
                region=region,
                instance_id=instance.id,
                flow=flow,
                queue_id=flow.queue_id,
                customer=customer,
                initiated_at=now,
                expires_at=now + minutes * 60,
                attributes=dict(request.attributes),
                last_update=now,
            )
            self._contacts[contact.id] = contact
            self._active[(contact.region, contact.instance_id)] += 1
            self._participant_tokens[customer.token] = (contact.id, customer.id)
            self._add_event(contact, customer, JOINED)
            if request.initial_message is not None:
                content_type, content = request.initial_message
                self._add_message(contact, customer, content_type, content, None)
            self._run_flow(contact)
            answer = {"ContactId": contact.id, "ParticipantId": customer.id, "ParticipantToken": customer.token}
            return self._remember(key, answer)

    def _run_flow(self, contact: Contact) -> None:
        """The flow queues the chat when the queue's hours are open; otherwise
        its closed message answers and the chat stays out of every queue."""
        if self._queue_open(contact):
            contact.enqueued_at = contact.last_update
            for listener in self._queued_listeners:
                listener(contact)
        else:
            contact.state = "CLOSED"
            self._add_system_message(contact, contact.flow.closed_message)

    def _queue_open(self, contact: Contact) -> bool:
        queue = self.queue(contact.region, contact.instance_id, contact.queue_id)
        instance = self.instance(contact.region, contact.instance_id)
        hours = next((h for h in instance.hours_of_operation if h.id == queue.hours_of_operation_id), ALWAYS_OPEN)
        return is_open(hours, datetime.fromtimestamp(self._clock(), UTC))

    def contact(self, contact_id: str) -> Contact:
        with self._lock:
            contact = self._contacts.get(contact_id)
            if contact is None:
                raise NotFound(f"Contact {contact_id} not found")
            return contact

    def regional_contact(self, region: str, instance_id: str, contact_id: str) -> Contact:
        with self._lock:
            self.instance(region, instance_id)
            contact = self._contacts.get(contact_id)
            if contact is None or contact.region != region or contact.instance_id != instance_id:
                raise NotFound(f"Contact {contact_id} not found in instance {instance_id}")
            return contact

    def items(self, contact_id: str) -> list[Item]:
        """A copy of every item of a contact, taken under the lock."""
        with self._lock:
            return list(self.contact(contact_id).items)

    def contacts(self) -> list[Contact]:
        with self._lock:
            return sorted(self._contacts.values(), key=lambda c: c.initiated_at, reverse=True)

    def stop_contact(self, region: str, instance_id: str, contact_id: str) -> None:
        with self._lock:
            self.instance(region, instance_id)
            contact = self._contacts.get(contact_id)
            if contact is None or contact.region != region or contact.instance_id != instance_id or contact.state == "ENDED":
                raise ContactNotActive(f"Contact {contact_id} is not active or does not exist")
            self._end(contact)

    def end_expired(self) -> list[str]:
        """End every chat whose ChatDurationInMinutes has run out; their ids."""
        with self._lock:
            now = self._clock()
            expired = [c for c in self._contacts.values() if c.state != "ENDED" and now >= c.expires_at]
            for contact in expired:
                self._end(contact)
            return [contact.id for contact in expired]

    def update_attributes(self, region: str, instance_id: str, initial_contact_id: str, attributes: dict[str, str]) -> None:
        with self._lock:
            contact = self.regional_contact(region, instance_id, initial_contact_id)
            contact.attributes.update(attributes)
            contact.last_update = self.now()

    def waiting(self, queue_id: str) -> list[Contact]:
        with self._lock:
            waiting = [c for c in self._contacts.values() if c.queue_id == queue_id and c.state == "WAITING"]
            return sorted(waiting, key=lambda c: c.initiated_at)

    # -- participants (service `connectparticipant`) ----------------------------

    def create_connection(self, participant_token: str, acknowledge: bool) -> Connection:
        with self._lock:
            contact_id, participant_id = self._participant_tokens.get(participant_token, (None, None))
            contact = self._contacts.get(contact_id) if contact_id else None
            if contact is None:
                raise AccessDenied("The participant token is not valid")
            if contact.state == "ENDED" or self._clock() >= contact.expires_at:
                raise AccessDenied("The chat has ended; the participant token is no longer valid")
            now = self._clock()
            limits = self.config.limits
            connection = Connection(
                token=secrets.token_urlsafe(48),
                socket_key=secrets.token_urlsafe(32),
                contact_id=contact.id,
                participant_id=participant_id,
                token_expires_at=min(now + limits.connection_token_lifetime_seconds, contact.expires_at),
                socket_expires_at=min(now + limits.connection_lifetime_seconds, contact.expires_at),
            )
            self._connections[connection.token] = connection
            self._sockets[connection.socket_key] = connection
            if acknowledge:
                self._add_event(contact, contact.customer, CONNECTION_ACK, in_transcript=False)
            return connection

    def _connection(self, connection_token: str, *, writing: bool) -> tuple[Contact, Connection]:
        connection = self._connections.get(connection_token)
        if connection is None or self._clock() >= connection.token_expires_at:
            raise AccessDenied("The connection token is not valid or has expired")
        contact = self._contacts[connection.contact_id]
        if writing and contact.state == "ENDED":
            raise AccessDenied("The chat has ended")
        return contact, connection

    def socket_connection(self, socket_key: str) -> Connection:
        """The connection a WebSocket URL belongs to, if it may still be opened."""
        with self._lock:
            connection = self._sockets.get(socket_key)
            if connection is None or self._clock() >= connection.socket_expires_at:
                raise AccessDenied("The WebSocket URL is not valid or has expired")
            if self._contacts[connection.contact_id].state == "ENDED":
                raise AccessDenied("The chat has ended")
            return connection

    def connection_contact(self, connection_token: str) -> Contact:
        """The contact behind a connection token, for reading (GetTranscript)."""
        with self._lock:
            return self._connection(connection_token, writing=False)[0]

    def participant_contact(self, participant_token: str) -> Contact | None:
        with self._lock:
            contact_id, _ = self._participant_tokens.get(participant_token, (None, None))
            return self._contacts.get(contact_id) if contact_id else None

    def expire_connections(self, contact_id: str) -> list[str]:
        """Expire every connection of a chat now; returns their socket keys."""
        with self._lock:
            now = self._clock()
            expired = []
            for connection in self._connections.values():
                if connection.contact_id == contact_id and connection.token_expires_at > now:
                    connection.token_expires_at = connection.socket_expires_at = now
                    expired.append(connection.socket_key)
            return expired

    def send_message(self, connection_token: str, content_type: str, content: str, client_token: str | None) -> Item:
        with self._lock:
            key = self._retry_key("SendMessage", connection_token, client_token)
            if (answer := self._recall(key)) is not None:
                return answer
            contact, connection = self._connection(connection_token, writing=True)
            self._check_size(content)
            participant = self._participant(contact, connection.participant_id)
            item = self._add_message(contact, participant, content_type, content, client_token)
            if contact.state == "CLOSED":
                self._add_system_message(contact, contact.flow.closed_message)
            return self._remember(key, item)

    def send_event(self, connection_token: str, content_type: str, content: str | None, client_token: str | None) -> Item:
        with self._lock:
            key = self._retry_key("SendEvent", connection_token, client_token)
            if (answer := self._recall(key)) is not None:
                return answer
            contact, connection = self._connection(connection_token, writing=True)
            if content_type not in CUSTOMER_EVENTS:
                raise InvalidInput(f"ContentType {content_type!r} is not an event a participant can send")
            participant = self._participant(contact, connection.participant_id)
            if content_type in (DELIVERED, READ):
                item = self._add_receipt(contact, participant, content_type, content, client_token)
            else:
                item = self._add_event(contact, participant, content_type, in_transcript=False, client_token=client_token)
            return self._remember(key, item)

    def disconnect(self, connection_token: str, client_token: str | None) -> None:
        with self._lock:
            key = self._retry_key("DisconnectParticipant", connection_token, client_token)
            if self._recall(key) is not None:
                return
            contact, connection = self._connection(connection_token, writing=True)
            participant = self._participant(contact, connection.participant_id)
            self._add_event(contact, participant, LEFT, client_token=client_token)
            self._end(contact)
            self._remember(key, True)

    def _check_size(self, content: str) -> None:
        """Content is limited in UTF-8 bytes, as Amazon Connect limits it, whatever its content type."""
        size, limit = len(content.encode("utf-8")), self.config.limits.message_max_bytes
        if size > limit:
            raise InvalidInput(f"Content is {size} bytes long in UTF-8; the limit is {limit} bytes")

    def _participant(self, contact: Contact, participant_id: str) -> Participant:
        if contact.customer.id == participant_id:
            return contact.customer
        assert contact.agent is not None and contact.agent.id == participant_id
        return contact.agent

    # -- agents ----------------------------------------------------------------

    def join_agent(self, contact_id: str, name: str, kind: AgentKind) -> Contact:
        with self._lock:
            contact = self.contact(contact_id)
            if contact.state != "WAITING":
                raise Conflict(f"Contact {contact_id} is {contact.state}, not waiting for an agent")
            contact.agent = Participant(str(uuid.uuid4()), "AGENT", name)
            contact.agent_kind = kind
            contact.state = "CONNECTED"
            self._add_event(contact, contact.agent, JOINED)
            contact.connected_at = contact.last_update
            return contact

    def _agent_of(self, contact_id: str) -> tuple[Contact, Participant]:
        contact = self.contact(contact_id)
        if contact.state != "CONNECTED" or contact.agent is None:
            raise Conflict(f"Contact {contact_id} is {contact.state}, no agent is in it")
        return contact, contact.agent

    def agent_message(self, contact_id: str, content: str, content_type: str = "text/plain") -> Item:
        with self._lock:
            contact, agent = self._agent_of(contact_id)
            if not content:
                raise InvalidInput("Content must not be empty")
            self._check_size(content)
            return self._add_message(contact, agent, content_type, content, None)

    def agent_typing(self, contact_id: str) -> Item:
        with self._lock:
            contact, agent = self._agent_of(contact_id)
            return self._add_event(contact, agent, TYPING, in_transcript=False)

    def agent_leave(self, contact_id: str) -> None:
        with self._lock:
            contact, agent = self._agent_of(contact_id)
            self._add_event(contact, agent, LEFT)
            self._end(contact)

    # -- items -----------------------------------------------------------------

    def _append(self, contact: Contact, item: Item) -> Item:
        contact.items.append(item)
        contact.last_update = item.time
        for listener in self._item_listeners:
            listener(contact, item)
        return item

    def _new_item(self, contact: Contact, participant: Participant, type_: str, content_type: str, **extra: Any) -> Item:
        now = self._clock()
        return Item(
            id=str(uuid.uuid4()),
            type=type_,
            contact_id=contact.id,
            participant_id=participant.id,
            display_name=participant.display_name,
            role=participant.role,
            content_type=content_type,
            time=self._item_time(contact, now),
            received_at=now,
            **extra,
        )

    def _add_message(self, contact: Contact, sender: Participant, content_type: str, content: str, client_token: str | None) -> Item:
        item = self._new_item(contact, sender, "MESSAGE", content_type, content=content, client_token=client_token)
        return self._append(contact, item)

    def _add_system_message(self, contact: Contact, content: str) -> Item:
        system = Participant(f"system-{contact.flow.id}", "SYSTEM", "SYSTEM_MESSAGE")
        return self._add_message(contact, system, "text/plain", content, None)

    def _add_event(
        self,
        contact: Contact,
        participant: Participant,
        content_type: str,
        *,
        in_transcript: bool = True,
        client_token: str | None = None,
    ) -> Item:
        item = self._new_item(contact, participant, "EVENT", content_type, in_transcript=in_transcript, client_token=client_token)
        return self._append(contact, item)

    def _add_receipt(
        self, contact: Contact, reader: Participant, content_type: str, content: str | None, client_token: str | None
    ) -> Item:
        """A read or delivered receipt: shown on the socket as MESSAGEMETADATA
        and kept on the message it is about (its MessageMetadata.Receipts)."""
        message_id = _receipt_message_id(content)
        message = next((i for i in contact.items if i.id == message_id and i.type == "MESSAGE"), None)
        if message is None:
            raise InvalidInput(f"Content.messageId {message_id!r} is not a message of this chat")
        if message.participant_id == reader.id:
            raise Conflict("A participant cannot send a receipt for its own message")
        now = self._item_time(contact, self._clock())
        stamp = "ReadTimestamp" if content_type == READ else "DeliveredTimestamp"
        metadata = message.message_metadata or {"MessageId": message.id, "Receipts": []}
        receipt = next((r for r in metadata["Receipts"] if r["RecipientParticipantId"] == reader.id), None)
        if receipt is None:
            receipt = {"RecipientParticipantId": reader.id}
            metadata["Receipts"].append(receipt)
        receipt.setdefault(stamp, iso_time(now))
        message.message_metadata = metadata
        item = self._new_item(
            contact, reader, "MESSAGEMETADATA", content_type,
            message_metadata={"MessageId": message.id, "Receipts": [dict(receipt)]},
            in_transcript=False,
            client_token=client_token,
        )
        return self._append(contact, item)

    def _end(self, contact: Contact) -> None:
        if contact.state != "ENDED":
            self._active[(contact.region, contact.instance_id)] -= 1
        self._add_event(contact, Participant(f"system-{contact.id}", "SYSTEM", "SYSTEM_MESSAGE"), CHAT_ENDED)
        contact.state = "ENDED"
        contact.ended_at = contact.last_update


def _receipt_message_id(content: str | None) -> str:
    try:
        message_id = json.loads(content or "")["messageId"]
    except (ValueError, KeyError, TypeError):
        raise InvalidInput('Content of a receipt must be JSON like {"messageId": "..."}') from None
    if not isinstance(message_id, str):
        raise InvalidInput("Content.messageId must be a string")
    return message_id
