"""Simulated agents: each queue's pool routes waiting chats to its agents and
plays their scripts (greeting, reply rules, a default reply, leaving after a
number of messages, or staying idle) on the server's scheduler.

A chat goes to the least busy agent of its queue that still has room
(`max_concurrent_chats`); the agent joins after its `join_delay_seconds`. A
chat that no agent can take waits; it is routed when a chat of that queue
ends. The customer's messages sent while the chat waited are answered, in
order, once the agent has joined. A chat a human accepted first (through the
agent API) is left alone: the simulated agent that was on its way gives it up.
"""

from __future__ import annotations

import threading

from connect_local.config import AgentConfig
from connect_local.errors import ChatError
from connect_local.model import CHAT_ENDED, JOINED, ChatModel, Contact, Item
from connect_local.scheduler import Scheduler

_AgentKey = tuple[str, str, str, str]


class AgentPool:
    def __init__(self, model: ChatModel, scheduler: Scheduler) -> None:
        self._model = model
        self._scheduler = scheduler
        self._lock = threading.RLock()
        self._load: dict[_AgentKey, int] = {}
        self._assigned: dict[str, tuple[_AgentKey, AgentConfig]] = {}
        self._answered: dict[str, int] = {}
        model.on_queued(self._route)
        model.on_item(self._observe)

    def agents_online(self, region: str, instance_id: str, queue_id: str) -> int:
        return len(self._model.queue(region, instance_id, queue_id).agents)

    def agents_available(self, region: str, instance_id: str, queue_id: str) -> int:
        queue = self._model.queue(region, instance_id, queue_id)
        with self._lock:
            return sum(
                1 for agent in queue.agents
                if self._load.get((region, instance_id, queue_id, agent.name), 0) < agent.max_concurrent_chats
            )

    def _route(self, contact: Contact) -> None:
        queue = self._model.queue(contact.region, contact.instance_id, contact.queue_id)
        with self._lock:
            if contact.id in self._assigned:
                return
            candidates = []
            for agent in queue.agents:
                key = (contact.region, contact.instance_id, contact.queue_id, agent.name)
                load = self._load.get(key, 0)
                if load < agent.max_concurrent_chats:
                    candidates.append((load, key, agent))
            if not candidates:
                return
            _, key, agent = min(candidates, key=lambda candidate: candidate[0])
            self._load[key] = self._load.get(key, 0) + 1
            self._assigned[contact.id] = (key, agent)
        self._scheduler.call_later(agent.join_delay_seconds, lambda: self._join(contact.id, agent))

    def _release(self, contact_id: str) -> None:
        with self._lock:
            assigned = self._assigned.pop(contact_id, None)
            if assigned is not None:
                self._load[assigned[0]] -= 1
            self._answered.pop(contact_id, None)

    def _join(self, contact_id: str, agent: AgentConfig) -> None:
        try:
            self._model.join_agent(contact_id, agent.name, "simulated")
        except ChatError:
            self._release(contact_id)
            self._route_waiting(self._model.contact(contact_id))
            return
        if agent.idle:
            return
        contact = self._model.contact(contact_id)
        if agent.greeting:
            self._model.agent_message(contact_id, _fill(agent.greeting, contact, agent, ""))
        for waited in _sent_while_waiting(self._model.items(contact_id)):
            self._scheduler.call_later(agent.reply_delay_seconds, lambda text=waited: self._reply(contact_id, agent, text))

    def _observe(self, contact: Contact, item: Item) -> None:
        with self._lock:
            assigned = self._assigned.get(contact.id)
        if assigned is None:
            return
        if item.content_type == CHAT_ENDED:
            self._release(contact.id)
            self._scheduler.call_soon(lambda: self._route_waiting(contact))
        elif item.type == "MESSAGE" and item.role == "CUSTOMER" and contact.agent_kind == "simulated":
            agent = assigned[1]
            if not agent.idle:
                self._scheduler.call_later(agent.reply_delay_seconds, lambda: self._reply(contact.id, agent, item.content or ""))

    def _route_waiting(self, ended: Contact) -> None:
        for contact in self._model.waiting(ended.queue_id):
            if contact.region == ended.region and contact.instance_id == ended.instance_id:
                self._route(contact)

    def _reply(self, contact_id: str, agent: AgentConfig, message: str) -> None:
        contact = self._model.contact(contact_id)
        if contact.state != "CONNECTED" or contact.agent_kind != "simulated":
            return
        rule = next((r for r in agent.replies if r.contains.lower() in message.lower()), None)
        reply = rule.reply if rule is not None else agent.default_reply
        with self._lock:
            answered = self._answered[contact_id] = self._answered.get(contact_id, 0) + 1
        try:
            if reply:
                self._model.agent_message(contact_id, _fill(reply, contact, agent, message))
            leaving = (rule is not None and rule.leave) or (
                agent.leave_after_messages is not None and answered >= agent.leave_after_messages
            )
            if leaving:
                if agent.farewell:
                    self._model.agent_message(contact_id, _fill(agent.farewell, contact, agent, message))
                self._model.agent_leave(contact_id)
        except ChatError:
            return


def _sent_while_waiting(items: list[Item]) -> list[str]:
    """The customer's messages before the agent joined, in order: `_observe` answers only those after
    (it sees the agent's kind only once joined), so together every message is answered once."""
    joined = max(
        (index for index, item in enumerate(items) if item.content_type == JOINED and item.role == "AGENT"), default=0
    )
    return [item.content or "" for item in items[:joined] if item.type == "MESSAGE" and item.role == "CUSTOMER"]


def _fill(template: str, contact: Contact, agent: AgentConfig, message: str) -> str:
    """Placeholders filled without str.format, so braces in messages are safe."""
    text = template.replace("{customer}", contact.customer.display_name).replace("{agent}", agent.name)
    return text.replace("{message}", message)
